//! The core compiled to WebAssembly, running in headless Firefox
//! (`wasm-pack test --headless --firefox`): the JS-facing API and the
//! browser HTTP client behave as they do natively.
#![cfg(target_arch = "wasm32")]

use mozci::http::{get_json, send_checked, BrowserClient, HttpRequest, RetryPolicy};
use mozci::Error;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn job_view_selection_crosses_into_javascript() {
    let url = "https://treeherder.mozilla.org/jobs?repo=autoland&selectedTaskRun=ZBK4oDL4TnK1EjT-UY-o2A.3";
    let value = mozci::wasm_page::job_view_selection(url)
        .map_err(|_| "conversion failed")
        .unwrap();
    let repo = js_sys::Reflect::get(&value, &"repo".into()).unwrap();
    assert_eq!(repo.as_string().as_deref(), Some("autoland"));
    let selected = js_sys::Reflect::get(&value, &"selected".into()).unwrap();
    let run = js_sys::Reflect::get(&selected, &"run".into()).unwrap();
    assert_eq!(run.as_f64(), Some(3.0));
    assert!(mozci::wasm_page::job_view_selection("https://example.org/")
        .unwrap()
        .is_null());
}

#[wasm_bindgen_test]
async fn browser_client_reads_json() {
    let client = BrowserClient::new(5_000);
    let value: serde_json::Value = get_json(
        &client,
        "data:application/json,%7B%22lastpushid%22%3A33277%7D",
        "pushlog",
    )
    .await
    .unwrap();
    assert_eq!(value["lastpushid"], 33277);
}

#[wasm_bindgen_test]
async fn browser_client_reports_parse_errors_with_the_source() {
    let client = BrowserClient::new(5_000);
    let err =
        get_json::<serde_json::Value>(&client, "data:application/json,%7Bnot json", "pushlog")
            .await
            .unwrap_err();
    assert!(
        matches!(err, Error::Parse { ref source_name, .. } if source_name == "pushlog"),
        "{err}"
    );
}

#[wasm_bindgen_test]
async fn unreachable_hosts_are_network_errors() {
    let client = BrowserClient::new(5_000);
    // Port 9 (discard) on loopback refuses connections.
    let err = send_checked(
        &client,
        HttpRequest::get("http://127.0.0.1:9/api/"),
        RetryPolicy::none(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Network { .. }), "{err}");
}

/// The sandbox's Treeherder origin, given at build time by scripts/test
/// (which starts `mozci-sandbox` before running these tests).
fn sandbox() -> serde_json::Value {
    // Optional at build time so that the other wasm tests build without it.
    let line = match option_env!("MOZCI_WASM_SANDBOX") {
        Some(line) => line,
        None => panic!("MOZCI_WASM_SANDBOX is not set: run the wasm tests through scripts/test, which starts the sandbox"),
    };
    serde_json::from_str(line).expect("the sandbox's start-up JSON line")
}

fn origin(name: &str) -> String {
    sandbox()[name].as_str().expect("origin").to_string()
}

#[wasm_bindgen_test]
async fn browser_client_reads_the_sandbox_treeherder_api() {
    let client = BrowserClient::new(10_000);
    let url = format!("{}/api/repository/", origin("treeherder"));
    let response = send_checked(&client, HttpRequest::get(url), RetryPolicy::none())
        .await
        .unwrap();
    let repos = mozci::sources::treeherder::parse_repositories(&response.body).unwrap();
    assert!(repos.iter().any(|r| r.name == "autoland" && !r.is_try_repo));
    assert!(repos.iter().any(|r| r.name == "try" && r.is_try_repo));
    let missing = format!(
        "{}/api/project/autoland/jobs/999999999/",
        origin("treeherder")
    );
    let err = send_checked(&client, HttpRequest::get(missing), RetryPolicy::none())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
}

#[wasm_bindgen_test]
async fn buildapi_without_cors_is_unreachable_from_a_page() {
    // Like production, BuildAPI sends no CORS headers: a page (or an MV3
    // content script) cannot read it, which is why the add-on's background
    // page, with host permissions, does the network.
    let client = BrowserClient::new(10_000);
    let url = format!(
        "{}/buildapi/self-serve/branches?format=json",
        origin("buildapi")
    );
    let err = send_checked(&client, HttpRequest::get(url), RetryPolicy::none())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Network { .. }), "{err}");
}

#[wasm_bindgen_test]
async fn taskcluster_trigger_is_signed_in_the_browser_and_accepted() {
    use mozci::ci::taskcluster::TaskclusterCi;
    use mozci::ci::{CiBackend, CiContext, Endpoints};
    use mozci::model::JobType;
    use mozci::services::treeherder;
    use mozci::sources::taskcluster::credentials::TaskclusterCredentials;
    use mozci::sources::taskcluster::RootUrl;
    use std::rc::Rc;

    let endpoints = Endpoints::sandbox(
        &origin("treeherder"),
        &origin("hg"),
        &origin("buildapi"),
        &origin("taskcluster"),
    );
    let ctx = CiContext::new(Rc::new(BrowserClient::new(10_000)), endpoints);
    let credentials = TaskclusterCredentials {
        client_id: "mozilla-auth0/ad|Mozilla-LDAP|sheriff/treeherder-login".into(),
        access_token: "sheriff-access-token-0000000000000000000000".into(),
        certificate: None,
    };
    let tc = TaskclusterCi::new(
        ctx.clone(),
        RootUrl::parse(&origin("taskcluster")).unwrap(),
        Some(credentials),
    );
    let repository = treeherder::repository(&ctx, "autoland").await.unwrap();
    assert_eq!(
        repository
            .tc_root_url
            .as_deref()
            .map(|u| u.trim_end_matches('/')),
        Some(origin("taskcluster").as_str())
    );
    let job_type = JobType::from_name("test-linux64/opt-mochitest-2");
    // The two newest pushes: read their runs, then add one more on the newest.
    let list_url = format!(
        "{}/api/project/autoland/push/?count=2",
        origin("treeherder")
    );
    let body = send_checked(&*ctx.http, HttpRequest::get(list_url), RetryPolicy::none())
        .await
        .unwrap()
        .body;
    let pushes: Vec<_> = mozci::sources::treeherder::parse_push_list(&body)
        .unwrap()
        .to_model_pushes("autoland")
        .into_iter()
        .rev()
        .collect();
    let histories = tc
        .push_histories("autoland", &pushes, &job_type)
        .await
        .unwrap();
    assert_eq!(histories.len(), 2);
    let receipt = tc
        .trigger("autoland", &pushes[0], &job_type, 1, &[])
        .await
        .unwrap();
    assert_eq!(receipt.runs, 1);
    assert_eq!(
        receipt.ids.len(),
        1,
        "the hooks service answered with the action task's id"
    );
}

/// Milliseconds since the epoch, from the browser's clock.
fn now_ms() -> f64 {
    js_sys::Date::now()
}

#[wasm_bindgen_test]
async fn browser_client_stops_a_gzip_bomb_at_the_decompressed_cap() {
    use mozci::http::{BodyKind, HttpClient};
    let client = BrowserClient::new(30_000);
    // 4 MB on the wire, 4 GiB once Firefox has inflated it.
    let url = format!(
        "{}/__sandbox/hostile/gzip-bomb?gigabytes=4",
        origin("treeherder")
    );
    let err = match client.send(HttpRequest::get(url.clone())).await {
        // Not the response itself: its body is too big to print.
        Ok(response) => panic!("read a body of {} bytes", response.body.len()),
        Err(e) => e,
    };
    assert_eq!(
        err,
        Error::BodyTooLarge {
            url,
            limit_bytes: BodyKind::Api.limits().max_decoded_bytes,
            decompressed: true,
        }
    );
}

#[wasm_bindgen_test]
async fn browser_client_ends_a_dripping_body_at_the_deadline() {
    use mozci::http::HttpClient;
    let client = BrowserClient::new(2_500);
    let url = format!(
        "{}/__sandbox/hostile/drip?every_ms=1000",
        origin("treeherder")
    );
    let started = now_ms();
    let err = client
        .send(HttpRequest::get(url.clone()))
        .await
        .unwrap_err();
    let elapsed = now_ms() - started;
    assert_eq!(
        err,
        Error::ReadDeadline {
            url,
            after_ms: 2_500
        }
    );
    assert!((2_400.0..4_500.0).contains(&elapsed), "{elapsed} ms");
}

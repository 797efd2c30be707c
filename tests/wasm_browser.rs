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
    let value = mozci::wasm::job_view_selection(url)
        .map_err(|_| "conversion failed")
        .unwrap();
    let repo = js_sys::Reflect::get(&value, &"repo".into()).unwrap();
    assert_eq!(repo.as_string().as_deref(), Some("autoland"));
    let selected = js_sys::Reflect::get(&value, &"selected".into()).unwrap();
    let run = js_sys::Reflect::get(&selected, &"run".into()).unwrap();
    assert_eq!(run.as_f64(), Some(3.0));
    assert!(mozci::wasm::job_view_selection("https://example.org/")
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

//! Scenario tests of Self-Serve BuildAPI and buildjson over HTTP: LDAP auth
//! outcomes, every endpoint's status codes, triggered jobs appearing in
//! Treeherder, coalescing, build → test, cancels, conditional dumps.

mod common;

use common::{small_demo, Sb, NO_ACCESS, SHERIFF};
use serde_json::{json, Value};

const TEST_BUILDER: &str = "Ubuntu VM 12.04 x64 mozilla-inbound opt test mochitest-1";
const BUILD_BUILDER: &str = "Linux x86-64 mozilla-inbound build";

fn ss(sb: &Sb, rest: &str) -> String {
    sb.bb(&format!("/buildapi/self-serve/{rest}"))
}

async fn post_form(sb: &Sb, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
    sb.http
        .post(url)
        .basic_auth(SHERIFF.0, Some(SHERIFF.1))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn get_json_auth(sb: &Sb, url: &str) -> (u16, Value) {
    let r = sb
        .http
        .get(url)
        .basic_auth(SHERIFF.0, Some(SHERIFF.1))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// `[packageUrl, testsUrl]` of a finished linux64 opt build (from test jobs
/// of the given filter, e.g. one push).
async fn files_of(sb: &Sb, filter: &str) -> Vec<String> {
    let jobs = sb.jobs(filter).await;
    let test = jobs
        .iter()
        .find(|j| j["kind"] == "test" && j["platform"] == "linux64" && j["option"] == "opt")
        .unwrap();
    test["buildbot"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn ldap_auth_outcomes_and_no_cors() {
    let sb = Sb::start().await;
    let url = ss(&sb, "branches?format=json");
    let missing = sb.http.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    assert!(missing.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert!(
        missing
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "Self-Serve sends no CORS headers"
    );
    let wrong = sb
        .http
        .get(&url)
        .basic_auth(SHERIFF.0, Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let denied = sb
        .http
        .get(&url)
        .basic_auth(NO_ACCESS.0, Some(NO_ACCESS.1))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);
    assert_eq!(denied.text().await.unwrap(), "ACCESS DENIED!");
    let (status, branches) = get_json_auth(&sb, &url).await;
    assert_eq!(status, 200);
    assert_eq!(
        branches["mozilla-inbound"]["graph_branches"],
        json!(["Mozilla-Inbound"])
    );
    assert_eq!(branches["mozilla-inbound"]["repo_type"], "hg");
    assert!(branches.get("autoland").is_none(), "only Buildbot branches");
    let html = sb
        .http
        .get(ss(&sb, "branches"))
        .basic_auth(SHERIFF.0, Some(SHERIFF.1))
        .send()
        .await
        .unwrap();
    assert!(html.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));

    // The denied POST is logged with its user and status.
    let rev = sb.pushes("mozilla-inbound").await[0]["revision"]
        .as_str()
        .unwrap()
        .to_string();
    let denied_post = sb
        .http
        .post(ss(
            &sb,
            &format!("mozilla-inbound/builders/{BUILD_BUILDER}/{rev}"),
        ))
        .basic_auth(NO_ACCESS.0, Some(NO_ACCESS.1))
        .send()
        .await
        .unwrap();
    assert_eq!(denied_post.status(), 403);
    let log = sb.requests().await;
    let entry = log.last().unwrap();
    assert_eq!(entry["status"], 403);
    assert_eq!(entry["user"], NO_ACCESS.0);
    assert_eq!(entry["origin"], "buildapi");
    sb.stop();
}

#[tokio::test]
async fn trigger_builder_schedules_a_job_visible_everywhere() {
    let sb = Sb::start().await;
    sb.advance(4 * 3600).await;
    let pushes = sb.pushes("mozilla-inbound").await;
    let push = &pushes[2];
    let rev = push["revision"].as_str().unwrap();
    let files = files_of(&sb, &format!("push_id={}", push["push_id"])).await;
    let response = post_form(
        &sb,
        &format!(
            "{}?format=json",
            ss(
                &sb,
                &format!("mozilla-inbound/builders/{TEST_BUILDER}/{rev}")
            )
        ),
        &[
            (
                "properties",
                &json!({"branch": "mozilla-inbound", "revision": rev}).to_string(),
            ),
            ("files", &json!(files).to_string()),
        ],
    )
    .await;
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "OK");
    let ss_id = body["request_id"].as_u64().unwrap();

    let (status, record) = get_json_auth(&sb, &ss(&sb, &format!("jobs/{ss_id}"))).await;
    assert_eq!(status, 200);
    assert_eq!(record["who"], SHERIFF.0);
    assert_eq!(record["complete_data"]["body"]["msg"], "Ok");
    let request_id = record["complete_data"]["request_id"].as_u64().unwrap();

    let (_, items) = get_json_auth(
        &sb,
        &ss(&sb, &format!("mozilla-inbound/rev/{}", &rev[..12])),
    )
    .await;
    let pending: Vec<&Value> = items
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i.get("status").is_none())
        .collect();
    assert_eq!(pending.len(), 1, "one pending request (no status key)");
    assert_eq!(pending[0]["request_id"], request_id);
    // Production's requestFromRow (buildapi/model/builds.py): no build_id at
    // all, and claimed_at 0 while unclaimed.
    assert!(pending[0].get("build_id").is_none(), "{:#}", pending[0]);
    assert_eq!(pending[0]["claimed_at"], 0);
    let parsed = mozci::sources::buildapi::parse_self_serve_rev(items.to_string().as_bytes())
        .expect("the core reads the listing with a pending request");
    assert!(parsed.iter().any(|i| matches!(
        i,
        mozci::sources::buildapi::RevItem::Pending(r) if r.request_id == request_id
    )));
    let pending_dump = sb
        .get(&sb.bb("/builddata/buildjson/builds-pending.js"))
        .await;
    assert_eq!(
        pending_dump["pending"]["mozilla-inbound"][&rev[..12]][0]["id"],
        request_id
    );

    let th = sb
        .get(&sb.th(&format!(
            "/api/project/mozilla-inbound/jobs/?push_id={}&state=pending",
            push["push_id"]
        )))
        .await;
    assert_eq!(
        th["results"].as_array().unwrap().len(),
        1,
        "Treeherder shows the new job"
    );
    assert_eq!(th["results"][0]["ref_data_name"], TEST_BUILDER);

    sb.advance(3 * 3600).await;
    let (_, items) = get_json_auth(&sb, &ss(&sb, &format!("mozilla-inbound/rev/{rev}"))).await;
    let ours = items
        .as_array()
        .unwrap()
        .iter()
        .find(|b| {
            b["requests"]
                .as_array()
                .is_some_and(|r| r.iter().any(|q| q["request_id"] == request_id))
        })
        .unwrap();
    assert!(
        ours["status"].is_number() && ours["endtime"].is_number(),
        "finished build"
    );

    let log = sb.requests().await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["method"], "POST");
    assert_eq!(log[0]["user"], SHERIFF.0);
    assert_eq!(log[0]["status"], 202);
    assert!(log[0]["body"].as_str().unwrap().contains("files="));
    sb.stop();
}

#[tokio::test]
async fn bad_parameters_and_unknown_things() {
    let sb = Sb::start().await;
    let rev = sb.pushes("mozilla-inbound").await[0]["revision"]
        .as_str()
        .unwrap()
        .to_string();
    let unknown_rev = post_form(
        &sb,
        &format!(
            "{}?format=json",
            ss(
                &sb,
                &format!(
                    "mozilla-inbound/builders/{BUILD_BUILDER}/{}",
                    "f".repeat(40)
                )
            )
        ),
        &[],
    )
    .await;
    assert_eq!(unknown_rev.status(), 404);
    let body: Value = unknown_rev.json().await.unwrap();
    assert_eq!(body["status"], "FAILED");
    assert!(body["msg"].as_str().unwrap().starts_with("Revision ffff"));
    let bad_props = post_form(
        &sb,
        &ss(
            &sb,
            &format!("mozilla-inbound/builders/{BUILD_BUILDER}/{rev}"),
        ),
        &[("properties", "{not json")],
    )
    .await;
    assert_eq!(bad_props.status(), 400);
    let unknown_branch = post_form(&sb, &ss(&sb, "nope/request"), &[("request_id", "1")]).await;
    assert_eq!(unknown_branch.status(), 404);
    let missing_id = post_form(&sb, &ss(&sb, "mozilla-inbound/request"), &[]).await;
    assert_eq!(missing_id.status(), 400);
    let unknown_request = post_form(
        &sb,
        &ss(&sb, "mozilla-inbound/request"),
        &[("request_id", "5")],
    )
    .await;
    assert_eq!(unknown_request.status(), 404);
    sb.stop();
}

#[tokio::test]
async fn one_request_and_one_build_are_shown_on_their_branch_only() {
    // A second Buildbot branch, so that an id of one asked on the other
    // reaches the lookup (an unknown branch is refused before it).
    let mut scenario = small_demo();
    let repos = scenario["repos"].as_array_mut().unwrap();
    let mut fx_team = repos[0].clone();
    assert_eq!(fx_team["name"], "mozilla-inbound");
    fx_team["name"] = json!("fx-team");
    fx_team["path"] = json!("integration/fx-team");
    fx_team["id"] = json!(99);
    fx_team["graph_branch"] = json!("Fx-Team");
    fx_team["first_push_id"] = json!(1);
    repos.push(fx_team);
    let sb = Sb::start_with(scenario, None).await;
    sb.advance(4 * 3600).await;
    let jobs = sb.jobs("repo=mozilla-inbound").await;
    let done = jobs
        .iter()
        .find(|j| j["kind"] == "test" && j["state"] == "completed")
        .unwrap();
    let request_id = done["buildbot"]["request_id"].as_u64().unwrap();
    let build_id = done["buildbot"]["build_id"].as_u64().unwrap();

    let (status, request) = get_json_auth(
        &sb,
        &ss(&sb, &format!("mozilla-inbound/request/{request_id}")),
    )
    .await;
    assert_eq!(status, 200, "{request}");
    assert_eq!(request["request_id"], json!(request_id));
    assert_eq!(request["build_ids"], json!([build_id]), "{request}");

    let (status, build) =
        get_json_auth(&sb, &ss(&sb, &format!("mozilla-inbound/build/{build_id}"))).await;
    assert_eq!(status, 200, "{build}");
    assert_eq!(build["build_id"], json!(build_id));
    assert_eq!(build["buildername"], done["label"]);
    assert!(
        build["requests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["request_id"] == json!(request_id)),
        "{build}"
    );

    // Another branch's id, an id nobody has and one that is not a number
    // are all unknown here.
    for rest in [
        format!("fx-team/request/{request_id}"),
        format!("fx-team/build/{build_id}"),
        "mozilla-inbound/request/999999".to_string(),
        "mozilla-inbound/build/999999".to_string(),
        "mozilla-inbound/build/abc".to_string(),
    ] {
        let (status, body) = get_json_auth(&sb, &ss(&sb, &rest)).await;
        assert_eq!(status, 404, "{rest}: {body}");
    }
    sb.stop();
}

#[tokio::test]
async fn retrigger_rebuild_and_cancel() {
    let sb = Sb::start().await;
    sb.advance(4 * 3600).await;
    let jobs = sb.jobs("repo=mozilla-inbound").await;
    let done = jobs
        .iter()
        .find(|j| j["kind"] == "test" && j["state"] == "completed" && j["result"] == "success")
        .unwrap();
    let request_id = done["buildbot"]["request_id"].to_string();
    let build_id = done["buildbot"]["build_id"].to_string();

    let retrigger = post_form(
        &sb,
        &ss(&sb, "mozilla-inbound/request"),
        &[("request_id", &request_id), ("count", "2")],
    )
    .await;
    assert_eq!(retrigger.status(), 202);
    let after = sb
        .jobs(&format!(
            "push_id={}&label={}",
            done["push_id"],
            done["label"].as_str().unwrap().replace(' ', "%20")
        ))
        .await;
    let new: Vec<&Value> = after.iter().filter(|j| j["state"] == "pending").collect();
    assert_eq!(new.len(), 2, "count=2 creates two requests");
    assert!(new
        .iter()
        .all(|j| j["buildbot"]["files"] == done["buildbot"]["files"]));

    let rebuild = post_form(
        &sb,
        &ss(&sb, "mozilla-inbound/build"),
        &[("build_id", &build_id)],
    )
    .await;
    assert_eq!(rebuild.status(), 202);

    // Cancel one pending request with POST + _method=DELETE, another with DELETE.
    let first = new[0]["buildbot"]["request_id"].to_string();
    let cancel = post_form(
        &sb,
        &ss(&sb, &format!("mozilla-inbound/request/{first}")),
        &[("_method", "DELETE")],
    )
    .await;
    assert_eq!(cancel.status(), 202);
    let second = new[1]["buildbot"]["request_id"].to_string();
    let delete = sb
        .http
        .delete(ss(&sb, &format!("mozilla-inbound/request/{second}")))
        .basic_auth(SHERIFF.0, Some(SHERIFF.1))
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 202);
    let again = sb
        .http
        .delete(ss(&sb, &format!("mozilla-inbound/request/{second}")))
        .basic_auth(SHERIFF.0, Some(SHERIFF.1))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400, "no longer pending");
    let cancelled = sb.jobs(&format!("push_id={}", done["push_id"])).await;
    let states: Vec<&Value> = cancelled
        .iter()
        .filter(|j| j["result"] == "usercancel")
        .collect();
    assert_eq!(states.len(), 2);

    // Cancel everything at a revision.
    let rev = done["revision"].as_str().unwrap();
    let all = post_form(
        &sb,
        &ss(&sb, &format!("mozilla-inbound/rev/{rev}")),
        &[("_method", "DELETE")],
    )
    .await;
    assert_eq!(all.status(), 202);
    let left = sb.jobs(&format!("push_id={}", done["push_id"])).await;
    assert!(
        left.iter().all(|j| j["state"] == "completed"),
        "nothing pending or running at that revision"
    );
    let methods: Vec<String> = sb
        .requests()
        .await
        .iter()
        .map(|r| r["method"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        methods,
        ["POST", "POST", "POST", "DELETE", "DELETE", "POST"]
    );
    sb.stop();
}

#[tokio::test]
async fn pending_requests_of_one_builder_coalesce_into_the_newest_revision() {
    let mut scenario = small_demo();
    scenario["repos"][0]["slaves"] = json!(1);
    let sb = Sb::start_with(scenario, None).await;
    sb.advance(6 * 3600).await;
    let pushes = sb.pushes("mozilla-inbound").await;
    let targets = [&pushes[1], &pushes[2], &pushes[3]];
    // With one slave the history's builds coalesced too: any finished build's files do.
    let files = files_of(&sb, "repo=mozilla-inbound").await;
    for push in targets {
        let rev = push["revision"].as_str().unwrap();
        let r = post_form(
            &sb,
            &ss(
                &sb,
                &format!("mozilla-inbound/builders/{TEST_BUILDER}/{rev}"),
            ),
            &[("files", &json!(files).to_string())],
        )
        .await;
        assert_eq!(r.status(), 202);
    }
    sb.advance(3 * 3600).await;
    let mut triggered = Vec::new();
    for push in targets {
        let jobs = sb
            .jobs(&format!(
                "push_id={}&label={}",
                push["push_id"],
                TEST_BUILDER.replace(' ', "%20")
            ))
            .await;
        triggered.push(jobs.into_iter().find(|j| j["who"] == SHERIFF.0).unwrap());
    }
    let merged: Vec<&Value> = triggered
        .iter()
        .filter(|j| !j["buildbot"]["coalesced_into"].is_null())
        .collect();
    assert!(
        !merged.is_empty(),
        "one slave: requests pending together are merged"
    );
    for job in &merged {
        assert_eq!(job["result"], "superseded");
        let into = triggered
            .iter()
            .find(|t| t["id"] == job["buildbot"]["coalesced_into"])
            .unwrap();
        assert!(
            into["push_id"].as_u64() > job["push_id"].as_u64(),
            "the build runs the newest revision"
        );
        // Self-Serve lists the merged request inside a build of another revision (COALESCED for mozci).
        let rev = job["revision"].as_str().unwrap();
        let (_, items) = get_json_auth(&sb, &ss(&sb, &format!("mozilla-inbound/rev/{rev}"))).await;
        let build = items
            .as_array()
            .unwrap()
            .iter()
            .find(|b| {
                b["requests"].as_array().is_some_and(|r| {
                    r.iter()
                        .any(|q| q["request_id"] == job["buildbot"]["request_id"])
                })
            })
            .unwrap();
        assert_ne!(&build["revision"].as_str().unwrap()[..12], &rev[..12]);
        assert!(build["status"].is_number(), "the build finished");
        // The Treeherder job says what it was coalesced to.
        let th = sb
            .get(&sb.th(&format!("/api/project/mozilla-inbound/jobs/{}/", job["id"])))
            .await;
        assert!(th["job_coalesced_to_guid"].is_string());
    }
    let four_hours = sb
        .http
        .get(sb.bb("/builddata/buildjson/builds-4hr.js.gz"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&four_hours[..]),
        &mut text,
    )
    .unwrap();
    let dump: Value = serde_json::from_str(&text).unwrap();
    let merged_id = &merged[0]["buildbot"]["request_id"];
    let build = dump["builds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["request_ids"].as_array().unwrap().contains(merged_id))
        .unwrap();
    assert!(build["properties"]["request_ids"].as_array().unwrap().len() >= 2);
    sb.stop();
}

#[tokio::test]
async fn a_finished_build_triggers_its_tests_and_tests_need_files() {
    let sb = Sb::start().await;
    sb.advance(4 * 3600).await;
    let pushes = sb.pushes("mozilla-inbound").await;
    let push = &pushes[1];
    let rev = push["revision"].as_str().unwrap();
    let before = sb.jobs(&format!("push_id={}", push["push_id"])).await.len();
    assert_eq!(
        post_form(
            &sb,
            &ss(
                &sb,
                &format!("mozilla-inbound/builders/{BUILD_BUILDER}/{rev}")
            ),
            &[]
        )
        .await
        .status(),
        202
    );
    let no_files = post_form(
        &sb,
        &ss(
            &sb,
            &format!("mozilla-inbound/builders/{TEST_BUILDER}/{rev}"),
        ),
        &[],
    )
    .await;
    assert_eq!(no_files.status(), 202);
    sb.advance(2 * 3600).await;
    let jobs = sb.jobs(&format!("push_id={}", push["push_id"])).await;
    let build = jobs
        .iter()
        .find(|j| j["label"] == BUILD_BUILDER && j["who"] == SHERIFF.0)
        .unwrap();
    assert_eq!(build["result"], "success");
    let lonely = jobs
        .iter()
        .find(|j| j["label"] == TEST_BUILDER && j["who"] == SHERIFF.0)
        .unwrap();
    assert_eq!(
        lonely["result"], "exception",
        "a test without packageUrl/testsUrl cannot run"
    );
    let followers: Vec<&Value> = jobs
        .iter()
        .skip(before)
        .filter(|j| j["kind"] == "test" && j["reason"] == "scheduler")
        .collect();
    assert_eq!(
        followers.len(),
        6,
        "every test suite of the platform after the build"
    );
    let build_dump = sb
        .get(&sb.bb("/builddata/buildjson/builds-running.js"))
        .await;
    assert!(build_dump["running"].is_object());
    for test in followers {
        assert_eq!(test["platform"], build["platform"]);
        let package = test["buildbot"]["files"][0].as_str().unwrap();
        assert!(package.ends_with(".tar.bz2"));
    }
    sb.stop();
}

#[tokio::test]
async fn buildjson_is_conditional_and_has_day_files() {
    let sb = Sb::start().await;
    let url = sb.bb("/builddata/buildjson/builds-4hr.js.gz");
    let first = sb.http.get(&url).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let last_modified = first.headers()["last-modified"]
        .to_str()
        .unwrap()
        .to_string();
    let again = sb
        .http
        .get(&url)
        .header("If-Modified-Since", &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    sb.advance(600).await;
    let changed = sb
        .http
        .get(&url)
        .header("If-Modified-Since", &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200, "jobs moved: the dump changed");

    let day = sb
        .http
        .get(sb.bb("/builddata/buildjson/builds-2015-10-01.js.gz"))
        .send()
        .await
        .unwrap();
    assert_eq!(day.status(), 200);
    let bytes = day.bytes().await.unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
        .unwrap();
    let dump: Value = serde_json::from_str(&text).unwrap();
    assert!(!dump["builds"].as_array().unwrap().is_empty());
    let missing = sb
        .http
        .get(sb.bb("/builddata/buildjson/builds-yesterday.js.gz"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let impossible = sb
        .http
        .get(sb.bb("/builddata/buildjson/builds-2015-02-30.js.gz"))
        .send()
        .await
        .unwrap();
    assert_eq!(impossible.status(), 404, "not a calendar day");

    let att = sb.get(&sb.bb("/builddata/reports/allthethings.json")).await;
    let scheduler = &att["schedulers"]["tests-mozilla-inbound-linux64-opt-unittest"];
    assert_eq!(
        scheduler["triggered_by"],
        json!(["mozilla-inbound-linux64-opt-unittest"])
    );
    assert!(scheduler["downstream"]
        .as_array()
        .unwrap()
        .contains(&json!(TEST_BUILDER)));
    assert_eq!(
        att["builders"][BUILD_BUILDER]["shortname"],
        "mozilla-inbound-linux64"
    );
    let (status, pending) = get_json_auth(&sb, &sb.bb("/buildapi/pending?format=json")).await;
    assert_eq!(status, 200);
    assert!(pending["pending"].is_object());
    sb.stop();
}

/// The `after_applied` fault: the trigger is carried out (logged with the
/// handler's 202, its request listed), then its answer is lost in each way.
#[tokio::test]
async fn answers_lost_after_a_trigger_was_carried_out() {
    let sb = Sb::start().await;
    let pushes = sb.pushes("mozilla-inbound").await;
    let rev = pushes[2]["revision"].as_str().unwrap().to_string();
    let url = format!(
        "{}?format=json",
        ss(
            &sb,
            &format!("mozilla-inbound/builders/{BUILD_BUILDER}/{rev}")
        )
    );
    let properties = json!({"branch": "mozilla-inbound", "revision": rev}).to_string();
    // The status and body, or the transport error of a cut connection.
    let trigger = || async {
        let started = std::time::Instant::now();
        let answer = async {
            let response = sb
                .http
                .post(&url)
                .basic_auth(SHERIFF.0, Some(SHERIFF.1))
                .form(&[("properties", properties.as_str())])
                .send()
                .await?;
            let status = response.status().as_u16();
            Ok::<_, reqwest::Error>((status, response.bytes().await?.to_vec()))
        }
        .await;
        (answer, started.elapsed())
    };
    let pending = || async {
        let (_, items) = get_json_auth(&sb, &ss(&sb, &format!("mozilla-inbound/rev/{rev}"))).await;
        items
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["buildername"] == BUILD_BUILDER && i.get("status").is_none())
            .count()
    };
    let mut carried_out = 0;
    for lost in [
        json!({"kind": "garble"}),
        json!({"kind": "error500"}),
        json!({"kind": "drop"}),
        json!({"kind": "delay", "ms": 300}),
    ] {
        sb.post(
            &sb.th("/__sandbox/faults"),
            json!({"buildapi": {"after_applied": lost}}),
        )
        .await;
        let (answer, elapsed) = trigger().await;
        match (lost["kind"].as_str().unwrap(), answer) {
            ("garble", Ok((status, body))) => {
                assert_eq!(status, 202);
                assert!(serde_json::from_slice::<Value>(&body).is_err(), "garbled");
            }
            ("error500", Ok((status, _))) => assert_eq!(status, 500),
            ("drop", answer) => assert!(answer.is_err(), "the connection is cut"),
            ("delay", Ok((status, _))) => {
                assert_eq!(status, 202);
                assert!(elapsed >= std::time::Duration::from_millis(300));
            }
            (kind, answer) => panic!("{kind}: {answer:?}"),
        }
        carried_out += 1;
        let log = sb.requests().await;
        assert_eq!(log.len(), carried_out, "{lost}: logged once");
        assert_eq!(log[carried_out - 1]["status"], 202, "{lost}: carried out");
        // Reads are answered as usual.
        let (status, _) = get_json_auth(&sb, &ss(&sb, "branches")).await;
        assert_eq!(status, 200);
    }
    sb.post(&sb.th("/__sandbox/faults"), json!({})).await;
    assert_eq!(pending().await, carried_out, "every trigger was applied");
    sb.stop();
}

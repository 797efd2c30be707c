//! Scenario tests of the Taskcluster origin: queue and index reads, and
//! hooks `triggerHook` end to end as Treeherder does it (decision task →
//! actions.json → JSON-e → Hawk-signed POST), with the tasks really scheduled.

mod common;

use common::{
    layout, Sb, Signing, HAWK_CRATE_ORDER, JS_CLIENT_ORDER, PYTHON_CLIENT_ORDER, TC_SHERIFF,
    TC_VISITOR,
};
use serde_json::{json, Value};

/// A completed autoland test job on the newest push that has finished tests.
async fn finished_test(sb: &Sb) -> Value {
    let jobs = sb.jobs("repo=autoland").await;
    jobs.into_iter()
        .filter(|j| {
            j["kind"] == "test"
                && j["state"] == "completed"
                && j["platform"] == "linux64"
                && j["option"] == "opt"
        })
        .max_by_key(|j| j["push_id"].as_u64())
        .unwrap()
}

/// What Treeherder does: find the action for the task and render its hook payload.
async fn action_payload(
    sb: &Sb,
    job: &Value,
    name: &str,
    task_id: Option<&str>,
    input: Value,
) -> (String, String, Value) {
    let decision = sb
        .get(&sb.th(&format!(
            "/api/project/autoland/push/decisiontask/?push_ids={}",
            job["push_id"]
        )))
        .await;
    let decision_id = decision[job["push_id"].to_string()]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let actions = sb
        .get(&sb.tc(&format!(
            "/api/queue/v1/task/{decision_id}/artifacts/public/actions.json"
        )))
        .await;
    let tags = match task_id {
        Some(t) => sb.get(&sb.tc(&format!("/api/queue/v1/task/{t}"))).await["tags"].clone(),
        None => json!({}),
    };
    let matches = |context: &Value| {
        let sets = context.as_array().unwrap();
        if task_id.is_none() {
            return sets.is_empty();
        }
        sets.iter().any(|set| {
            set.as_object()
                .unwrap()
                .iter()
                .all(|(k, v)| tags.get(k) == Some(v))
        })
    };
    let action = actions["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name && matches(&a["context"]))
        .unwrap();
    let context = json!({"taskGroupId": decision_id, "taskId": task_id, "input": input});
    let payload = json_e::render(&action["hookPayload"], &context).unwrap();
    (
        action["hookGroupId"].as_str().unwrap().to_string(),
        action["hookId"].as_str().unwrap().to_string(),
        payload,
    )
}

async fn trigger(
    sb: &Sb,
    client: (&str, &str),
    group: &str,
    hook: &str,
    payload: &Value,
) -> reqwest::Response {
    let path = format!(
        "/api/hooks/v1/hooks/{}/{}/trigger",
        group,
        hook.replace('/', "%2F")
    );
    let body = serde_json::to_vec(payload).unwrap();
    let auth = sb.hawk_header(client.0, client.1, &path, &body);
    sb.http
        .post(sb.tc(&path))
        .header("Authorization", auth)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn backfill_schedules_the_label_on_earlier_pushes() {
    let sb = Sb::start().await;
    let job = finished_test(&sb).await;
    let task_id = job["taskcluster"]["task_id"].as_str().unwrap();
    let label = job["label"].as_str().unwrap();
    let (group, hook, payload) = action_payload(
        &sb,
        &job,
        "backfill",
        Some(task_id),
        json!({"depth": 3, "times": 2}),
    )
    .await;
    assert_eq!(payload["user"]["input"]["depth"], 3);
    let response = trigger(&sb, TC_SHERIFF, &group, &hook, &payload).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let answer: Value = response.json().await.unwrap();
    let action_task = answer["taskId"].as_str().unwrap().to_string();
    assert_eq!(answer["status"]["taskId"], action_task.as_str());

    let pushes = sb.pushes("autoland").await;
    let at = pushes
        .iter()
        .position(|p| p["push_id"] == job["push_id"])
        .unwrap();
    for (i, push) in pushes.iter().enumerate() {
        let jobs = sb
            .jobs(&format!("push_id={}&label={label}", push["push_id"]))
            .await;
        let new = jobs
            .iter()
            .filter(|j| j["reason"] == "action backfill")
            .count();
        let expected = if i < at && i + 3 >= at { 2 } else { 0 };
        assert_eq!(new, expected, "push {i} (selected {at})");
    }
    let actions = sb.jobs("repo=autoland&label=Action:%20Backfill").await;
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0]["who"], TC_SHERIFF.0);

    // The scheduled tasks run to completion on the clock.
    sb.advance(4 * 3600).await;
    let group_list = sb
        .get(&sb.tc(&format!("/api/queue/v1/task-group/{action_task}/list")))
        .await;
    let tasks = group_list["tasks"].as_array().unwrap();
    assert!(
        tasks
            .iter()
            .filter(|t| t["task"]["tags"]["label"] == label)
            .count()
            >= 6
    );
    assert!(tasks
        .iter()
        .all(|t| ["completed", "failed"].contains(&t["status"]["state"].as_str().unwrap())));

    let log = sb.requests().await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["origin"], "taskcluster");
    assert_eq!(log[0]["user"], TC_SHERIFF.0);
    let logged: Value = serde_json::from_str(log[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(logged["decision"]["action"]["cb_name"], "backfill");
    sb.stop();
}

#[tokio::test]
async fn hook_auth_outcomes() {
    let sb = Sb::start().await;
    let job = finished_test(&sb).await;
    let task_id = job["taskcluster"]["task_id"].as_str().unwrap();
    let (group, hook, payload) =
        action_payload(&sb, &job, "retrigger", Some(task_id), json!({})).await;
    let path = format!(
        "/api/hooks/v1/hooks/{}/{}/trigger",
        group,
        hook.replace('/', "%2F")
    );

    let missing = sb
        .http
        .post(sb.tc(&path))
        .json(&payload)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);
    let wrong_key = trigger(
        &sb,
        (TC_SHERIFF.0, "not-the-token"),
        &group,
        &hook,
        &payload,
    )
    .await;
    assert_eq!(wrong_key.status(), 401);
    let wrong: Value = wrong_key.json().await.unwrap();
    assert_eq!(wrong["code"], "AuthenticationFailed");
    let visitor = trigger(&sb, TC_VISITOR, &group, &hook, &payload).await;
    assert_eq!(visitor.status(), 403);
    let refused: Value = visitor.json().await.unwrap();
    assert_eq!(refused["code"], "InsufficientScopes");
    assert!(refused["message"]
        .as_str()
        .unwrap()
        .contains(&format!("hooks:trigger-hook:{group}/{hook}")));
    let unknown = trigger(
        &sb,
        TC_SHERIFF,
        &group,
        "in-tree-action-3-generic/000000",
        &payload,
    )
    .await;
    assert_eq!(unknown.status(), 404);

    // Signed for a different body: the payload hash no longer matches.
    let body = serde_json::to_vec(&payload).unwrap();
    let auth = sb.hawk_header(TC_SHERIFF.0, TC_SHERIFF.1, &path, b"{}");
    let tampered = sb
        .http
        .post(sb.tc(&path))
        .header("Authorization", auth)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), 401);

    let statuses: Vec<u64> = sb
        .requests()
        .await
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [401, 401, 403, 404, 401]);
    assert!(
        sb.jobs("repo=autoland&label=Action:%20Retrigger")
            .await
            .is_empty(),
        "nothing was triggered"
    );
    sb.stop();
}

#[tokio::test]
async fn retrigger_add_new_jobs_and_retrigger_multiple() {
    let sb = Sb::start().await;
    let job = finished_test(&sb).await;
    let task_id = job["taskcluster"]["task_id"].as_str().unwrap();
    let label = job["label"].as_str().unwrap().to_string();
    let push_id = job["push_id"].clone();
    let count = |jobs: &[Value], l: &str| jobs.iter().filter(|j| j["label"] == l).count();
    let before = sb.jobs(&format!("push_id={push_id}")).await;

    let (group, hook, payload) =
        action_payload(&sb, &job, "retrigger", Some(task_id), json!({"times": 2})).await;
    assert_eq!(
        trigger(&sb, TC_SHERIFF, &group, &hook, &payload)
            .await
            .status(),
        200
    );
    let after = sb.jobs(&format!("push_id={push_id}")).await;
    assert_eq!(count(&after, &label), count(&before, &label) + 2);

    // A label the push skipped (SETA) or not: add-new-jobs adds it either way.
    let extra = "test-linux64/debug-crashtest";
    let (group, hook, payload) = action_payload(
        &sb,
        &job,
        "add-new-jobs",
        None,
        json!({"tasks": [extra], "times": 1}),
    )
    .await;
    assert_eq!(
        trigger(&sb, TC_SHERIFF, &group, &hook, &payload)
            .await
            .status(),
        200
    );
    let after_add = sb.jobs(&format!("push_id={push_id}")).await;
    assert_eq!(count(&after_add, extra), count(&after, extra) + 1);
    let added = after_add.iter().rfind(|j| j["label"] == extra).unwrap();
    let deps = added["taskcluster"]["dependencies"].as_array().unwrap();
    let build = after_add
        .iter()
        .find(|j| j["taskcluster"]["task_id"] == deps[0])
        .unwrap();
    assert_eq!(
        build["label"], "build-linux64/debug",
        "the test depends on the push's build"
    );

    let (group, hook, payload) = action_payload(
        &sb,
        &job,
        "retrigger-multiple",
        None,
        json!({"requests": [{"tasks": [label.clone()], "times": 3}]}),
    )
    .await;
    assert_eq!(
        trigger(&sb, TC_SHERIFF, &group, &hook, &payload)
            .await
            .status(),
        200
    );
    let after_multi = sb.jobs(&format!("push_id={push_id}")).await;
    assert_eq!(count(&after_multi, &label), count(&after_add, &label) + 3);

    // Input outside the schema: the hook call succeeds, the action task fails.
    let (group, hook, payload) =
        action_payload(&sb, &job, "backfill", Some(task_id), json!({"depth": 30})).await;
    assert_eq!(
        trigger(&sb, TC_SHERIFF, &group, &hook, &payload)
            .await
            .status(),
        200
    );
    let failed = sb.jobs("repo=autoland&label=Action:%20Backfill").await;
    assert_eq!(failed[0]["result"], "exception");
    assert!(failed[0]["failures"][0]["message"]
        .as_str()
        .unwrap()
        .contains("depth"));
    sb.stop();
}

#[tokio::test]
async fn queue_and_index_reads() {
    let sb = Sb::start().await;
    let job = finished_test(&sb).await;
    let task_id = job["taskcluster"]["task_id"].as_str().unwrap();
    let task = sb
        .get(&sb.tc(&format!("/api/queue/v1/task/{task_id}")))
        .await;
    assert_eq!(task["tags"]["label"], job["label"]);
    assert_eq!(task["tags"]["kind"], "test");
    let status = sb
        .get(&sb.tc(&format!("/api/queue/v1/task/{task_id}/status")))
        .await;
    assert!(["completed", "failed"].contains(&status["status"]["state"].as_str().unwrap()));
    assert_eq!(status["status"]["runs"][0]["runId"], 0);

    let artifacts = sb
        .get(&sb.tc(&format!("/api/queue/v1/task/{task_id}/runs/0/artifacts")))
        .await;
    let names: Vec<&str> = artifacts["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"public/logs/live_backing.log"));
    let log = sb
        .http
        .get(sb.tc(&format!(
            "/api/queue/v1/task/{task_id}/runs/0/artifacts/public/logs/live_backing.log"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(log.status(), 200);
    assert!(log.text().await.unwrap().contains("TEST-"));

    let missing = sb
        .http
        .get(sb.tc("/api/queue/v1/task/AAAAAAAAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["code"], "ResourceNotFound");

    let pushes = sb.pushes("autoland").await;
    let rev = pushes[2]["revision"].as_str().unwrap();
    let indexed = sb
        .get(&sb.tc(&format!(
            "/api/index/v1/task/gecko.v2.autoland.revision.{rev}.taskgraph.decision"
        )))
        .await;
    assert_eq!(indexed["taskId"], pushes[2]["decision_task_id"]);
    let group = sb
        .get(&sb.tc(&format!(
            "/api/queue/v1/task-group/{}/list",
            pushes[2]["decision_task_id"].as_str().unwrap()
        )))
        .await;
    assert!(group["tasks"].as_array().unwrap().len() > 10);
    let not_indexed = sb
        .http
        .get(sb.tc(&format!(
            "/api/index/v1/task/gecko.v2.autoland.revision.{}.taskgraph.decision",
            "0".repeat(40)
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(not_indexed.status(), 404);
    sb.stop();
}

/// The path of a trigger, the hook id encoded as Taskcluster's clients do.
fn trigger_path(group: &str, hook: &str) -> String {
    format!(
        "/api/hooks/v1/hooks/{group}/{}/trigger",
        hook.replace('/', "%2F")
    )
}

/// A retrigger's hook and payload for a finished test job.
async fn retrigger_setup(sb: &Sb) -> (String, String, Vec<u8>) {
    let job = finished_test(sb).await;
    let task_id = job["taskcluster"]["task_id"].as_str().unwrap();
    let (group, hook, payload) =
        action_payload(sb, &job, "retrigger", Some(task_id), json!({})).await;
    (group, hook, serde_json::to_vec(&payload).unwrap())
}

/// Retrigger action tasks the sandbox created (one per applied trigger).
async fn applied_retriggers(sb: &Sb) -> usize {
    sb.jobs("repo=autoland&label=Action:%20Retrigger")
        .await
        .len()
}

/// The request log's (status, user) of every trigger POST.
async fn logged_triggers(sb: &Sb) -> Vec<(u64, Value)> {
    sb.requests()
        .await
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with("/trigger")))
        .map(|r| (r["status"].as_u64().unwrap(), r["user"].clone()))
        .collect()
}

async fn refusal_message(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    body["message"].as_str().unwrap_or_default().to_string()
}

/// base64 of the JSON `ext` Taskcluster clients send.
fn ext_of(value: Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(value.to_string())
}

fn sheriff_client() -> mozci_sandbox::scenario::TcClient {
    mozci_sandbox::scenario::TcClient {
        client_id: TC_SHERIFF.0.into(),
        access_token: TC_SHERIFF.1.into(),
        scopes: vec![
            "hooks:trigger-hook:project-gecko/in-tree-action-3-*".into(),
            "queue:get-artifact:*".into(),
            format!("auth:create-client:{}/*", TC_SHERIFF.0),
        ],
    }
}

/// The small demo whose sheriff may also name temporary credentials.
fn scenario_with_issuer() -> Value {
    let mut s = common::small_demo();
    s["tc_clients"][0] = serde_json::to_value(sheriff_client()).unwrap();
    s
}

const SEED: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Temporary credentials of the sheriff: (client id, access token, certificate JSON).
fn temporary(
    name: Option<&str>,
    scopes: &[&str],
    start: i64,
    expiry: i64,
) -> (String, String, Value) {
    let creds = mozci_sandbox::tc_auth::issue_temporary_credentials(
        &sheriff_client(),
        name,
        scopes,
        start,
        expiry,
        SEED,
    );
    (
        creds["clientId"].as_str().unwrap().to_string(),
        creds["accessToken"].as_str().unwrap().to_string(),
        serde_json::from_str(creds["certificate"].as_str().unwrap()).unwrap(),
    )
}

#[tokio::test]
async fn a_body_without_payload_hash_is_refused() {
    let sb = Sb::start().await;
    let (group, hook, body) = retrigger_setup(&sb).await;
    let path = trigger_path(&group, &hook);
    // Signed without a hash: the body is not covered, so any body would pass.
    let unhashed = layout(
        &sb.hawk_attributes(&Signing::new(TC_SHERIFF.0, TC_SHERIFF.1, &path)),
        HAWK_CRATE_ORDER,
    );
    let message = refusal_message(sb.post_tc(&path, &unhashed, &body).await, 401).await;
    assert!(message.contains("no payload hash"), "{message}");
    // A hash of another body: refused with production's message.
    let other = layout(
        &sb.hawk_attributes(&Signing::new(TC_SHERIFF.0, TC_SHERIFF.1, &path).body(b"{}")),
        HAWK_CRATE_ORDER,
    );
    let message = refusal_message(sb.post_tc(&path, &other, &body).await, 401).await;
    assert!(message.starts_with("Invalid payload hash"), "{message}");
    assert_eq!(
        logged_triggers(&sb).await,
        [(401, Value::Null), (401, Value::Null)]
    );
    assert_eq!(applied_retriggers(&sb).await, 0, "no trigger was applied");
    sb.stop();
}

#[tokio::test]
async fn a_replayed_header_is_refused() {
    let sb = Sb::start().await;
    let (group, hook, body) = retrigger_setup(&sb).await;
    let path = trigger_path(&group, &hook);
    let header = sb.hawk_header(TC_SHERIFF.0, TC_SHERIFF.1, &path, &body);
    assert_eq!(sb.post_tc(&path, &header, &body).await.status(), 200);
    let message = refusal_message(sb.post_tc(&path, &header, &body).await, 401).await;
    assert!(message.contains("replay"), "{message}");
    assert_eq!(
        logged_triggers(&sb).await,
        [(200, json!(TC_SHERIFF.0)), (401, Value::Null)]
    );
    assert_eq!(applied_retriggers(&sb).await, 1, "applied once, not twice");
    sb.stop();
}

#[tokio::test]
async fn an_unencoded_hook_id_is_refused() {
    let sb = Sb::start().await;
    let (group, hook, body) = retrigger_setup(&sb).await;
    assert!(hook.contains('/'), "{hook}");
    let path = format!("/api/hooks/v1/hooks/{group}/{hook}/trigger");
    // Correctly signed for the path it is sent to.
    let header = sb.hawk_header(TC_SHERIFF.0, TC_SHERIFF.1, &path, &body);
    let message = refusal_message(sb.post_tc(&path, &header, &body).await, 404).await;
    assert!(message.contains("%2F"), "{message}");
    assert_eq!(logged_triggers(&sb).await, [(404, Value::Null)]);
    assert_eq!(applied_retriggers(&sb).await, 0, "no trigger was applied");
    sb.stop();
}

#[tokio::test]
async fn garbage_ext_and_bad_certificates_are_refused() {
    let sb = Sb::start_with(scenario_with_issuer(), None).await;
    let (group, hook, body) = retrigger_setup(&sb).await;
    let path = trigger_path(&group, &hook);
    let scope = "hooks:trigger-hook:project-gecko/in-tree-action-3-*";
    let now = now_ms();
    let send = |client: String, token: String, ext: String| {
        let signing = Signing::new(&client, &token, &path).body(&body).ext(&ext);
        let header = layout(&sb.hawk_attributes(&signing), HAWK_CRATE_ORDER);
        let sb = &sb;
        let path = path.clone();
        let body = body.clone();
        async move { refusal_message(sb.post_tc(&path, &header, &body).await, 401).await }
    };
    let sheriff = || (TC_SHERIFF.0.to_string(), TC_SHERIFF.1.to_string());

    // Garbage ext, signed with the right key: the MAC is fine, ext is not.
    let (id, token) = sheriff();
    let message = send(id, token, "garbage".into()).await;
    assert!(message.starts_with("Failed to parse ext"), "{message}");
    let (id, token) = sheriff();
    let message = send(id, token, ext_of(json!({"certificate": "x"}))).await;
    assert_eq!(message, "ext.certificate must be a JSON object");

    // A certificate whose signature was made with another key.
    let (id, token, mut cert) = temporary(None, &[scope], now - 1000, now + 3_600_000);
    cert["signature"] = json!("bm90IHRoZSBzaWduYXR1cmU=");
    let message = send(id, token, ext_of(json!({ "certificate": cert }))).await;
    assert_eq!(message, "ext.certificate.signature is not valid");

    // A genuine certificate with its scopes widened afterwards.
    let (id, token, mut cert) = temporary(None, &[scope], now - 1000, now + 3_600_000);
    cert["scopes"] = json!(["hooks:trigger-hook:*"]);
    let message = send(id, token, ext_of(json!({ "certificate": cert }))).await;
    assert!(message.contains("certificate scopes"), "{message}");

    // Expired, and a version that does not exist.
    let (id, token, cert) = temporary(None, &[scope], now - 7_200_000, now - 3_600_000);
    let message = send(id, token, ext_of(json!({ "certificate": cert }))).await;
    assert_eq!(message, "ext.certificate.expiry < now");
    let (id, token, mut cert) = temporary(None, &[scope], now - 1000, now + 3_600_000);
    cert["version"] = json!(2);
    let message = send(id, token, ext_of(json!({ "certificate": cert }))).await;
    assert_eq!(message, "ext.certificate.version must be 1");

    // The permanent access token with a certificate: the MAC needs the
    // temporary token the certificate's seed gives.
    let (id, _, cert) = temporary(None, &[scope], now - 1000, now + 3_600_000);
    let message = send(
        id,
        TC_SHERIFF.1.into(),
        ext_of(json!({ "certificate": cert })),
    )
    .await;
    assert!(message.starts_with("Bad mac"), "{message}");

    // authorizedScopes beyond what the client holds.
    let (id, token) = sheriff();
    let message = send(id, token, ext_of(json!({"authorizedScopes": ["hooks:*"]}))).await;
    assert!(
        message.contains("do not satisfy authorizedScopes"),
        "{message}"
    );

    let log = logged_triggers(&sb).await;
    assert_eq!(log.len(), 8);
    assert!(
        log.iter()
            .all(|(status, user)| *status == 401 && user.is_null()),
        "{log:?}"
    );
    assert_eq!(applied_retriggers(&sb).await, 0, "no trigger was applied");
    sb.stop();
}

#[tokio::test]
async fn temporary_credentials_and_authorized_scopes_in_the_official_layouts() {
    let sb = Sb::start_with(scenario_with_issuer(), None).await;
    let (group, hook, body) = retrigger_setup(&sb).await;
    let path = trigger_path(&group, &hook);
    let scope = "hooks:trigger-hook:project-gecko/in-tree-action-3-*";
    let now = now_ms();

    // Unnamed temporary credentials, as the Python client sends them
    // (mohawk's attribute order, ext = base64 JSON with the certificate as
    // an object and authorizedScopes).
    let (id, token, cert) = temporary(None, &[scope], now - 1000, now + 3_600_000);
    assert_eq!(id, TC_SHERIFF.0);
    let ext = ext_of(json!({"certificate": cert, "authorizedScopes": [scope]}));
    let signing = Signing::new(&id, &token, &path).body(&body).ext(&ext);
    let python = layout(&sb.hawk_attributes(&signing), PYTHON_CLIENT_ORDER);
    assert!(python.starts_with("Hawk mac=\""), "{python}");
    assert_eq!(sb.post_tc(&path, &python, &body).await.status(), 200);

    // Named temporary credentials (issuer in the certificate), JS layout.
    let name = format!("{}/backfill-temp", TC_SHERIFF.0);
    let (id, token, cert) = temporary(Some(&name), &[scope], now - 1000, now + 3_600_000);
    assert_eq!(id, name);
    let signing = Signing::new(&id, &token, &path)
        .body(&body)
        .ext(&ext_of(json!({ "certificate": cert })));
    let js = layout(&sb.hawk_attributes(&signing), JS_CLIENT_ORDER);
    assert!(js.ends_with("\""), "{js}");
    assert_eq!(sb.post_tc(&path, &js, &body).await.status(), 200);

    // authorizedScopes that leave out the hook's scope: authenticated, but
    // not authorized (403, as production answers).
    let signing = Signing::new(TC_SHERIFF.0, TC_SHERIFF.1, &path)
        .body(&body)
        .ext(&ext_of(
            json!({"authorizedScopes": ["queue:get-artifact:*"]}),
        ));
    let narrowed = layout(&sb.hawk_attributes(&signing), HAWK_CRATE_ORDER);
    let message = refusal_message(sb.post_tc(&path, &narrowed, &body).await, 403).await;
    assert!(message.contains("is missing the scope"), "{message}");

    assert_eq!(
        logged_triggers(&sb).await,
        [
            (200, json!(TC_SHERIFF.0)),
            (200, json!(name)),
            (403, json!(TC_SHERIFF.0))
        ]
    );
    assert_eq!(applied_retriggers(&sb).await, 2);
    sb.stop();
}

/// taskcluster-client-web (what Treeherder triggers hooks with) signs no
/// payload hash and resends the same header when it retries. Production
/// accepts both; a scenario can make the sandbox do the same.
#[tokio::test]
async fn a_production_lenient_scenario_accepts_client_web_headers() {
    let mut scenario = common::small_demo();
    scenario["hawk"] = json!({"requirePayloadHash": false, "refuseReplays": false});
    let sb = Sb::start_with(scenario, None).await;
    let (group, hook, body) = retrigger_setup(&sb).await;
    let path = trigger_path(&group, &hook);
    let client_web = layout(
        &sb.hawk_attributes(&Signing::new(TC_SHERIFF.0, TC_SHERIFF.1, &path)),
        JS_CLIENT_ORDER,
    );
    assert!(!client_web.contains("hash="));
    assert_eq!(sb.post_tc(&path, &client_web, &body).await.status(), 200);
    assert_eq!(sb.post_tc(&path, &client_web, &body).await.status(), 200);
    assert_eq!(
        applied_retriggers(&sb).await,
        2,
        "production would apply both"
    );
    sb.stop();

    // The default (strict) sandbox refuses the same header.
    let sb = Sb::start().await;
    let (group, hook, body) = retrigger_setup(&sb).await;
    let path = trigger_path(&group, &hook);
    let client_web = layout(
        &sb.hawk_attributes(&Signing::new(TC_SHERIFF.0, TC_SHERIFF.1, &path)),
        JS_CLIENT_ORDER,
    );
    let message = refusal_message(sb.post_tc(&path, &client_web, &body).await, 401).await;
    assert!(message.contains("no payload hash"), "{message}");
    assert_eq!(applied_retriggers(&sb).await, 0);
    sb.stop();
}

/// The completed autoland linux64/opt browser-chrome run with a test
/// failure on the newest push (the small demo's regression, q = 1 from
/// push 2 on).
async fn failed_test(sb: &Sb) -> Value {
    let jobs = sb.jobs("repo=autoland").await;
    jobs.into_iter()
        .filter(|j| {
            j["kind"] == "test"
                && j["state"] == "completed"
                && j["platform"] == "linux64"
                && j["option"] == "opt"
                && j["label"]
                    .as_str()
                    .is_some_and(|l| l.ends_with("mochitest-browser-chrome-1"))
                && j["failures"].as_array().is_some_and(|f| !f.is_empty())
        })
        .max_by_key(|j| j["push_id"].as_u64())
        .unwrap()
}

#[tokio::test]
async fn confirm_failures_reruns_each_failing_test_in_a_cf_task() {
    let sb = Sb::start().await;
    let job = failed_test(&sb).await;
    let task_id = job["taskcluster"]["task_id"].as_str().unwrap();
    let label = job["label"].as_str().unwrap();
    let test = job["failures"][0]["test"].as_str().unwrap().to_string();
    let (group, hook, payload) = action_payload(
        &sb,
        &job,
        "confirm-failures",
        Some(task_id),
        json!({"times": 2}),
    )
    .await;
    assert_eq!(payload["decision"]["action"]["cb_name"], "confirm-failures");
    let response = trigger(&sb, TC_SHERIFF, &group, &hook, &payload).await;
    assert_eq!(response.status(), 200);

    let cf_label = format!("{label}-cf");
    let cf = sb
        .jobs(&format!("push_id={}&label={cf_label}", job["push_id"]))
        .await;
    let failing: std::collections::BTreeSet<&str> = job["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["test"].as_str().unwrap())
        .collect();
    assert_eq!(
        cf.len(),
        2 * failing.len(),
        "`times` tasks per failing test"
    );
    assert!(cf.iter().all(|j| j["confirm"]["repeats"] == 5));
    assert!(cf.iter().all(|j| j["confirm"]["of_task"] == task_id));

    // Treeherder: tier 3, the group symbol with `-cf`; the queue: what
    // confirm_failure.py sets.
    let cf_id = cf[0]["id"].as_u64().unwrap();
    let th = sb
        .get(&sb.th(&format!("/api/project/autoland/jobs/{cf_id}/")))
        .await;
    assert_eq!(th["tier"], 3);
    assert_eq!(th["job_group_symbol"], "M-cf");
    assert_eq!(th["job_type_name"], cf_label.as_str());
    let cf_task = cf[0]["taskcluster"]["task_id"].as_str().unwrap();
    let definition = sb
        .get(&sb.tc(&format!("/api/queue/v1/task/{cf_task}")))
        .await;
    assert_eq!(definition["tags"]["action"], "confirm-failure");
    assert_eq!(definition["payload"]["env"]["MOZLOG_DUMP_ALL_TESTS"], "1");
    assert_eq!(definition["extra"]["treeherder"]["tier"], 3);
    let paths: Value = serde_json::from_str(
        definition["payload"]["env"]["MOZHARNESS_CONFIRM_PATHS"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert!(paths["mochitest-browser-chrome"][0].is_string());

    // Run to the end: the regression fails every repeat (q = 1); the
    // errorsummary lists one result per repeat (passes too).
    sb.advance(4 * 3600).await;
    let cf = sb
        .jobs(&format!("push_id={}&label={cf_label}", job["push_id"]))
        .await;
    let of_regression = cf
        .iter()
        .find(|j| j["confirm"]["test"] == test.as_str())
        .unwrap();
    assert_eq!(of_regression["state"], "completed");
    assert_eq!(
        of_regression["confirm"]["outcomes"],
        json!([true, true, true, true, true])
    );
    assert_eq!(of_regression["result"], "testfailed");
    let task = of_regression["taskcluster"]["task_id"].as_str().unwrap();
    let summary = sb
        .http
        .get(sb.tc(&format!(
            "/api/queue/v1/task/{task}/artifacts/public/test_info/mochitest-browser-chrome_errorsummary.log"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let results: Vec<Value> = summary
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["action"] == "test_result")
        .collect();
    assert_eq!(results.len(), 5, "{summary}");
    assert!(results
        .iter()
        .all(|r| r["test"] == test.as_str() && r["status"] == "FAIL"));

    let log = sb.requests().await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["user"], TC_SHERIFF.0);
    sb.stop();
}

#[tokio::test]
async fn confirm_failures_refuses_what_production_refuses() {
    let sb = Sb::start().await;
    let job = failed_test(&sb).await;
    let task_id = job["taskcluster"]["task_id"].as_str().unwrap();

    // Input outside the schema: the action task fails, nothing is scheduled.
    for input in [json!({"times": 0}), json!({"times": 2, "depth": 3})] {
        let (group, hook, payload) =
            action_payload(&sb, &job, "confirm-failures", Some(task_id), input).await;
        let response = trigger(&sb, TC_SHERIFF, &group, &hook, &payload).await;
        assert_eq!(response.status(), 200);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["status"]["state"], "exception");
    }
    assert_eq!(cf_count(&sb, &job).await, 0);

    // A build task is outside the action's context (kind: test).
    let (group, hook, mut payload) = action_payload(
        &sb,
        &job,
        "confirm-failures",
        Some(task_id),
        json!({"times": 1}),
    )
    .await;
    let build = sb
        .jobs(&format!("push_id={}", job["push_id"]))
        .await
        .into_iter()
        .find(|j| j["kind"] == "build")
        .unwrap();
    payload["user"]["taskId"] = build["taskcluster"]["task_id"].clone();
    let response = trigger(&sb, TC_SHERIFF, &group, &hook, &payload).await;
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["status"]["state"], "exception");
    assert_eq!(cf_count(&sb, &job).await, 0);

    // A client without the hook's scope is refused outright.
    let (group, hook, payload) = action_payload(
        &sb,
        &job,
        "confirm-failures",
        Some(task_id),
        json!({"times": 1}),
    )
    .await;
    let response = trigger(&sb, TC_VISITOR, &group, &hook, &payload).await;
    assert_eq!(response.status(), 403);
    assert_eq!(cf_count(&sb, &job).await, 0);
    sb.stop();
}

/// The confirm-failures tasks on `job`'s push.
async fn cf_count(sb: &Sb, job: &Value) -> usize {
    sb.jobs(&format!("push_id={}", job["push_id"]))
        .await
        .iter()
        .filter(|j| j["confirm"].is_object())
        .count()
}

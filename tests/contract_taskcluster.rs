//! Contract tests: the Taskcluster wire formats against every recorded
//! payload in `tests/fixtures/taskcluster/` (a real autoland decision task's
//! `actions.json`, one action entry on its own, and Queue task definitions).

use mozci::model::{JobResult, JobState};
use mozci::sources::taskcluster::actions::{
    parse_action_entry, parse_actions_json, Action, ActionKind, ActionsJson,
};
use mozci::sources::taskcluster::credentials::TaskclusterCredentials;
use mozci::sources::taskcluster::hawk_auth::HawkPayload;
use mozci::sources::taskcluster::hooks::{
    prepare_action_input, render_hook_payload, trigger_action_request, ActionCall,
};
use mozci::sources::taskcluster::queue::{
    parse_task, parse_task_group_list, QueueState, TaskDefinition,
};
use mozci::sources::taskcluster::timestamp::parse_iso8601_ms;
use mozci::sources::taskcluster::RootUrl;
use mozci::Error;
use mozci_testkit::hawk_verify::{verify_hawk_request, HawkPolicy};
use serde_json::{json, Value};
use std::collections::BTreeMap;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/taskcluster/",
            $name
        ))
    };
}

const ACTIONS: &[u8] = fixture!("actions.json");
const BACKFILL_ACTION: &[u8] = fixture!("backfill-task.json");
const BUILD_TASK: &[u8] = fixture!("task-definition.json");
const TEST_TASK: &[u8] = fixture!("original-task.json");

/// The decision task of the push `actions.json` comes from (its hook payloads
/// and the raptor task's `taskGroupId` both name it).
const DECISION_TASK_ID: &str = "f7Jj_h6MTEKr5Ln_7aFqbw";
/// A made-up id for the raptor task (the fixture is a definition without its id).
const TEST_TASK_ID: &str = "Xx5aY3JpTEyXnVUCbJyk3g";

fn actions() -> ActionsJson {
    parse_actions_json(ACTIONS).expect("the recorded actions.json parses")
}

fn test_task() -> TaskDefinition {
    parse_task(TEST_TASK).expect("original-task.json parses")
}

fn build_task() -> TaskDefinition {
    parse_task(BUILD_TASK).expect("task-definition.json parses")
}

fn hook_id(action: &Action) -> &str {
    match &action.kind {
        ActionKind::Hook { hook_id, .. } => hook_id,
        other => panic!("{} is not a hook action: {other:?}", action.name),
    }
}

fn schema_properties(action: &Action) -> Vec<&str> {
    let mut names: Vec<&str> = action
        .schema
        .as_ref()
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    names.sort_unstable();
    names
}

#[test]
fn actions_json_lists_every_action_in_order() {
    let file = actions();
    assert!(file.variables.is_empty());
    let names: Vec<&str> = file.actions.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "retrigger-custom",
            "retrigger",
            "retrigger",
            "retrigger",
            "create-interactive",
            "add-new-jobs",
            "run-all-talos",
            "confirm-failures",
            "backfill",
            "geckoprofile",
            "run-missing-tests",
            "rerun",
            "cancel",
            "cancel-all",
            "purge-cache",
            "openh264",
            "retrigger-multiple",
        ]
    );
    for action in &file.actions {
        match &action.kind {
            ActionKind::Hook {
                hook_group_id,
                hook_id,
                ..
            } => {
                assert_eq!(hook_group_id, "project-gecko", "{}", action.name);
                assert_eq!(
                    hook_id, "in-tree-action-3-generic/9353e8f146",
                    "{}",
                    action.name
                );
            }
            other => panic!("{} has kind {other:?}", action.name),
        }
        assert_eq!(
            action.extra,
            json!({"actionPerm": "generic"}),
            "{}",
            action.name
        );
    }
    let backfill = file
        .select("backfill", Some(&BTreeMap::new()))
        .expect("backfill");
    assert_eq!(backfill.title, "Backfill");
    assert!(backfill
        .description
        .starts_with("Take the label of the current task"));
}

#[test]
fn the_saved_backfill_action_is_the_one_in_actions_json() {
    let alone = parse_action_entry(BACKFILL_ACTION).expect("backfill-task.json parses");
    let file = actions();
    let in_file = file
        .actions
        .iter()
        .find(|a| a.name == "backfill")
        .expect("actions.json has backfill");
    assert_eq!(&alone, in_file);
    assert_eq!(
        schema_properties(&alone),
        vec!["depth", "inclusive", "testPath", "times"]
    );
}

#[test]
fn action_selection_follows_the_task_tags() {
    let file = actions();
    let raptor = test_task().tags;
    let build = build_task().tags;

    // The raptor test has `retrigger: "true"`: the second `retrigger` wins,
    // the one without a `force` field.
    let retrigger_test = file.select("retrigger", Some(&raptor)).expect("retrigger");
    assert_eq!(retrigger_test.context, vec![tags(&[("retrigger", "true")])]);
    assert_eq!(
        schema_properties(retrigger_test),
        vec!["downstream", "times"]
    );
    // The build has `retrigger: "false"`: only the catch-all `[{}]` applies,
    // whose input needs `force` to override the task's wish.
    let retrigger_build = file.select("retrigger", Some(&build)).expect("retrigger");
    assert_eq!(retrigger_build.context, vec![BTreeMap::new()]);
    assert_eq!(
        schema_properties(retrigger_build),
        vec!["downstream", "force", "times"]
    );
    let payload = render(&file, retrigger_build, Some(TEST_TASK_ID), None);
    assert_eq!(
        payload["decision"]["action"]["cb_name"],
        "retrigger-disabled"
    );
    assert_eq!(
        payload["user"]["input"],
        json!({"downstream": false, "force": false, "times": 1})
    );
    // A decision task gets the first, schemaless one.
    let decision = tags(&[("kind", "decision-task")]);
    let retrigger_decision = file
        .select("retrigger", Some(&decision))
        .expect("retrigger");
    assert_eq!(retrigger_decision.schema, None);

    assert_eq!(
        file.names_for(Some(&raptor)),
        vec![
            "retrigger",
            "confirm-failures",
            "backfill",
            "geckoprofile",
            "rerun",
            "cancel"
        ]
    );
    assert_eq!(
        file.names_for(Some(&build)),
        vec!["retrigger", "backfill", "rerun", "cancel", "purge-cache"]
    );
    let docker_test = tags(&[
        ("kind", "test"),
        ("worker-implementation", "docker-worker"),
        ("test-type", "mochitest"),
    ]);
    assert_eq!(
        file.names_for(Some(&docker_test)),
        vec![
            "retrigger-custom",
            "retrigger",
            "create-interactive",
            "confirm-failures",
            "backfill",
            "rerun",
            "cancel",
            "purge-cache"
        ]
    );
    assert_eq!(
        file.names_for(None),
        vec![
            "add-new-jobs",
            "run-all-talos",
            "run-missing-tests",
            "cancel-all",
            "openh264",
            "retrigger-multiple"
        ]
    );
    assert!(
        file.select("backfill", None).is_none(),
        "backfill needs a task"
    );
    assert!(
        file.select("add-new-jobs", Some(&raptor)).is_none(),
        "push-level only"
    );
    assert!(
        hook_id(file.require("backfill", Some(&raptor)).expect("backfill")).ends_with("9353e8f146")
    );
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn backfill_input_gets_the_schema_defaults_and_bounds() {
    let file = actions();
    let backfill = file
        .select("backfill", Some(&test_task().tags))
        .expect("backfill");
    // This recorded schema says depth 9 (newer taskgraph versions say 19).
    assert_eq!(
        prepare_action_input(backfill, None).expect("defaults"),
        json!({"depth": 9, "inclusive": false, "times": 1})
    );
    assert_eq!(
        prepare_action_input(
            backfill,
            Some(json!({"depth": 25, "times": 10, "testPath": "dom/x"}))
        )
        .expect("valid input"),
        json!({"depth": 25, "inclusive": false, "times": 10, "testPath": "dom/x"})
    );
    for (input, field) in [
        (json!({"depth": 26}), "depth"),
        (json!({"depth": 0}), "depth"),
        (json!({"times": 11}), "times"),
        (json!({"inclusive": 1}), "inclusive"),
        (json!({"retrigger": true}), "retrigger"),
    ] {
        match prepare_action_input(backfill, Some(input.clone())) {
            Err(Error::Invalid(message)) => assert!(
                message.contains(&format!("`{field}`")),
                "{input}: {message}"
            ),
            other => panic!("{input} gave {other:?}"),
        }
    }
}

fn render(
    file: &ActionsJson,
    action: &Action,
    task_id: Option<&str>,
    input: Option<Value>,
) -> Value {
    let prepared = prepare_action_input(action, input).expect("valid input");
    let call = ActionCall {
        action,
        variables: &file.variables,
        decision_task_id: DECISION_TASK_ID,
        task_id,
    };
    render_hook_payload(&call, &prepared).expect("the recorded hookPayload renders")
}

#[test]
fn backfill_payload_carries_the_task_and_filled_input() {
    let file = actions();
    let raptor = test_task();
    assert_eq!(raptor.task_group_id, DECISION_TASK_ID);
    let backfill = file
        .select("backfill", Some(&raptor.tags))
        .expect("backfill");
    let payload = render(
        &file,
        backfill,
        Some(TEST_TASK_ID),
        Some(json!({"times": 2})),
    );
    assert_eq!(
        payload["user"],
        json!({
            "input": {"depth": 9, "inclusive": false, "times": 2},
            "taskGroupId": DECISION_TASK_ID,
            "taskId": TEST_TASK_ID
        })
    );
    assert_eq!(payload["decision"]["action"]["cb_name"], "backfill");
    assert_eq!(
        payload["decision"]["push"]["revision"],
        "c7766d0b4a121985a8b07e6721d66ccab57bbf76"
    );
    assert_eq!(payload["decision"]["repository"]["project"], "autoland");
}

#[test]
fn retrigger_add_new_jobs_and_retrigger_multiple_render() {
    let file = actions();
    let raptor = test_task();
    let label = raptor.label().to_string();

    let retrigger = file
        .select("retrigger", Some(&raptor.tags))
        .expect("retrigger");
    let payload = render(
        &file,
        retrigger,
        Some(TEST_TASK_ID),
        Some(json!({"times": 3})),
    );
    assert_eq!(
        payload["user"]["input"],
        json!({"downstream": false, "times": 3})
    );
    assert_eq!(payload["decision"]["action"]["cb_name"], "retrigger");

    let add_new_jobs = file.select("add-new-jobs", None).expect("add-new-jobs");
    let payload = render(&file, add_new_jobs, None, Some(json!({"tasks": [label]})));
    assert_eq!(
        payload["user"]["input"],
        json!({"tasks": [label], "times": 1})
    );
    assert_eq!(payload["user"]["taskId"], Value::Null);
    assert_eq!(payload["user"]["taskGroupId"], DECISION_TASK_ID);

    let multiple = file
        .select("retrigger-multiple", None)
        .expect("retrigger-multiple");
    let input = json!({"requests": [{"tasks": [label], "times": 5}]});
    let payload = render(&file, multiple, None, Some(input.clone()));
    assert_eq!(payload["user"]["input"], input);
    assert_eq!(
        payload["decision"]["action"]["cb_name"],
        "retrigger-multiple"
    );
    let too_many = json!({"requests": [{"tasks": [label], "times": 101}]});
    match prepare_action_input(multiple, Some(too_many)) {
        Err(Error::Invalid(message)) => {
            assert!(message.contains("`requests[0].times`"), "{message}")
        }
        other => panic!("times 101 gave {other:?}"),
    }
}

#[test]
fn every_recorded_hook_payload_renders() {
    let file = actions();
    for action in &file.actions {
        let input = match action.name.as_str() {
            // Its schema requires the test path.
            "retrigger-custom" => Some(json!({"path": "dom/tests/test_a.html"})),
            _ => None,
        };
        let task_id = (!action.context.is_empty()).then_some(TEST_TASK_ID);
        let payload = render(&file, action, task_id, input);
        assert_eq!(
            payload["user"]["taskGroupId"], DECISION_TASK_ID,
            "{}",
            action.name
        );
        assert_eq!(payload["decision"]["action"]["name"], action.name.as_str());
    }
}

#[test]
fn trigger_request_for_a_backfill_is_signed_and_verifiable() {
    let file = actions();
    let raptor = test_task();
    let root = RootUrl::parse("https://firefox-ci-tc.services.mozilla.com/").expect("root");
    let credentials = TaskclusterCredentials {
        client_id: "mozilla-auth0/ad|Mozilla-LDAP|dev/treeherder-x".into(),
        access_token: "an-access-token".into(),
        certificate: None,
    };
    let call = ActionCall {
        action: file
            .select("backfill", Some(&raptor.tags))
            .expect("backfill"),
        variables: &file.variables,
        decision_task_id: DECISION_TASK_ID,
        task_id: Some(TEST_TASK_ID),
    };
    let now = 1_583_900_000;
    let request = trigger_action_request(
        &root,
        &call,
        Some(json!({"depth": 5})),
        &credentials,
        now,
        "nonce1",
    )
    .expect("request");
    assert_eq!(
        request.url,
        "https://firefox-ci-tc.services.mozilla.com/api/hooks/v1/hooks/project-gecko/\
         in-tree-action-3-generic%2F9353e8f146/trigger"
    );
    let body = request.body.as_deref().expect("a JSON body");
    let payload: Value = serde_json::from_slice(body).expect("JSON");
    assert_eq!(
        payload["user"]["input"],
        json!({"depth": 5, "inclusive": false, "times": 1})
    );
    let authorization = request.header_value("Authorization").expect("signed");
    let verified = verify_hawk_request(
        authorization,
        "POST",
        &request.url,
        HawkPayload {
            content_type: request.header_value("Content-Type").unwrap_or_default(),
            body,
        },
        |id| (id == credentials.client_id).then(|| credentials.access_token.clone()),
        now + 5,
        HawkPolicy {
            max_skew_secs: 60,
            require_payload_hash: true,
        },
    )
    .expect("the signature verifies");
    assert_eq!(verified.client_id, credentials.client_id);
}

#[test]
fn task_definitions_give_labels_tags_and_times() {
    let raptor = test_task();
    assert_eq!(
        raptor.label(),
        "test-linux64-shippable-qr/opt-raptor-assorted-dom-firefox-e10s"
    );
    assert_eq!(raptor.name, raptor.label());
    assert_eq!(raptor.kind(), Some("test"));
    assert_eq!(
        raptor.tags.get("test-type").map(String::as_str),
        Some("raptor")
    );
    assert_eq!(raptor.dependencies.len(), 3);
    assert_eq!(
        raptor.env.get("GECKO_HEAD_REV").map(String::as_str),
        Some("c7766d0b4a121985a8b07e6721d66ccab57bbf76")
    );
    assert_eq!(raptor.treeherder.symbol.as_deref(), Some("dom"));
    assert_eq!(raptor.treeherder.group_symbol.as_deref(), Some("Rap"));
    assert_eq!(
        raptor.treeherder.platform.as_deref(),
        Some("linux64-shippable-qr/opt")
    );
    assert_eq!(raptor.treeherder.job_kind.as_deref(), Some("test"));
    assert_eq!(raptor.created_ms, 1_583_815_243_718);
    assert_eq!(raptor.deadline_ms, raptor.created_ms + 86_400_000);
    assert_eq!(raptor.worker_type, "gecko-t-linux-talos");

    let build = build_task();
    assert_eq!(build.label(), "build-android-api-16/debug");
    assert_eq!(build.kind(), Some("build"));
    assert_eq!(build.task_group_id, "VaQoWKTbSdGSwBJn6UZV9g");
    assert_eq!(build.dependencies.len(), 12);
    assert_eq!(
        build.dependencies.last().map(String::as_str),
        Some("VaQoWKTbSdGSwBJn6UZV9g")
    );
    assert_eq!(
        build.env.get("MH_BRANCH").map(String::as_str),
        Some("autoland")
    );
    assert_eq!(build.treeherder.symbol.as_deref(), Some("B"));
    assert_eq!(build.treeherder.tier, Some(1));
    assert_eq!(build.owner, "aklotz@mozilla.com");
}

/// A task-group page as the Queue lists it, built around the recorded
/// definitions (no listing was recorded).
fn task_group_page(continuation: Option<&str>) -> Vec<u8> {
    let raptor: Value = serde_json::from_slice(TEST_TASK).expect("JSON");
    let build: Value = serde_json::from_slice(BUILD_TASK).expect("JSON");
    let status = |task_id: &str, state: &str, runs: Value| {
        json!({"taskId": task_id, "provisionerId": "p", "workerType": "w", "schedulerId": "gecko-level-3",
               "taskGroupId": DECISION_TASK_ID, "deadline": "2020-03-11T04:40:43.718Z",
               "expires": "2021-03-10T04:40:43.718Z", "retriesLeft": 5, "state": state, "runs": runs})
    };
    let mut page = json!({
        "taskGroupId": DECISION_TASK_ID,
        "tasks": [
            {"status": status(TEST_TASK_ID, "failed", json!([
                {"runId": 0, "state": "failed", "reasonCreated": "scheduled", "reasonResolved": "failed",
                 "scheduled": "2020-03-10T04:41:00.000Z", "started": "2020-03-10T04:42:00.000Z",
                 "resolved": "2020-03-10T05:00:00.000Z", "workerGroup": "mdc1", "workerId": "t-linux-1"}
            ])), "task": raptor},
            {"status": status("I_IyXrxGSMOAWRTfK6dK1w", "unscheduled", json!([])), "task": build}
        ]
    });
    if let Some(token) = continuation {
        page["continuationToken"] = json!(token);
    }
    page.to_string().into_bytes()
}

#[test]
fn task_group_pages_pair_statuses_with_definitions() {
    let page = parse_task_group_list(&task_group_page(Some("page-2"))).expect("page parses");
    assert_eq!(page.task_group_id, DECISION_TASK_ID);
    assert_eq!(page.continuation_token.as_deref(), Some("page-2"));
    let labels: Vec<&str> = page.tasks.iter().map(|t| t.task.label()).collect();
    assert_eq!(
        labels,
        vec![
            "test-linux64-shippable-qr/opt-raptor-assorted-dom-firefox-e10s",
            "build-android-api-16/debug"
        ]
    );
    let raptor = &page.tasks[0].status;
    assert_eq!(raptor.task_id, TEST_TASK_ID);
    assert_eq!(raptor.state, QueueState::Failed);
    assert_eq!(raptor.runs[0].reason_resolved.as_deref(), Some("failed"));
    assert_eq!(
        raptor.job_state(),
        JobState::Completed(JobResult::TestFailed)
    );
    assert_eq!(page.tasks[1].status.job_state(), JobState::Pending);
    let last = parse_task_group_list(&task_group_page(None)).expect("page parses");
    assert_eq!(last.continuation_token, None);
    let mut broken: Value = serde_json::from_slice(&task_group_page(None)).expect("JSON");
    broken["tasks"][1]["task"]["metadata"] = json!({});
    match parse_task_group_list(broken.to_string().as_bytes()) {
        Err(Error::Parse {
            field: Some(field), ..
        }) => assert_eq!(field, "tasks[1].task.metadata.name"),
        other => panic!("a task without name gave {other:?}"),
    }
}

#[test]
fn expired_tasks_are_detected_from_their_expiry() {
    let raptor = test_task();
    let expires = parse_iso8601_ms("2021-03-10T04:40:43.718Z").expect("time");
    assert_eq!(raptor.expires_ms, expires);
    assert!(!raptor.is_expired(expires - 1));
    assert!(raptor.is_expired(expires));
    let build = build_task();
    let a_day_after_push = parse_iso8601_ms("2020-04-03T17:42:14.265Z").expect("time");
    assert!(!build.is_expired(a_day_after_push));
    assert!(build.is_expired(parse_iso8601_ms("2026-01-01T00:00:00Z").expect("time")));
}

#[test]
fn truncated_fixtures_fail_without_panicking() {
    for fixture in [ACTIONS, BACKFILL_ACTION, BUILD_TASK, TEST_TASK] {
        for cut in [
            0,
            1,
            fixture.len() / 3,
            fixture.len() / 2,
            fixture.len() - 2,
        ] {
            let truncated = &fixture[..cut];
            assert!(parse_actions_json(truncated).is_err());
            assert!(parse_action_entry(truncated).is_err());
            assert!(parse_task(truncated).is_err());
        }
    }
    // Each parser refuses the other formats.
    assert!(parse_task(ACTIONS).is_err());
    assert!(parse_actions_json(TEST_TASK).is_err());
    assert!(parse_action_entry(BUILD_TASK).is_err());
}

/// Every value of `document`, one at a time, replaced by each of `replacements`.
fn structural_mutations(document: &Value) -> Vec<Value> {
    fn walk(node: &Value, pointer: String, out: &mut Vec<String>) {
        out.push(pointer.clone());
        match node {
            Value::Object(fields) => {
                for (k, v) in fields {
                    walk(
                        v,
                        format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    )
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, format!("{pointer}/{i}"), out)
                }
            }
            _ => {}
        }
    }
    let replacements = [
        Value::Null,
        json!(-1),
        json!(1.5e300),
        json!("x"),
        json!([]),
        json!({}),
        json!(true),
    ];
    let mut pointers = Vec::new();
    walk(document, String::new(), &mut pointers);
    let mut mutants = Vec::new();
    for pointer in pointers {
        for replacement in &replacements {
            let mut mutant = document.clone();
            if let Some(slot) = mutant.pointer_mut(&pointer) {
                *slot = replacement.clone();
                mutants.push(mutant);
            }
        }
    }
    mutants
}

#[test]
fn structurally_mutated_fixtures_never_panic() {
    let mut accepted = 0usize;
    let mut refused = 0usize;
    let mut count = |ok: bool| if ok { accepted += 1 } else { refused += 1 };
    let backfill: Value = serde_json::from_slice(BACKFILL_ACTION).expect("fixture is JSON");
    // The whole actions.json is 17 actions alike; one of them in the file's
    // envelope keeps this test fast in debug builds.
    let small_actions_json = json!({"version": 1, "variables": {}, "actions": [backfill]});
    let mut documents = vec![small_actions_json, backfill];
    for fixture in [BUILD_TASK, TEST_TASK] {
        documents.push(serde_json::from_slice(fixture).expect("fixture is JSON"));
    }
    // The task definitions are mutated above; slimmed here to keep the run short.
    let mut group_page: Value =
        serde_json::from_slice(&task_group_page(Some("next"))).expect("JSON");
    for entry in group_page["tasks"].as_array_mut().into_iter().flatten() {
        entry["task"]["payload"] = json!({"env": {"GECKO_HEAD_REV": "c7766d0b"}});
        entry["task"]["scopes"] = json!([]);
        entry["task"]["routes"] = json!([]);
        entry["task"]["dependencies"] = json!(["a"]);
    }
    documents.push(group_page);
    for document in documents {
        for mutant in structural_mutations(&document) {
            let bytes = mutant.to_string().into_bytes();
            count(parse_task(&bytes).is_ok());
            count(parse_action_entry(&bytes).is_ok());
            count(parse_task_group_list(&bytes).is_ok());
            if let Ok(file) = parse_actions_json(&bytes) {
                // Whatever survived parsing must also survive input checking
                // and rendering (errors allowed, panics not).
                for action in file.actions.iter().filter(|a| a.name == "backfill") {
                    for input in [None, Some(json!({"depth": 3})), Some(json!([1]))] {
                        if let Ok(prepared) = prepare_action_input(action, input) {
                            let call = ActionCall {
                                action,
                                variables: &file.variables,
                                decision_task_id: DECISION_TASK_ID,
                                task_id: Some(TEST_TASK_ID),
                            };
                            count(render_hook_payload(&call, &prepared).is_ok());
                        }
                    }
                }
            }
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "accepted {accepted}, refused {refused}"
    );
}

/// The same paths in WebAssembly, where `SystemTime::now()` panics: signing
/// takes its time as an argument and JSON-e reads the clock through JavaScript.
#[cfg(target_arch = "wasm32")]
mod in_wasm {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn backfill_trigger_is_rendered_signed_and_verifiable() {
        trigger_request_for_a_backfill_is_signed_and_verifiable();
    }

    #[wasm_bindgen_test]
    fn recorded_payloads_render() {
        every_recorded_hook_payload_renders();
    }
}

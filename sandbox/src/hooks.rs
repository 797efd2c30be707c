//! Taskcluster hooks `triggerHook` for the in-tree action hook: Hawk
//! authentication, scopes, rendering the hook's task template with JSON-e,
//! and the action callbacks (retrigger, backfill, add-new-jobs,
//! retrigger-multiple, confirm-failures) that really schedule tasks.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use crate::model::{JobKind, TestFailure};
use crate::taskcluster::{actions_json, task_status, tc_error};
use crate::tc_auth;
use crate::web::{self, with_user};
use crate::world::{NewJob, World};
use crate::AppState;

/// The in-tree action hook's task template (JSON-e over the trigger payload),
/// after gecko's: the action task learns callback, input and target from env.
const HOOK_TASK_TEMPLATE: &str = r#"{
  "taskGroupId": {"$eval": "payload.user.taskGroupId"},
  "schedulerId": "gecko-level-3",
  "provisionerId": "gecko-3",
  "workerType": "decision",
  "created": {"$fromNow": ""},
  "deadline": {"$fromNow": "1 day"},
  "expires": {"$fromNow": "1 year"},
  "metadata": {
    "name": {"$eval": "'Action: ' + payload.decision.action.title"},
    "description": {"$eval": "payload.decision.action.description"},
    "owner": "mozilla-taskcluster-maintenance@mozilla.com",
    "source": {"$eval": "payload.decision.repository.url"}
  },
  "tags": {"kind": "action-callback", "createdForUser": {"$eval": "clientId"}},
  "payload": {
    "env": {
      "ACTION_TASK_GROUP_ID": {"$eval": "payload.user.taskGroupId"},
      "ACTION_TASK_ID": {"$json": {"$eval": "payload.user.taskId"}},
      "ACTION_INPUT": {"$json": {"$eval": "payload.user.input"}},
      "ACTION_CALLBACK": {"$eval": "payload.decision.action.cb_name"},
      "ACTION_PROJECT": {"$eval": "payload.decision.repository.project"},
      "ACTION_PUSHLOG_ID": {"$eval": "payload.decision.push.pushlog_id"}
    }
  }
}"#;

pub use crate::tc_auth::satisfies;

/// Authenticates the trigger as Taskcluster's auth service does (see
/// [`crate::tc_auth`]); returns the client id and the scopes it may use.
fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<(String, Vec<String>), Response> {
    let unauthorized =
        |message: String| tc_error(StatusCode::UNAUTHORIZED, "AuthenticationFailed", message);
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let (clients, strictness, expired) = state.read(|w| {
        (
            w.scenario.tc_clients.clone(),
            w.scenario.hawk,
            w.faults.taskcluster.expired_credentials,
        )
    });
    let received = tc_auth::Received {
        authorization: text(header::AUTHORIZATION),
        method: "POST",
        resource: path,
        host: text(header::HOST).unwrap_or(""),
        content_type: text(header::CONTENT_TYPE).unwrap_or(""),
        body,
    };
    let authenticated = tc_auth::authenticate(&clients, strictness, &state.hawk_nonces, received)
        .map_err(|refusal| unauthorized(refusal.0))?;
    if expired {
        return Err(unauthorized(
            "ext.certificate.expiry < now: credentials have expired".into(),
        ));
    }
    Ok((authenticated.client_id, authenticated.scopes))
}

/// A hook id holds a `/`, which clients percent-encode (`%2F`) as the path
/// parameter it is; unencoded, the path has one segment too many, and the
/// hooks service has no such route (404). Refused here with a clear message.
pub async fn trigger_unencoded_hook(
    Path((group, hook, suffix)): Path<(String, String, String)>,
) -> Response {
    tc_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!(
            "No route for hook `{group}/{hook}/{suffix}`: a hookId containing `/` must be percent-encoded in the path (`{hook}%2F{suffix}`)"
        ),
    )
}

/// `POST /api/hooks/v1/hooks/{group}/{hook}/trigger`.
pub async fn trigger_hook(
    State(state): State<AppState>,
    Path((group, hook)): Path<(String, String)>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: Bytes,
) -> Response {
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let (client_id, scopes) = match authenticate(&state, &headers, &path, &body) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let required = format!("hooks:trigger-hook:{group}/{hook}");
    if !satisfies(&scopes, &required) {
        let message = format!("Client `{client_id}` is missing the scope `{required}`");
        return with_user(
            tc_error(StatusCode::FORBIDDEN, "InsufficientScopes", message),
            &client_id,
        );
    }
    let known_hook = state.read(|w| {
        let hg = state.urls.hg.clone();
        w.pushes
            .iter()
            .find_map(|p| w.job_by_task(p.decision_task_id.as_deref()?))
            .and_then(|d| actions_json(w, &hg, d))
            .and_then(|a| a.get("actions").cloned())
            .and_then(|a| a.as_array().cloned())
            .is_some_and(|list| {
                list.iter()
                    .any(|a| a["hookGroupId"] == json!(group) && a["hookId"] == json!(hook))
            })
    });
    if !known_hook {
        return with_user(
            tc_error(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                format!("No such hook {group}/{hook}"),
            ),
            &client_id,
        );
    }
    let payload: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return with_user(
                tc_error(
                    StatusCode::BAD_REQUEST,
                    "MalformedPayload",
                    format!("body is not JSON: {e}"),
                ),
                &client_id,
            )
        }
    };
    let context = json!({"payload": payload, "firedBy": "triggerHook", "clientId": client_id});
    let template: Value = match serde_json::from_str(HOOK_TASK_TEMPLATE) {
        Ok(t) => t,
        Err(e) => {
            return tc_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                e.to_string(),
            )
        }
    };
    let rendered = match json_e::render(&template, &context) {
        Ok(task) => task,
        Err(e) => {
            let message = format!("hook payload does not render the action task: {e}");
            return with_user(
                tc_error(StatusCode::BAD_REQUEST, "InputError", message),
                &client_id,
            );
        }
    };
    let request = match ActionRequest::from_task(&rendered) {
        Ok(r) => r,
        Err(e) => {
            return with_user(
                tc_error(StatusCode::BAD_REQUEST, "InputError", e),
                &client_id,
            )
        }
    };
    let outcome = state.update(|w| run_action(w, &request, &client_id));
    match outcome {
        Ok(ActionOutcome { action_job, .. }) => {
            let status = state.read(|w| w.job(action_job).map(task_status).unwrap_or(Value::Null));
            let task_id = status.get("taskId").cloned().unwrap_or(Value::Null);
            with_user(
                web::ok(json!({"taskId": task_id, "status": status})),
                &client_id,
            )
        }
        Err(e) => with_user(
            tc_error(StatusCode::BAD_REQUEST, "InputError", e),
            &client_id,
        ),
    }
}

/// What an action task was asked to do (read from its rendered env).
#[derive(Debug, Clone)]
pub struct ActionRequest {
    pub callback: String,
    pub title: String,
    pub project: String,
    pub pushlog_id: u64,
    pub task_group_id: String,
    pub task_id: Option<String>,
    pub input: Value,
}

impl ActionRequest {
    fn from_task(task: &Value) -> Result<ActionRequest, String> {
        let env = task
            .pointer("/payload/env")
            .ok_or("rendered action task has no env")?;
        let text = |key: &str| {
            env.get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or(format!("{key} missing"))
        };
        let task_id: Value =
            serde_json::from_str(&text("ACTION_TASK_ID")?).map_err(|e| e.to_string())?;
        let input: Value =
            serde_json::from_str(&text("ACTION_INPUT")?).map_err(|e| e.to_string())?;
        let pushlog_id = text("ACTION_PUSHLOG_ID")?
            .parse::<u64>()
            .map_err(|_| "pushlog_id is not a number".to_string())?;
        let title = task
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("Action")
            .to_string();
        Ok(ActionRequest {
            callback: text("ACTION_CALLBACK")?,
            title,
            project: text("ACTION_PROJECT")?,
            pushlog_id,
            task_group_id: text("ACTION_TASK_GROUP_ID")?,
            task_id: task_id.as_str().map(str::to_string),
            input,
        })
    }
}

fn int_input(input: &Value, key: &str, default: i64, max: i64) -> Result<i64, String> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => match v.as_i64() {
            Some(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!("input.{key} must be an integer in 1..={max}")),
        },
    }
}

fn labels_input(value: Option<&Value>) -> Result<Vec<String>, String> {
    let list = value
        .and_then(Value::as_array)
        .ok_or("tasks must be a list of labels")?;
    list.iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| "task labels are strings".to_string())
        })
        .collect()
}

/// (push id, label, times) the callback schedules.
fn plan_action(w: &World, request: &ActionRequest) -> Result<Vec<(u64, String, i64)>, String> {
    let push = w
        .repo_pushes(&request.project)
        .into_iter()
        .find(|p| p.pushlog_id == request.pushlog_id)
        .ok_or_else(|| {
            format!(
                "push {} not found in {}",
                request.pushlog_id, request.project
            )
        })?;
    let input = &request.input;
    let target_label = || {
        let task = request
            .task_id
            .as_deref()
            .ok_or("this action needs a taskId")?;
        w.job_by_task(task)
            .map(|j| j.label.clone())
            .ok_or_else(|| format!("task {task} not found"))
    };
    match request.callback.as_str() {
        "retrigger" => {
            let times = int_input(input, "times", 1, 100)?;
            Ok(vec![(push.id, target_label()?, times)])
        }
        "backfill" => {
            // The callback uses depth 9 when the input omits it (Treeherder's button).
            let depth = int_input(input, "depth", 9, 25)? as usize;
            let times = int_input(input, "times", 1, 10)?;
            let inclusive = input
                .get("inclusive")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let label = target_label()?;
            let pushes = w.repo_pushes(&push.repo);
            let lowest = push.index.saturating_sub(depth);
            Ok(pushes
                .iter()
                .filter(|p| {
                    p.index >= lowest
                        && (p.index < push.index || (inclusive && p.index == push.index))
                })
                .map(|p| (p.id, label.clone(), times))
                .collect())
        }
        "add-new-jobs" => {
            let times = int_input(input, "times", 1, 100)?;
            Ok(labels_input(input.get("tasks"))?
                .into_iter()
                .map(|l| (push.id, l, times))
                .collect())
        }
        "retrigger-multiple" => {
            let requests = input
                .get("requests")
                .and_then(Value::as_array)
                .ok_or("input.requests must be a list")?;
            let mut plan = Vec::new();
            for r in requests {
                let times = int_input(r, "times", 1, 100)?;
                plan.extend(
                    labels_input(r.get("tasks"))?
                        .into_iter()
                        .map(|l| (push.id, l, times)),
                );
            }
            Ok(plan)
        }
        other => Err(format!(
            "action callback `{other}` is not supported by the sandbox"
        )),
    }
}

/// Most failing tests one confirm-failures action re-runs (gecko_taskgraph
/// actions/confirm_failure.py stops after ten).
const CONFIRM_MAX_TESTS: usize = 10;

/// `--repeat=4`: each test runs five times in its `-cf` task (ibid.).
const CONFIRM_REPEATS: u32 = 5;

/// The `confirm-failures` callback (gecko_taskgraph
/// actions/confirm_failure.py): its input is checked against the action's
/// schema (`times` only, 1..=100), its task must be a test task (the
/// action's context, `kind: test`); for each failing test of the task's
/// errorsummary (at most ten) it creates `times` tasks `<label>-cf`, each
/// running that test [`CONFIRM_REPEATS`] times; with no test failure to
/// confirm, it retriggers the task instead.
fn confirm_failures(
    w: &mut World,
    request: &ActionRequest,
    action_task: &str,
    client_id: &str,
) -> Result<Vec<u64>, String> {
    let input = &request.input;
    let fields = input
        .as_object()
        .ok_or("input must be an object (the action's schema)")?;
    if let Some(extra) = fields.keys().find(|k| k.as_str() != "times") {
        return Err(format!(
            "input.{extra} is not allowed (the action's schema has additionalProperties: false)"
        ));
    }
    let times = int_input(input, "times", 1, 100)?;
    let task = request
        .task_id
        .as_deref()
        .ok_or("confirm-failures needs a taskId")?;
    let of = w
        .job_by_task(task)
        .cloned()
        .ok_or_else(|| format!("task {task} not found"))?;
    if of.kind != JobKind::Test || of.confirm.is_some() {
        return Err(format!(
            "task {task} is not a test task: confirm-failures applies to tasks tagged kind: test"
        ));
    }
    let mut tests: Vec<String> = Vec::new();
    for failure in &of.failures {
        if !tests.contains(&failure.test) && tests.len() < CONFIRM_MAX_TESTS {
            tests.push(failure.test.clone());
        }
    }
    let reason = format!("action {}", request.callback);
    let mut scheduled = Vec::new();
    for _ in 0..times {
        if tests.is_empty() {
            scheduled.extend(w.schedule_label(
                of.push_id,
                &of.label,
                action_task,
                &reason,
                client_id,
            ));
        }
        for test in &tests {
            scheduled.extend(w.schedule_confirm(
                &of,
                test,
                CONFIRM_REPEATS,
                action_task,
                client_id,
            ));
        }
    }
    Ok(scheduled)
}

/// Creates the action task and runs its callback; a callback that cannot run
/// fails its action task (as in production), the hook call itself succeeds.
pub fn run_action(
    w: &mut World,
    request: &ActionRequest,
    client_id: &str,
) -> Result<ActionOutcome, String> {
    let push = w
        .repo_pushes(&request.project)
        .into_iter()
        .find(|p| p.pushlog_id == request.pushlog_id)
        .map(|p| (p.id, p.revision().to_string()))
        .ok_or_else(|| {
            format!(
                "push {} not found in {}",
                request.pushlog_id, request.project
            )
        })?;
    let action = w.add_job(NewJob {
        push_id: push.0,
        revision: push.1,
        kind: JobKind::Action,
        platform: "gecko-decision".into(),
        option: "opt".into(),
        test_type: None,
        reason: format!("action {}", request.callback),
        who: client_id.to_string(),
        priority: 0,
        files: Vec::new(),
        task_group_id: Some(request.task_group_id.clone()),
        dependencies: Vec::new(),
    });
    w.set_label(action, &request.title);
    let action_task = w
        .job(action)
        .and_then(|j| j.task_id().map(str::to_string))
        .unwrap_or_default();
    let mut scheduled = Vec::new();
    if request.callback == "confirm-failures" {
        match confirm_failures(w, request, &action_task, client_id) {
            Ok(jobs) => scheduled = jobs,
            Err(message) => w.fail_job(
                action,
                TestFailure {
                    test: request.callback.clone(),
                    message,
                },
            ),
        }
        return Ok(ActionOutcome {
            action_job: action,
            scheduled,
        });
    }
    match plan_action(w, request) {
        Ok(plan) => {
            for (push_id, label, times) in plan {
                for _ in 0..times {
                    let job = w.schedule_label(
                        push_id,
                        &label,
                        &action_task,
                        &format!("action {}", request.callback),
                        client_id,
                    );
                    scheduled.extend(job);
                    if job.is_none() {
                        w.fail_job(
                            action,
                            TestFailure {
                                test: label.clone(),
                                message: format!("unknown label {label}"),
                            },
                        );
                    }
                }
            }
        }
        Err(message) => w.fail_job(
            action,
            TestFailure {
                test: request.callback.clone(),
                message,
            },
        ),
    }
    Ok(ActionOutcome {
        action_job: action,
        scheduled,
    })
}

/// What triggering an action did: its action task and the jobs it scheduled.
#[derive(Debug, Clone)]
pub struct ActionOutcome {
    pub action_job: u64,
    pub scheduled: Vec<u64>,
}

//! The Taskcluster origin: queue (task, status, task-group list, artifacts incl.
//! a decision task's `public/actions.json` and the logs), the index lookup of
//! decision tasks, and hooks `triggerHook` with Hawk authentication, scopes and
//! the in-tree action callbacks (retrigger, backfill, add-new-jobs,
//! retrigger-multiple) that really schedule tasks.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::logs;
use crate::model::{Job, JobKind, JobState, TestFailure};
use crate::web::{self, rfc3339, with_user};
use crate::world::{NewJob, World};
use crate::AppState;

/// The real autoland decision task's actions (recorded payload), re-targeted per push.
const ACTIONS_FIXTURE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/taskcluster/actions.json"
));

/// Actions whose callbacks the sandbox implements.
const SUPPORTED_ACTIONS: [&str; 4] = [
    "retrigger",
    "backfill",
    "add-new-jobs",
    "retrigger-multiple",
];

/// Hawk timestamps may be this far from the server's clock.
const HAWK_SKEW: Duration = Duration::from_secs(15 * 60);

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

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/queue/v1/task/{task}", get(task))
        .route("/api/queue/v1/task/{task}/status", get(status))
        .route("/api/queue/v1/task/{task}/artifacts", get(artifacts_latest))
        .route(
            "/api/queue/v1/task/{task}/runs/{run}/artifacts",
            get(artifacts_of_run),
        )
        .route(
            "/api/queue/v1/task/{task}/artifacts/{*name}",
            get(artifact_latest),
        )
        .route(
            "/api/queue/v1/task/{task}/runs/{run}/artifacts/{*name}",
            get(artifact_of_run),
        )
        .route("/api/queue/v1/task-group/{group}/list", get(task_group))
        .route("/api/index/v1/task/{namespace}", get(index))
        .route(
            "/api/hooks/v1/hooks/{group}/{hook}/trigger",
            post(trigger_hook),
        )
        .route(
            "/api/hooks/v1/hooks/{group}/{hook}/{suffix}/trigger",
            post(trigger_unencoded_hook),
        )
        .route("/events", get(crate::events::stream))
}

fn tc_error(status: StatusCode, code: &str, message: String) -> Response {
    web::json(
        status,
        json!({"code": code, "message": message, "requestInfo": {}}),
    )
}

fn task_not_found(task: &str) -> Response {
    tc_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        format!("`{task}` does not correspond to a task that exists."),
    )
}

fn queue_state(job: &Job) -> &'static str {
    match job.state {
        JobState::Pending if job.ready_at.is_none() => "unscheduled",
        JobState::Pending => "pending",
        JobState::Running => "running",
        JobState::Completed => match job.result.as_str() {
            "success" => "completed",
            "exception" | "usercancel" => "exception",
            _ => "failed",
        },
    }
}

/// Queue `status` structure of a task.
pub fn task_status(job: &Job) -> Value {
    let Some(tc) = &job.taskcluster else {
        return Value::Null;
    };
    let state = queue_state(job);
    let runs = if job.state == JobState::Pending && job.ready_at.is_none() {
        json!([])
    } else {
        let resolved = job.end.map(rfc3339);
        let reason_resolved = match state {
            "completed" => Some("completed"),
            "failed" => Some("failed"),
            "exception" => Some(if job.result == "usercancel" {
                "canceled"
            } else {
                "worker-shutdown"
            }),
            _ => None,
        };
        json!([{
            "runId": tc.retry_id, "state": state, "reasonCreated": "scheduled", "reasonResolved": reason_resolved,
            "workerGroup": "us-east-1", "workerId": format!("i-0{:012x}", crate::ids::mix(&["worker", &tc.task_id]) & 0xffff_ffff_ffff),
            "takenUntil": job.start.map(|s| rfc3339(s + 1200)), "scheduled": rfc3339(job.ready_at.unwrap_or(job.submit)),
            "started": job.start.map(rfc3339), "resolved": resolved,
        }])
    };
    json!({
        "taskId": tc.task_id, "provisionerId": "gecko-t", "workerType": worker_type(job), "schedulerId": "gecko-level-3",
        "taskGroupId": tc.task_group_id, "deadline": rfc3339(job.submit + 86_400), "expires": rfc3339(job.submit + 365 * 86_400),
        "retriesLeft": 5, "state": state, "runs": runs,
    })
}

fn worker_type(job: &Job) -> &'static str {
    match job.kind {
        JobKind::Decision | JobKind::Action => "decision",
        JobKind::Build => "b-linux",
        JobKind::Test => "t-linux-xlarge",
    }
}

fn kind_tag(job: &Job) -> &'static str {
    match job.kind {
        JobKind::Decision => "decision-task",
        JobKind::Action => "action-callback",
        JobKind::Build => "build",
        JobKind::Test => "test",
    }
}

/// Queue `task` definition, shaped after the recorded ones.
pub fn task_definition(world: &World, hg: &str, job: &Job) -> Value {
    let Some(tc) = &job.taskcluster else {
        return Value::Null;
    };
    let repo_path = world
        .scenario
        .repo(&job.repo)
        .map(|r| r.path.clone())
        .unwrap_or_default();
    let pushlog_id = world.push(job.push_id).map(|p| p.pushlog_id).unwrap_or(0);
    let spec = job
        .test_type
        .as_deref()
        .and_then(|t| world.scenario.test_type(t));
    let mut tags = json!({
        "kind": kind_tag(job), "worker-implementation": "docker-worker", "createdForUser": job.who,
        "retrigger": if job.kind == JobKind::Test { "true" } else { "false" }, "label": job.label, "os": "linux",
    });
    if let Some(spec) = spec {
        tags["test-type"] = json!(spec.harness.split('-').next().unwrap_or("mochitest"));
    }
    let symbol = match (job.kind, spec) {
        (JobKind::Decision, _) => "D".to_string(),
        (JobKind::Build, _) => "B".to_string(),
        (_, Some(s)) => s.symbol.clone(),
        _ => "A".to_string(),
    };
    let mut treeherder = json!({
        "machine": {"platform": job.platform}, "tier": 1, "symbol": symbol,
        "jobKind": if job.kind == JobKind::Test { "test" } else { "build" },
        "collection": {job.option.clone(): true},
    });
    if let Some(spec) = spec {
        treeherder["groupSymbol"] = json!(spec.group_symbol);
        treeherder["groupName"] = json!(spec.group_name);
    }
    let mut dependencies = tc.dependencies.clone();
    if tc.task_group_id != tc.task_id {
        dependencies.push(tc.task_group_id.clone());
    }
    let mut extra = json!({
        "treeherder": treeherder, "treeherder-platform": format!("{}/{}", job.platform, job.option),
        "parent": tc.task_group_id, "index": {"rank": job.submit},
    });
    if let Some(spec) = spec {
        // `mochitest-2` is chunk 2 of its suite; unnumbered suites are one chunk.
        let chunk = spec
            .name
            .rsplit('-')
            .next()
            .and_then(|n| n.parse::<u32>().ok());
        extra["chunks"] =
            json!({"current": chunk.unwrap_or(1), "total": chunk.map(|c| c.max(2)).unwrap_or(1)});
        extra["suite"] = json!(spec.harness);
    }
    json!({
        "provisionerId": "gecko-t", "workerType": worker_type(job), "schedulerId": "gecko-level-3",
        "taskGroupId": tc.task_group_id, "dependencies": dependencies, "requires": "all-completed",
        "routes": [
            format!("tc-treeherder.v2.{}.{}.{pushlog_id}", job.repo, job.revision),
            format!("index.gecko.v2.{}.revision.{}.{}", job.repo, job.revision, job.label.replace('/', "-")),
        ],
        "priority": "low", "retries": 5,
        "created": rfc3339(job.submit), "deadline": rfc3339(job.submit + 86_400), "expires": rfc3339(job.submit + 365 * 86_400),
        "scopes": ["queue:get-artifact:public/*"],
        "payload": {
            "maxRunTime": 7200, "image": {"type": "task-image", "path": "public/image.tar.zst", "taskId": tc.task_group_id},
            "command": ["/builds/worker/bin/run-task", "--", "bash", "-cx", format!("./mach run {}", job.label)],
            "env": {"GECKO_HEAD_REPOSITORY": format!("{hg}/{repo_path}"), "GECKO_HEAD_REV": job.revision, "MOZ_AUTOMATION": "1"},
            "artifacts": {"public/logs": {"type": "directory", "path": "/builds/worker/logs/", "expires": rfc3339(job.submit + 365 * 86_400)}},
        },
        "metadata": {
            "owner": job.who, "source": format!("{hg}/{repo_path}/file/{}/taskcluster/ci", job.revision),
            "description": format!("{} ([Treeherder push](/jobs?repo={}&revision={}))", job.label, job.repo, job.revision),
            "name": job.label,
        },
        "tags": tags,
        "extra": extra,
    })
}

async fn task(State(state): State<AppState>, Path(task): Path<String>) -> Response {
    let hg = state.urls.hg.clone();
    state.read(|w| match w.job_by_task(&task) {
        Some(job) => web::ok(task_definition(w, &hg, job)),
        None => task_not_found(&task),
    })
}

async fn status(State(state): State<AppState>, Path(task): Path<String>) -> Response {
    state.read(|w| match w.job_by_task(&task) {
        Some(job) => web::ok(json!({"status": task_status(job)})),
        None => task_not_found(&task),
    })
}

async fn task_group(State(state): State<AppState>, Path(group): Path<String>) -> Response {
    let hg = state.urls.hg.clone();
    state.read(|w| {
        let tasks: Vec<Value> = w
            .jobs
            .iter()
            .filter(|j| {
                j.taskcluster
                    .as_ref()
                    .is_some_and(|t| t.task_group_id == group)
            })
            .map(|j| json!({"status": task_status(j), "task": task_definition(w, &hg, j)}))
            .collect();
        if tasks.is_empty() {
            return tc_error(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                format!("No task-group with taskGroupId: `{group}`"),
            );
        }
        web::ok(json!({"taskGroupId": group, "tasks": tasks}))
    })
}

/// Names of a task's artifacts.
fn artifact_names(world: &World, job: &Job) -> Vec<String> {
    let mut names = vec!["public/logs/live_backing.log".to_string()];
    if job.kind == JobKind::Decision {
        names.push("public/actions.json".into());
        names.push("public/task-graph.json".into());
    }
    if let Some(harness) = job
        .test_type
        .as_deref()
        .and_then(|t| world.scenario.test_type(t))
        .map(|t| t.harness.clone())
    {
        names.push(format!("public/test_info/{harness}_raw.log"));
        names.push(format!("public/test_info/{harness}_errorsummary.log"));
    }
    names
}

fn artifacts_json(world: &World, job: &Job) -> Value {
    let artifacts: Vec<Value> = artifact_names(world, job)
        .into_iter()
        .map(|name| {
            let kind = if name.ends_with(".json") { "application/json" } else { "text/plain; charset=utf-8" };
            json!({"storageType": "s3", "name": name, "expires": rfc3339(job.submit + 365 * 86_400), "contentType": kind})
        })
        .collect();
    json!({ "artifacts": artifacts })
}

async fn artifacts_latest(State(state): State<AppState>, Path(task): Path<String>) -> Response {
    state.read(|w| match w.job_by_task(&task) {
        Some(job) => web::ok(artifacts_json(w, job)),
        None => task_not_found(&task),
    })
}

async fn artifacts_of_run(
    State(state): State<AppState>,
    Path((task, run)): Path<(String, u32)>,
) -> Response {
    state.read(|w| {
        match w
            .job_by_task(&task)
            .filter(|j| j.taskcluster.as_ref().is_some_and(|t| t.retry_id == run))
        {
            Some(job) => web::ok(artifacts_json(w, job)),
            None => task_not_found(&task),
        }
    })
}

async fn artifact_latest(
    State(state): State<AppState>,
    Path((task, name)): Path<(String, String)>,
) -> Response {
    let urls = state.urls.clone();
    state.read(|w| artifact(w, &urls, &task, &name))
}

async fn artifact_of_run(
    State(state): State<AppState>,
    Path((task, _run, name)): Path<(String, u32, String)>,
) -> Response {
    let urls = state.urls.clone();
    state.read(|w| artifact(w, &urls, &task, &name))
}

fn artifact(world: &World, urls: &crate::Urls, task: &str, name: &str) -> Response {
    let Some(job) = world.job_by_task(task) else {
        return task_not_found(task);
    };
    let text = |body: String| {
        ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
    };
    match name {
        "public/actions.json" if job.kind == JobKind::Decision => {
            match actions_json(world, &urls.hg, job) {
                Some(actions) => web::ok(actions),
                None => tc_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServerError",
                    "actions fixture unreadable".into(),
                ),
            }
        }
        "public/task-graph.json" if job.kind == JobKind::Decision => {
            web::ok(task_graph(world, job))
        }
        "public/logs/live_backing.log" => text(logs::text(&world.scenario, job)),
        n if n.starts_with("public/test_info/")
            && n.ends_with("_raw.log")
            && job.kind == JobKind::Test =>
        {
            text(logs::raw(&world.scenario, job))
        }
        n if n.starts_with("public/test_info/")
            && n.ends_with("_errorsummary.log")
            && job.kind == JobKind::Test =>
        {
            text(logs::errorsummary(&world.scenario, job))
        }
        _ => tc_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("Artifact `{name}` not found"),
        ),
    }
}

/// The full task graph of a push (label → task), including SETA-skipped labels.
fn task_graph(world: &World, decision: &Job) -> Value {
    let mut graph = serde_json::Map::new();
    for (platform, option) in world.platform_options() {
        graph.insert(
            world.label_for(&decision.repo, JobKind::Build, &platform, &option, None),
            json!({"kind": "build"}),
        );
        for test in &world.scenario.test_types {
            let label = world.label_for(
                &decision.repo,
                JobKind::Test,
                &platform,
                &option,
                Some(&test.name),
            );
            graph.insert(label, json!({"kind": "test"}));
        }
    }
    Value::Object(graph)
}

/// `public/actions.json` of a decision task: the recorded actions, re-targeted at this push.
pub fn actions_json(world: &World, hg: &str, decision: &Job) -> Option<Value> {
    let mut actions: Value = serde_json::from_str(ACTIONS_FIXTURE).ok()?;
    let push = world.push(decision.push_id)?;
    let repo_path = world.scenario.repo(&push.repo)?.path.clone();
    let task_id = decision.task_id()?.to_string();
    let list = actions.get_mut("actions")?.as_array_mut()?;
    list.retain(|a| {
        a.get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| SUPPORTED_ACTIONS.contains(&n))
    });
    for action in list.iter_mut() {
        let Some(decision_part) = action.pointer_mut("/hookPayload/decision") else {
            continue;
        };
        decision_part["push"] = json!({"owner": push.user, "pushlog_id": push.pushlog_id.to_string(), "revision": push.revision()});
        decision_part["repository"] =
            json!({"level": "3", "project": push.repo, "url": format!("{hg}/{repo_path}")});
        if let Some(a) = decision_part.get_mut("action") {
            a["taskGroupId"] = json!(task_id);
        }
    }
    Some(actions)
}

async fn index(State(state): State<AppState>, Path(namespace): Path<String>) -> Response {
    let found = state.read(|w| {
        let rest = namespace.strip_prefix("gecko.v2.")?;
        let (repo, rest) = rest.split_once('.')?;
        let push = if rest == "latest.taskgraph.decision" {
            w.repo_pushes(repo).into_iter().rfind(|p| p.decision_task_id.is_some())
        } else {
            let rev = rest.strip_prefix("revision.")?.strip_suffix(".taskgraph.decision")?;
            w.push_by_revision(repo, rev).filter(|p| p.revision() == rev)
        }?;
        let task = push.decision_task_id.clone()?;
        let created = w.job_by_task(&task).map(|j| j.submit).unwrap_or(push.date);
        Some(json!({"namespace": namespace, "taskId": task, "rank": push.date, "data": {}, "expires": rfc3339(created + 365 * 86_400)}))
    });
    match found {
        Some(body) => web::ok(body),
        None => tc_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!("Indexed task not found: {namespace}"),
        ),
    }
}

/// Whether `scopes` satisfy `required` (a trailing `*` matches any suffix).
pub fn satisfies(scopes: &[String], required: &str) -> bool {
    scopes.iter().any(|s| match s.strip_suffix('*') {
        Some(prefix) => required.starts_with(prefix),
        None => s == required,
    })
}

/// Verifies the Hawk `Authorization` header; returns the client id and scopes.
fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
) -> Result<(String, Vec<String>), Response> {
    let unauthorized = |message: &str| {
        tc_error(
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailed",
            message.to_string(),
        )
    };
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized("Authorization header missing"))?;
    let hawk_value = value
        .strip_prefix("Hawk ")
        .ok_or_else(|| unauthorized("Authorization is not a Hawk header"))?;
    let parsed: hawk::Header = hawk_value
        .parse()
        .map_err(|_| unauthorized("Bad Hawk header"))?;
    let client_id = parsed
        .id
        .clone()
        .ok_or_else(|| unauthorized("Hawk header has no id"))?;
    let (client, expired) = state.read(|w| {
        let client = w
            .scenario
            .tc_clients
            .iter()
            .find(|c| c.client_id == client_id)
            .cloned();
        (client, w.faults.taskcluster.expired_credentials)
    });
    let client = client.ok_or_else(|| unauthorized(&format!("client `{client_id}` not found")))?;
    if expired {
        return Err(unauthorized(
            "ext.certificate.expiry < now: credentials have expired",
        ));
    }
    let host_header = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (host, port) = match host_header.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().unwrap_or(80)),
        None => (host_header, 80),
    };
    let key = hawk::Key::new(client.access_token.as_bytes(), hawk::SHA256)
        .map_err(|_| unauthorized("bad key"))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let valid = [content_type.to_string(), mime].iter().any(|ct| {
        let hash = parsed
            .hash
            .as_ref()
            .map(|_| hawk::PayloadHasher::hash(ct.as_bytes(), hawk::SHA256, body));
        let hash = match hash {
            Some(Ok(h)) => Some(h),
            Some(Err(_)) => return false,
            None => None,
        };
        let request = hawk::RequestBuilder::new("POST", host, port, path)
            .hash(hash.as_deref())
            .ext(parsed.ext.as_deref())
            .request();
        request.validate_header(&parsed, &key, HAWK_SKEW)
    });
    if !valid {
        return Err(unauthorized("Bad mac (signature does not match)"));
    }
    Ok((client.client_id, client.scopes))
}

/// Hook ids contain a `/`; clients that do not percent-encode it reach this route.
async fn trigger_unencoded_hook(
    state: State<AppState>,
    Path((group, hook, suffix)): Path<(String, String, String)>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: Bytes,
) -> Response {
    trigger_hook(
        state,
        Path((group, format!("{hook}/{suffix}"))),
        headers,
        uri,
        body,
    )
    .await
}

/// `POST /api/hooks/v1/hooks/{group}/{hook}/trigger`.
async fn trigger_hook(
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

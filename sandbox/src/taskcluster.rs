//! The Taskcluster origin: queue (task, status, task-group list, artifacts incl.
//! a decision task's `public/actions.json` and the logs) and the index lookup
//! of decision tasks; the hooks service is in `hooks`.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::logs;
use crate::model::{Job, JobKind, JobState};
use crate::web::{self, rfc3339};
use crate::world::World;
use crate::{hooks, AppState};

/// The real autoland decision task's actions (recorded payload), re-targeted per push.
const ACTIONS_FIXTURE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/taskcluster/actions.json"
));

/// Actions whose callbacks the sandbox implements.
const SUPPORTED_ACTIONS: [&str; 5] = [
    "retrigger",
    "backfill",
    "add-new-jobs",
    "retrigger-multiple",
    "confirm-failures",
];

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
            post(hooks::trigger_hook),
        )
        .route(
            "/api/hooks/v1/hooks/{group}/{hook}/{suffix}/trigger",
            post(hooks::trigger_unencoded_hook),
        )
        .route("/events", get(crate::events::stream))
}

pub(crate) fn tc_error(status: StatusCode, code: &str, message: String) -> Response {
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

pub fn queue_state(job: &Job) -> &'static str {
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
        let mut run = json!({
            "runId": tc.retry_id, "state": state, "reasonCreated": "scheduled", "reasonResolved": reason_resolved,
            "scheduled": rfc3339(job.ready_at.unwrap_or(job.submit)), "resolved": resolved,
        });
        // The worker's fields exist once a worker claimed the run.
        if let Some(start) = job.start {
            run["workerGroup"] = json!("us-east-1");
            run["workerId"] = json!(format!(
                "i-0{:012x}",
                crate::ids::mix(&["worker", &tc.task_id]) & 0xffff_ffff_ffff
            ));
            run["takenUntil"] = json!(rfc3339(start + 1200));
            run["started"] = json!(rfc3339(start));
        }
        // The queue leaves out what a run does not have yet (no nulls).
        if let Some(fields) = run.as_object_mut() {
            fields.retain(|_, v| !v.is_null());
        }
        json!([run])
    };
    json!({
        "taskId": tc.task_id, "provisionerId": "gecko-t", "workerType": worker_type(job),
        "taskQueueId": format!("gecko-t/{}", worker_type(job)), "schedulerId": "gecko-level-3", "projectId": "none",
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

/// The task definition's `tags` (also carried by the queue's Pulse messages
/// about resolved tasks, as `task.tags`).
pub fn task_tags(world: &World, job: &Job) -> Value {
    let mut tags = json!({
        "kind": kind_tag(job), "worker-implementation": "docker-worker", "createdForUser": job.who,
        "retrigger": if job.kind == JobKind::Test { "true" } else { "false" }, "label": job.label, "os": "linux",
    });
    let spec = job
        .test_type
        .as_deref()
        .and_then(|t| world.scenario.test_type(t));
    if let Some(spec) = spec {
        tags["test-type"] = json!(spec.harness.split('-').next().unwrap_or("mochitest"));
    }
    tags
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
    let tags = task_tags(world, job);
    let symbol = match (job.kind, spec) {
        (JobKind::Decision, _) => "D".to_string(),
        (JobKind::Build, _) => "B".to_string(),
        (_, Some(s)) => s.symbol.clone(),
        _ => "A".to_string(),
    };
    let mut treeherder = json!({
        "machine": {"platform": job.platform}, "tier": crate::treeherder_refdata::tier(job), "symbol": symbol,
        "jobKind": if job.kind == JobKind::Test { "test" } else { "build" },
        "collection": {job.option.clone(): true},
    });
    if let Some(spec) = spec {
        treeherder["groupSymbol"] = json!(spec.group_symbol);
        treeherder["groupName"] = json!(spec.group_name);
        if job.confirm.is_some() {
            treeherder["groupSymbol"] = json!(format!("{}-cf", spec.group_symbol));
        }
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
    let mut env = json!({"GECKO_HEAD_REPOSITORY": format!("{hg}/{repo_path}"), "GECKO_HEAD_REV": job.revision, "MOZ_AUTOMATION": "1"});
    let mut tags = tags;
    if let (Some(confirm), Some(spec)) = (&job.confirm, spec) {
        // What confirm_failure.py sets on the tasks it creates.
        env["MOZHARNESS_CONFIRM_PATHS"] =
            json!(json!({spec.harness.clone(): [confirm.test.clone()]}).to_string());
        env["MOZLOG_DUMP_ALL_TESTS"] = json!("1");
        tags["action"] = json!("confirm-failure");
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
            "env": env,
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
        .filter(|_| logs::has_structured_logs(&world.scenario, job))
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
            && logs::has_structured_logs(&world.scenario, job) =>
        {
            text(logs::raw(&world.scenario, job))
        }
        n if n.starts_with("public/test_info/")
            && n.ends_with("_errorsummary.log")
            && logs::has_structured_logs(&world.scenario, job) =>
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

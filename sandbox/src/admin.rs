//! The admin API on the Treeherder origin under `/__sandbox/`: reset to a
//! scenario, advance the clock, configure faults, read the request log and
//! inspect state (for tests), and the live event stream.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::model::{Faults, JobState};
use crate::scenario::Scenario;
use crate::web::{self, ok};
use crate::world::World;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/__sandbox/reset", post(reset))
        .route("/__sandbox/advance", post(advance))
        .route("/__sandbox/faults", get(get_faults).post(set_faults))
        .route("/__sandbox/requests", get(requests))
        .route("/__sandbox/state", get(state_summary))
        .route("/__sandbox/summary", get(push_summary))
        .route("/__sandbox/jobs", get(jobs))
        .route("/__sandbox/events", get(crate::events::stream))
        .route("/__sandbox/demo-credentials", get(demo_credentials))
        .route("/__sandbox/retrigger", post(page_retrigger))
}

#[derive(Deserialize, Default)]
struct ResetBody {
    /// `demo`, a scenario file path, or an inline scenario object.
    scenario: Option<Value>,
    seed: Option<u64>,
}

async fn reset(State(state): State<AppState>, body: Option<Json<ResetBody>>) -> Response {
    let body = body.map(|b| b.0).unwrap_or_default();
    let (current, seed) = state.read(|w| (w.scenario.clone(), w.seed));
    let scenario = match body.scenario {
        None => Ok(current),
        Some(Value::String(name)) => Scenario::load(&name),
        Some(inline) => Scenario::parse(&inline.to_string()),
    };
    let scenario = match scenario {
        Ok(s) => s,
        Err(e) => return web::bad_request(&e),
    };
    let world = World::new(scenario, body.seed.unwrap_or(seed));
    if let Err(e) = state.replace(world) {
        return web::json(StatusCode::INTERNAL_SERVER_ERROR, json!({ "detail": e }));
    }
    ok(state.read(summary_of))
}

#[derive(Deserialize)]
struct AdvanceBody {
    seconds: i64,
}

async fn advance(State(state): State<AppState>, Json(body): Json<AdvanceBody>) -> Response {
    if body.seconds < 0 {
        return web::bad_request("the clock only moves forward");
    }
    let clock = state.update(|w| {
        let target = w.clock + body.seconds;
        w.advance_to(target);
        w.clock
    });
    ok(json!({ "clock": clock }))
}

async fn get_faults(State(state): State<AppState>) -> Response {
    ok(state.read(|w| json!(w.faults)))
}

async fn set_faults(State(state): State<AppState>, Json(faults): Json<Faults>) -> Response {
    state.update(|w| w.faults = faults.clone());
    ok(json!(faults))
}

#[derive(Deserialize)]
struct RequestFilter {
    origin: Option<String>,
    /// Only entries with an id greater than this.
    after: Option<u64>,
}

async fn requests(State(state): State<AppState>, Query(filter): Query<RequestFilter>) -> Response {
    ok(state.read(|w| {
        let entries: Vec<_> = w
            .request_log
            .iter()
            .filter(|e| filter.origin.as_deref().is_none_or(|o| o == e.origin))
            .filter(|e| filter.after.is_none_or(|a| e.id > a))
            .collect();
        json!(entries)
    }))
}

fn summary_of(w: &World) -> Value {
    let repos: Vec<Value> = w
        .scenario
        .repos
        .iter()
        .map(|r| {
            let pushes = w.repo_pushes(&r.name);
            let jobs = w.jobs.iter().filter(|j| j.repo == r.name);
            let count = |s: JobState| jobs.clone().filter(|j| j.state == s).count();
            json!({
                "name": r.name, "system": r.system.as_str(), "is_try": r.is_try,
                "pushes": pushes.len(),
                "oldest_revision": pushes.first().map(|p| p.revision()),
                "newest_revision": pushes.last().map(|p| p.revision()),
                "jobs": {"pending": count(JobState::Pending), "running": count(JobState::Running), "completed": count(JobState::Completed)},
            })
        })
        .collect();
    json!({
        "scenario": w.scenario.name, "seed": w.seed, "clock": w.clock,
        "jobs": w.jobs.len(), "requests_logged": w.request_log.len(), "repos": repos,
        "ldap_users": w.scenario.ldap_users, "tc_clients": w.scenario.tc_clients,
    })
}

async fn state_summary(State(state): State<AppState>) -> Response {
    let urls = state.urls.clone();
    let mut summary = state.read(summary_of);
    summary["urls"] = json!(*urls);
    ok(summary)
}

#[derive(Deserialize)]
struct RepoFilter {
    repo: Option<String>,
}

/// Per push: revision, index and job counts by result (for quick assertions).
async fn push_summary(State(state): State<AppState>, Query(filter): Query<RepoFilter>) -> Response {
    ok(state.read(|w| {
        let pushes: Vec<Value> = w
            .pushes
            .iter()
            .filter(|p| filter.repo.as_deref().is_none_or(|r| r == p.repo))
            .map(|p| {
                let jobs: Vec<_> = w.jobs.iter().filter(|j| j.push_id == p.id).collect();
                let failed: Vec<&str> = jobs
                    .iter()
                    .filter(|j| j.is_failure())
                    .map(|j| j.label.as_str())
                    .collect();
                json!({
                    "repo": p.repo, "push_id": p.id, "pushlog_id": p.pushlog_id, "index": p.index,
                    "revision": p.revision(), "decision_task_id": p.decision_task_id,
                    "jobs": jobs.len(),
                    "pending": jobs.iter().filter(|j| j.state == JobState::Pending).count(),
                    "running": jobs.iter().filter(|j| j.state == JobState::Running).count(),
                    "failed": failed,
                })
            })
            .collect();
        json!(pushes)
    }))
}

#[derive(Deserialize)]
struct JobFilter {
    repo: Option<String>,
    push_id: Option<u64>,
    label: Option<String>,
}

/// The simulator's own job records (internal model, for tests).
async fn jobs(State(state): State<AppState>, Query(filter): Query<JobFilter>) -> Response {
    ok(state.read(|w| {
        let jobs: Vec<_> = w
            .jobs
            .iter()
            .filter(|j| filter.repo.as_deref().is_none_or(|r| r == j.repo))
            .filter(|j| filter.push_id.is_none_or(|p| p == j.push_id))
            .filter(|j| filter.label.as_deref().is_none_or(|l| l == j.label))
            .collect();
        json!(jobs)
    }))
}

/// Credentials the demo page stores as a logged-in Treeherder user's: the
/// first Taskcluster client allowed to trigger action hooks.
async fn demo_credentials(State(state): State<AppState>) -> Response {
    let client = state.read(|w| {
        w.scenario
            .tc_clients
            .iter()
            .find(|c| {
                c.scopes
                    .iter()
                    .any(|s| s.starts_with("hooks:trigger-hook:"))
            })
            .cloned()
    });
    match client {
        Some(c) => ok(json!({"clientId": c.client_id, "accessToken": c.access_token})),
        None => web::not_found("the scenario has no Taskcluster client that may trigger hooks"),
    }
}

#[derive(Deserialize)]
struct PageRetrigger {
    repo: String,
    job_id: u64,
    client_id: Option<String>,
    decision_task_id: Option<String>,
    action: Option<PageAction>,
}

/// The action the page found in the push's actions.json.
#[derive(Deserialize)]
struct PageAction {
    name: String,
    #[serde(rename = "hookGroupId")]
    hook_group_id: Option<String>,
    #[serde(rename = "hookId")]
    hook_id: Option<String>,
}

fn page_failure(status: StatusCode, msg: String) -> Response {
    web::json(status, json!({"status": "FAILED", "msg": msg}))
}

fn page_success(who: &str, msg: String, w: &World, job_ids: &[u64]) -> Response {
    let task_ids: Vec<&str> = job_ids
        .iter()
        .filter_map(|id| w.job(*id)?.task_id())
        .collect();
    let body = json!({"status": "OK", "msg": msg, "job_ids": job_ids, "task_ids": task_ids});
    web::with_user(ok(body), who)
}

/// The job page's Retrigger button (stand-in for Treeherder's own call):
/// Buildbot jobs through Self-Serve's request rebuild, tasks through the
/// push's `retrigger` action as the given Taskcluster client.
async fn page_retrigger(
    State(state): State<AppState>,
    Json(body): Json<PageRetrigger>,
) -> Response {
    let job = state.read(|w| w.job(body.job_id).filter(|j| j.repo == body.repo).cloned());
    let Some(job) = job else {
        return page_failure(
            StatusCode::NOT_FOUND,
            format!("no job {} in {}", body.job_id, body.repo),
        );
    };
    if job.buildbot.is_some() {
        let who = "treeherder@sandbox";
        return match state.update(|w| crate::buildapi::retrigger_for_page(w, job.id, who)) {
            Ok(ids) => {
                let msg = format!("Buildbot request for {} submitted", job.label);
                state.read(|w| page_success(who, msg, w, &ids))
            }
            Err(e) => page_failure(StatusCode::BAD_REQUEST, e),
        };
    }
    let Some(client_id) = body.client_id else {
        return page_failure(
            StatusCode::UNAUTHORIZED,
            "log in to Taskcluster first".into(),
        );
    };
    let client = state.read(|w| {
        w.scenario
            .tc_clients
            .iter()
            .find(|c| c.client_id == client_id)
            .cloned()
    });
    let Some(client) = client else {
        return page_failure(
            StatusCode::UNAUTHORIZED,
            format!("unknown client {client_id}"),
        );
    };
    let action = body.action.as_ref();
    if action.is_some_and(|a| a.name != "retrigger") {
        return web::with_user(
            page_failure(
                StatusCode::BAD_REQUEST,
                "only the retrigger action is offered here".into(),
            ),
            &client_id,
        );
    }
    let hook = action
        .and_then(|a| {
            Some(format!(
                "{}/{}",
                a.hook_group_id.as_deref()?,
                a.hook_id.as_deref()?
            ))
        })
        .unwrap_or_else(|| "project-gecko/in-tree-action-3-generic".into());
    let required = format!("hooks:trigger-hook:{hook}");
    if !crate::hooks::satisfies(&client.scopes, &required) {
        return web::with_user(
            page_failure(
                StatusCode::FORBIDDEN,
                format!("{client_id} lacks {required}"),
            ),
            &client_id,
        );
    }
    let request = state.read(|w| {
        let push = w.push(job.push_id)?;
        Some(crate::hooks::ActionRequest {
            callback: "retrigger".into(),
            title: "Action: Retrigger".into(),
            project: push.repo.clone(),
            pushlog_id: push.pushlog_id,
            task_group_id: body
                .decision_task_id
                .clone()
                .or(push.decision_task_id.clone())?,
            task_id: job.task_id().map(str::to_string),
            input: json!({"times": 1}),
        })
    });
    let Some(request) = request else {
        return page_failure(
            StatusCode::BAD_REQUEST,
            "this push has no decision task".into(),
        );
    };
    match state.update(|w| crate::hooks::run_action(w, &request, &client_id)) {
        Ok(outcome) => {
            let msg = format!("retrigger action for {} triggered", job.label);
            state.read(|w| page_success(&client_id, msg, w, &outcome.scheduled))
        }
        Err(e) => web::with_user(page_failure(StatusCode::BAD_REQUEST, e), &client_id),
    }
}

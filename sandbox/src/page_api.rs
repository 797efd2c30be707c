//! What the sandbox's job view pages call besides the Treeherder API:
//! `GET /__sandbox/demo-credentials` (a Taskcluster login for the demo) and
//! `POST /__sandbox/retrigger` (their Retrigger button, done server-side
//! because the pages do not sign Hawk requests).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::web::{self, ok};
use crate::world::World;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/__sandbox/demo-credentials", get(demo_credentials))
        .route("/__sandbox/retrigger", post(page_retrigger))
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

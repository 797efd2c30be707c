//! The hg.mozilla.org origin: `/{repo_path}/json-pushes` (version 1 and 2,
//! `full`, `startID`/`endID`, `fromchange`/`tochange`, `changeset`,
//! `tipsonly`, `user`, `startdate`/`enddate`) over the scenario's pushlogs.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

use crate::model::Push;
use crate::web::{self, ok, Query as Params};
use crate::world::World;
use crate::AppState;

/// Pushes returned when no range is given (as the pushlog extension does).
const DEFAULT_PUSHES: u64 = 10;

pub fn router() -> Router<AppState> {
    Router::new().route("/{*path}", get(dispatch))
}

fn hg_error(status: StatusCode, message: String) -> Response {
    web::json(status, json!({ "error": message }))
}

async fn dispatch(
    State(state): State<AppState>,
    Path(path): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    let Some(repo_path) = path.strip_suffix("/json-pushes") else {
        return hg_error(StatusCode::NOT_FOUND, format!("not found: {path}"));
    };
    let repo_path = repo_path.trim_matches('/').to_string();
    state.read(|w| {
        let Some(repo) = w.scenario.repos.iter().find(|r| r.path == repo_path) else {
            return hg_error(
                StatusCode::NOT_FOUND,
                format!("repository {repo_path} not found"),
            );
        };
        json_pushes(w, &repo.name, &q)
    })
}

fn push_id_of(world: &World, repo: &str, rev: &str) -> Result<u64, Response> {
    world
        .push_containing(repo, rev)
        .map(|p| p.pushlog_id)
        .ok_or_else(|| hg_error(StatusCode::NOT_FOUND, format!("unknown revision '{rev}'")))
}

fn number(q: &Params, key: &str) -> Result<Option<i64>, Response> {
    match q.get(key) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| hg_error(StatusCode::BAD_REQUEST, format!("{key} must be an integer"))),
    }
}

fn json_pushes(world: &World, repo: &str, q: &Params) -> Response {
    let pushes = world.repo_pushes(repo);
    let last = pushes.last().map(|p| p.pushlog_id).unwrap_or(0);
    let first = pushes.first().map(|p| p.pushlog_id).unwrap_or(1);
    let flag = |key: &str| q.get(key).is_some_and(|v| v == "1" || v == "true");
    let version = q.get("version").map(String::as_str).unwrap_or("1");
    if version != "1" && version != "2" {
        return hg_error(
            StatusCode::BAD_REQUEST,
            format!("version {version} is not supported"),
        );
    }
    // Ranges: startID/fromchange exclusive, endID/tochange inclusive.
    let (mut start, mut end) = match (number(q, "startID"), number(q, "endID")) {
        (Ok(s), Ok(e)) => (s.map(|s| s.max(0) as u64), e.map(|e| e.max(0) as u64)),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    if let Some(rev) = q.get("fromchange") {
        match push_id_of(world, repo, rev) {
            Ok(id) => start = Some(id),
            Err(e) => return e,
        }
    }
    if let Some(rev) = q.get("tochange") {
        match push_id_of(world, repo, rev) {
            Ok(id) => end = Some(id),
            Err(e) => return e,
        }
    }
    let (startdate, enddate) = match (number(q, "startdate"), number(q, "enddate")) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let any_filter = start.is_some()
        || end.is_some()
        || q.contains_key("changeset")
        || q.contains_key("user")
        || startdate.is_some()
        || enddate.is_some();
    if !any_filter {
        start = Some(
            last.saturating_sub(DEFAULT_PUSHES)
                .max(first.saturating_sub(1)),
        );
    }
    let selected: Vec<&Push> = pushes
        .into_iter()
        .filter(|p| start.is_none_or(|s| p.pushlog_id > s))
        .filter(|p| end.is_none_or(|e| p.pushlog_id <= e))
        .filter(|p| q.get("changeset").is_none_or(|c| p.contains(c)))
        .filter(|p| q.get("user").is_none_or(|u| &p.user == u))
        .filter(|p| startdate.is_none_or(|d| p.date >= d))
        .filter(|p| enddate.is_none_or(|d| p.date <= d))
        .collect();
    let mut out = Map::new();
    for push in selected {
        out.insert(
            push.pushlog_id.to_string(),
            push_json(push, flag("full"), flag("tipsonly")),
        );
    }
    if version == "2" {
        ok(json!({"lastpushid": last, "pushes": out}))
    } else {
        ok(Value::Object(out))
    }
}

fn push_json(push: &Push, full: bool, tips_only: bool) -> Value {
    let changesets: Vec<Value> = push
        .changesets
        .iter()
        .skip(if tips_only {
            push.changesets.len().saturating_sub(1)
        } else {
            0
        })
        .map(|c| {
            if full {
                json!({"node": c.node, "author": c.author, "desc": c.desc, "branch": "default",
                       "tags": [], "files": c.files, "parents": c.parents})
            } else {
                json!(c.node)
            }
        })
        .collect();
    json!({"changesets": changesets, "date": push.date, "user": push.user})
}

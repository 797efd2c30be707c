//! Self-Serve BuildAPI under `/buildapi/self-serve/` (and `/buildapi/pending`):
//! trigger builders, retrigger requests and builds, cancel, list a revision's
//! builds and requests, with the LDAP proxy's HTTP Basic auth and production
//! status codes. Triggered requests enter the simulator like any other job.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::model::{Job, JobKind, JobState};
use crate::scenario::CiSystem;
use crate::web::{with_header, with_user};
use crate::world::{NewJob, World};
use crate::AppState;

const BASE: &str = "/buildapi/self-serve";

/// Largest `count` accepted for a retrigger (keeps one request from flooding the simulator).
const MAX_COUNT: i64 = 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/buildapi/pending", get(pending))
        .route(&format!("{BASE}/branches"), get(branches))
        .route(&format!("{BASE}/jobs/{{id}}"), get(selfserve_job))
        .route(
            &format!("{BASE}/{{branch}}/builders/{{builder}}/{{rev}}"),
            post(trigger_builder),
        )
        .route(
            &format!("{BASE}/{{branch}}/request"),
            post(retrigger_request),
        )
        .route(&format!("{BASE}/{{branch}}/build"), post(rebuild))
        .route(
            &format!("{BASE}/{{branch}}/request/{{id}}"),
            get(show_request)
                .delete(cancel_request)
                .post(cancel_request),
        )
        .route(
            &format!("{BASE}/{{branch}}/build/{{id}}"),
            get(show_build).delete(cancel_build).post(cancel_build),
        )
        .route(
            &format!("{BASE}/{{branch}}/rev/{{rev}}"),
            get(revision).delete(cancel_revision).post(cancel_revision),
        )
}

/// Form fields merged with query parameters (clients used either).
type Fields = HashMap<String, String>;

fn fields(query: &Fields, body: &Bytes) -> Fields {
    let mut all = query.clone();
    if let Ok(form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        all.extend(form);
    }
    all
}

/// JSON when asked for (`format=json` or `Accept: application/json`), else HTML as production.
fn wants_json(query: &Fields, headers: &HeaderMap) -> bool {
    query.get("format").is_some_and(|f| f == "json")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/json"))
}

fn render(json_wanted: bool, status: StatusCode, body: Value) -> Response {
    if json_wanted {
        return (status, axum::Json(body)).into_response();
    }
    let text = body.to_string().replace('&', "&amp;").replace('<', "&lt;");
    let html =
        format!("<html><head><title>BuildAPI</title></head><body><pre>{text}</pre></body></html>");
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

fn failed(json_wanted: bool, status: StatusCode, msg: String) -> Response {
    render(json_wanted, status, json!({"status": "FAILED", "msg": msg}))
}

/// The LDAP proxy: HTTP Basic against the scenario's users.
fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<String, Response> {
    let unauthorized = || {
        let response = (StatusCode::UNAUTHORIZED, "Authorization Required").into_response();
        with_header(response, "www-authenticate", "Basic realm=\"LDAP\"")
    };
    let credentials = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    let Some(credentials) = credentials else {
        return Err(unauthorized());
    };
    let Some((email, password)) = credentials.split_once(':') else {
        return Err(unauthorized());
    };
    let (user, expired) = state.read(|w| {
        let user = w
            .scenario
            .ldap_users
            .iter()
            .find(|u| u.email == email && u.password == password)
            .cloned();
        (user, w.faults.buildapi.expired_credentials)
    });
    let Some(user) = user.filter(|_| !expired) else {
        return Err(unauthorized());
    };
    if !user.access {
        return Err(with_user(
            (StatusCode::FORBIDDEN, "ACCESS DENIED!").into_response(),
            &user.email,
        ));
    }
    Ok(user.email)
}

fn is_buildbot_branch(world: &World, branch: &str) -> bool {
    world
        .scenario
        .repo(branch)
        .is_some_and(|r| r.system == CiSystem::Buildbot)
}

/// A build request as production's `requestFromRow` gives it
/// (buildapi/model/builds.py): request fields only, no `build_id` and no
/// `status`; `claimed_at` is 0 until a master claims it.
fn request_json(job: &Job) -> Value {
    let claimed = job.start.filter(|_| job.state != JobState::Pending);
    json!({
        "request_id": job.request_id(), "buildername": job.label, "branch": job.repo, "revision": job.revision,
        "submittime": job.submit, "complete": i64::from(job.state == JobState::Completed), "complete_at": job.end,
        "priority": job.buildbot.as_ref().map(|b| b.priority).unwrap_or(0), "claimed_at": claimed.unwrap_or(0),
        "reason": job.reason,
    })
}

/// `/request/{id}`: production's `getRequest` adds the ids of the builds
/// that served the request (`build_ids`).
fn request_with_builds_json(world: &World, job: &Job) -> Value {
    let mut value = request_json(job);
    let build_id = job.buildbot.as_ref().and_then(|b| {
        b.build_id.or(b
            .coalesced_into
            .and_then(|p| world.job(p)?.buildbot.as_ref()?.build_id))
    });
    value["build_ids"] = json!(build_id.into_iter().collect::<Vec<_>>());
    value
}

fn build_json(world: &World, primary: &Job) -> Value {
    let requests: Vec<Value> = crate::buildjson::build_requests(world, primary)
        .iter()
        .map(|j| request_json(j))
        .collect();
    let bb = primary.buildbot.as_ref();
    json!({
        "build_id": bb.and_then(|b| b.build_id), "buildnumber": bb.and_then(|b| b.buildnumber),
        "buildername": primary.label, "branch": primary.repo, "revision": primary.revision,
        "starttime": primary.start, "endtime": primary.end, "status": primary.buildbot_status(),
        "claimed_by_name": "buildbot-master81.bb.releng.scl3.mozilla.com:/builds/buildbot/tests1-linux/master",
        "requests": requests,
    })
}

/// Whether a job is the primary request of a build (it ran).
fn is_build(job: &Job) -> bool {
    job.buildbot.as_ref().is_some_and(|b| b.build_id.is_some())
}

async fn pending(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = authenticate(&state, &headers) {
        return e;
    }
    let body = state.read(crate::buildjson::pending);
    (StatusCode::OK, axum::Json(body)).into_response()
}

async fn branches(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<Fields>,
) -> Response {
    let user = match authenticate(&state, &headers) {
        Ok(u) => u,
        Err(e) => return e,
    };
    let hg = state.urls.hg.clone();
    let body = state.read(|w| {
        let map: Map<String, Value> = w
            .scenario
            .repos
            .iter()
            .filter(|r| r.system == CiSystem::Buildbot)
            .map(|r| {
                let graph = r.graph_branch.clone().unwrap_or_else(|| r.name.clone());
                (r.name.clone(), json!({"repo": format!("{hg}/{}", r.path), "graph_branches": [graph], "repo_type": "hg"}))
            })
            .collect();
        Value::Object(map)
    });
    with_user(
        render(wants_json(&q, &headers), StatusCode::OK, body),
        &user,
    )
}

async fn selfserve_job(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Fields>,
) -> Response {
    let user = match authenticate(&state, &headers) {
        Ok(u) => u,
        Err(e) => return e,
    };
    let json_wanted = wants_json(&q, &headers);
    let found = state.read(|w| {
        let record = w.selfserve.iter().find(|s| s.id.to_string() == id)?;
        Some(json!({
            "action": record.action, "who": record.who, "when": record.when, "completed_at": record.when,
            "complete_data": {"body": {"errors": false, "msg": "Ok"}, "request_id": record.request_ids.first()},
            "what": record.what,
        }))
    });
    match found {
        Some(body) => with_user(render(json_wanted, StatusCode::OK, body), &user),
        None => with_user(
            failed(
                json_wanted,
                StatusCode::NOT_FOUND,
                format!("Job {id} not found"),
            ),
            &user,
        ),
    }
}

/// Parses a JSON-string form field (`properties`, `files`).
fn json_field(fields: &Fields, key: &str) -> Result<Option<Value>, String> {
    match fields.get(key) {
        None => Ok(None),
        Some(text) if text.is_empty() => Ok(None),
        Some(text) => serde_json::from_str(text)
            .map(Some)
            .map_err(|e| format!("{key} is not valid JSON: {e}")),
    }
}

fn int_field(fields: &Fields, key: &str, default: Option<i64>) -> Result<i64, String> {
    match (fields.get(key), default) {
        (Some(v), _) => v
            .trim()
            .parse()
            .map_err(|_| format!("{key} must be an integer")),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(format!("{key} is required")),
    }
}

struct Ctx {
    json: bool,
    user: String,
}

/// Authenticates and checks the branch; the common start of every branch endpoint.
fn begin(
    state: &AppState,
    headers: &HeaderMap,
    query: &Fields,
    branch: &str,
) -> Result<Ctx, Response> {
    let json_wanted = wants_json(query, headers);
    let user = authenticate(state, headers)?;
    if !state.read(|w| is_buildbot_branch(w, branch)) {
        return Err(with_user(
            failed(
                json_wanted,
                StatusCode::NOT_FOUND,
                format!("Branch {branch} not found"),
            ),
            &user,
        ));
    }
    Ok(Ctx {
        json: json_wanted,
        user,
    })
}

fn accepted(ctx: &Ctx, msg: String, selfserve_id: u64) -> Response {
    with_user(
        render(
            ctx.json,
            StatusCode::ACCEPTED,
            json!({"status": "OK", "msg": msg, "request_id": selfserve_id}),
        ),
        &ctx.user,
    )
}

fn refuse(ctx: &Ctx, status: StatusCode, msg: String) -> Response {
    with_user(failed(ctx.json, status, msg), &ctx.user)
}

async fn trigger_builder(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((branch, builder, rev)): Path<(String, String, String)>,
    Query(q): Query<Fields>,
    body: Bytes,
) -> Response {
    let ctx = match begin(&state, &headers, &q, &branch) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let f = fields(&q, &body);
    let properties = json_field(&f, "properties");
    let files = json_field(&f, "files");
    let (properties, files) = match (properties, files) {
        (Ok(p), Ok(f)) => (p, f),
        (Err(e), _) | (_, Err(e)) => return refuse(&ctx, StatusCode::BAD_REQUEST, e),
    };
    if properties.as_ref().is_some_and(|p| !p.is_object()) {
        return refuse(
            &ctx,
            StatusCode::BAD_REQUEST,
            "properties must be a JSON object".into(),
        );
    }
    let files: Vec<String> = match files {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(_) => {
            return refuse(
                &ctx,
                StatusCode::BAD_REQUEST,
                "files must be a JSON list".into(),
            )
        }
    };
    let priority = match int_field(&f, "priority", Some(0)) {
        Ok(p) => p,
        Err(e) => return refuse(&ctx, StatusCode::BAD_REQUEST, e),
    };
    state.update(|w| {
        let Some((kind, platform, option, test)) = w.parse_label(&branch, &builder) else {
            return refuse(
                &ctx,
                StatusCode::BAD_REQUEST,
                format!("Builder {builder} not found on branch {branch}"),
            );
        };
        let Some(push) = w.push_containing(&branch, &rev) else {
            return refuse(
                &ctx,
                StatusCode::NOT_FOUND,
                format!("Revision {rev} not found on branch {branch}"),
            );
        };
        let push_id = push.id;
        let revision = push
            .changesets
            .iter()
            .find(|c| c.node.starts_with(&rev))
            .map(|c| c.node.clone())
            .unwrap_or_default();
        let id = w.add_job(NewJob {
            push_id,
            revision,
            kind,
            platform,
            option,
            test_type: test,
            reason: format!("Self-serve: Requested by {}", ctx.user),
            who: ctx.user.clone(),
            priority,
            files,
            task_group_id: None,
            dependencies: Vec::new(),
        });
        let request_ids: Vec<u64> = w.job(id).and_then(|j| j.request_id()).into_iter().collect();
        let what = format!("new build of {builder} at {rev}");
        let ss = w.add_selfserve("new_build_for_builder", &ctx.user, what, request_ids);
        accepted(&ctx, format!("Build of {builder} at {rev} requested"), ss)
    })
}

/// Requests again what `template` asked for, `count` times.
fn resubmit(w: &mut World, template: &Job, count: i64, priority: i64, who: &str) -> Vec<u64> {
    let files = template
        .buildbot
        .as_ref()
        .map(|b| b.files.clone())
        .unwrap_or_default();
    (0..count)
        .filter_map(|_| {
            let id = w.add_job(NewJob {
                push_id: template.push_id,
                revision: template.revision.clone(),
                kind: template.kind,
                platform: template.platform.clone(),
                option: template.option.clone(),
                test_type: template.test_type.clone(),
                reason: format!("Self-serve: Rebuilt by {who}"),
                who: who.to_string(),
                priority,
                files: files.clone(),
                task_group_id: None,
                dependencies: Vec::new(),
            });
            w.job(id).and_then(|j| j.request_id())
        })
        .collect()
}

/// The fields of a retrigger or rebuild form: `id_field`, `count`
/// (1..=MAX_COUNT, default 1) and `priority` (default 0); the 400 answer
/// when one is missing or out of range.
fn repeat_fields(
    ctx: &Ctx,
    q: &Fields,
    body: &Bytes,
    id_field: &str,
) -> Result<(i64, i64, i64), Response> {
    let f = fields(q, body);
    match (
        int_field(&f, id_field, None),
        int_field(&f, "count", Some(1)),
        int_field(&f, "priority", Some(0)),
    ) {
        (Ok(id), Ok(count), Ok(priority)) if (1..=MAX_COUNT).contains(&count) => {
            Ok((id, count, priority))
        }
        (Ok(_), Ok(_), Ok(_)) => Err(refuse(
            ctx,
            StatusCode::BAD_REQUEST,
            format!("count must be in 1..={MAX_COUNT}"),
        )),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            Err(refuse(ctx, StatusCode::BAD_REQUEST, e))
        }
    }
}

/// What a form names: a build request (`/{branch}/request[/{id}]`) or a
/// build (`/{branch}/build[/{id}]`). Repeating either resubmits the job it
/// stands for; cancelling needs a pending request or a running build.
#[derive(Clone, Copy)]
enum Named {
    Request,
    Build,
}

impl Named {
    fn id_field(self) -> &'static str {
        match self {
            Named::Request => "request_id",
            Named::Build => "build_id",
        }
    }

    /// How Self-Serve names it in messages: capitalised and not.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Named::Request => ("Request", "request"),
            Named::Build => ("Build", "build"),
        }
    }

    /// What Self-Serve calls repeating it.
    fn repeat_action(self) -> &'static str {
        match self {
            Named::Request => "reprioritize_request",
            Named::Build => "rebuild_build",
        }
    }

    fn find(self, w: &World, id: u64) -> Option<&Job> {
        match self {
            Named::Request => w.job_by_request(id),
            Named::Build => w.job_by_build(id),
        }
    }

    /// How Self-Serve shows one: a request with its builds, or a build.
    fn json(self, w: &World, job: &Job) -> serde_json::Value {
        match self {
            Named::Request => request_with_builds_json(w, job),
            Named::Build => build_json(w, job),
        }
    }
}

async fn retrigger_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(branch): Path<String>,
    Query(q): Query<Fields>,
    body: Bytes,
) -> Response {
    repeat(&state, &headers, branch, &q, &body, Named::Request)
}

async fn rebuild(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(branch): Path<String>,
    Query(q): Query<Fields>,
    body: Bytes,
) -> Response {
    repeat(&state, &headers, branch, &q, &body, Named::Build)
}

/// Resubmit the job a request or build stands for, `count` times.
fn repeat(
    state: &AppState,
    headers: &HeaderMap,
    branch: String,
    q: &Fields,
    body: &Bytes,
    what: Named,
) -> Response {
    let ctx = match begin(state, headers, q, &branch) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let (id, count, priority) = match repeat_fields(&ctx, q, body, what.id_field()) {
        Ok(parsed) => parsed,
        Err(refusal) => return refusal,
    };
    let (noun, lower) = what.names();
    state.update(|w| {
        let found = what.find(w, id as u64);
        let Some(template) = found.filter(|j| j.repo == branch).cloned() else {
            return refuse(
                &ctx,
                StatusCode::NOT_FOUND,
                format!("{noun} {id} not found on branch {branch}"),
            );
        };
        let ids = resubmit(w, &template, count, priority, &ctx.user);
        let ss = w.add_selfserve(
            what.repeat_action(),
            &ctx.user,
            format!("rebuild {lower} {id} x{count}"),
            ids,
        );
        accepted(&ctx, format!("Rebuild of {lower} {id} requested"), ss)
    })
}

/// POST with `_method=DELETE` is a cancel; any other POST there is not allowed.
fn is_delete(method: &Method, q: &Fields, body: &Bytes) -> bool {
    *method == Method::DELETE
        || fields(q, body)
            .get("_method")
            .is_some_and(|m| m.eq_ignore_ascii_case("DELETE"))
}

async fn cancel_request(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path((branch, id)): Path<(String, String)>,
    Query(q): Query<Fields>,
    body: Bytes,
) -> Response {
    let deleting = is_delete(&method, &q, &body);
    cancel(&state, &headers, branch, &id, &q, deleting, Named::Request)
}

async fn cancel_build(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path((branch, id)): Path<(String, String)>,
    Query(q): Query<Fields>,
    body: Bytes,
) -> Response {
    let deleting = is_delete(&method, &q, &body);
    cancel(&state, &headers, branch, &id, &q, deleting, Named::Build)
}

/// Cancel a pending request, or a running build with every request merged
/// into it.
fn cancel(
    state: &AppState,
    headers: &HeaderMap,
    branch: String,
    id: &str,
    q: &Fields,
    deleting: bool,
    what: Named,
) -> Response {
    let ctx = match begin(state, headers, q, &branch) {
        Ok(c) => c,
        Err(e) => return e,
    };
    if !deleting {
        return refuse(
            &ctx,
            StatusCode::METHOD_NOT_ALLOWED,
            "use DELETE (or _method=DELETE)".into(),
        );
    }
    let (noun, lower) = what.names();
    let (wanted, otherwise) = match what {
        Named::Request => (JobState::Pending, "is no longer pending"),
        Named::Build => (JobState::Running, "is not running"),
    };
    state.update(|w| {
        let job = id
            .parse::<u64>()
            .ok()
            .and_then(|n| what.find(w, n))
            .filter(|j| j.repo == branch)
            .cloned();
        let Some(job) = job else {
            return refuse(
                &ctx,
                StatusCode::NOT_FOUND,
                format!("{noun} {id} not found"),
            );
        };
        if job.state != wanted {
            return refuse(
                &ctx,
                StatusCode::BAD_REQUEST,
                format!("{noun} {id} {otherwise}"),
            );
        }
        let cancelled: Vec<u64> = match what {
            Named::Request => vec![job.id],
            Named::Build => crate::buildjson::build_requests(w, &job)
                .iter()
                .map(|j| j.id)
                .collect(),
        };
        for c in &cancelled {
            w.cancel(*c);
        }
        let action = match what {
            Named::Request => "cancel_request",
            Named::Build => "cancel_build",
        };
        let ss = w.add_selfserve(
            action,
            &ctx.user,
            format!("cancel {lower} {id}"),
            job.request_id().into_iter().collect(),
        );
        accepted(&ctx, format!("{noun} {id} cancelled"), ss)
    })
}

fn revision_jobs<'a>(w: &'a World, branch: &str, rev: &str) -> Vec<&'a Job> {
    let prefix = crate::buildjson::short(rev);
    w.jobs
        .iter()
        .filter(|j| j.repo == branch && j.buildbot.is_some() && j.revision.starts_with(prefix))
        .collect()
}

async fn revision(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((branch, rev)): Path<(String, String)>,
    Query(q): Query<Fields>,
) -> Response {
    let ctx = match begin(&state, &headers, &q, &branch) {
        Ok(c) => c,
        Err(e) => return e,
    };
    state.read(|w| {
        if w.push_containing(&branch, crate::buildjson::short(&rev))
            .is_none()
        {
            return refuse(
                &ctx,
                StatusCode::NOT_FOUND,
                format!("Revision {rev} not found on branch {branch}"),
            );
        }
        let mut items: Vec<Value> = Vec::new();
        let mut builds_listed: Vec<u64> = Vec::new();
        for job in revision_jobs(w, &branch, &rev) {
            let bb = job.buildbot.as_ref();
            // A request merged into a build of another revision is listed through that build.
            let primary = match bb.and_then(|b| b.coalesced_into) {
                Some(p) => w.job(p),
                None if is_build(job) => Some(job),
                None => None,
            };
            match primary {
                Some(build) if !builds_listed.contains(&build.id) => {
                    builds_listed.push(build.id);
                    items.push(build_json(w, build));
                }
                Some(_) => {}
                None if bb.is_some_and(|b| !b.cancelled) => items.push(request_json(job)),
                None => {}
            }
        }
        with_user(render(ctx.json, StatusCode::OK, json!(items)), &ctx.user)
    })
}

async fn cancel_revision(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Path((branch, rev)): Path<(String, String)>,
    Query(q): Query<Fields>,
    body: Bytes,
) -> Response {
    let ctx = match begin(&state, &headers, &q, &branch) {
        Ok(c) => c,
        Err(e) => return e,
    };
    if !is_delete(&method, &q, &body) {
        return refuse(
            &ctx,
            StatusCode::METHOD_NOT_ALLOWED,
            "use DELETE (or _method=DELETE)".into(),
        );
    }
    state.update(|w| {
        if w.push_containing(&branch, crate::buildjson::short(&rev))
            .is_none()
        {
            return refuse(
                &ctx,
                StatusCode::NOT_FOUND,
                format!("Revision {rev} not found on branch {branch}"),
            );
        }
        let active: Vec<(u64, Option<u64>)> = revision_jobs(w, &branch, &rev)
            .iter()
            .filter(|j| j.state != JobState::Completed)
            .map(|j| (j.id, j.request_id()))
            .collect();
        for (id, _) in &active {
            w.cancel(*id);
        }
        let ids = active.iter().filter_map(|(_, r)| *r).collect();
        let ss = w.add_selfserve(
            "cancel_revision",
            &ctx.user,
            format!("cancel all at {rev}"),
            ids,
        );
        accepted(
            &ctx,
            format!("Cancelled {} builds and requests at {rev}", active.len()),
            ss,
        )
    })
}

async fn show_request(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((branch, id)): Path<(String, String)>,
    Query(q): Query<Fields>,
) -> Response {
    show(&state, &headers, &branch, &id, &q, Named::Request)
}

async fn show_build(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((branch, id)): Path<(String, String)>,
    Query(q): Query<Fields>,
) -> Response {
    show(&state, &headers, &branch, &id, &q, Named::Build)
}

/// One request or build of `branch`, as Self-Serve shows it; 404 for an id
/// that is not a number, not known, or of another branch.
fn show(
    state: &AppState,
    headers: &HeaderMap,
    branch: &str,
    id: &str,
    q: &Fields,
    what: Named,
) -> Response {
    let ctx = match begin(state, headers, q, branch) {
        Ok(c) => c,
        Err(e) => return e,
    };
    state.read(|w| {
        let found = id
            .parse::<u64>()
            .ok()
            .and_then(|id| what.find(w, id))
            .filter(|j| j.repo == branch);
        match found {
            Some(job) => with_user(
                render(ctx.json, StatusCode::OK, what.json(w, job)),
                &ctx.user,
            ),
            None => refuse(
                &ctx,
                StatusCode::NOT_FOUND,
                format!("{} {id} not found", what.names().0),
            ),
        }
    })
}

/// Retriggers a Buildbot job for the Treeherder page (its retrigger button).
pub fn retrigger_for_page(w: &mut World, job_id: u64, who: &str) -> Result<Vec<u64>, String> {
    let job = w
        .job(job_id)
        .cloned()
        .ok_or_else(|| format!("no job {job_id}"))?;
    if job.system != CiSystem::Buildbot || job.kind == JobKind::Decision {
        return Err("not a Buildbot job".into());
    }
    let ids = resubmit(w, &job, 1, 0, who);
    let label = job.label.clone();
    w.add_selfserve(
        "reprioritize_request",
        who,
        format!("rebuild request for {label}"),
        ids.clone(),
    );
    Ok(ids)
}

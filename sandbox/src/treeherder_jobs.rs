//! Treeherder's job endpoints: `/api/jobs/` (list form, pagination), the
//! per-repository dict form (and 2015's list form) and detail, log URLs,
//! `text_log_errors`, bug suggestions, 2015 artifacts and 2015's own
//! backfill, and the empty classification lists.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::logs::{self, LogKind};
use crate::model::{Job, JobKind, JobState, PulseEvent};
use crate::scenario::CiSystem;
use crate::treeherder::unknown_repo;
use crate::treeherder_refdata as refdata;
use crate::web::{self, iso, ok, Query as Params};
use crate::world::World;
use crate::{ids, AppState, Urls};

/// Treeherder's jobs page size (and the largest `count` it accepts).
pub const PAGE_SIZE: usize = 2000;

/// `/api/project/{repo}/jobs/` without `count`.
pub const DEFAULT_PROJECT_JOBS_COUNT: u64 = 10;

/// Current `/api/jobs/` property names (the order the recorded payloads use).
pub const JOB_PROPERTY_NAMES: [&str; 19] = [
    "duration",
    "failure_classification_id",
    "id",
    "job_group_name",
    "job_group_symbol",
    "job_type_name",
    "job_type_symbol",
    "last_modified",
    "option_collection_hash",
    "platform",
    "platform_option",
    "push_id",
    "result",
    "signature",
    "state",
    "tier",
    "task_id",
    "retry_id",
    "push_revision",
];

fn signature(job: &Job) -> String {
    ids::revision(&[
        "signature",
        &job.repo,
        &job.platform,
        &job.option,
        &job.label,
    ])
}

/// The jobs list's `duration`: whole minutes from the start (the submission
/// while pending) to the end (now while unfinished), at least one, rounded
/// half to even as Python's `round` does (mozilla/treeherder
/// treeherder/model/models.py `Job.get_duration`).
pub fn duration_minutes(job: &Job, now: i64) -> i64 {
    let end = job.end.filter(|&e| e > 0).unwrap_or(now);
    let start = job.start.filter(|&s| s > 0).unwrap_or(job.submit);
    let seconds = (end - start).max(60);
    let (whole, rest) = (seconds / 60, seconds % 60);
    let rounded = match rest {
        r if r > 30 => whole + 1,
        30 if whole % 2 == 1 => whole + 1,
        _ => whole,
    };
    rounded.max(1)
}

/// Today's Treeherder names a Taskcluster job's reference data by its
/// signature hash (the recorded job detail: `ref_data_name == signature`);
/// Buildbot jobs by their buildername.
fn ref_data_name(job: &Job) -> String {
    match job.system {
        CiSystem::Taskcluster => signature(job),
        CiSystem::Buildbot => job.label.clone(),
    }
}

/// `taskcluster_metadata.retry_id`: null for jobs without a task (a join
/// that finds nothing).
fn retry_id(job: &Job) -> Option<u32> {
    job.taskcluster.as_ref().map(|t| t.retry_id)
}

/// The value of one `job_property_names` column.
fn job_property(world: &World, job: &Job, name: &str) -> Value {
    let t = refdata::job_type(world, job);
    match name {
        "duration" => json!(duration_minutes(job, world.clock)),
        "failure_classification_id" => json!(1),
        "id" => json!(job.id),
        "job_group_name" => json!(t.group_name),
        "job_group_symbol" => json!(t.group_symbol),
        "job_type_name" => json!(t.name),
        "job_type_symbol" => json!(t.symbol),
        "last_modified" => json!(iso(job.last_modified)),
        "option_collection_hash" => json!(refdata::option_collection_hash(&job.option)),
        "platform" => json!(job.platform),
        "platform_option" => json!(job.option),
        "push_id" => json!(job.push_id),
        "push_revision" => json!(job.revision),
        "result" => json!(job.result),
        "signature" => json!(signature(job)),
        "state" => json!(job.state.as_str()),
        "tier" => json!(refdata::tier(job)),
        "task_id" => json!(job.task_id()),
        "retry_id" => json!(retry_id(job)),
        _ => Value::Null,
    }
}

/// Filters shared by the list and dict job endpoints.
fn job_matches(job: &Job, q: &Params, push_ids: &Option<Vec<u64>>, since: Option<i64>) -> bool {
    let eq = |key: &str, value: &str| q.get(key).is_none_or(|v| v == value);
    let retry = job
        .taskcluster
        .as_ref()
        .map(|t| t.retry_id)
        .unwrap_or(0)
        .to_string();
    push_ids
        .as_ref()
        .is_none_or(|ids| ids.contains(&job.push_id))
        && since.is_none_or(|s| job.last_modified > s)
        && eq("task_id", job.task_id().unwrap_or(""))
        && eq("retry_id", &retry)
        && eq("result", &job.result)
        && eq("state", job.state.as_str())
        && eq("ref_data_name", &ref_data_name(job))
        && eq("id", &job.id.to_string())
}

/// Push ids named by `push_id`, `push_id__in` or (2015) `result_set_id`.
fn push_filter(q: &Params) -> Result<Option<Vec<u64>>, Response> {
    for key in [
        "push_id",
        "result_set_id",
        "push_id__in",
        "result_set_id__in",
    ] {
        if let Some(ids) = web::number_list(q, key)? {
            return Ok(Some(ids));
        }
    }
    Ok(None)
}

fn since_filter(q: &Params) -> Result<Option<i64>, Response> {
    match q.get("last_modified__gt") {
        None => Ok(None),
        Some(v) => web::parse_iso(v)
            .map(Some)
            .ok_or_else(|| web::bad_request("last_modified__gt must be ISO 8601")),
    }
}

/// `/api/jobs/`: list form, 2000 per page, `next` until null.
pub async fn jobs_list(State(state): State<AppState>, Query(q): Query<Params>) -> Response {
    let push_ids = match push_filter(&q) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let since = match since_filter(&q) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let page = match web::number(&q, "page") {
        Ok(p) => p.unwrap_or(1).max(1) as usize,
        Err(e) => return e,
    };
    let page_size = match web::number(&q, "count") {
        Ok(c) => c
            .map(|c| c as usize)
            .unwrap_or(PAGE_SIZE)
            .clamp(1, PAGE_SIZE),
        Err(e) => return e,
    };
    let base = state.urls.treeherder.clone();
    state.read(|w| {
        let matching: Vec<&Job> = w
            .jobs
            .iter()
            .filter(|j| job_matches(j, &q, &push_ids, since))
            .filter(|j| q.get("job_type_name").is_none_or(|n| *n == refdata::job_type(w, j).name))
            .collect();
        let total = matching.len();
        let results: Vec<Value> = matching
            .iter()
            .skip((page - 1).saturating_mul(page_size))
            .take(page_size)
            .map(|j| json!(JOB_PROPERTY_NAMES.iter().map(|n| job_property(w, j, n)).collect::<Vec<_>>()))
            .collect();
        let link = |n: usize| {
            let mut params: Vec<(String, String)> = q.iter().filter(|(k, _)| *k != "page").map(|(k, v)| (k.clone(), v.clone())).collect();
            params.sort();
            params.push(("page".into(), n.to_string()));
            let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
            format!("{base}/api/jobs/?{}", query.join("&"))
        };
        let next = (page.saturating_mul(page_size) < total).then(|| link(page + 1));
        let previous = (page > 1).then(|| link(page - 1));
        ok(json!({"count": total, "next": next, "previous": previous, "results": results, "job_property_names": JOB_PROPERTY_NAMES}))
    })
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// URLs of a job's logs, by log kind.
pub fn log_urls(urls: &Urls, world: &World, job: &Job) -> Vec<(LogKind, String)> {
    let harness = job
        .test_type
        .as_deref()
        .and_then(|t| world.scenario.test_type(t))
        .map(|t| t.harness.clone())
        .unwrap_or_else(|| "build".into());
    LogKind::of(&world.scenario, job)
        .into_iter()
        .map(|kind| {
            let url = match &job.taskcluster {
                Some(tc) => {
                    let artifact = match kind {
                        LogKind::Text => "public/logs/live_backing.log".to_string(),
                        LogKind::Raw => format!("public/test_info/{harness}_raw.log"),
                        LogKind::ErrorSummary => {
                            format!("public/test_info/{harness}_errorsummary.log")
                        }
                    };
                    format!(
                        "{}/api/queue/v1/task/{}/runs/{}/artifacts/{artifact}",
                        urls.taskcluster, tc.task_id, tc.retry_id
                    )
                }
                None => {
                    let file = match kind {
                        LogKind::Text => "log.txt",
                        LogKind::Raw => "raw.log",
                        LogKind::ErrorSummary => "errorsummary.log",
                    };
                    format!("{}/pub/logs/{}/{file}", urls.buildapi, job.id)
                }
            };
            (kind, url)
        })
        .collect()
}

/// Buildbot slaves were named by pool (`tst-linux64-spot-042`); Taskcluster
/// workers are EC2 instance ids (`i-` and 17 hex digits, the first 0).
fn machine_name(job: &Job) -> String {
    let draw = ids::mix(&["machine", &job.id.to_string()]);
    match job.system {
        CiSystem::Buildbot => {
            let pool = if job.kind == JobKind::Build {
                "bld"
            } else {
                "tst"
            };
            format!("{pool}-{}-spot-{:03}", job.platform, draw % 1000)
        }
        CiSystem::Taskcluster => format!("i-0{draw:016x}"),
    }
}

/// The dict form of a job (`/api/project/{repo}/jobs/` and `/jobs/{id}/`).
/// Buildbot jobs carry the 2015 form's own fields as well (`running_eta`,
/// `device_name`, `job_coalesced_to_guid`); neither form has `duration`.
pub fn job_dict(world: &World, urls: &Urls, job: &Job, detail: bool) -> Value {
    let t = refdata::job_type(world, job);
    let platform = refdata::platform(job);
    let description = refdata::description(job);
    let mut v = json!({
        "build_architecture": platform.architecture, "build_os": platform.os_name,
        "build_platform": job.platform, "build_platform_id": platform.id(),
        "build_system_type": job.system.as_str(),
        "end_timestamp": job.end.unwrap_or(0), "failure_classification_id": 1, "id": job.id,
        "job_group_description": description, "job_group_id": t.group_id(),
        "job_group_name": t.group_name, "job_group_symbol": t.group_symbol, "job_guid": job.guid(),
        "job_type_description": description, "job_type_id": t.id(),
        "job_type_name": t.name, "job_type_symbol": t.symbol,
        "last_modified": iso(job.last_modified),
        "machine_name": machine_name(job),
        "machine_platform_architecture": platform.architecture,
        "machine_platform_os": platform.os_name,
        "option_collection_hash": refdata::option_collection_hash(&job.option),
        "platform": job.platform,
        "push_id": job.push_id, "reason": job.reason, "ref_data_name": ref_data_name(job),
        "result": job.result, "result_set_id": job.push_id, "signature": signature(job),
        "start_timestamp": job.start.unwrap_or(0), "state": job.state.as_str(),
        "submit_timestamp": job.submit, "tier": refdata::tier(job), "who": job.who,
        "resource_uri": format!("/api/project/{}/jobs/{}/", job.repo, job.id),
        "platform_option": job.option, "task_id": job.task_id(), "retry_id": retry_id(job),
    });
    if let Some(bb) = &job.buildbot {
        let coalesced_to = bb
            .coalesced_into
            .and_then(|id| world.job(id))
            .map(|j| j.guid());
        v["job_coalesced_to_guid"] = json!(coalesced_to);
        // The job type's typical run time in seconds (the 2015 UI's ETA).
        v["running_eta"] = json!(job.duration);
        v["device_name"] = json!("unknown");
    }
    if detail {
        let logs: Vec<Value> = log_urls(urls, world, job)
            .into_iter()
            .map(|(kind, url)| json!({"name": kind.treeherder_name(job.system), "url": url}))
            .collect();
        v["logs"] = json!(logs);
        if let Some(tc) = &job.taskcluster {
            v["taskcluster_metadata"] = json!({"task_id": tc.task_id, "retry_id": tc.retry_id});
        }
    }
    v
}

/// `/api/project/{repo}/jobs/`: dict form (or 2015's list form) with
/// offset/count. As in every Treeherder since 2015, `count` defaults to 10,
/// above 2000 is refused, and `meta.count` echoes the count asked for, not
/// the number of results: the 2015 UI pages on until a page comes back
/// shorter than `meta.count` (mozilla/treeherder
/// treeherder/webapp/api/jobs.py `JobsViewSet.list`, ui/js/models/job.js
/// `ThJobModel.get_list`).
pub async fn repo_jobs(
    State(state): State<AppState>,
    Path(repo): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    let push_ids = match push_filter(&q) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let since = match since_filter(&q) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let (offset, count) = match (web::number(&q, "offset"), web::number(&q, "count")) {
        (Ok(o), Ok(c)) => (o.unwrap_or(0), c.unwrap_or(DEFAULT_PROJECT_JOBS_COUNT)),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    if count > PAGE_SIZE as u64 {
        return web::bad_request(&format!(
            "Specified count exceeds API MAX_JOBS_COUNT value: {PAGE_SIZE}"
        ));
    }
    let urls = state.urls.clone();
    state.read(|w| {
        if w.scenario.repo(&repo).is_none() {
            return unknown_repo(&repo);
        }
        let results: Vec<Value> = w
            .jobs
            .iter()
            .filter(|j| j.repo == repo && job_matches(j, &q, &push_ids, since))
            .filter(|j| q.get("job_guid").is_none_or(|g| *g == j.guid()))
            .filter(|j| {
                q.get("job_type_name")
                    .is_none_or(|n| *n == refdata::job_type(w, j).name)
            })
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(count as usize)
            .map(|j| job_dict(w, &urls, j, false))
            .collect();
        let meta = json!({"count": count, "repository": repo, "offset": offset});
        if q.get("return_type").is_some_and(|t| t == "list") {
            return ok(as_list_form(meta, &results));
        }
        ok(json!({"meta": meta, "results": results}))
    })
}

/// The 2015 `return_type=list` form: `job_property_names` plus one array per
/// job; an empty page has no `job_property_names` (2015's view named the
/// columns from the first result).
fn as_list_form(meta: Value, dicts: &[Value]) -> Value {
    if dicts.is_empty() {
        return json!({"meta": meta, "results": []});
    }
    let names: Vec<String> = dicts
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|o| o.keys().cloned())
        .collect::<std::collections::BTreeSet<String>>()
        .into_iter()
        .collect();
    let rows: Vec<Value> = dicts
        .iter()
        .map(|d| {
            json!(names
                .iter()
                .map(|n| d.get(n).cloned().unwrap_or(Value::Null))
                .collect::<Vec<_>>())
        })
        .collect();
    json!({"meta": meta, "job_property_names": names, "results": rows})
}

fn find_job<'a>(world: &'a World, repo: &str, id: &str) -> Result<&'a Job, Response> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| world.job(id))
        .filter(|j| j.repo == repo)
        .ok_or_else(|| web::not_found("No job with id"))
}

pub async fn job_detail(
    State(state): State<AppState>,
    Path((repo, id)): Path<(String, String)>,
) -> Response {
    let urls = state.urls.clone();
    state.read(|w| match find_job(w, &repo, &id) {
        Ok(job) => ok(job_dict(w, &urls, job, true)),
        Err(e) => e,
    })
}

/// The job ids a query names, by `job_id` or `job_id__in` (a comma list);
/// a 400 saying `if_missing` when it names none.
fn job_ids(q: &Params, if_missing: &str) -> Result<Vec<u64>, Response> {
    match (
        web::number_list(q, "job_id"),
        web::number_list(q, "job_id__in"),
    ) {
        (Ok(Some(ids)), _) | (_, Ok(Some(ids))) => Ok(ids),
        (Err(e), _) | (_, Err(e)) => Err(e),
        _ => Err(web::bad_request(if_missing)),
    }
}

pub async fn job_log_urls(
    State(state): State<AppState>,
    Path(repo): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    let ids = match job_ids(&q, "job_id is required") {
        Ok(ids) => ids,
        Err(refusal) => return refusal,
    };
    let urls = state.urls.clone();
    ok(state.read(|w| {
        let mut out = Vec::new();
        for job in ids.iter().filter_map(|id| w.job(*id)).filter(|j| j.repo == repo) {
            for (n, (kind, url)) in log_urls(&urls, w, job).into_iter().enumerate() {
                let status = if job.state == JobState::Completed { "parsed" } else { "pending" };
                out.push(json!({"id": job.id * 10 + n as u64, "job_id": job.id, "name": kind.treeherder_name(job.system), "url": url, "parse_status": status}));
            }
        }
        json!(out)
    }))
}

pub async fn text_log_errors(
    State(state): State<AppState>,
    Path((repo, id)): Path<(String, String)>,
) -> Response {
    state.read(|w| {
        let job = match find_job(w, &repo, &id) {
            Ok(j) => j,
            Err(e) => return e,
        };
        if job.state != JobState::Completed {
            return ok(json!([]));
        }
        let new_in_push = new_failures(w, job);
        let errors: Vec<Value> = logs::error_lines(&w.scenario, job)
            .into_iter()
            .map(|(n, line)| {
                let new = new_in_push.iter().any(|t| line.contains(t.as_str()));
                json!({"id": job.id * 100 + n as u64, "job": job.id, "line": line, "line_number": n, "new_failure": new})
            })
            .collect();
        ok(json!(errors))
    })
}

/// Tests whose regression was introduced by this very push.
fn new_failures(world: &World, job: &Job) -> Vec<String> {
    let Some(push) = world.push(job.push_id) else {
        return Vec::new();
    };
    world
        .scenario
        .regressions
        .iter()
        .filter(|r| r.repo == push.repo && r.push_index == push.index)
        .map(|r| r.test.clone())
        .collect()
}

fn bug_for(world: &World, test: &str) -> Option<Value> {
    let flaky = world.scenario.flaky.iter().find(|f| f.test == test)?;
    let id = 1_200_000 + ids::mix(&["bug", test]) % 100_000;
    Some(json!({
        "id": id, "status": "NEW", "resolution": "", "summary": format!("Intermittent {test} | {}", flaky.message),
        "dupe_of": null, "crash_signature": "", "keywords": "intermittent-failure", "whiteboard": "",
        "internal_id": id % 1000, "occurrences": null,
    }))
}

pub async fn bug_suggestions(
    State(state): State<AppState>,
    Path((repo, id)): Path<(String, String)>,
) -> Response {
    state.read(|w| {
        let job = match find_job(w, &repo, &id) {
            Ok(j) => j,
            Err(e) => return e,
        };
        let new_in_push = new_failures(w, job);
        let suggestions: Vec<Value> = logs::error_lines(&w.scenario, job)
            .into_iter()
            .map(|(n, line)| {
                let search = line
                    .find("TEST-")
                    .map(|i| line[i..].to_string())
                    .unwrap_or_else(|| line.clone());
                let test = search.split(" | ").nth(1).unwrap_or("").to_string();
                let term = test.rsplit('/').next().unwrap_or("").to_string();
                let open: Vec<Value> = bug_for(w, &test).into_iter().collect();
                json!({
                    "search": search, "search_terms": [term], "path_end": test,
                    "bugs": {"open_recent": open, "all_others": []}, "line_number": n, "counter": 1,
                    "failure_new_in_rev": new_in_push.contains(&test),
                })
            })
            .collect();
        ok(json!(suggestions))
    })
}

/// 2015 artifacts: only `buildapi` (the Buildbot request id) is known.
pub async fn artifacts(
    State(state): State<AppState>,
    Path(repo): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    let ids = match job_ids(&q, "job_id or job_id__in is required") {
        Ok(ids) => ids,
        Err(refusal) => return refusal,
    };
    if q.get("name").is_some_and(|n| n != "buildapi") {
        return ok(json!([]));
    }
    ok(state.read(|w| {
        let out: Vec<Value> = ids
            .iter()
            .filter_map(|id| w.job(*id))
            .filter(|j| j.repo == repo)
            .filter_map(|j| {
                let bb = j.buildbot.as_ref()?;
                Some(json!({"job_id": j.id, "name": "buildapi", "type": "json",
                    "blob": {"buildername": j.label, "request_id": bb.request_id}}))
            })
            .collect();
        json!(out)
    }))
}

/// Notes, bug-job-map and performance data: nobody classifies in the sandbox.
pub async fn empty_for_job(
    State(state): State<AppState>,
    Path(repo): Path<String>,
    Query(q): Query<Params>,
) -> Response {
    if let Err(e) = web::number(&q, "job_id") {
        return e;
    }
    let known = state.read(|w| w.scenario.repo(&repo).is_some());
    if !known {
        return unknown_repo(&repo);
    }
    (StatusCode::OK, axum::Json(json!([]))).into_response()
}

/// Who the sandbox's job pages act as (they have no login of their own).
const PAGE_USER: &str = "treeherder@sandbox";

/// `POST /api/project/{repo}/jobs/{id}/backfill/`: the 2015 UI's own
/// "Backfill job" (the Retrigger dropdown's second item, from September
/// 2015). Treeherder did nothing but publish a job action on Pulse
/// (`exchange/treeherder/v1/job-actions`, routing key
/// `<build system>.<repo>.backfill`) for pulse_actions (mozci) to act on, and
/// answered `backfilled job '<guid>'` (mozilla/treeherder
/// treeherder/webapp/api/jobs.py `JobsViewSet.backfill`); the sandbox does
/// the same, onto its event stream.
pub async fn backfill(
    State(state): State<AppState>,
    Path((repo, id)): Path<(String, String)>,
) -> Response {
    state.update(|w| {
        let job = match find_job(w, &repo, &id) {
            Ok(job) => job.clone(),
            Err(e) => return e,
        };
        w.events.push(PulseEvent {
            exchange: "exchange/treeherder/v1/job-actions".into(),
            routing_key: format!("{}.{repo}.backfill", job.system.as_str()),
            payload: json!({
                "action": "backfill", "build_system_type": job.system.as_str(),
                "job_guid": job.guid(), "job_id": job.id, "project": repo,
                "requester": PAGE_USER, "version": 1,
            }),
            treeherder: json!({
                "job_id": job.id, "push_id": job.push_id, "repo": repo, "action": "backfill",
            }),
        });
        ok(json!({"message": format!("backfilled job '{}'", job.guid())}))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(submit: i64, start: Option<i64>, end: Option<i64>) -> Job {
        Job {
            id: 1,
            repo: "autoland".into(),
            push_id: 1,
            revision: "0".repeat(40),
            system: CiSystem::Taskcluster,
            kind: JobKind::Test,
            platform: "linux64".into(),
            option: "opt".into(),
            test_type: None,
            label: "test-linux64/opt-xpcshell-1".into(),
            state: JobState::Completed,
            result: "success".into(),
            submit,
            start,
            end,
            last_modified: submit,
            ready_at: None,
            duration: 0,
            reason: "scheduled".into(),
            who: "someone@mozilla.com".into(),
            failures: Vec::new(),
            forced_failure: None,
            confirm: None,
            buildbot: None,
            taskcluster: None,
        }
    }

    #[test]
    fn duration_is_in_minutes_rounded_half_to_even() {
        // A 35-minute job says 35, not 2100.
        assert_eq!(
            duration_minutes(&job(0, Some(1000), Some(1000 + 35 * 60)), 0),
            35
        );
        assert_eq!(duration_minutes(&job(0, Some(1000), Some(1090)), 0), 2); // 1.5 → 2
        assert_eq!(duration_minutes(&job(0, Some(1000), Some(1150)), 0), 2); // 2.5 → 2
        assert_eq!(duration_minutes(&job(0, Some(1000), Some(1029)), 0), 1); // under a minute
        assert_eq!(
            duration_minutes(&job(0, Some(1000), Some(1000 + 151)), 0),
            3
        );
        // Running: until now; pending: from the submission.
        assert_eq!(duration_minutes(&job(0, Some(1000), None), 1000 + 600), 10);
        assert_eq!(duration_minutes(&job(400, None, None), 400 + 1200), 20);
    }
}

//! Buildbot's published data on the BuildAPI origin: the buildjson dumps
//! (`builds-4hr.js.gz`, `builds-YYYY-MM-DD.js.gz`, `builds-running.js`,
//! `builds-pending.js`) with `Last-Modified`/304, and `allthethings.json`.

use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use flate2::write::GzEncoder;
use serde_json::{json, Map, Value};

use crate::model::{Job, JobKind, JobState};
use crate::scenario::CiSystem;
use crate::web;
use crate::world::World;
use crate::AppState;

const FOUR_HOURS: i64 = 4 * 3600;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/builddata/buildjson/{file}", get(dump))
        .route("/builddata/reports/allthethings.json", get(allthethings))
        .route("/pub/logs/{job}/{file}", get(buildbot_log))
}

fn build_dir(world: &World, build: &Job) -> Option<String> {
    let spec = world.scenario.platform(&build.platform)?;
    let debug = if build.option == "debug" {
        "-debug"
    } else {
        ""
    };
    let buildid = buildid(build.start?);
    Some(format!(
        "http://ftp.mozilla.org/pub/mozilla.org/firefox/tinderbox-builds/{}-{}{debug}/{buildid}",
        build.repo, spec.shortname
    ))
}

/// `YYYYMMDDhhmmss` of a build's start, as Buildbot's `buildid` property.
fn buildid(ts: i64) -> String {
    let stamp = web::iso(ts);
    stamp
        .chars()
        .filter(char::is_ascii_digit)
        .take(14)
        .collect()
}

/// The `packageUrl` a finished Buildbot build publishes.
pub fn package_url(world: &World, build: &Job) -> Option<String> {
    build.buildbot.as_ref()?.build_id?;
    Some(format!(
        "{}/firefox-44.0a1.en-US.{}.tar.bz2",
        build_dir(world, build)?,
        build.platform
    ))
}

/// `[packageUrl, testsUrl]` of a build, as Self-Serve's `files` parameter wants them.
pub fn build_files(world: &World, build: &Job) -> Vec<String> {
    match (package_url(world, build), build_dir(world, build)) {
        (Some(package), Some(dir)) => vec![
            package,
            format!("{dir}/firefox-44.0a1.en-US.{}.tests.zip", build.platform),
        ],
        _ => Vec::new(),
    }
}

/// Jobs merged into a build (its primary included first).
pub fn build_requests<'a>(world: &'a World, primary: &'a Job) -> Vec<&'a Job> {
    let mut requests = vec![primary];
    requests.extend(
        world
            .jobs
            .iter()
            .filter(|j| j.buildbot.as_ref().and_then(|b| b.coalesced_into) == Some(primary.id)),
    );
    requests
}

/// A build as buildjson lists it.
pub fn build_entry(world: &World, primary: &Job) -> Option<Value> {
    let bb = primary.buildbot.as_ref()?;
    let build_id = bb.build_id?;
    let requests = build_requests(world, primary);
    let request_ids: Vec<u64> = requests.iter().filter_map(|j| j.request_id()).collect();
    let request_times: Map<String, Value> = requests
        .iter()
        .filter_map(|j| Some((j.request_id()?.to_string(), json!(j.submit))))
        .collect();
    let spec = world.scenario.platform(&primary.platform);
    let shortname = spec.map(|s| s.shortname.as_str()).unwrap_or("unknown");
    let repo_path = world
        .scenario
        .repo(&primary.repo)
        .map(|r| r.path.as_str())
        .unwrap_or("");
    let mut properties = json!({
        "basedir": "/builds/slave/test", "branch": primary.repo, "buildername": primary.label,
        "buildid": buildid(primary.start.unwrap_or(primary.submit)), "buildnumber": bb.buildnumber,
        "builduid": crate::ids::revision(&["builduid", &build_id.to_string()])[..32].to_string(),
        "log_url": format!("http://ftp.mozilla.org/pub/mozilla.org/firefox/tinderbox-builds/{}-{shortname}/{}.txt.gz", primary.repo, build_id),
        "master": "http://buildbot-master81.bb.releng.scl3.mozilla.com:8201/",
        "platform": shortname, "product": "firefox", "project": "", "repo_path": repo_path, "repository": "",
        "request_ids": request_ids, "request_times": request_times, "revision": primary.revision,
        "scheduler": scheduler_name(primary), "script_repo_revision": "production",
        "slavebuilddir": if primary.kind == JobKind::Build { "build" } else { "test" },
        "slavename": format!("bld-linux64-spot-{}", build_id % 1000), "stage_platform": shortname,
    });
    if primary.kind == JobKind::Build {
        if let [package, tests] = build_files(world, primary).as_slice() {
            properties["packageUrl"] = json!(package);
            properties["testsUrl"] = json!(tests);
            properties["build_url"] = json!(package);
        }
    } else if let Some(package) = bb.files.first() {
        properties["build_url"] = json!(package);
    }
    let requesttime = requests
        .iter()
        .map(|j| j.submit)
        .min()
        .unwrap_or(primary.submit);
    Some(json!({
        "builder_id": crate::ids::mix(&["builder", &primary.label]) % 1_000_000,
        "buildnumber": bb.buildnumber, "endtime": primary.end, "id": build_id, "master_id": 81,
        "properties": properties, "reason": primary.reason, "request_ids": request_ids,
        "requesttime": requesttime, "result": primary.buildbot_status(),
        "slave_id": build_id % 5000, "starttime": primary.start,
    }))
}

fn scheduler_name(job: &Job) -> String {
    match job.kind {
        JobKind::Test => format!(
            "tests-{}-{}-{}-unittest",
            job.repo, job.platform, job.option
        ),
        _ => job.repo.clone(),
    }
}

fn finished_builds(world: &World, keep: impl Fn(i64) -> bool) -> Value {
    let builds: Vec<Value> = world
        .jobs
        .iter()
        .filter(|j| j.state == JobState::Completed && j.end.is_some_and(&keep))
        .filter(|j| j.buildbot.as_ref().is_some_and(|b| b.build_id.is_some()))
        .filter_map(|j| build_entry(world, j))
        .collect();
    json!({ "builds": builds })
}

/// `builds-running.js`: `{running: {branch: {rev12: [...]}}}`.
pub fn running(world: &World) -> Value {
    let mut out: Map<String, Value> = Map::new();
    for job in world.jobs.iter().filter(|j| j.state == JobState::Running) {
        let Some(bb) = &job.buildbot else { continue };
        let Some(build_id) = bb.build_id else {
            continue;
        };
        let request_ids: Vec<u64> = build_requests(world, job)
            .iter()
            .filter_map(|j| j.request_id())
            .collect();
        let entry = json!({
            "submitted_at": job.submit, "buildername": job.label, "start_time": job.start,
            "number": bb.buildnumber, "claimed_by_name": "buildbot-master81.bb.releng.scl3.mozilla.com:/builds/buildbot/tests1-linux/master",
            "request_ids": request_ids, "last_heartbeat": world.clock, "id": build_id,
            "revision": short(&job.revision),
        });
        push_nested(&mut out, &job.repo, short(&job.revision), entry);
    }
    json!({ "running": out })
}

/// `builds-pending.js`: `{pending: {branch: {rev12: [...]}}}`.
pub fn pending(world: &World) -> Value {
    let mut out: Map<String, Value> = Map::new();
    for job in world.jobs.iter().filter(|j| j.state == JobState::Pending) {
        let Some(bb) = &job.buildbot else { continue };
        if bb.cancelled {
            continue;
        }
        let entry =
            json!({"submitted_at": job.submit, "id": bb.request_id, "buildername": job.label});
        push_nested(&mut out, &job.repo, short(&job.revision), entry);
    }
    json!({ "pending": out })
}

pub fn short(rev: &str) -> &str {
    rev.get(..12).unwrap_or(rev)
}

fn push_nested(out: &mut Map<String, Value>, branch: &str, rev: &str, entry: Value) {
    let revs = out.entry(branch.to_string()).or_insert_with(|| json!({}));
    if let Some(revs) = revs.as_object_mut() {
        let list = revs.entry(rev.to_string()).or_insert_with(|| json!([]));
        if let Some(list) = list.as_array_mut() {
            list.push(entry);
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

fn http_date(ts: i64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(ts.max(0) as u64))
}

fn not_modified_since(headers: &HeaderMap, last_change: i64) -> bool {
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .is_some_and(|since| last_change <= since.as_secs() as i64)
}

/// One buildjson file, generated from state, conditional on `If-Modified-Since`.
async fn dump(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (last_change, body, gzipped) = match state.read(|w| render_dump(w, &file)) {
        Some(rendered) => rendered,
        None => return web::not_found("no such buildjson file"),
    };
    let last_modified = http_date(last_change);
    if not_modified_since(&headers, last_change) {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::LAST_MODIFIED, last_modified)],
        )
            .into_response();
    }
    let text = body.to_string();
    let (kind, bytes) = if gzipped {
        ("application/x-gzip", gzip(text.as_bytes()))
    } else {
        ("application/javascript", text.into_bytes())
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (header::LAST_MODIFIED, last_modified),
        ],
        bytes,
    )
        .into_response()
}

/// (last change, JSON body, gzipped?) for a buildjson file name.
fn render_dump(world: &World, file: &str) -> Option<(i64, Value, bool)> {
    let now = world.clock;
    match file {
        "builds-4hr.js.gz" => Some((
            world.last_change,
            finished_builds(world, |end| end >= now - FOUR_HOURS),
            true,
        )),
        "builds-running.js" => Some((world.last_change, running(world), false)),
        "builds-pending.js" => Some((world.last_change, pending(world), false)),
        _ => {
            let date = file.strip_prefix("builds-")?.strip_suffix(".js.gz")?;
            let day_start = web::parse_iso(date)?;
            // Only real calendar days: the date must print back as it was asked.
            if date.len() != 10 || web::iso(day_start).get(..10) != Some(date) {
                return None;
            }
            let day_end = day_start + 86_400;
            let changed = world.last_change.min(day_end);
            Some((
                changed,
                finished_builds(world, |end| end >= day_start && end < day_end),
                true,
            ))
        }
    }
}

/// `allthethings.json`: builders and test schedulers of the Buildbot repos.
pub fn allthethings_json(world: &World) -> Value {
    let mut builders = Map::new();
    let mut schedulers = Map::new();
    for repo in world
        .scenario
        .repos
        .iter()
        .filter(|r| r.system == CiSystem::Buildbot)
    {
        for platform in &world.scenario.platforms {
            for option in &platform.options {
                let debug = if option == "debug" { "-debug" } else { "" };
                let build =
                    world.label_for(&repo.name, JobKind::Build, &platform.name, option, None);
                let build_short = format!("{}-{}{debug}", repo.name, platform.shortname);
                builders.insert(
                    build.clone(),
                    builder_json(
                        &repo.name,
                        &repo.path,
                        &platform.shortname,
                        &build_short,
                        "build",
                    ),
                );
                let mut downstream = Vec::new();
                for test in &world.scenario.test_types {
                    let name = world.label_for(
                        &repo.name,
                        JobKind::Test,
                        &platform.name,
                        option,
                        Some(&test.name),
                    );
                    let short = format!("{}_{}_test-{}", repo.name, platform.shortname, test.name);
                    builders.insert(
                        name.clone(),
                        builder_json(&repo.name, &repo.path, &platform.shortname, &short, "test"),
                    );
                    downstream.push(name);
                }
                let trigger = format!("{}-{}-{option}-unittest", repo.name, platform.shortname);
                schedulers.insert(
                    format!("tests-{trigger}"),
                    json!({"downstream": downstream, "triggered_by": [trigger]}),
                );
            }
        }
    }
    json!({"builders": builders, "schedulers": schedulers})
}

fn builder_json(
    branch: &str,
    repo_path: &str,
    platform: &str,
    shortname: &str,
    dir: &str,
) -> Value {
    json!({
        "properties": {"branch": branch, "platform": platform, "product": "firefox", "repo_path": repo_path,
                       "script_repo_revision": "production", "slavebuilddir": dir, "stage_platform": platform},
        "shortname": shortname, "slavebuilddir": dir,
        "slavepool": crate::ids::revision(&["slavepool", platform, dir]),
    })
}

async fn allthethings(State(state): State<AppState>) -> Response {
    web::ok(state.read(allthethings_json))
}

/// Buildbot logs (served where `job-log-url` points for Buildbot jobs).
async fn buildbot_log(
    State(state): State<AppState>,
    Path((job, file)): Path<(u64, String)>,
) -> Response {
    state.read(|w| {
        let Some(job) = w.job(job).filter(|j| j.system == CiSystem::Buildbot) else {
            return web::not_found("no such log");
        };
        let body = match file.as_str() {
            "log.txt" => crate::logs::text(&w.scenario, job),
            "raw.log" if crate::logs::has_structured_logs(&w.scenario, job) => {
                crate::logs::raw(&w.scenario, job)
            }
            "errorsummary.log" if crate::logs::has_structured_logs(&w.scenario, job) => {
                crate::logs::errorsummary(&w.scenario, job)
            }
            _ => return web::not_found("no such log"),
        };
        ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
    })
}

//! Backfill benchmark (prints numbers; not a timed test):
//! 1. HTTP round trips before the first trigger of a depth-25 backfill,
//!    Taskcluster and Buildbot (target ≤ 3), against the local sandbox;
//! 2. plan computation for depth 25 over pushes with 5,000 jobs each
//!    (target ≤ 1 ms natively);
//! 3. wall time of the same kind of work (a 25-push range, times 2) against
//!    the sandbox with 40 ms of latency per request, with and without
//!    concurrency.
//!
//! Run: `cargo build -p mozci-sandbox && cargo bench --bench backfill`.

use async_trait::async_trait;
use mozci::ci::buildbot::BuildbotCi;
use mozci::ci::taskcluster::TaskclusterCi;
use mozci::ci::{Backends, CiContext, Endpoints};
use mozci::engine::execute::execute_plans;
use mozci::engine::ledger::Ledger;
use mozci::engine::Session;
use mozci::http::{get_json, HttpClient, HttpRequest, HttpResponse, Method, NativeClient};
use mozci::model::JobType;
use mozci::model::{
    CiSystem, Job, JobIds, JobKind, JobResult, JobState, Push, PushHistory, Revision,
};
use mozci::plan::backfill::{backfill_plan, BackfillRequest};
use mozci::sources::buildapi::BasicCredentials;
use mozci::sources::taskcluster::credentials::TaskclusterCredentials;
use mozci::sources::taskcluster::RootUrl;
use mozci_harness::Sandbox;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Counts sequential round trips: a request's wave is one more than the
/// latest wave among requests that had completed when it started.
struct WaveCounter {
    inner: NativeClient,
    completed_max_wave: RefCell<u32>,
    first_trigger_wave: RefCell<Option<u32>>,
    requests: RefCell<u32>,
}

#[async_trait(?Send)]
impl HttpClient for WaveCounter {
    async fn send(&self, request: HttpRequest) -> mozci::Result<HttpResponse> {
        let wave = *self.completed_max_wave.borrow() + 1;
        *self.requests.borrow_mut() += 1;
        if request.method == Method::Post && self.first_trigger_wave.borrow().is_none() {
            *self.first_trigger_wave.borrow_mut() = Some(wave);
        }
        let answer = self.inner.send(request).await;
        let mut max = self.completed_max_wave.borrow_mut();
        *max = (*max).max(wave);
        answer
    }
}

fn session(http: Rc<dyn HttpClient>, s: &Sandbox, concurrency: usize) -> Session {
    let o = &s.origins;
    let mut ctx = CiContext::new(
        http,
        Endpoints::sandbox(&o.treeherder, &o.hg, &o.buildapi, &o.taskcluster),
    );
    ctx.concurrency = concurrency;
    let ldap = BasicCredentials::new("sheriff@mozilla.com", "sheriff-password");
    let tc = TaskclusterCredentials {
        client_id: "mozilla-auth0/ad|Mozilla-LDAP|sheriff/treeherder-login".into(),
        access_token: "sheriff-access-token-0000000000000000000000".into(),
        certificate: None,
    };
    let buildbot = BuildbotCi::new(ctx.clone(), Some(&ldap)).expect("buildbot");
    let taskcluster = TaskclusterCi::new(
        ctx.clone(),
        RootUrl::parse(&o.taskcluster).expect("root"),
        Some(tc),
    );
    Session::new(
        ctx,
        Backends {
            buildbot: Some(Rc::new(buildbot)),
            taskcluster: Some(Rc::new(taskcluster)),
        },
    )
}

async fn newest_revision(s: &Sandbox, repo: &str) -> Revision {
    let client = NativeClient::new(Duration::from_secs(10)).expect("client");
    let state: serde_json::Value = get_json(
        &client,
        &format!("{}/__sandbox/state", s.origins.treeherder),
        "state",
    )
    .await
    .expect("state");
    let repos = state["repos"].as_array().cloned().unwrap_or_default();
    let r = repos.iter().find(|r| r["name"] == repo).expect("repo");
    Revision(r["newest_revision"].as_str().expect("revision").to_string())
}

async fn round_trips(repo: &str, job: &str) -> (u32, u32) {
    let s = Sandbox::start(&["--speed", "0"]).await.expect("sandbox");
    let counter = Rc::new(WaveCounter {
        inner: NativeClient::new(Duration::from_secs(10)).expect("client"),
        completed_max_wave: RefCell::new(0),
        first_trigger_wave: RefCell::new(None),
        requests: RefCell::new(0),
    });
    let rev = newest_revision(&s, repo).await;
    let session = session(counter.clone(), &s, 8);
    let job_type = JobType::from_name(job);
    let mut ledger = Ledger::default();
    // times 3: every push of the range gets at least one trigger.
    let analysis = session
        .analyse_backfill(
            repo,
            &job_type,
            &rev,
            BackfillRequest {
                depth: 25,
                times: 3,
            },
            &ledger,
            0,
        )
        .await
        .expect("analysis");
    execute_plans(
        &session,
        repo,
        &job_type,
        &analysis.plan.pushes,
        &analysis.histories,
        &mut ledger,
        |_| {},
    )
    .await
    .expect("execute");
    let before = counter
        .first_trigger_wave
        .borrow()
        .map(|w| w - 1)
        .unwrap_or(0);
    let total = *counter.requests.borrow();
    (before, total)
}

fn synthetic_history(depth: u32, jobs_per_push: u32) -> Vec<PushHistory> {
    (0..=depth)
        .map(|i| {
            let id = 1000 - u64::from(i);
            let revision = Revision(format!("{id:040x}"));
            let push = Push {
                id,
                revision: revision.clone(),
                changesets: vec![],
                author: "a".into(),
                date: 0,
                repository: "autoland".into(),
            };
            // One push in five has a run of the backfilled type; the last
            // good one is the oldest, so the walk covers the whole depth.
            let jobs: Vec<Job> = (0..jobs_per_push)
                .map(|n| Job {
                    kind: JobKind::Test,
                    ci: CiSystem::Taskcluster,
                    name: if n == 0 && i % 5 == 0 {
                        "wanted".into()
                    } else {
                        format!("other-{n}")
                    },
                    platform: "linux64".into(),
                    symbol: "x".into(),
                    revision: revision.clone(),
                    push_id: Some(id),
                    ids: JobIds {
                        job_id: Some(u64::from(n)),
                        task_id: Some(format!("t{n}")),
                        ..JobIds::default()
                    },
                    state: if i == depth {
                        JobState::Completed(JobResult::Success)
                    } else {
                        JobState::Completed(JobResult::TestFailed)
                    },
                    run_seconds: None,
                })
                .collect();
            PushHistory::new(push, jobs)
        })
        .collect()
}

fn plan_computation() -> f64 {
    let all = synthetic_history(25, 5000);
    let iterations = 200;
    let start = Instant::now();
    for _ in 0..iterations {
        // What the engine does after fetching: keep the job type's runs, then decide.
        let histories: Vec<PushHistory> = all
            .iter()
            .map(|h| {
                PushHistory::new(
                    h.push.clone(),
                    h.jobs
                        .iter()
                        .filter(|j| j.name == "wanted")
                        .cloned()
                        .collect(),
                )
            })
            .collect();
        let plan = backfill_plan(
            &histories,
            BackfillRequest {
                depth: 25,
                times: 3,
            },
        );
        std::hint::black_box(plan);
    }
    start.elapsed().as_secs_f64() * 1000.0 / f64::from(iterations)
}

async fn wall_time(concurrency: usize) -> (Duration, u32) {
    let s = Sandbox::start(&["--speed", "0"]).await.expect("sandbox");
    let client = NativeClient::new(Duration::from_secs(10)).expect("client");
    let faults = serde_json::json!({ "treeherder": {"delay_ms": 40}, "hg": {"delay_ms": 40}, "buildapi": {"delay_ms": 40}, "taskcluster": {"delay_ms": 40} });
    let url = format!("{}/__sandbox/faults", s.origins.treeherder);
    client
        .send(HttpRequest::post_json(url, &faults))
        .await
        .expect("faults");
    let rev = newest_revision(&s, "autoland").await;
    let session = session(Rc::new(client), &s, concurrency);
    let job_type = JobType::from_name("test-linux64/opt-mochitest-2");
    let mut ledger = Ledger::default();
    let start = Instant::now();
    let pushes = session
        .pushes_ending_at("autoland", &rev, 24)
        .await
        .expect("pushes");
    let analysis = session
        .analyse_range("autoland", &job_type, &pushes, 2, &ledger, 0)
        .await
        .expect("analysis");
    let executions = execute_plans(
        &session,
        "autoland",
        &job_type,
        &analysis.plans,
        &analysis.histories,
        &mut ledger,
        |_| {},
    )
    .await
    .expect("execute");
    let sent = executions.iter().map(|e| e.records.len() as u32).sum();
    (start.elapsed(), sent)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        println!("backfill benchmark");
        let (tc, tc_requests) = round_trips("autoland", "test-linux64/opt-mochitest-browser-chrome-1").await;
        println!("round trips before the first trigger, depth-25 backfill, Taskcluster: {tc} ({tc_requests} requests in all; target ≤ 3)");
        let (bb, bb_requests) = round_trips("mozilla-inbound", "Ubuntu VM 12.04 x64 mozilla-inbound opt test mochitest-1").await;
        println!("round trips before the first trigger, depth-25 backfill, Buildbot: {bb} ({bb_requests} requests in all; target ≤ 3)");
        let ms = plan_computation();
        println!("plan computation, depth 25, 5,000 jobs per push: {ms:.3} ms (target ≤ 1 ms)");
        let (serial, sent) = wall_time(1).await;
        let (parallel, _) = wall_time(8).await;
        println!(
            "25-push range, times 2, {sent} trigger requests, 40 ms latency: {:.2} s one at a time, {:.2} s with 8 at once ({:.1}× faster)",
            serial.as_secs_f64(),
            parallel.as_secs_f64(),
            serial.as_secs_f64() / parallel.as_secs_f64().max(1e-9)
        );
    });
}

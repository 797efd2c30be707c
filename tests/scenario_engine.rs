//! Scenario tests: the native core (CI backends and engine) against the
//! local Mozilla CI (`mozci-sandbox`, clock stopped) over HTTP. The
//! sandbox's request log is the proof of what was triggered.
//! Needs `cargo build -p mozci-sandbox` first (scripts/test does it).
#![cfg(not(target_arch = "wasm32"))]

use mozci::ci::buildbot::BuildbotCi;
use mozci::ci::taskcluster::TaskclusterCi;
use mozci::ci::{Backends, CiContext, Endpoints, Refusal};
use mozci::engine::execute::execute_plans;
use mozci::engine::ledger::{Ledger, TriggerOutcome};
use mozci::engine::watch::{watch_items, watch_step};
use mozci::engine::Session;
use mozci::http::NativeClient;
use mozci::model::JobType;
use mozci::model::{CiSystem, JobResult, JobState, Revision, UpstreamBuild};
use mozci::plan::backfill::{BackfillOutcome, BackfillRequest};
use mozci::plan::trigger::PushAction;
use mozci::services::treeherder;
use mozci::sources::buildapi::BasicCredentials;
use mozci::sources::taskcluster::credentials::TaskclusterCredentials;
use mozci::sources::taskcluster::RootUrl;
use mozci_harness::{Sandbox, SandboxAdmin};
use serde_json::{json, Value};
use std::rc::Rc;
use std::time::Duration;

const BC1: &str = "test-linux64/opt-mochitest-browser-chrome-1";
const CRASHTEST: &str = "Ubuntu VM 12.04 x64 mozilla-inbound opt test crashtest";
const SHERIFF_TC: &str = "mozilla-auth0/ad|Mozilla-LDAP|sheriff/treeherder-login";
const SHERIFF_TC_TOKEN: &str = "sheriff-access-token-0000000000000000000000";

struct World {
    /// Kept for as long as the world: dropping it stops the sandbox.
    _sandbox: Sandbox,
    session: Session,
    admin: SandboxAdmin,
}

fn client() -> Rc<NativeClient> {
    Rc::new(NativeClient::new(Duration::from_secs(10)).expect("HTTP client"))
}

async fn world(ldap: Option<(&str, &str)>, tc: bool) -> World {
    let sandbox = Sandbox::start(&["--speed", "0"])
        .await
        .expect("sandbox starts");
    let o = &sandbox.origins;
    let http = client();
    let ctx = CiContext::new(
        http.clone(),
        Endpoints::sandbox(&o.treeherder, &o.hg, &o.buildapi, &o.taskcluster),
    );
    let creds = ldap.map(|(u, p)| BasicCredentials::new(u, p));
    let buildbot = BuildbotCi::new(ctx.clone(), creds.as_ref()).expect("buildbot backend");
    let tc_creds = tc.then(|| TaskclusterCredentials {
        client_id: SHERIFF_TC.into(),
        access_token: SHERIFF_TC_TOKEN.into(),
        certificate: None,
    });
    let taskcluster = TaskclusterCi::new(
        ctx.clone(),
        RootUrl::parse(&o.taskcluster).expect("root"),
        tc_creds,
    );
    let session = Session::new(
        ctx,
        Backends {
            buildbot: Some(Rc::new(buildbot)),
            taskcluster: Some(Rc::new(taskcluster)),
        },
    );
    World {
        admin: SandboxAdmin::new(&sandbox),
        _sandbox: sandbox,
        session,
    }
}

impl World {
    async fn admin_get(&self, path: &str) -> Value {
        self.admin.get(path).await.expect("admin GET")
    }

    async fn admin_post(&self, path: &str, body: Value) -> Value {
        self.admin.post(path, body).await.expect("admin POST")
    }

    /// Mutating requests the sandbox received on `origin`.
    async fn requests(&self, origin: &str) -> Vec<Value> {
        match self
            .admin_get(&format!("/__sandbox/requests?origin={origin}"))
            .await
        {
            Value::Array(items) => items,
            other => panic!("request log is not a list: {other}"),
        }
    }

    /// The newest push of `repo` whose `label` run failed, with its revision.
    async fn failing_push(&self, repo: &str, label: &str) -> (u64, Revision) {
        let summary = self
            .admin_get(&format!("/__sandbox/summary?repo={repo}"))
            .await;
        let rows = summary.as_array().expect("summary list");
        let row = rows
            .iter()
            .rev()
            .find(|r| {
                r["failed"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|l| l == label))
            })
            .unwrap_or_else(|| panic!("no failing {label} on {repo}"));
        (
            row["push_id"].as_u64().expect("push id"),
            Revision(row["revision"].as_str().expect("revision").to_string()),
        )
    }
}

#[tokio::test(flavor = "current_thread")]
async fn taskcluster_backfill_retriggers_exactly_the_pushes_back_to_the_last_good_one() {
    let w = world(None, true).await;
    let (_, rev) = w.failing_push("autoland", BC1).await;
    let job_type = JobType::from_name(BC1);
    let mut ledger = Ledger::default();
    let request = BackfillRequest {
        depth: 10,
        times: 2,
    };
    let analysis = w
        .session
        .analyse_backfill("autoland", &job_type, &rev, request, &ledger, 0)
        .await
        .expect("analysis");
    let BackfillOutcome::LastGoodFound { push_id: good, .. } = analysis.plan.outcome else {
        panic!("the demo has a last good push: {:?}", analysis.plan.outcome)
    };
    assert!(analysis.plan.pushes.iter().all(|p| p.push_id > good));
    let expected: u32 = analysis.plan.jobs_started_now();
    assert!(expected >= 1, "the failing push gets more runs");

    let executions = execute_plans(
        &w.session,
        "autoland",
        &job_type,
        &analysis.plan.pushes,
        &analysis.histories,
        &mut ledger,
        |_| {},
    )
    .await
    .expect("executes");
    let hooks = w.requests("taskcluster").await;
    let triggered: Vec<&Value> = hooks
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with("/trigger")))
        .collect();
    let sent = executions.iter().filter(|e| !e.records.is_empty()).count();
    assert_eq!(
        triggered.len(),
        sent,
        "one hook trigger per push that needed runs"
    );
    for r in &triggered {
        assert_eq!(
            r["status"], 200,
            "a valid Hawk signature with the hook scope: {r}"
        );
        assert_eq!(r["user"], SHERIFF_TC);
    }
    assert!(executions.iter().all(|e| e.all_accepted()));

    // The same backfill again asks for nothing: the runs are pending now,
    // and the ledger covers any that would not be visible yet.
    let again = w
        .session
        .analyse_backfill("autoland", &job_type, &rev, request, &ledger, 0)
        .await
        .expect("analysis");
    assert_eq!(again.plan.jobs_started_now(), 0, "{:#?}", again.plan.pushes);
    assert_eq!(w.requests("taskcluster").await.len(), hooks.len());
}

#[tokio::test(flavor = "current_thread")]
async fn buildbot_test_triggers_carry_the_build_files_and_the_ldap_user() {
    let w = world(Some(("sheriff@mozilla.com", "sheriff-password")), false).await;
    let pushes = w
        .session
        .pushes_ending_at("mozilla-inbound", &newest(&w, "mozilla-inbound").await, 5)
        .await
        .expect("pushes");
    let job_type = JobType::from_name(CRASHTEST);
    assert_eq!(job_type.ci, CiSystem::Buildbot);
    let mut ledger = Ledger::default();
    let analysis = w
        .session
        .analyse_range("mozilla-inbound", &job_type, &pushes[2..], 1, &ledger, 0)
        .await
        .expect("analysis");
    // Crashtest runs every third push (a SETA-style gap): some pushes lack it.
    let gaps: Vec<_> = analysis
        .plans
        .iter()
        .filter(|p| matches!(p.action, PushAction::Trigger { .. }))
        .collect();
    assert!(!gaps.is_empty(), "{:#?}", analysis.plans);
    for gap in &gaps {
        let PushAction::Trigger { files, .. } = &gap.action else {
            unreachable!()
        };
        assert_eq!(
            files.len(),
            2,
            "packageUrl and testsUrl of the push's build"
        );
    }
    execute_plans(
        &w.session,
        "mozilla-inbound",
        &job_type,
        &analysis.plans,
        &analysis.histories,
        &mut ledger,
        |_| {},
    )
    .await
    .expect("executes");
    let posts = w.requests("buildapi").await;
    assert_eq!(posts.len(), gaps.len());
    // Triggers go out concurrently: match them by revision, not by order.
    for gap in &gaps {
        let post = posts
            .iter()
            .find(|p| {
                p["path"]
                    .as_str()
                    .is_some_and(|path| path.ends_with(&gap.revision.0))
            })
            .unwrap_or_else(|| panic!("no trigger for {}", gap.revision));
        assert_eq!(post["status"], 202);
        assert_eq!(post["user"], "sheriff@mozilla.com");
        let body = post["body"].as_str().expect("body");
        assert!(
            body.contains("files=") && body.contains("properties="),
            "{body}"
        );
    }
}

async fn newest(w: &World, repo: &str) -> Revision {
    let state = w.admin_get("/__sandbox/state").await;
    let r = state["repos"]
        .as_array()
        .expect("repos")
        .iter()
        .find(|r| r["name"] == repo)
        .expect("repo");
    Revision(r["newest_revision"].as_str().expect("rev").to_string())
}

#[tokio::test(flavor = "current_thread")]
async fn buildapi_auth_failures_say_what_to_do_and_send_nothing() {
    // BuildAPI wants credentials for reads too: no credentials is a 401
    // ("log in"), a user without access a 403 ("no access"), before any trigger.
    for (creds, check) in [
        (
            None,
            (|e: &mozci::Error| {
                matches!(e, mozci::Error::Unauthorized { .. }) && e.to_string().contains("log in")
            }) as fn(&mozci::Error) -> bool,
        ),
        (
            Some(("contributor@example.com", "contributor-password")),
            |e: &mozci::Error| {
                matches!(e, mozci::Error::Forbidden { .. }) && e.to_string().contains("no access")
            },
        ),
    ] {
        let w = world(creds, false).await;
        let rev = newest(&w, "mozilla-inbound").await;
        let pushes = w
            .session
            .pushes_ending_at("mozilla-inbound", &rev, 3)
            .await
            .expect("pushes");
        let job_type = JobType::from_name(CRASHTEST);
        let err = w
            .session
            .analyse_range(
                "mozilla-inbound",
                &job_type,
                &pushes,
                1,
                &Ledger::default(),
                0,
            )
            .await
            .expect_err("refused");
        assert!(check(&err), "{err}");
        assert!(
            w.requests("buildapi").await.is_empty(),
            "nothing was triggered"
        );
    }
    // Credentials that expire mid-session: the trigger is refused, recorded, not retried.
    let w = world(Some(("sheriff@mozilla.com", "sheriff-password")), false).await;
    let rev = newest(&w, "mozilla-inbound").await;
    let pushes = w
        .session
        .pushes_ending_at("mozilla-inbound", &rev, 8)
        .await
        .expect("pushes");
    let job_type = JobType::from_name(CRASHTEST);
    let mut ledger = Ledger::default();
    let analysis = w
        .session
        .analyse_range("mozilla-inbound", &job_type, &pushes[3..], 1, &ledger, 0)
        .await
        .expect("analysis");
    w.admin_post(
        "/__sandbox/faults",
        json!({ "buildapi": { "expired_credentials": true } }),
    )
    .await;
    let executions = execute_plans(
        &w.session,
        "mozilla-inbound",
        &job_type,
        &analysis.plans,
        &analysis.histories,
        &mut ledger,
        |_| {},
    )
    .await
    .expect("executes");
    let outcomes: Vec<&TriggerOutcome> = executions
        .iter()
        .flat_map(|e| &e.records)
        .map(|r| &r.outcome)
        .collect();
    assert!(!outcomes.is_empty());
    for outcome in &outcomes {
        assert!(
            matches!(outcome, TriggerOutcome::Refused { refusal: Refusal::LogIn, reason } if reason.contains("401")),
            "{outcome:?}"
        );
    }
    assert_eq!(
        w.requests("buildapi").await.len(),
        outcomes.len(),
        "each refused trigger was sent once"
    );
    let first = &analysis.plans[0];
    assert_eq!(
        ledger.not_yet_visible(
            w.session.origin(),
            "mozilla-inbound",
            first.push_id,
            CRASHTEST,
            0,
            1
        ),
        0,
        "refused runs do not count as pending"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn faults_leave_every_trigger_accounted_for_and_none_doubled() {
    let w = world(None, true).await;
    let (_, rev) = w.failing_push("autoland", BC1).await;
    let job_type = JobType::from_name(BC1);
    let mut ledger = Ledger::default();
    let request = BackfillRequest { depth: 6, times: 3 };
    let analysis = w
        .session
        .analyse_backfill("autoland", &job_type, &rev, request, &ledger, 0)
        .await
        .expect("analysis");
    // Half of the hook triggers fail with 503 from here on.
    w.admin_post(
        "/__sandbox/faults",
        json!({ "taskcluster": { "error_503": 0.5 } }),
    )
    .await;
    let executions = execute_plans(
        &w.session,
        "autoland",
        &job_type,
        &analysis.plan.pushes,
        &analysis.histories,
        &mut ledger,
        |_| {},
    )
    .await
    .expect("executes");
    w.admin_post("/__sandbox/faults", json!({})).await;
    let records: Vec<_> = executions.iter().flat_map(|e| &e.records).collect();
    let accepted = records
        .iter()
        .filter(|r| matches!(r.outcome, TriggerOutcome::Accepted { .. }))
        .count();
    let refused = records
        .iter()
        .filter(|r| matches!(r.outcome, TriggerOutcome::Refused { .. }))
        .count();
    let unknown = records
        .iter()
        .filter(|r| matches!(r.outcome, TriggerOutcome::Unknown { .. }))
        .count();
    assert_eq!(
        accepted + refused + unknown,
        records.len(),
        "every trigger is accepted, refused or unknown with a reason"
    );
    // A fault may hit a read before the trigger (actions.json): refused,
    // nothing was sent. A 503 answering the hook call itself proves nothing
    // (the hook may have fired): unknown, counted as asked, never resent.

    let hook_posts: Vec<Value> = w
        .requests("taskcluster")
        .await
        .into_iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with("/trigger")))
        .collect();
    let posted_ok = hook_posts.iter().filter(|r| r["status"] == 200).count();
    assert_eq!(
        posted_ok, accepted,
        "every accepted trigger is one hook call that succeeded"
    );
    assert!(
        hook_posts.len() <= records.len(),
        "never more hook calls than triggers: {hook_posts:#?}"
    );

    // Planning again asks only for what was refused.
    let again = w
        .session
        .analyse_backfill("autoland", &job_type, &rev, request, &ledger, 0)
        .await
        .expect("analysis");
    let to_send = again
        .plan
        .pushes
        .iter()
        .filter(|p| p.action.jobs_started_now() > 0)
        .count();
    assert_eq!(
        to_send, refused,
        "unknown outcomes count as asked: {:#?}",
        again.plan.pushes
    );
}

#[tokio::test(flavor = "current_thread")]
async fn watching_follows_triggered_runs_until_every_push_has_its_runs() {
    let w = world(Some(("sheriff@mozilla.com", "sheriff-password")), false).await;
    // The newest pushes: builds still running on some, so tests there wait
    // for them and are triggered by the watcher once the builds finish.
    let rev = newest(&w, "mozilla-inbound").await;
    let pushes = w
        .session
        .pushes_ending_at("mozilla-inbound", &rev, 3)
        .await
        .expect("pushes");
    let job_type = JobType::from_name(CRASHTEST);
    let backend = w
        .session
        .backends
        .for_system(CiSystem::Buildbot)
        .expect("buildbot");
    let histories = backend
        .push_histories("mozilla-inbound", &pushes, &job_type)
        .await
        .expect("histories");
    for h in &histories {
        assert!(
            matches!(
                h.upstream_build,
                UpstreamBuild::Ready { .. }
                    | UpstreamBuild::InProgress { .. }
                    | UpstreamBuild::Missing { .. }
                    | UpstreamBuild::Failed { .. }
            ),
            "a test type always knows its build's situation"
        );
    }
    let mut ledger = Ledger::default();
    let analysis = w
        .session
        .analyse_range("mozilla-inbound", &job_type, &pushes, 2, &ledger, 0)
        .await
        .expect("analysis");
    let executions = execute_plans(
        &w.session,
        "mozilla-inbound",
        &job_type,
        &analysis.plans,
        &analysis.histories,
        &mut ledger,
        |_| {},
    )
    .await
    .expect("executes");
    let mut items = watch_items(&executions, CRASHTEST, 2, &Default::default());
    // Let the simulated hours pass: builds finish, waiting tests start, tests finish.
    let mut last_events = Vec::new();
    for _ in 0..12 {
        w.admin_post("/__sandbox/advance", json!({ "seconds": 1800 }))
            .await;
        let (_, events) = watch_step(
            &w.session,
            "mozilla-inbound",
            &job_type,
            &pushes,
            &mut items,
            &mut ledger,
        )
        .await
        .expect("watch step");
        last_events.extend(events);
        if mozci::engine::watch::all_settled(&items) {
            break;
        }
    }
    assert!(
        mozci::engine::watch::all_settled(&items),
        "{items:#?}\n{last_events:#?}"
    );
    let histories = backend
        .push_histories("mozilla-inbound", &pushes, &job_type)
        .await
        .expect("histories");
    for h in &histories {
        let c = h.counts();
        assert!(
            c.finished() >= 2 || c.coalesced > 0,
            "push {}: {c:?}",
            h.push.id
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn buildbot_states_include_coalesced_requests() {
    let w = world(Some(("sheriff@mozilla.com", "sheriff-password")), false).await;
    let rev = newest(&w, "mozilla-inbound").await;
    let pushes = w
        .session
        .pushes_ending_at("mozilla-inbound", &rev, 12)
        .await
        .expect("pushes");
    let job_type = JobType::from_name(CRASHTEST);
    let backend = w
        .session
        .backends
        .for_system(CiSystem::Buildbot)
        .expect("buildbot");
    // Ask for one crashtest on every push at once (with each push's build):
    // requests of one builder pile up and Buildbot merges them into the
    // newest revision's build.
    let before = backend
        .push_histories("mozilla-inbound", &pushes, &job_type)
        .await
        .expect("histories");
    for h in &before {
        if let UpstreamBuild::Ready { files, .. } = &h.upstream_build {
            backend
                .trigger("mozilla-inbound", &h.push, &job_type, 1, files)
                .await
                .expect("trigger");
        }
    }
    w.admin_post("/__sandbox/advance", json!({ "seconds": 7200 }))
        .await;
    let histories = backend
        .push_histories("mozilla-inbound", &pushes, &job_type)
        .await
        .expect("histories");
    let states: Vec<JobState> = histories
        .iter()
        .flat_map(|h| h.jobs.iter().map(|j| j.state))
        .collect();
    assert!(states.contains(&JobState::Coalesced), "{states:?}");
    assert!(
        states.iter().any(|s| matches!(
            s,
            JobState::Completed(JobResult::Success | JobResult::TestFailed | JobResult::Exception)
        )),
        "{states:?}"
    );
    let job = histories
        .iter()
        .flat_map(|h| &h.jobs)
        .find(|j| j.state == JobState::Coalesced)
        .expect("coalesced job");
    assert_eq!(
        backend
            .job_state("mozilla-inbound", job)
            .await
            .expect("state"),
        JobState::Coalesced
    );
}

#[tokio::test(flavor = "current_thread")]
async fn treeherder_reads_resolve_jobs_by_task_and_by_id() {
    let w = world(None, false).await;
    let (push_id, rev) = w.failing_push("autoland", BC1).await;
    let push = treeherder::push_by_id(&w.session.ctx, "autoland", push_id)
        .await
        .expect("push");
    assert_eq!(push.revision, rev);
    let jobs = treeherder::jobs_of_pushes(&w.session.ctx, std::slice::from_ref(&push), Some(BC1))
        .await
        .expect("jobs");
    let failing = jobs
        .iter()
        .find(|j| j.result == Some(JobResult::TestFailed))
        .expect("failing run");
    let task = failing.task_id.clone().expect("task id");
    let (by_task, p1) = treeherder::job_by_task(
        &w.session.ctx,
        "autoland",
        &task,
        failing.retry_id.unwrap_or(0),
    )
    .await
    .expect("by task");
    let (by_id, p2) = treeherder::job_by_id(&w.session.ctx, "autoland", failing.id)
        .await
        .expect("by id");
    assert_eq!((by_task.name.as_str(), by_id.name.as_str()), (BC1, BC1));
    assert_eq!((p1.id, p2.id), (push_id, push_id));
    assert_eq!(by_task.state, JobState::Completed(JobResult::TestFailed));
    let tc = w
        .session
        .backends
        .for_system(CiSystem::Taskcluster)
        .expect("tc");
    assert_eq!(
        tc.job_state("autoland", &by_task)
            .await
            .expect("queue state"),
        JobState::Completed(JobResult::TestFailed)
    );
}

//! Scenario test: a backfill judged by the selected run's failure signature
//! against the local Mozilla CI (`mozci-sandbox`, clock stopped). The same
//! regression, once with runs failing by infrastructure (the task aborted
//! at max run time, a failed download) interleaved among the backfilled
//! runs and once without: the answer is the same, and the sandbox's request
//! log shows each infrastructure failure re-run exactly once, within the
//! re-run budget, and nothing else triggered twice.
//! Needs `cargo build -p mozci-sandbox` first (scripts/test does it).
#![cfg(not(target_arch = "wasm32"))]

use mozci::engine::execute::execute_plans;
use mozci::engine::ledger::Ledger;
use mozci::engine::watch::{
    all_settled, choose_scope, watch_items, watch_step, WatchEvent, DEFAULT_RERUN_BUDGET,
};
use mozci::engine::Session;
use mozci::model::JobType;
use mozci::model::{JobResult, JobState, PushHistory, Revision, RunReading};
use mozci::plan::backfill::BackfillRequest;
use mozci::plan::failure_scope::FailureScope;
use mozci::plan::monitor::{Reaction, RerunReason};
use mozci::plan::verdict::{backfill_verdict, Verdict};
use mozci_harness::{sheriff_session, Sandbox, SandboxAdmin};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const BC1: &str = "test-linux64/opt-mochitest-browser-chrome-1";
const TEST: &str = "browser/base/content/test/general/browser_tabs_close_beforeunload.js";
/// The regression's push on autoland, and the push the backfill starts from.
const REGRESSION_INDEX: u64 = 18;
const SELECTED_INDEX: u64 = 20;
/// Runs wanted per push: the scheduled one and two more, the two more being
/// the ones that fail by infrastructure in the second world.
const TIMES: u32 = 3;

/// The demo scenario with a permanent regression of TEST on autoland and
/// the runs of BC1 at these places on every autoland push (0 = the first)
/// failed by the task's max run time and by a download; the path of the
/// written file.
fn scenario_file(max_run_time: &[usize], download: &[usize]) -> std::path::PathBuf {
    let mut demo: Value =
        serde_json::from_str(include_str!("../sandbox/scenarios/demo.json")).expect("demo");
    demo["regressions"] = json!([{
        "repo": "autoland", "push_index": REGRESSION_INDEX, "test_type": "mochitest-browser-chrome-1",
        "platform": "linux64", "test": TEST, "q": 1.0, "message": "Test timed out - expected PASS"
    }]);
    demo["job_failures"] = json!([
        {"label": BC1, "repo": "autoland", "kind": "max_run_time", "runs": max_run_time},
        {"label": BC1, "repo": "autoland", "kind": "download", "runs": download},
    ]);
    // One file per call: two tests writing the same file at once could
    // hand a starting sandbox half of it.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!(
        "mozci-failure-signature-{}-{call}-{max_run_time:?}-{download:?}.json",
        std::process::id()
    ));
    std::fs::write(&path, demo.to_string()).expect("scenario written");
    path
}

struct World {
    /// Kept for as long as the world: dropping it stops the sandbox.
    _sandbox: Sandbox,
    session: Session,
    admin: SandboxAdmin,
}

async fn world(max_run_time: &[usize], download: &[usize]) -> World {
    let scenario = scenario_file(max_run_time, download);
    let scenario = scenario.to_str().expect("utf-8 path");
    let sandbox = Sandbox::start(&["--scenario", scenario, "--speed", "0"])
        .await
        .expect("sandbox starts");
    let (session, _) = sheriff_session(&sandbox).expect("a session on the sandbox");
    World {
        admin: SandboxAdmin::new(&sandbox),
        _sandbox: sandbox,
        session,
    }
}

impl World {
    async fn admin(&self, path: &str, body: Option<Value>) -> Value {
        match body {
            Some(body) => self.admin.post(path, body).await,
            None => self.admin.get(path).await,
        }
        .expect("admin request")
    }

    async fn push_at(&self, index: u64) -> (u64, Revision) {
        let summary = self.admin("/__sandbox/summary?repo=autoland", None).await;
        let row = summary
            .as_array()
            .expect("summary list")
            .iter()
            .find(|r| r["index"] == index)
            .expect("the push exists");
        (
            row["push_id"].as_u64().expect("push id"),
            Revision(row["revision"].as_str().expect("revision").to_string()),
        )
    }

    /// Hook triggers the sandbox received (every trigger of this tool on
    /// Taskcluster is one), with their status.
    async fn hook_triggers(&self) -> Vec<Value> {
        let log = self
            .admin("/__sandbox/requests?origin=taskcluster", None)
            .await;
        log.as_array()
            .expect("request log")
            .iter()
            .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with("/trigger")))
            .cloned()
            .collect()
    }

    /// BC1 runs the scenario failed by infrastructure, per push id.
    async fn infrastructure_failures(&self) -> BTreeMap<u64, u32> {
        let jobs = self
            .admin(&format!("/__sandbox/jobs?repo=autoland&label={BC1}"), None)
            .await;
        let mut per_push = BTreeMap::new();
        for job in jobs.as_array().expect("jobs") {
            if job["label"] == BC1 && job["forced_failure"].is_u64() {
                *per_push
                    .entry(job["push_id"].as_u64().expect("push id"))
                    .or_insert(0) += 1;
            }
        }
        per_push
    }
}

/// What one backfill did: its answer, the watch events, the final runs,
/// and how many triggers the plan itself sent.
struct Outcome {
    verdict: Verdict,
    scope: FailureScope,
    events: Vec<WatchEvent>,
    histories: Vec<PushHistory>,
    planned_triggers: usize,
}

async fn backfill_and_watch(w: &World) -> Outcome {
    let (_, rev) = w.push_at(SELECTED_INDEX).await;
    let job_type = JobType::from_name(BC1);
    let mut ledger = Ledger::default();
    let request = BackfillRequest {
        depth: 10,
        times: TIMES,
    };
    let analysis = w
        .session
        .analyse_backfill("autoland", &job_type, &rev, request, &ledger, 0)
        .await
        .expect("analysis");
    let (scope, problem) = choose_scope(
        &w.session,
        "autoland",
        analysis.histories.first(),
        None,
        false,
        None,
    )
    .await;
    assert_eq!(problem, None);
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
    assert!(executions.iter().all(|e| e.all_accepted()));
    let planned_triggers = executions.iter().map(|e| e.records.len()).sum();
    let pushes: Vec<_> = analysis.histories.iter().map(|h| h.push.clone()).collect();
    let mut items = watch_items(&executions, BC1, DEFAULT_RERUN_BUDGET, &scope);
    let mut events = Vec::new();
    for _ in 0..16 {
        w.admin("/__sandbox/advance", Some(json!({ "seconds": 1800 })))
            .await;
        let (histories, step) = watch_step(
            &w.session,
            "autoland",
            &job_type,
            &pushes,
            &mut items,
            &mut ledger,
        )
        .await
        .expect("watch step");
        events.extend(step);
        if all_settled(&items) {
            return Outcome {
                verdict: backfill_verdict(&histories),
                scope,
                events,
                histories,
                planned_triggers,
            };
        }
    }
    panic!("the backfill did not settle: {items:#?}\n{events:#?}");
}

#[tokio::test(flavor = "current_thread")]
async fn infrastructure_failures_are_rerun_and_change_no_answer() {
    let clean = world(&[], &[]).await;
    let without = backfill_and_watch(&clean).await;
    let (regression_push, regression_rev) = clean.push_at(REGRESSION_INDEX).await;
    assert_eq!(
        without.verdict,
        Verdict::FirstBadPush {
            push_id: regression_push,
            revision: regression_rev,
        }
    );
    let FailureScope::Signature { signature } = &without.scope else {
        panic!("the selected run's failure is read: {:?}", without.scope)
    };
    assert_eq!(signature.tests, [TEST]);
    assert!(
        without
            .events
            .iter()
            .all(|e| !matches!(e.reaction, Reaction::Rerun { .. } | Reaction::GiveUp { .. })),
        "nothing to re-run without infrastructure failures: {:#?}",
        without.events
    );
    assert_eq!(
        clean.hook_triggers().await.len(),
        without.planned_triggers,
        "only the plan's triggers"
    );
    assert!(clean.infrastructure_failures().await.is_empty());
    drop(clean);

    // The second and third run on every push fail by infrastructure: the
    // two runs the backfill adds.
    let flaky_infra = world(&[1], &[2]).await;
    let with = backfill_and_watch(&flaky_infra).await;
    assert_eq!(with.verdict, without.verdict, "the same answer");
    assert_eq!(with.scope, without.scope, "the same signature chased");

    // Every infrastructure failure was re-run once, on its own push, and
    // nothing else was re-run.
    let failed_by_infrastructure = flaky_infra.infrastructure_failures().await;
    // Pushes 18 to 20 each got two more runs, and both failed by
    // infrastructure (the scenario's "runs": [1] and [2]).
    assert_eq!(
        failed_by_infrastructure
            .values()
            .copied()
            .collect::<Vec<_>>(),
        [2, 2, 2],
        "the scenario failed runs by infrastructure: {failed_by_infrastructure:?}"
    );
    let mut rerun: BTreeMap<u64, u32> = BTreeMap::new();
    for event in &with.events {
        match &event.reaction {
            Reaction::Rerun { count, reason, .. } => {
                assert_eq!(*reason, RerunReason::InfrastructureFailure);
                assert!(event.record.is_some(), "each re-run is sent and recorded");
                *rerun.entry(event.push_id).or_insert(0) += count;
            }
            Reaction::GiveUp { reason } => panic!("gave up: {reason}"),
            _ => {}
        }
    }
    assert_eq!(
        rerun, failed_by_infrastructure,
        "one re-run per infrastructure failure"
    );
    assert!(
        rerun.values().all(|n| *n <= DEFAULT_RERUN_BUDGET),
        "within the re-run budget: {rerun:?}"
    );
    // The watcher read each of them as no evidence.
    let read_as_infrastructure: u32 = with
        .histories
        .iter()
        .map(|h| {
            h.readings
                .iter()
                .filter(|r| r.reading == RunReading::NotEvidence)
                .count() as u32
        })
        .sum();
    assert_eq!(
        read_as_infrastructure,
        failed_by_infrastructure.values().sum::<u32>()
    );
    // The request log: the plan's triggers and one per re-run event, each
    // accepted; nothing sent twice.
    let triggers = flaky_infra.hook_triggers().await;
    let rerun_events = with
        .events
        .iter()
        .filter(|e| matches!(e.reaction, Reaction::Rerun { .. }))
        .count();
    assert_eq!(triggers.len(), with.planned_triggers + rerun_events);
    assert_eq!(with.planned_triggers, without.planned_triggers);
    assert!(triggers.iter().all(|r| r["status"] == 200), "{triggers:#?}");

    // `mozci rate`'s count of the same runs leaves the infrastructure
    // failures out too, about any failure of the job.
    let pushes: Vec<_> = with.histories.iter().map(|h| h.push.clone()).collect();
    let (per_push, unread) = flaky_infra
        .session
        .job_runs(
            "autoland",
            &JobType::from_name(BC1),
            &pushes,
            &mozci::plan::failure_scope::FailureScope::AnyFailure,
        )
        .await
        .expect("runs");
    assert!(unread.is_empty(), "{unread:?}");
    for (counted, history) in per_push.iter().zip(&with.histories) {
        let by_result = history
            .jobs
            .iter()
            .filter(|j| {
                matches!(
                    j.state,
                    JobState::Completed(JobResult::Success | JobResult::TestFailed)
                )
            })
            .count() as u32;
        let infra = failed_by_infrastructure
            .get(&history.push.id)
            .copied()
            .unwrap_or(0);
        assert_eq!(counted.runs, by_result - infra, "{counted:?}");
    }
}

/// Runs a culprit search about any failure of BC1 from the selected push
/// until it answers; returns the culprit's push id and the answer.
async fn find_culprit(w: &World) -> (Option<u64>, mozci::plan::culprit::Answer) {
    use mozci::engine::culprit::culprit_step;
    use mozci::plan::culprit::observed::RunVerdicts;
    use mozci::plan::culprit::CulpritConfig;
    use mozci::plan::failure_scope::FailureScope;
    let (_, rev) = w.push_at(SELECTED_INDEX).await;
    let job_type = JobType::from_name(BC1);
    let range = w
        .session
        .culprit_range("autoland", &job_type, &rev, 6, 2)
        .await
        .expect("range");
    let config = CulpritConfig::new(range.n());
    let mut verdicts = RunVerdicts::new(FailureScope::AnyFailure);
    let mut ledger = Ledger::default();
    for _ in 0..40 {
        let progress = culprit_step(
            &w.session,
            &range,
            &config,
            &mut ledger,
            0,
            true,
            Some(&mut verdicts),
        )
        .await
        .expect("culprit step");
        assert!(
            progress.unread_logs.is_empty(),
            "{:?}",
            progress.unread_logs
        );
        if progress.is_done() {
            return (progress.culprit.map(|p| p.id), progress.answer);
        }
        w.admin("/__sandbox/advance", Some(json!({ "seconds": 1800 })))
            .await;
    }
    panic!("the culprit search did not answer");
}

/// The runs the answer counted: none failed before the culprit, all from
/// it on (the regression fails every run; a run failed by the
/// infrastructure is not counted at all).
fn assert_clean_boundary(answer: &mozci::plan::culprit::Answer) {
    let mozci::plan::culprit::Hypothesis::Culprit(culprit) = answer.hypothesis else {
        panic!("a culprit: {answer:?}")
    };
    for push in &answer.pushes {
        if push.push < i64::from(culprit) {
            assert_eq!(push.failures, 0, "before the culprit: {push:?}");
        } else {
            assert_eq!(push.failures, push.runs, "from the culprit on: {push:?}");
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_culprit_search_over_infrastructure_failures_names_the_same_push() {
    let clean = world(&[], &[]).await;
    let (regression_push, _) = clean.push_at(REGRESSION_INDEX).await;
    let (culprit, answer) = find_culprit(&clean).await;
    assert_eq!(culprit, Some(regression_push));
    assert_clean_boundary(&answer);
    drop(clean);

    // Most of the search's runs fail by infrastructure, on every push:
    // counted by their result, the pushes before the regression would show
    // failures; read from their logs, they are no evidence.
    let flaky_infra = world(&[1, 2, 3], &[4]).await;
    let (culprit, answer) = find_culprit(&flaky_infra).await;
    assert_eq!(culprit, Some(regression_push));
    assert_clean_boundary(&answer);
    let failed_by_infrastructure = flaky_infra.infrastructure_failures().await;
    assert!(
        failed_by_infrastructure.values().sum::<u32>() >= 4,
        "the search's runs met infrastructure failures: {failed_by_infrastructure:?}"
    );
}

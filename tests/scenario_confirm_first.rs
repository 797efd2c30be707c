//! Scenario tests: Taskcluster's `confirm-failures` action driven by the
//! native core against the local Mozilla CI (`mozci-sandbox`, clock
//! stopped). The confirm request is sent once, Hawk-signed with the user's
//! client, to the session's root URL; its `-cf` tasks are read back as
//! repeated test-level runs judged by the failure scope; a lost answer is
//! "unknown, possibly scheduled" and never sent again. The sandbox's request
//! log is the proof.
//! Needs `cargo build -p mozci-sandbox` first (scripts/test does it).
#![cfg(not(target_arch = "wasm32"))]

use mozci::engine::confirm::ConfirmAsk;
use mozci::engine::ledger::{Ledger, TriggerKind, TriggerOutcome};
use mozci::engine::Session;
use mozci::http::{send_checked, HttpRequest, NativeClient, RetryPolicy};
use mozci::model::{Job, JobResult, JobState, JobType, Push, PushHistory, Revision};
use mozci::plan::failure_scope::FailureScope;
use mozci_harness::{
    hook_callback as callback, sheriff_session, Sandbox, SandboxAdmin, SHERIFF_TC_CLIENT,
};
use serde_json::{json, Value};
use std::rc::Rc;

const BC1: &str = "test-linux64/opt-mochitest-browser-chrome-1";
const TEST: &str = "browser/base/content/test/general/browser_tabs_close_beforeunload.js";
const OTHER_TEST: &str = "toolkit/components/pictureinpicture/tests/browser_fullscreen.js";
/// The regression's push on autoland.
const REGRESSION_INDEX: u64 = 18;

/// The demo scenario with TEST failing `before` of its runs on autoland
/// before push REGRESSION_INDEX and `after` from it on (a flake rate plus a
/// regression of strength q with `1 - (1 - f)(1 - q) = after`); the path of
/// the written file.
fn scenario_file(name: &str, before: f64, after: f64) -> std::path::PathBuf {
    let mut demo: Value =
        serde_json::from_str(include_str!("../sandbox/scenarios/demo.json")).expect("demo");
    let q = 1.0 - (1.0 - after) / (1.0 - before);
    demo["regressions"] = if q > 0.0 {
        json!([{
            "repo": "autoland", "push_index": REGRESSION_INDEX, "test_type": "mochitest-browser-chrome-1",
            "platform": "linux64", "test": TEST, "q": q, "message": "Test timed out - expected PASS"
        }])
    } else {
        json!([])
    };
    demo["flaky"] = json!([{
        "test_type": "mochitest-browser-chrome-1", "test": TEST, "f": before,
        "message": "Test timed out - expected PASS"
    }]);
    let path =
        std::env::temp_dir().join(format!("mozci-confirm-{name}-{}.json", std::process::id()));
    std::fs::write(&path, demo.to_string()).expect("scenario written");
    path
}

struct World {
    sandbox: Sandbox,
    session: Session,
    http: Rc<NativeClient>,
}

async fn world(scenario: &std::path::Path) -> World {
    let scenario = scenario.to_str().expect("utf-8 path");
    let sandbox = Sandbox::start(&["--scenario", scenario, "--speed", "0"])
        .await
        .expect("sandbox starts");
    let (session, http) = sheriff_session(&sandbox).expect("a session on the sandbox");
    World {
        sandbox,
        session,
        http,
    }
}

impl World {
    /// The session's confirm request for the failed run of [`BC1`] on
    /// `history`'s push.
    async fn ask_confirm(
        &self,
        history: &PushHistory,
        failed: &Job,
        ask: ConfirmAsk,
        ledger: &mut Ledger,
    ) -> mozci::Result<Option<mozci::engine::ledger::TriggerRecord>> {
        let job_type = JobType::from_name(BC1);
        self.session
            .request_confirm("autoland", &job_type, history, failed, ask, ledger)
            .await
    }

    async fn admin(&self, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.sandbox.origins.treeherder);
        let request = match body {
            Some(body) => HttpRequest::post_json(url, &body),
            None => HttpRequest::get(url),
        };
        let r = send_checked(self.http.as_ref(), request, RetryPolicy::none())
            .await
            .expect("admin request");
        serde_json::from_slice(&r.body).expect("admin JSON")
    }

    /// The newest autoland push whose BC1 run failed with TEST, that push's
    /// BC1 runs and the failed run.
    async fn failed_run(&self) -> (PushHistory, Job) {
        let summary = self.admin("/__sandbox/summary?repo=autoland", None).await;
        let rows = summary.as_array().expect("summary list");
        let row = rows
            .iter()
            .rev()
            .find(|r| {
                r["failed"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|l| l == BC1))
            })
            .expect("a failed BC1 run on autoland");
        let revision = Revision(row["revision"].as_str().expect("revision").to_string());
        let push: Push = self
            .session
            .pushes_ending_at("autoland", &revision, 0)
            .await
            .expect("the push")
            .remove(0);
        let history = self
            .session
            .histories(
                "autoland",
                &[push],
                &JobType::from_name(BC1),
                &Ledger::default(),
                0,
            )
            .await
            .expect("its runs")
            .remove(0);
        let failed = history
            .jobs
            .iter()
            .find(|j| j.state == JobState::Completed(JobResult::TestFailed))
            .expect("the failed run")
            .clone();
        (history, failed)
    }

    /// The hook calls the sandbox's Taskcluster received.
    async fn hook_calls(&self) -> Vec<Value> {
        SandboxAdmin::new(&self.sandbox)
            .hook_calls_after(0)
            .await
            .expect("request log")
    }

    async fn advance(&self, seconds: i64) {
        self.admin("/__sandbox/advance", Some(json!({ "seconds": seconds })))
            .await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn confirm_tasks_are_asked_again_only_once_the_first_are_in_and_read_as_repeats() {
    let w = world(&scenario_file("read", 0.02, 1.0)).await;
    let job_type = JobType::from_name(BC1);
    let (history, failed) = w.failed_run().await;
    let push = history.push.clone();
    let mut ledger = Ledger::default();

    let record = w
        .ask_confirm(
            &history,
            &failed,
            ConfirmAsk::More { times: 2 },
            &mut ledger,
        )
        .await
        .expect("sent")
        .expect("Taskcluster offers confirm tasks");
    assert_eq!(record.kind, TriggerKind::ConfirmFailures);
    assert_eq!(record.job_name, format!("{BC1}-cf"));
    assert!(
        matches!(record.outcome, TriggerOutcome::Accepted { runs: 2, .. }),
        "{record:?}"
    );
    // A second request for the same push is not sent while the first's
    // tasks are on their way.
    let again = w
        .ask_confirm(
            &history,
            &failed,
            ConfirmAsk::More { times: 2 },
            &mut ledger,
        )
        .await
        .expect("no error");
    assert!(again.is_none());

    let calls = w.hook_calls().await;
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(callback(&calls[0]), "confirm-failures");
    assert_eq!(
        calls[0]["user"], SHERIFF_TC_CLIENT,
        "signed by the user's client"
    );
    assert_eq!(calls[0]["status"], 200);
    let body: Value = serde_json::from_str(calls[0]["body"].as_str().expect("body")).expect("JSON");
    assert_eq!(body["user"]["input"], json!({"times": 2}));
    assert_eq!(body["user"]["taskId"], json!(failed.ids.task_id));

    // In flight until they finish, then five repeats a task, all failing
    // (the regression is permanent here).
    let scope = FailureScope::Test { test: TEST.into() };
    let pushes = [push.clone()];
    let read = |ledger: Ledger| {
        let (session, scope, pushes, job_type) = (&w.session, &scope, &pushes, &job_type);
        async move {
            session
                .confirm_readings("autoland", pushes, job_type, scope, &ledger, 0)
                .await
                .expect("readings")
                .expect("offered")
                .remove(0)
        }
    };
    let running = read(ledger.clone()).await;
    assert_eq!((running.repeats, running.tasks), (0, 0));
    assert!(running.in_flight >= 2, "{running:?}");
    w.advance(4 * 3600).await;
    let done = read(ledger.clone()).await;
    assert_eq!(done.in_flight, 0, "{done:?}");
    assert_eq!(done.tasks, 2, "{done:?}");
    assert_eq!((done.repeats, done.failures), (10, 10), "{done:?}");
    assert!(done.unread.is_empty());

    // Another test's scope finds no evidence in them.
    let other = FailureScope::Test {
        test: OTHER_TEST.into(),
    };
    let none = w
        .session
        .confirm_readings("autoland", &pushes, &job_type, &other, &ledger, 0)
        .await
        .expect("readings")
        .expect("offered")
        .remove(0);
    assert_eq!((none.repeats, none.tasks), (0, 0));
    assert_eq!(w.hook_calls().await.len(), 1, "reading sends nothing");

    // Its tasks are in: "confirm first" does not ask its question again,
    // but the search may ask that push for more repeats, once.
    let first = w
        .ask_confirm(&history, &failed, ConfirmAsk::First, &mut ledger)
        .await
        .expect("no error");
    assert!(first.is_none());
    let more = w
        .ask_confirm(
            &history,
            &failed,
            ConfirmAsk::More { times: 3 },
            &mut ledger,
        )
        .await
        .expect("sent")
        .expect("offered");
    assert_eq!((more.runs_asked, more.visible_before), (3, 2), "{more:?}");
    let again = w
        .ask_confirm(
            &history,
            &failed,
            ConfirmAsk::More { times: 3 },
            &mut ledger,
        )
        .await
        .expect("no error");
    assert!(again.is_none(), "not while the three are on their way");
    let calls = w.hook_calls().await;
    assert_eq!(calls.len(), 2, "{calls:#?}");
    let body: Value = serde_json::from_str(calls[1]["body"].as_str().expect("body")).expect("JSON");
    assert_eq!(body["user"]["input"], json!({"times": 3}));
}

#[tokio::test(flavor = "current_thread")]
async fn a_lost_answer_to_the_confirm_call_is_unknown_and_never_resent() {
    let w = world(&scenario_file("lost", 0.02, 1.0)).await;
    let job_type = JobType::from_name(BC1);
    let (history, failed) = w.failed_run().await;
    let mut ledger = Ledger::default();
    // The hook fires, but its answer never arrives.
    w.admin(
        "/__sandbox/faults",
        Some(json!({ "taskcluster": { "after_applied": { "kind": "drop" } } })),
    )
    .await;
    let record = w
        .ask_confirm(
            &history,
            &failed,
            ConfirmAsk::More { times: 1 },
            &mut ledger,
        )
        .await
        .expect("recorded")
        .expect("sent");
    w.admin("/__sandbox/faults", Some(json!({}))).await;
    assert!(
        matches!(record.outcome, TriggerOutcome::Unknown { .. }),
        "{record:?}"
    );
    assert!(record
        .outcome
        .describe()
        .starts_with("unknown, possibly scheduled"));
    assert_eq!(ledger.unknown().count(), 1);

    // Asked again (a later round, a restarted driver with the same ledger):
    // nothing is sent.
    for _ in 0..2 {
        let again = w
            .ask_confirm(
                &history,
                &failed,
                ConfirmAsk::More { times: 1 },
                &mut ledger,
            )
            .await
            .expect("no error");
        assert!(again.is_none());
    }
    let calls = w.hook_calls().await;
    assert_eq!(calls.len(), 1, "sent exactly once: {calls:#?}");
    assert_eq!(callback(&calls[0]), "confirm-failures");

    // It had been carried out: its task shows up and is read.
    w.advance(4 * 3600).await;
    let reading = w
        .session
        .confirm_readings(
            "autoland",
            std::slice::from_ref(&history.push),
            &job_type,
            &FailureScope::Test { test: TEST.into() },
            &ledger,
            0,
        )
        .await
        .expect("readings")
        .expect("offered")
        .remove(0);
    assert_eq!((reading.tasks, reading.repeats), (1, 5), "{reading:?}");
}

/// Runs the culprit search with confirm tasks on the `suspects` pushes up
/// to the newest push where BC1 failed, judged by TEST, moving the clock
/// four hours between steps, until it answers (or 60 steps pass).
async fn search(
    w: &World,
    suspects: u32,
) -> (
    mozci::engine::culprit::CulpritProgress,
    Ledger,
    mozci::plan::culprit::range::CulpritRange,
) {
    use mozci::engine::culprit::culprit_step;
    use mozci::plan::culprit::observed::RunVerdicts;
    use mozci::plan::culprit::{ConfirmAction, CulpritConfig};
    let job_type = JobType::from_name(BC1);
    let (history, _) = w.failed_run().await;
    let range = w
        .session
        .culprit_range("autoland", &job_type, &history.push.revision, suspects, 4)
        .await
        .expect("range");
    let mut config = CulpritConfig::new(range.n());
    config.confirm = Some(ConfirmAction::default());
    let mut verdicts = RunVerdicts::new(FailureScope::Test { test: TEST.into() });
    let mut ledger = Ledger::default();
    let mut last = None;
    for _ in 0..60 {
        let now = mozci::ci::clock::now_ms();
        let progress = culprit_step(
            &w.session,
            &range,
            &config,
            &mut ledger,
            now,
            true,
            Some(&mut verdicts),
        )
        .await
        .expect("step");
        let done = progress.is_done();
        last = Some(progress);
        if done {
            break;
        }
        w.advance(4 * 3600).await;
    }
    let last = last.expect("a step");
    eprintln!(
        "{}\n{} job runs, {} confirm tasks, {:.2} runs of machine time",
        last.explanation, last.answer.runs_used, last.answer.confirms_used, last.answer.cost_used
    );
    (last, ledger, range)
}

/// Treeherder's whole minutes of a run of `seconds` (at least one, rounded
/// half to even, as its jobs list's `duration` says).
fn treeherder_minutes(seconds: i64) -> i64 {
    let seconds = seconds.max(60);
    let (whole, rest) = (seconds / 60, seconds % 60);
    if rest > 30 || (rest == 30 && whole % 2 == 1) {
        whole + 1
    } else {
        whole
    }
}

/// The answer's machine time is measured, not estimated: every job run
/// counts 1 and every confirm task read its own time over the median time
/// of BC1's finished runs on the range, both from the sandbox's record of
/// its jobs (start and end), in Treeherder's whole minutes.
async fn assert_machine_time_is_measured(
    w: &World,
    range: &mozci::plan::culprit::range::CulpritRange,
    progress: &mozci::engine::culprit::CulpritProgress,
) {
    let pushes: std::collections::BTreeSet<u64> =
        range.pushes_newest_first().iter().map(|p| p.id).collect();
    let pushes = &pushes;
    let minutes_of = |label: &str| {
        let label: String = url::form_urlencoded::byte_serialize(label.as_bytes()).collect();
        let path = format!("/__sandbox/jobs?repo=autoland&label={label}");
        async move {
            let jobs = w.admin(&path, None).await;
            jobs.as_array()
                .expect("jobs")
                .iter()
                .filter(|j| j["push_id"].as_u64().is_some_and(|p| pushes.contains(&p)))
                .filter(|j| j["state"] == "completed")
                .filter(|j| j["result"] == "success" || j["result"] == "testfailed")
                .map(|j| {
                    let (start, end) = (j["start"].as_i64(), j["end"].as_i64());
                    treeherder_minutes(end.expect("end") - start.expect("start"))
                })
                .collect::<Vec<i64>>()
        }
    };
    let mut runs = minutes_of(BC1).await;
    runs.sort_unstable();
    let middle = runs.len() / 2;
    let typical = if runs.len() % 2 == 1 {
        runs[middle] as f64
    } else {
        (runs[middle - 1] + runs[middle]) as f64 / 2.0
    };
    let tasks = minutes_of(&format!("{BC1}-cf")).await;
    let answer = &progress.answer;
    assert_eq!(tasks.len() as u32, answer.confirms_used, "{tasks:?}");
    let confirm_time: f64 = tasks.iter().map(|&m| m as f64 / typical).sum();
    let expected = f64::from(answer.runs_used) + confirm_time;
    assert!(
        (answer.cost_used - expected).abs() < 1e-9,
        "machine time {} vs measured {expected} (confirm tasks {tasks:?} min, typical run {typical} min)",
        answer.cost_used
    );
    // Not the planning estimate (a quarter of a run per task): the
    // sandbox's confirm tasks run the test's share of the suite 5 times.
    let estimate = f64::from(answer.runs_used) + 0.25 * f64::from(answer.confirms_used);
    assert!(
        (answer.cost_used - estimate).abs() > 0.1,
        "{} is the estimate",
        answer.cost_used
    );
    eprintln!(
        "machine time: {} runs + {} confirm task(s) of {tasks:?} min over a typical {typical} min = {:.2} runs (the estimate said {estimate:.2})",
        answer.runs_used, answer.confirms_used, answer.cost_used
    );
}

/// Every hook call the sandbox received was accepted, and no trigger was
/// sent twice: one call per ledger record, and confirm-failures asked again
/// on a push only once every confirm task there had finished (the search
/// had read the answer to the call before: asking while it was on its way
/// would ask the same question twice).
async fn assert_each_sent_once(w: &World, ledger: &Ledger) {
    let calls = w.hook_calls().await;
    assert!(calls.iter().all(|c| c["status"] == 200), "{calls:#?}");
    assert!(calls.iter().all(|c| c["user"] == SHERIFF_TC_CLIENT));
    assert_eq!(calls.len(), ledger.records.len(), "one call per record");
    let confirm_calls = SandboxAdmin::new(&w.sandbox)
        .confirm_calls_each_after_the_last_answer("autoland", &format!("{BC1}-cf"))
        .await
        .expect("confirm calls checked")
        .len();
    let confirm_records = ledger
        .records
        .iter()
        .filter(|r| r.kind == TriggerKind::ConfirmFailures)
        .count();
    assert_eq!(confirm_calls, confirm_records);
    assert!(confirm_calls > 0, "the search asked for confirm tasks");
}

#[tokio::test(flavor = "current_thread")]
async fn a_rate_change_from_2_to_30_percent_is_found_with_confirm_tasks() {
    use mozci::plan::culprit::{Hypothesis, Outcome};
    let w = world(&scenario_file("rate-change", 0.02, 0.30)).await;
    let (progress, ledger, range) = search(&w, 14).await;
    let answer = &progress.answer;
    let summary = w.admin("/__sandbox/summary?repo=autoland", None).await;
    let culprit_push = summary
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["index"] == REGRESSION_INDEX)
        .and_then(|r| r["push_id"].as_u64())
        .expect("the regressing push");
    assert_eq!(answer.outcome, Outcome::Decided, "{}", progress.explanation);
    assert!(
        matches!(answer.hypothesis, Hypothesis::Culprit(_)),
        "{answer:?}"
    );
    assert_eq!(progress.culprit.as_ref().map(|p| p.id), Some(culprit_push));
    assert!(answer.confidence >= 0.99, "{answer:?}");
    assert!(
        answer.confirms_used > 0,
        "confirm tasks were used: {answer:?}"
    );
    assert!(
        progress.explanation.contains('%'),
        "{}",
        progress.explanation
    );
    assert_each_sent_once(&w, &ledger).await;
    assert_machine_time_is_measured(&w, &range, &progress).await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_flaky_only_range_names_no_culprit() {
    use mozci::plan::culprit::{Hypothesis, Outcome};
    let w = world(&scenario_file("flaky-only", 0.08, 0.08)).await;
    let (progress, ledger, range) = search(&w, 10).await;
    let answer = &progress.answer;
    let named_culprit =
        answer.outcome == Outcome::Decided && answer.hypothesis != Hypothesis::NoCulprit;
    assert!(!named_culprit, "{}", progress.explanation);
    assert!(answer.outcome != Outcome::Searching, "{answer:?}");
    assert_each_sent_once(&w, &ledger).await;
    assert_machine_time_is_measured(&w, &range, &progress).await;
}

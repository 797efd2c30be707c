//! The add-on's engine requests (`addon`) natively against the
//! `mozci-sandbox`: the modes the browser tests do not drive (Taskcluster's
//! fixed-range `backfill` action, N runs on this push), the ledger keeping a
//! second plan from asking again, the sandbox enabled in the settings, and
//! the "Find culprit" mode run from plan to answer (the browser test drives
//! its panel once; here every step of the search is checked).
//! Needs `cargo build -p mozci-sandbox` first.
#![cfg(not(target_arch = "wasm32"))]

use anyhow::{anyhow, ensure, Context, Result};
use mozci::addon::{
    execute, plan, plan_conflict, selected_job_failures, watch, AddonPlan, AddonSettings,
    CustomOrigins, ExecuteAnswer, Mode, PlanRequest, PLAN_MAX_AGE_MS,
};
use mozci::engine::ledger::{InMemoryOnly, Ledger, TriggerJournal};
use mozci::http::{HttpClient, NativeClient};
use mozci::plan::culprit::confirm_first::ConfirmFirstPlan;
use mozci::plan::failure_scope::FailureScope;
use mozci_harness::{hook_callback as callback, newest_failed_push, Sandbox, SandboxAdmin};
use serde_json::{json, Value};
use std::rc::Rc;
use std::time::Duration;

const LABEL: &str = "test-linux64/opt-mochitest-browser-chrome-1";

/// The ledger each test passes around is the whole record.
fn journal() -> Rc<dyn TriggerJournal> {
    Rc::new(InMemoryOnly)
}

/// A plan request for the job view at `page_url` that counts the runs
/// failing like the selected one (the popup's defaults).
fn plan_request(page_url: String, mode: Mode, depth: u32, times: Option<u32>) -> PlanRequest {
    PlanRequest {
        page_url,
        mode,
        depth,
        times,
        test: None,
        any_failure: false,
    }
}

/// Confirms `planned` as a signed-in sheriff does: with Treeherder's login
/// (`user_credentials`), the ledger passed along being the whole record.
async fn execute_with_login(
    http: Rc<dyn HttpClient>,
    settings: &AddonSettings,
    planned: &AddonPlan,
    credentials: &str,
    ledger: &mut Ledger,
) -> mozci::Result<ExecuteAnswer> {
    execute(
        http,
        settings,
        planned,
        Some(credentials),
        ledger,
        journal(),
    )
    .await
}

async fn admin_get(sandbox: &Sandbox, path: &str) -> Result<Value> {
    SandboxAdmin::new(sandbox).get(path).await
}

async fn admin_post(sandbox: &Sandbox, path: &str, body: Value) -> Result<()> {
    SandboxAdmin::new(sandbox).post(path, body).await.map(drop)
}

/// The job view URL of `LABEL` on autoland's push `index`.
async fn page_url(sandbox: &Sandbox, index: u64) -> Result<String> {
    let summary = admin_get(sandbox, "/__sandbox/summary?repo=autoland").await?;
    let push = summary
        .as_array()
        .and_then(|a| a.iter().find(|p| p["index"].as_u64() == Some(index)))
        .ok_or_else(|| anyhow!("no push {index}"))?;
    let push_id = push["push_id"].as_u64().context("push_id")?;
    let label: String = url::form_urlencoded::byte_serialize(LABEL.as_bytes()).collect();
    let jobs = admin_get(
        sandbox,
        &format!("/__sandbox/jobs?repo=autoland&push_id={push_id}&label={label}"),
    )
    .await?;
    let task = jobs[0]["taskcluster"]["task_id"]
        .as_str()
        .context("task id")?;
    Ok(format!(
        "{}/jobs?repo=autoland&revision={}&selectedTaskRun={task}.0",
        sandbox.origins.treeherder,
        push["revision"].as_str().context("revision")?
    ))
}

/// What Treeherder's login leaves in `localStorage.userCredentials`.
async fn user_credentials(sandbox: &Sandbox) -> Result<String> {
    let demo = admin_get(sandbox, "/__sandbox/demo-credentials").await?;
    Ok(json!({ sandbox.origins.taskcluster.clone(): {
        "credentials": { "clientId": demo["clientId"], "accessToken": demo["accessToken"] },
        "expires": "2099-01-01T00:00:00.000Z",
    }})
    .to_string())
}

async fn hook_triggers(sandbox: &Sandbox) -> Result<Vec<Value>> {
    let log = admin_get(sandbox, "/__sandbox/requests?origin=taskcluster").await?;
    Ok(log
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r["method"] == "POST")
        .collect())
}

/// The add-on's settings with `sandbox` enabled, as the options save them.
fn enabled(sandbox: &Sandbox) -> AddonSettings {
    let o = &sandbox.origins;
    AddonSettings {
        sandboxes: vec![CustomOrigins {
            treeherder: o.treeherder.clone(),
            hg: o.hg.clone(),
            buildapi: o.buildapi.clone(),
            taskcluster: o.taskcluster.clone(),
        }],
        ..AddonSettings::default()
    }
}

fn client() -> Result<Rc<dyn HttpClient>> {
    Ok(Rc::new(NativeClient::new(Duration::from_secs(30))?))
}

#[tokio::test]
async fn ci_backfill_sends_one_backfill_action_with_depth_and_times() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let http = client()?;
    let settings = enabled(&sandbox);
    let request = plan_request(page_url(&sandbox, 21).await?, Mode::CiBackfill, 3, Some(2));
    let planned = plan(http.clone(), &settings, &request, &Ledger::default()).await?;
    // The endpoints are the enabled sandbox's.
    assert_eq!(planned.endpoints.hg, sandbox.origins.hg);
    assert_eq!(planned.jobs_started_now, 6);
    assert!(
        planned.needs_confirmation,
        "6 jobs are above the small limit"
    );
    assert_eq!(planned.rows.len(), 3, "the three earlier pushes");

    let credentials = user_credentials(&sandbox).await?;
    let mut ledger = Ledger::default();
    let answer = execute_with_login(http, &settings, &planned, &credentials, &mut ledger).await?;
    assert_eq!(answer.watch.items.len(), 3);
    let triggers = hook_triggers(&sandbox).await?;
    assert_eq!(triggers.len(), 1, "one backfill action: {triggers:#?}");
    assert_eq!(triggers[0]["status"], 200);
    let body = triggers[0]["body"].as_str().unwrap_or_default();
    assert!(
        body.contains("backfill") && body.contains("\"depth\":3") && body.contains("\"times\":2"),
        "backfill input: {body}"
    );
    Ok(())
}

#[tokio::test]
async fn a_backfill_action_whose_answer_was_lost_is_unknown_and_never_sent_twice() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    // The hook's answer comes after 30 s; this client gives up after 10 s
    // (not sooner: the plan's reads go through it too, and a loaded
    // machine's debug sandbox may take a second or two to answer them).
    let http: Rc<dyn HttpClient> = Rc::new(NativeClient::new(Duration::from_secs(10))?);
    let settings = enabled(&sandbox);
    let request = plan_request(page_url(&sandbox, 21).await?, Mode::CiBackfill, 2, Some(1));
    let planned = plan(http.clone(), &settings, &request, &Ledger::default()).await?;
    assert_eq!(planned.jobs_started_now, 2);
    admin_post(
        &sandbox,
        "/__sandbox/faults",
        json!({ "taskcluster": { "after_applied": { "kind": "delay", "ms": 30_000 } } }),
    )
    .await?;
    let credentials = user_credentials(&sandbox).await?;
    let mut ledger = Ledger::default();
    let answer =
        execute_with_login(http.clone(), &settings, &planned, &credentials, &mut ledger).await?;
    admin_post(&sandbox, "/__sandbox/faults", json!({})).await?;
    let records: Vec<_> = answer.executions.iter().flat_map(|e| &e.records).collect();
    assert_eq!(records.len(), 1, "{records:#?}");
    assert!(records[0].outcome.is_unknown(), "{:?}", records[0].outcome);
    assert!(answer.watch.problem.is_none(), "not a refusal");
    let notice = answer.watch.notice.clone().unwrap_or_default();
    assert!(
        notice.starts_with("unknown, possibly scheduled"),
        "{notice}"
    );
    assert_eq!(answer.watch.items.len(), 2, "its runs are watched for");

    // A second click plans nothing, says why, and a replayed plan is refused.
    let again = plan(http.clone(), &settings, &request, &ledger).await?;
    assert_eq!(again.jobs_started_now, 0, "{again:#?}");
    assert!(
        again
            .notes
            .iter()
            .any(|n| n.starts_with("unknown, possibly scheduled")),
        "{:?}",
        again.notes
    );
    let replay = execute_with_login(http, &settings, &planned, &credentials, &mut ledger).await;
    assert!(replay.is_err(), "the old plan is not sent again");
    let triggers = hook_triggers(&sandbox).await?;
    assert_eq!(triggers.len(), 1, "one backfill action: {triggers:#?}");
    assert_eq!(triggers[0]["status"], 200, "it was carried out");
    Ok(())
}

#[tokio::test]
async fn trigger_here_then_the_ledger_keeps_a_second_plan_from_asking_again() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let http = client()?;
    let settings = enabled(&sandbox);
    let request = plan_request(page_url(&sandbox, 21).await?, Mode::TriggerHere, 1, Some(3));
    let planned = plan(http.clone(), &settings, &request, &Ledger::default()).await?;
    assert_eq!(
        planned.jobs_started_now, 2,
        "one run there, three wanted: {planned:#?}"
    );
    let credentials = user_credentials(&sandbox).await?;
    let mut ledger = Ledger::default();
    execute_with_login(http.clone(), &settings, &planned, &credentials, &mut ledger).await?;
    assert_eq!(hook_triggers(&sandbox).await?.len(), 1);

    // The action task has not made the runs visible yet (the clock stands):
    // the ledger counts them as pending, so the same plan asks for nothing.
    let again = plan(http, &settings, &request, &ledger).await?;
    assert_eq!(again.jobs_started_now, 0, "nothing doubled: {again:#?}");
    Ok(())
}

#[tokio::test]
async fn a_stale_plan_confirmed_after_another_run_sends_nothing() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let http = client()?;
    let settings = enabled(&sandbox);
    let request = plan_request(page_url(&sandbox, 21).await?, Mode::ToLastGood, 5, Some(3));
    // Two plans of the same backfill, kept side by side (two tabs).
    let stale = plan(http.clone(), &settings, &request, &Ledger::default()).await?;
    let fresh = plan(http.clone(), &settings, &request, &Ledger::default()).await?;
    assert!(stale.jobs_started_now > 0, "{stale:#?}");
    let credentials = user_credentials(&sandbox).await?;
    let mut ledger = Ledger::default();
    execute_with_login(http.clone(), &settings, &fresh, &credentials, &mut ledger).await?;
    let sent = hook_triggers(&sandbox).await?.len();
    assert!(sent > 0);
    // The stale one, confirmed now, reads the pushes again: nothing left to ask.
    let answer = execute_with_login(http, &settings, &stale, &credentials, &mut ledger).await?;
    assert!(
        answer.executions.iter().all(|e| e.records.is_empty()),
        "{:#?}",
        answer.executions
    );
    assert_eq!(
        hook_triggers(&sandbox).await?.len(),
        sent,
        "nothing doubled"
    );
    Ok(())
}

#[tokio::test]
async fn kept_plans_expire_and_yield_to_overlapping_runs() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let http = client()?;
    let settings = enabled(&sandbox);
    let request = |page_url| PlanRequest {
        page_url,
        mode: Mode::ToLastGood,
        depth: 5,
        times: Some(3),
        test: None,
        any_failure: false,
    };
    let kept = plan(
        http.clone(),
        &settings,
        &request(page_url(&sandbox, 21).await?),
        &Ledger::default(),
    )
    .await?;
    let now = mozci::ci::clock::now_ms();
    assert_eq!(plan_conflict(&kept, now, &[], &[], now), None);
    let old = plan_conflict(&kept, now - PLAN_MAX_AGE_MS - 60_000, &[], &[], now);
    assert!(old.is_some_and(|m| m.contains("minute(s) old")));

    // A run started from the push before, whose range overlaps this plan's.
    let earlier = plan(
        http.clone(),
        &settings,
        &request(page_url(&sandbox, 20).await?),
        &Ledger::default(),
    )
    .await?;
    assert_ne!(earlier.key, kept.key);
    let overlap = plan_conflict(&kept, now, &[], std::slice::from_ref(&earlier), now);
    assert!(overlap.is_some_and(|m| m.contains("being sent")));
    let credentials = user_credentials(&sandbox).await?;
    let mut ledger = Ledger::default();
    let running = execute_with_login(http, &settings, &earlier, &credentials, &mut ledger)
        .await?
        .watch;
    let in_flight = plan_conflict(&kept, now, std::slice::from_ref(&running), &[], now);
    assert!(in_flight.is_some_and(|m| m.contains("run in flight")));
    // Settled, or on another Treeherder: no conflict.
    let mut settled = running.clone();
    settled.settled = true;
    assert_eq!(plan_conflict(&kept, now, &[settled], &[], now), None);
    let mut elsewhere = running;
    elsewhere.endpoints.treeherder = "https://treeherder.mozilla.org".into();
    assert_eq!(plan_conflict(&kept, now, &[elsewhere], &[], now), None);
    Ok(())
}

#[tokio::test]
async fn execution_without_treeherder_login_sends_nothing() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let http = client()?;
    let settings = enabled(&sandbox);
    let request = plan_request(page_url(&sandbox, 21).await?, Mode::ToLastGood, 20, Some(3));
    let planned = plan(http.clone(), &settings, &request, &Ledger::default()).await?;
    let mut ledger = Ledger::default();
    let refused = execute(http, &settings, &planned, None, &mut ledger, journal()).await;
    let error = refused
        .err()
        .context("execution without credentials must fail")?;
    assert!(error.to_string().contains("log in"), "{error}");
    assert!(hook_triggers(&sandbox).await?.is_empty());
    assert!(ledger.records.is_empty());
    Ok(())
}

/// Autoland's seeded regression of `LABEL` (q = 0.7), in sandbox/scenarios/demo.json.
const REGRESSION_INDEX: u64 = 18;

async fn advance(sandbox: &Sandbox, seconds: u64) -> Result<()> {
    let url = format!("{}/__sandbox/advance", sandbox.origins.treeherder);
    let response = reqwest::Client::new()
        .post(&url)
        .header("Content-Type", "application/json")
        .body(json!({ "seconds": seconds }).to_string())
        .send()
        .await?;
    ensure!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    Ok(())
}

/// (index, revision) of the newest autoland push where `LABEL` failed, and
/// the revision of the regressing push.
async fn failure_seen(sandbox: &Sandbox) -> Result<(u64, String)> {
    let summary = admin_get(sandbox, "/__sandbox/summary?repo=autoland").await?;
    let rows = summary.as_array().context("summary rows")?;
    let seen = newest_failed_push(rows, LABEL).context("a push where the job failed")?;
    let culprit = rows
        .iter()
        .find(|r| r["index"].as_u64() == Some(REGRESSION_INDEX))
        .and_then(|r| r["revision"].as_str())
        .context("the regressing push")?;
    Ok((
        seen["index"].as_u64().context("index")?,
        culprit.to_string(),
    ))
}

#[tokio::test]
async fn find_culprit_names_the_seeded_regression_and_sends_each_run_once() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let triggers = find_culprit_in(&sandbox, Mode::FindCulpritRunsOnly).await?;
    let confirms = triggers
        .iter()
        .filter(|t| callback(t) == "confirm-failures")
        .count();
    assert_eq!(confirms, 0, "job runs only");
    Ok(())
}

/// The demo with autoland's regression made permanent: every push from
/// REGRESSION_INDEX on fails, the ones before pass.
fn permanent_regression_scenario() -> Result<std::path::PathBuf> {
    let mut demo: Value = serde_json::from_str(include_str!("../sandbox/scenarios/demo.json"))?;
    demo["regressions"][1]["q"] = json!(1.0);
    // One file per call: two tests writing the same file at once could
    // hand a starting sandbox half of it.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = std::env::temp_dir().join(format!(
        "mozci-addon-confirm-first-{}-{call}.json",
        std::process::id()
    ));
    std::fs::write(&file, demo.to_string())?;
    Ok(file)
}

/// A sandbox playing [`permanent_regression_scenario`].
async fn permanent_regression_sandbox() -> Result<Sandbox> {
    let scenario = permanent_regression_scenario()?;
    Sandbox::start(&[
        "--speed",
        "0",
        "--scenario",
        scenario.to_str().context("path")?,
    ])
    .await
}

#[tokio::test]
async fn find_culprit_confirms_first_by_default() -> Result<()> {
    let sandbox = permanent_regression_sandbox().await?;
    let triggers = find_culprit_in(&sandbox, Mode::FindCulprit).await?;
    // The first trigger is the confirm on the selected push; a push is
    // asked again only once its confirm tasks are in.
    assert_eq!(callback(&triggers[0]), "confirm-failures", "{triggers:#?}");
    let confirms = SandboxAdmin::new(&sandbox)
        .confirm_calls_each_after_the_last_answer("autoland", &format!("{LABEL}-cf"))
        .await?;
    assert!(!confirms.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_second_search_of_the_failure_does_not_confirm_it_again() -> Result<()> {
    let sandbox = permanent_regression_sandbox().await?;
    let http = client()?;
    let settings = enabled(&sandbox);
    let (seen, _) = failure_seen(&sandbox).await?;
    let request = plan_request(
        page_url(&sandbox, seen).await?,
        Mode::FindCulprit,
        12,
        Some(3),
    );
    let first = plan(http.clone(), &settings, &request, &Ledger::default()).await?;
    let row = first.rows.first().context("plan rows")?;
    ensure!(
        row.action.starts_with("confirm the failure: 1 ")
            && row
                .runs
                .contains("the failure that started the search is not counted"),
        "{row:?}"
    );
    let credentials = user_credentials(&sandbox).await?;
    let mut ledger = Ledger::default();
    execute_with_login(http.clone(), &settings, &first, &credentials, &mut ledger).await?;
    let confirm_calls = |triggers: Vec<Value>| {
        triggers
            .iter()
            .filter(|t| callback(t) == "confirm-failures")
            .count()
    };
    ensure!(confirm_calls(hook_triggers(&sandbox).await?) == 1);

    // Another sheriff (no shared ledger) searches the same failure while
    // the confirm task is on its way: the plan says it is there, counts no
    // job for it, and executing it asks none.
    let second = plan(http.clone(), &settings, &request, &Ledger::default()).await?;
    let row = second.rows.first().context("plan rows")?;
    ensure!(
        row.action
            .starts_with("confirm the failure: already asked (1 confirm task(s) there"),
        "{row:?}"
    );
    let runs_in_rows: u32 = second
        .rows
        .iter()
        .filter_map(|r| r.action.strip_prefix("add "))
        .filter_map(|rest| rest.split(' ').next()?.parse::<u32>().ok())
        .sum();
    ensure!(
        second.jobs_started_now == runs_in_rows,
        "{} jobs to start, rows {:?}",
        second.jobs_started_now,
        second.rows
    );
    execute_with_login(
        http.clone(),
        &settings,
        &second,
        &credentials,
        &mut Ledger::default(),
    )
    .await?;
    ensure!(confirm_calls(hook_triggers(&sandbox).await?) == 1);
    Ok(())
}

/// Find culprit in `mode` on autoland's regression in `sandbox`, from the
/// plan to the answer; returns the hook calls the sandbox received.
async fn find_culprit_in(sandbox: &Sandbox, mode: Mode) -> Result<Vec<Value>> {
    let http = client()?;
    let settings = enabled(sandbox);
    let (seen, culprit_revision) = failure_seen(sandbox).await?;
    let request = PlanRequest {
        page_url: page_url(sandbox, seen).await?,
        mode,
        depth: 12,
        times: Some(3),
        test: None,
        any_failure: false,
    };
    let planned = plan(http.clone(), &settings, &request, &Ledger::default()).await?;
    assert!(planned.key.ends_with("/culprit"), "{}", planned.key);
    assert!(
        planned.title.starts_with("Find the culprit of "),
        "{}",
        planned.title
    );
    assert!(planned.needs_confirmation, "a search always asks first");
    // One round: 8 runs' machine time, confirm tasks taking their share.
    let round = if mode.confirms_first() { 1..=8 } else { 8..=8 };
    assert!(
        round.contains(&planned.jobs_started_now),
        "one round: {planned:#?}"
    );
    let planned_runs: u32 = planned
        .rows
        .iter()
        .map(|r| {
            if r.action.starts_with("confirm the failure: 1 ") {
                return 1;
            }
            r.action
                .trim_start_matches("add ")
                .split(' ')
                .next()
                .and_then(|n| n.parse::<u32>().ok())
                .unwrap_or(0)
        })
        .sum();
    assert_eq!(
        planned_runs, planned.jobs_started_now,
        "the rows add up to the round: {:?}",
        planned.rows
    );
    let search = planned
        .culprit
        .as_ref()
        .context("the plan carries the search")?;
    if mode.confirms_first() {
        // Confirm first: the range is (last good, failing] read from the
        // job's runs, not the depth asked for: the regressing push on.
        let range = seen - REGRESSION_INDEX + 1;
        assert_eq!(u64::from(search.range.n()), range, "{}", planned.summary);
        assert_eq!(
            search.range.push_at(1).map(|p| p.revision.0.clone()),
            Some(culprit_revision.clone())
        );
        assert!(
            matches!(search.confirm_plan, Some(ConfirmFirstPlan::Search { .. })),
            "{:?}",
            search.confirm_plan
        );
        assert!(
            planned
                .summary
                .contains(&format!("then search the {range} push(es) after ")),
            "{}",
            planned.summary
        );
    } else {
        assert_eq!(search.range.n(), 12);
    }
    assert!(!search.chart.is_empty() && !search.done);
    // The job's history before the range was read once, for the prior.
    let history = search.history.as_ref().context("the history was read")?;
    assert!(history.pushes > 0 && history.runs > 0, "{history:?}");
    assert!(
        planned.notes.iter().any(|n| n.contains(&format!(
            "{} of {} run(s) failed on the {} push(es) before the range",
            history.failures, history.runs, history.pushes
        ))),
        "{:?}",
        planned.notes
    );
    assert!(
        hook_triggers(sandbox).await?.is_empty(),
        "planning sends nothing"
    );

    let credentials = user_credentials(sandbox).await?;
    let mut ledger = Ledger::default();
    let mut state =
        execute_with_login(http.clone(), &settings, &planned, &credentials, &mut ledger)
            .await?
            .watch;
    let mut steps = 0;
    while !state.settled {
        ensure!(
            steps < 60,
            "no answer after {steps} steps: {:#?}",
            state.rows
        );
        ensure!(state.problem.is_none(), "{:?}", state.problem);
        advance(sandbox, 900).await?;
        state = watch(
            http.clone(),
            &settings,
            &state,
            Some(&credentials),
            &mut ledger,
            journal(),
        )
        .await?
        .watch;
        steps += 1;
    }
    let search = state.culprit.as_ref().context("a culprit watch")?;
    assert!(search.done, "{}", search.explanation);
    let culprit = search
        .culprit
        .as_ref()
        .context(search.explanation.clone())?;
    assert_eq!(
        culprit.revision.0, culprit_revision,
        "{}",
        search.explanation
    );
    assert!(search.confidence >= 0.99, "{}", search.explanation);
    let verdict = state.verdict_text.clone().unwrap_or_default();
    assert!(
        verdict.starts_with(&format!("Culprit: push {}", &culprit_revision[..12])),
        "{verdict}"
    );
    assert!(
        state.rows.iter().any(|r| r.text.ends_with("— culprit")),
        "{:?}",
        state.rows
    );

    // Each trigger the ledger holds is one hook call, accepted.
    let triggers = hook_triggers(sandbox).await?;
    assert_eq!(triggers.len(), ledger.records.len(), "{triggers:#?}");
    assert!(triggers.iter().all(|t| t["status"] == 200), "{triggers:#?}");
    // A poll after the answer sends nothing more.
    let after = watch(
        http,
        &settings,
        &state,
        Some(&credentials),
        &mut ledger,
        journal(),
    )
    .await?;
    assert!(after.watch.settled);
    assert_eq!(hook_triggers(sandbox).await?.len(), triggers.len());
    eprintln!(
        "find culprit ({}): {steps} steps, {} hook calls, {} confirm task(s), {:.2} runs of machine time: {verdict}",
        mode.value(),
        triggers.len(),
        search.confirms_used,
        search.cost_used
    );
    Ok(triggers)
}

#[tokio::test]
async fn failing_tests_of_the_selected_job_come_from_its_logs() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let (seen, _) = failure_seen(&sandbox).await?;
    let report = selected_job_failures(
        client()?,
        &enabled(&sandbox),
        &page_url(&sandbox, seen).await?,
    )
    .await?;
    let tests = report.failures.failed_tests();
    assert_eq!(
        tests,
        vec!["browser/base/content/test/general/browser_tabs_close_beforeunload.js"],
        "{report:#?}"
    );
    assert_eq!(report.failed_tests, tests, "the list the popup shows");
    assert!(report.unavailable.is_empty(), "{:?}", report.unavailable);
    Ok(())
}

#[tokio::test]
async fn without_a_times_choice_the_failure_rate_sets_the_count_and_asks_first() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let request = plan_request(page_url(&sandbox, 21).await?, Mode::ToLastGood, 20, None);
    let planned = plan(client()?, &enabled(&sandbox), &request, &Ledger::default()).await?;
    // Runs count as failed only when they fail like the selected one.
    match &planned.scope {
        FailureScope::Signature { signature } => assert_eq!(
            signature.tests,
            ["browser/base/content/test/general/browser_tabs_close_beforeunload.js"]
        ),
        other => panic!("the selected job's signature, not {other:?}"),
    }
    assert!(
        planned
            .notes
            .iter()
            .any(|n| n.contains("fails like the selected job")
                && n.contains("infrastructure trouble")
                && n.contains("re-run")),
        "{:?}",
        planned.notes
    );
    let widened = PlanRequest {
        any_failure: true,
        ..request.clone()
    };
    let any = plan(client()?, &enabled(&sandbox), &widened, &Ledger::default()).await?;
    assert_eq!(any.scope, FailureScope::AnyFailure);
    let suggestion = planned
        .times_suggestion
        .as_ref()
        .context("a suggested count")?;
    // Pushes 21..=18 failed once each: rate (4 + 1/2) / (4 + 1) = 0.9, and
    // 0.1² <= 5%: two runs per push, one more on each of the four.
    assert_eq!(
        (suggestion.failures, suggestion.runs),
        (4, 4),
        "{}",
        suggestion.reason
    );
    assert_eq!(
        (planned.times, planned.jobs_started_now),
        (2, 4),
        "{planned:#?}"
    );
    assert!(
        planned.needs_confirmation,
        "a count the add-on chose is confirmed even below the limit"
    );
    assert!(
        planned.notes[0].starts_with("times 2 chosen from the failure rate: the job failed 4 of 4"),
        "{:?}",
        planned.notes
    );
    let chosen = PlanRequest {
        times: Some(2),
        ..request
    };
    let planned = plan(client()?, &enabled(&sandbox), &chosen, &Ledger::default()).await?;
    assert!(planned.times_suggestion.is_none());
    assert!(
        planned.needs_confirmation,
        "every plan started from a page waits for Confirm"
    );
    assert_eq!(planned.jobs_started_now, 4);
    Ok(())
}

/// BC1's finished runs on autoland: (push index, failed), oldest first.
async fn bc1_results(sandbox: &Sandbox) -> Result<Vec<(u64, bool)>> {
    let summary = admin_get(sandbox, "/__sandbox/summary?repo=autoland").await?;
    let index_of = |push_id: u64| {
        summary.as_array().and_then(|rows| {
            rows.iter()
                .find(|r| r["push_id"].as_u64() == Some(push_id))
                .and_then(|r| r["index"].as_u64())
        })
    };
    let label: String = url::form_urlencoded::byte_serialize(LABEL.as_bytes()).collect();
    let jobs = admin_get(
        sandbox,
        &format!("/__sandbox/jobs?repo=autoland&label={label}"),
    )
    .await?;
    let mut results: Vec<(u64, bool)> = jobs
        .as_array()
        .context("jobs")?
        .iter()
        .filter(|j| j["state"] == "completed")
        .filter_map(|j| {
            let index = index_of(j["push_id"].as_u64()?)?;
            Some((index, j["result"] == "testfailed"))
        })
        .collect();
    results.sort_unstable();
    Ok(results)
}

/// The demo's regression fails 70% of runs, so a push after it may pass:
/// select a failed run on a push whose last good push comes after an
/// earlier failure. Confirm first then ends the run at once ("not new
/// here"), as the panel says, and nothing is triggered.
#[tokio::test]
async fn find_culprit_stops_when_an_older_push_already_failed_the_same_way() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let http = client()?;
    let settings = enabled(&sandbox);
    let results = bc1_results(&sandbox).await?;
    let state_of = |index: u64| -> Option<bool> {
        let runs: Vec<bool> = results
            .iter()
            .filter(|(i, _)| *i == index)
            .map(|(_, failed)| *failed)
            .collect();
        (!runs.is_empty()).then(|| runs.contains(&true))
    };
    // (selected = failing, last good, older failing), newest choice first.
    let newest = results.last().map(|(i, _)| *i).context("runs")?;
    let pick = (1..=newest).rev().find_map(|failing| {
        if state_of(failing) != Some(true) {
            return None;
        }
        let good = (1..failing).rev().find(|&i| state_of(i) == Some(false))?;
        let older = (1..good).rev().find(|&i| state_of(i) == Some(true))?;
        Some((failing, good, older))
    });
    let (failing, good, older) = pick.context("the seeded runs have a pass after a failure")?;
    let summary = admin_get(&sandbox, "/__sandbox/summary?repo=autoland").await?;
    let revision = |index: u64| -> Result<String> {
        summary
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["index"].as_u64() == Some(index)))
            .and_then(|r| r["revision"].as_str())
            .map(str::to_string)
            .context("revision")
    };
    let request = plan_request(
        page_url(&sandbox, failing).await?,
        Mode::FindCulprit,
        12,
        None,
    );
    let planned = plan(http.clone(), &settings, &request, &Ledger::default()).await?;
    let run = planned
        .culprit
        .as_ref()
        .context("the plan carries the run")?;
    let Some(ConfirmFirstPlan::AlreadyFailing {
        failing: seen,
        last_good,
        older_failing,
    }) = &run.confirm_plan
    else {
        panic!("expected an older failure: {:?}", run.confirm_plan);
    };
    assert_eq!(seen.revision, revision(failing)?);
    assert_eq!(last_good.revision, revision(good)?);
    assert_eq!(older_failing.revision, revision(older)?);
    // The answer is in the plan: done, nothing to start, no Confirm asked.
    assert!(run.done && run.ended_by_confirm_first());
    assert_eq!(planned.jobs_started_now, 0);
    assert!(!planned.needs_confirmation);
    assert!(planned.rows.is_empty(), "{:?}", planned.rows);
    let older_short = &revision(older)?[..12];
    assert!(
        planned
            .summary
            .contains(&format!("already showed on push {older_short}"))
            && planned.summary.contains("no search"),
        "{}",
        planned.summary
    );
    // Executed anyway (an old panel, a second click): settled at once with
    // the same answer, and still nothing sent.
    let credentials = user_credentials(&sandbox).await?;
    let mut ledger = Ledger::default();
    let answer = execute_with_login(http, &settings, &planned, &credentials, &mut ledger).await?;
    assert!(answer.watch.settled);
    assert_eq!(
        answer.watch.verdict_text.as_deref(),
        Some(run.confirm_note.as_str())
    );
    assert!(ledger.records.is_empty());
    let sent = admin_get(&sandbox, "/__sandbox/requests?origin=taskcluster").await?;
    let posts: Vec<&Value> = sent
        .as_array()
        .context("request log")?
        .iter()
        .filter(|r| r["method"] == "POST")
        .collect();
    assert!(posts.is_empty(), "nothing triggered: {posts:#?}");
    eprintln!("{}", planned.summary);
    Ok(())
}

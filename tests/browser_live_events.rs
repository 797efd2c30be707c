//! Live job events in the browser: the real add-on follows a Taskcluster
//! backfill through the sandbox's GraphQL subscription endpoint
//! (`/subscription`, graphql-ws). Each job's completion must show in the
//! panel within seconds of the simulator finishing it (the one-minute alarm
//! would be far later), again after every socket is dropped, and neither a
//! message about an unknown task nor a malformed one may change anything.
//! Runs that finish while the endpoint is down still show once it is back
//! (the reconnection reconciles). The sandbox's request log shows every
//! trigger sent once.
//! Needs `scripts/build-addon` and `cargo build -p mozci-sandbox` first.
#![cfg(not(target_arch = "wasm32"))]

use anyhow::{ensure, Context, Result};
use mozci_harness::panel::{
    click_backfill_and_confirm, open_job_view_logged_in, open_popup_from_panel,
};
use mozci_harness::{run_browser_test, Browser, Sandbox, SandboxAdmin};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);
const LABEL: &str = "test-linux64/opt-mochitest-browser-chrome-1";
/// How soon a change must show: well under the alarm's minute, so that
/// only live events can do it, with room for a loaded machine (a poll
/// already under way when the news comes is waited for). How soon it
/// shows on an idle machine is the live-events benchmark's to measure
/// (about a tenth of a second).
const SHOWN_WITHIN: Duration = Duration::from_secs(15);
/// Simulated seconds per clock step: short enough that runs finish in
/// different steps.
const STEP: i64 = 30;

/// Jobs of `LABEL` on `push_id` still pending or running.
async fn in_progress(admin: &SandboxAdmin, push_id: u64) -> Result<usize> {
    let jobs = admin.jobs("autoland", push_id, LABEL).await?;
    Ok(jobs.iter().filter(|j| j["state"] != "completed").count())
}

/// The job view with `LABEL` of autoland's push `index` selected, and the
/// demo user's Taskcluster login in the page's localStorage.
async fn open_job_page(
    browser: &Browser,
    sandbox: &Sandbox,
    admin: &SandboxAdmin,
    index: u64,
) -> Result<()> {
    let push = admin.push_at("autoland", index).await?;
    open_job_view_logged_in(browser, sandbox, admin, &push, LABEL).await
}

/// The panel's "… pending/running" count for a push, if shown.
async fn shown_in_progress(browser: &Browser, push_id: u64) -> Result<Option<usize>> {
    let text = browser
        .js(&format!(
            "return document.querySelector('#mozci-panel tr[data-push-id=\"{push_id}\"]')?.textContent ?? null;"
        ))
        .await?;
    Ok(text.as_str().and_then(|t| {
        let before = t.strip_suffix(" pending/running")?;
        before.rsplit(' ').next()?.parse().ok()
    }))
}

/// Moves the clock by `STEP` until at most `until` runs are unfinished;
/// after every step, each push whose count of unfinished runs changed must
/// show the new count within `SHOWN_WITHIN`, without anyone clicking.
/// Returns the latencies seen.
async fn step_and_watch(
    browser: &Browser,
    admin: &SandboxAdmin,
    pushes: &[u64],
    until: usize,
    known: &mut BTreeMap<u64, usize>,
) -> Result<Vec<Duration>> {
    let mut latencies = Vec::new();
    for _ in 0..(8 * 3600 / STEP) {
        if known.values().sum::<usize>() <= until {
            break;
        }
        admin
            .post("/__sandbox/advance", json!({ "seconds": STEP }))
            .await?;
        let moved = Instant::now();
        for &push in pushes {
            let expected = in_progress(admin, push).await?;
            if known.get(&push) == Some(&expected) {
                continue;
            }
            loop {
                if shown_in_progress(browser, push).await? == Some(expected) {
                    latencies.push(moved.elapsed());
                    break;
                }
                ensure!(
                    moved.elapsed() < SHOWN_WITHIN,
                    "push {push}: {expected} run(s) unfinished in the sandbox, the panel still shows {:?} after {:?}",
                    shown_in_progress(browser, push).await?,
                    moved.elapsed()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            known.insert(push, expected);
        }
    }
    Ok(latencies)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backfills_panel_shows_each_completion_from_the_subscription_also_after_a_drop(
) -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let admin = SandboxAdmin::new(&sandbox);
    run_browser_test("live_events_backfill", async |browser| {
        // Push 21: four pushes to fill.
        open_job_page(browser, &sandbox, &admin, 21).await?;
        let before = admin.last_request_id().await?;
        // The popup's page, in a tab of its own, stays open through the run.
        let page = browser.client.window().await?;
        browser.click_when_ready("#mozci-backfill-btn", WAIT).await?;
        let popup = open_popup_from_panel(browser, WAIT).await?;
        browser.client.switch_to_window(page.clone()).await?;
        ensure!(click_backfill_and_confirm(browser, WAIT).await? == "running");
        let sent = admin.hook_calls_after(before).await?;
        let after_execution = admin.last_request_id().await?;

        // The background subscribes to the pushes' decision task groups and
        // to the actions' groups, and says so.
        browser.wait_for("#mozci-panel .mozci-mode-live", WAIT).await?;
        let subscriptions = admin.get("/__sandbox/subscriptions").await?;
        ensure!(subscriptions["open"] == 1, "{subscriptions}");
        let groups: Vec<String> = subscriptions["task_groups"]
            .as_object()
            .map(|g| g.keys().cloned().collect())
            .unwrap_or_default();
        ensure!(groups.len() >= 3, "decision and action task groups: {subscriptions}");
        browser.screenshot("live").await?;
        // The popup says so too.
        browser.client.switch_to_window(popup.clone()).await?;
        browser.wait_for("#runs .run-mode-live", WAIT).await?;
        browser.client.switch_to_window(page.clone()).await?;

        let rows = browser
            .js("return [...document.querySelectorAll('#mozci-panel tr[data-push-id]')].map(r => Number(r.dataset.pushId));")
            .await?;
        let pushes: Vec<u64> = serde_json::from_value(rows)?;
        ensure!(pushes.len() == 4, "pushes {pushes:?}");
        // Among them, the task groups of the action tasks the triggers ran
        // (where the new runs are).
        let mut actions = 0;
        for &push in &pushes {
            let jobs = admin.get(&format!("/__sandbox/jobs?repo=autoland&push_id={push}")).await?;
            for action in jobs.as_array().context("jobs")?.iter().filter(|j| j["kind"] == "action") {
                let task = action["taskcluster"]["task_id"].as_str().context("action task")?;
                ensure!(groups.iter().any(|g| g == task), "action group {task} not subscribed: {groups:?}");
                actions += 1;
            }
        }
        ensure!(actions == sent.len(), "{actions} action tasks for {} hook triggers", sent.len());
        ensure!(sent.len() == pushes.len(), "{} hook triggers for {} pushes", sent.len(), pushes.len());

        // Neither a message about a task nobody knows nor a malformed one
        // changes what the panel shows or sends anything.
        let shown_before: Vec<Option<usize>> = {
            let mut v = Vec::new();
            for &p in &pushes {
                v.push(shown_in_progress(browser, p).await?);
            }
            v
        };
        for group in &groups {
            for message in ["unknown-task", "malformed"] {
                admin
                    .post("/__sandbox/subscriptions/inject", json!({"taskGroupId": group, "message": message}))
                    .await?;
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        for (i, &p) in pushes.iter().enumerate() {
            ensure!(shown_in_progress(browser, p).await? == shown_before[i], "push {p} changed on injected messages");
        }
        ensure!(admin.hook_calls_after(after_execution).await?.is_empty(), "injected messages triggered something");
        ensure!(browser.js("return !!document.querySelector('#mozci-panel .mozci-mode-live');").await? == json!(true));

        // Half the work finishes while subscribed: each change shows at once.
        let mut known = BTreeMap::new();
        for &p in &pushes {
            known.insert(p, in_progress(&admin, p).await?);
        }
        let total: usize = known.values().sum();
        ensure!(total >= 4, "{total} runs to watch");
        let before_drop = step_and_watch(browser, &admin, &pushes, total / 2, &mut known).await?;
        ensure!(!before_drop.is_empty(), "no change seen before the drop");

        // Every socket drops: the add-on says it polls, reconnects with
        // backoff, reconciles, and is live again.
        admin.post("/__sandbox/subscriptions/drop", json!({})).await?;
        let deadline = Instant::now() + WAIT;
        while !browser.console_log().contains("lost; polling every minute until they are back") {
            ensure!(Instant::now() < deadline, "the drop went unnoticed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let stats = admin.get("/__sandbox/subscriptions").await?;
            if stats["opened"].as_u64() >= Some(2) && stats["open"] == 1 {
                break;
            }
            ensure!(Instant::now() < deadline, "no new socket after the drop: {stats}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        browser.wait_for("#mozci-panel .mozci-mode-live", WAIT).await?;

        // More finishes: each change shows at once again.
        let left = known.values().sum::<usize>().saturating_sub(1);
        let after_drop = step_and_watch(browser, &admin, &pushes, left, &mut known).await?;
        ensure!(!after_drop.is_empty(), "no change seen after the drop");
        let latencies: Vec<Duration> = before_drop.iter().chain(&after_drop).copied().collect();

        // The endpoint goes down and the last runs finish while the add-on
        // hears nothing: it says it polls, and once the endpoint is back its
        // reconnection's reconciling poll shows every final state.
        admin.post("/__sandbox/subscriptions/refuse", json!({"refuse": true})).await?;
        let deadline = Instant::now() + WAIT;
        while browser.console_log().matches("lost; polling every minute until they are back").count() < 2 {
            ensure!(Instant::now() < deadline, "the endpoint going down went unnoticed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        browser.wait_for("#mozci-panel .mozci-mode-polling", WAIT).await?;
        for _ in 0..(8 * 3600 / STEP) {
            let mut unfinished = 0;
            for &p in &pushes {
                unfinished += in_progress(&admin, p).await?;
            }
            if unfinished == 0 {
                break;
            }
            admin.post("/__sandbox/advance", json!({ "seconds": STEP })).await?;
        }
        admin.post("/__sandbox/subscriptions/refuse", json!({"refuse": false})).await?;
        // The reconnections backed off while refused (up to a minute apart),
        // and the alarm polls once a minute: the next of either, and a poll.
        let verdict = browser
            .wait_for_js(
                "document.querySelector('#mozci-panel[data-state=\"done\"] .mozci-verdict')?.textContent",
                Duration::from_secs(90),
            )
            .await
            .context("the final states missed while deaf never showed")?;
        for &p in &pushes {
            ensure!(shown_in_progress(browser, p).await? == Some(0), "push {p} not shown finished");
        }
        ensure!(verdict.as_str().is_some_and(|v| !v.is_empty()), "verdict {verdict}");
        browser.screenshot("done").await?;
        // The popup caught up by itself: the run's answer, no mode any more.
        browser.client.switch_to_window(popup).await?;
        let verdict_text = verdict.as_str().unwrap_or_default().to_string();
        browser
            .wait_for_js(
                &format!(
                    "document.querySelector('#runs .run-state')?.textContent === {} && !document.querySelector('#runs .run-mode')",
                    serde_json::to_string(&verdict_text)?
                ),
                SHOWN_WITHIN,
            )
            .await
            .context("the popup did not show the answer by itself")?;
        browser.client.switch_to_window(page).await?;
        let slowest = latencies.iter().max().copied().unwrap_or_default();
        println!(
            "live events: {} changes shown before the drop, {} after, slowest after {slowest:?}",
            before_drop.len(),
            after_drop.len()
        );

        // Nothing was sent twice: the reactions' hook triggers (if any) were
        // each accepted and each is a different request.
        let reactions = admin.hook_calls_after(after_execution).await?;
        let mut bodies: Vec<&str> = reactions.iter().filter_map(|r| r["body"].as_str()).collect();
        ensure!(reactions.iter().all(|r| r["status"] == 200), "reactions refused: {reactions:#?}");
        let count = bodies.len();
        bodies.sort_unstable();
        bodies.dedup();
        ensure!(bodies.len() == count, "a trigger was sent twice: {reactions:#?}");
        // Once settled, the socket is closed.
        let deadline = Instant::now() + WAIT;
        while admin.get("/__sandbox/subscriptions").await?["open"] != 0 {
            ensure!(Instant::now() < deadline, "the socket outlived the run");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(())
    })
    .await
}

//! The add-on accounts for every trigger exactly once when answers are lost:
//! the real add-on in headless Firefox ESR on the `mozci-sandbox` pages, the
//! sandbox's request log as the witness. Needs `scripts/build-addon` and
//! `cargo build -p mozci-sandbox` first.
#![cfg(not(target_arch = "wasm32"))]

use anyhow::{ensure, Result};
use mozci_harness::panel::{
    check_now_unless_settled, choose_in_options, click_backfill_afresh,
    click_backfill_and_confirm_settling, open_autoland_job_at, open_options_from_panel,
};
use mozci_harness::{run_browser_test, Browser, Sandbox, SandboxAdmin};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const LABEL: &str = "test-linux64/opt-mochitest-browser-chrome-1";
/// Fails intermittently on push 8: a culprit search there takes many rounds.
const FLAKY_LABEL: &str = "test-linux64/opt-xpcshell";

/// The job view with `LABEL` of autoland's push `index` selected.
async fn open_job_page(
    browser: &Browser,
    sandbox: &Sandbox,
    admin: &SandboxAdmin,
    index: u64,
) -> Result<()> {
    open_autoland_job_at(browser, sandbox, admin, index, LABEL).await
}

/// Open the options page from the panel's link (the add-on opens it in a
/// new tab) and switch to it once it is filled in.
async fn open_options(browser: &Browser) -> Result<()> {
    click_backfill_afresh(browser, WAIT).await?;
    open_options_from_panel(browser, WAIT).await?;
    Ok(())
}

/// A real click on Backfill, and on Confirm if the plan asks for it; waits
/// `patience` for the panel to settle and returns its state.
async fn click_backfill(browser: &Browser, patience: Duration) -> Result<String> {
    click_backfill_and_confirm_settling(browser, WAIT, patience).await
}

fn backfill_actions(calls: &[Value]) -> Vec<&Value> {
    calls
        .iter()
        .filter(|c| {
            c["body"]
                .as_str()
                .is_some_and(|b| b.contains("\"cb_name\":\"backfill\""))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timed_out_backfill_action_is_unknown_and_a_second_click_sends_nothing() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let admin = SandboxAdmin::new(&sandbox);
    run_browser_test("exactly_once_backfill_action", async |browser| {
        open_job_page(browser, &sandbox, &admin, 21).await?;
        // Taskcluster's own backfill action: 2 earlier pushes, 1 run each.
        choose_in_options(browser, "ci_backfill", "2", "1", WAIT).await?;
        // The action is carried out, then its answer comes after the
        // add-on's 30 s request timeout.
        admin
            .post(
                "/__sandbox/faults",
                json!({ "taskcluster": { "after_applied": { "kind": "delay", "ms": 45_000 } } }),
            )
            .await?;
        let state = click_backfill(browser, Duration::from_secs(90)).await?;
        browser.screenshot("after_timeout").await?;
        admin.post("/__sandbox/faults", json!({})).await?;
        let panel = browser
            .js("return document.getElementById('mozci-panel')?.textContent || '';")
            .await?;
        let panel = panel.as_str().unwrap_or_default();
        ensure!(state == "running", "panel state {state}: {panel}");
        ensure!(panel.contains("unknown, possibly scheduled"), "{panel}");
        // Not a refusal and not a failure: the run is watched for its runs.
        ensure!(!panel.contains("refused"), "{panel}");
        let actions = backfill_actions(&admin.hook_calls_after(0).await?).len();
        ensure!(
            actions == 1,
            "{actions} backfill actions after the first click"
        );

        // A second click: the run is shown, nothing is planned or sent again.
        let state = click_backfill(browser, WAIT).await?;
        ensure!(state == "running", "second click: {state}");
        tokio::time::sleep(Duration::from_secs(2)).await;
        let calls = admin.hook_calls_after(0).await?;
        let actions = backfill_actions(&calls);
        ensure!(
            actions.len() == 1,
            "exactly one backfill action: {calls:#?}"
        );
        ensure!(
            actions[0]["status"] == 200,
            "it was carried out: {}",
            actions[0]
        );
        ensure!(
            actions[0]["user"]
                .as_str()
                .is_some_and(|u| u.contains("sheriff")),
            "signed by the demo user: {}",
            actions[0]
        );
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_plan_confirmed_after_another_run_sends_nothing() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let admin = SandboxAdmin::new(&sandbox);
    run_browser_test("exactly_once_stale_plan", async |browser| {
        // Tab 1: a backfill to the last good push, planned and left waiting
        // for its Confirm.
        open_job_page(browser, &sandbox, &admin, 21).await?;
        let first_tab = browser.client.window().await?;
        browser.click_when_ready("#mozci-backfill-btn", WAIT).await?;
        browser.wait_for("#mozci-panel[data-state='plan'] .mozci-confirm", WAIT).await?;

        // Tab 2: the same backfill, confirmed, carried out and finished.
        let second_tab = browser.client.new_window(true).await?.handle;
        browser.client.switch_to_window(second_tab).await?;
        open_job_page(browser, &sandbox, &admin, 21).await?;
        let state = click_backfill(browser, WAIT).await?;
        ensure!(state == "running", "the other run: {state}");
        ensure!(!admin.hook_calls_after(0).await?.is_empty(), "the other run sent its triggers");
        admin.post("/__sandbox/advance", json!({ "seconds": 4 * 3600 })).await?;
        check_now_unless_settled(browser, WAIT).await?;
        browser.wait_for("#mozci-panel[data-state='done']", Duration::from_secs(60)).await?;
        let sent = admin.hook_calls_after(0).await?.len();

        // Back in tab 1, the old plan is confirmed: its pushes are read
        // again, the other run's runs are there, nothing is sent.
        browser.client.switch_to_window(first_tab).await?;
        browser.click_when_ready("#mozci-panel .mozci-confirm", WAIT).await?;
        browser
            .wait_for_js(
                "(() => { const s = document.getElementById('mozci-panel')?.dataset.state; return ['running','done','failed'].includes(s) ? s : null; })()",
                WAIT,
            )
            .await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        browser.screenshot("stale_confirmed").await?;
        let calls = admin.hook_calls_after(0).await?;
        ensure!(calls.len() == sent, "the stale plan sent {} more: {calls:#?}", calls.len() - sent);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_execution_and_a_poll_at_once_lose_no_record() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let admin = SandboxAdmin::new(&sandbox);
    run_browser_test("exactly_once_execute_and_poll", async |browser| {
        // Run A: a culprit search, its first round sent; its next poll sends
        // the next round once the clock has moved.
        open_autoland_job_at(browser, &sandbox, &admin, 8, FLAKY_LABEL).await?;
        // Job runs only: a search over the 8 pushes (confirm first would
        // stop at the flake's last good push).
        choose_in_options(browser, "find_culprit_runs_only", "8", "1", WAIT).await?;
        ensure!(
            click_backfill(browser, WAIT).await? == "running",
            "the search started"
        );
        let search_tab = browser.client.window().await?;

        // Run B in another tab: a backfill whose hook calls are answered 8 s
        // late, confirmed; while it is being sent, run A is polled.
        let backfill_tab = browser.client.new_window(true).await?.handle;
        browser
            .client
            .switch_to_window(backfill_tab.clone())
            .await?;
        open_job_page(browser, &sandbox, &admin, 21).await?;
        // Times chosen by the add-on: every plan waits for its Confirm (the
        // click that opens the options later starts nothing).
        choose_in_options(browser, "to_last_good", "20", "auto", WAIT).await?;
        let before = admin.hook_calls_after(0).await?.len();
        // A's runs finish only now, after `before`: A's own alarm (once a
        // minute) may send its next round from here on, and that round
        // must count as sent during B's execution either way.
        admin
            .post("/__sandbox/advance", json!({ "seconds": 3600 }))
            .await?;
        admin
            .post(
                "/__sandbox/faults",
                json!({ "taskcluster": { "after_applied": { "kind": "delay", "ms": 8_000 } } }),
            )
            .await?;
        click_backfill_afresh(browser, WAIT).await?;
        browser
            .click_when_ready("#mozci-panel .mozci-confirm", WAIT)
            .await?;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        browser.client.switch_to_window(search_tab).await?;
        check_now_unless_settled(browser, WAIT).await?;

        // Both finish: B's panel shows its run, and the hook log stops growing.
        browser.client.switch_to_window(backfill_tab).await?;
        browser
            .wait_for(
                "#mozci-panel[data-state='running']",
                Duration::from_secs(60),
            )
            .await?;
        // Quiet for 20 s: each call's answer is held 8 s, and the add-on
        // takes its time before the next on a loaded machine.
        let mut calls = admin.hook_calls_after(0).await?;
        loop {
            tokio::time::sleep(Duration::from_secs(20)).await;
            let now = admin.hook_calls_after(0).await?;
            if now.len() == calls.len() {
                break;
            }
            calls = now;
        }
        admin.post("/__sandbox/faults", json!({})).await?;
        let sent_now = &calls[before..];
        let sent_for = |label: &str| {
            sent_now
                .iter()
                .filter(|c| c["body"].as_str().is_some_and(|b| b.contains(label)))
                .count()
        };
        ensure!(
            sent_for(LABEL) > 0 && sent_for(FLAKY_LABEL) > 0,
            "both runs sent at once: {sent_now:#?}"
        );

        // Every hook call the sandbox carried out has its record in the
        // add-on's ledger, whichever of the two wrote last (read from the
        // options page, reached from a job with no run).
        open_job_page(browser, &sandbox, &admin, 3).await?;
        open_options(browser).await?;
        let ledger = browser
            .js("return browser.storage.local.get('ledger').then((r) => r.ledger);")
            .await?;
        let records = ledger["records"].as_array().cloned().unwrap_or_default();
        let accepted: Vec<&Value> = records
            .iter()
            .filter(|r| r["outcome"]["outcome"] == "accepted")
            .collect();
        let carried_out = admin
            .hook_calls_after(0)
            .await?
            .iter()
            .filter(|c| c["status"] == 200)
            .count();
        ensure!(
            accepted.len() == carried_out,
            "{} accepted records for {carried_out} hook calls: {records:#?}",
            accepted.len()
        );
        for label in [LABEL, FLAKY_LABEL] {
            ensure!(
                accepted.iter().any(|r| r["job_name"] == label),
                "no record of {label}: {records:#?}"
            );
        }
        Ok(())
    })
    .await
}

//! The add-on on a sandbox's Treeherder page, driven as a user would: the
//! browser tests and the benchmarks open a job view logged in, click
//! Backfill and Confirm, and reach the options from the panel, through
//! here.

use crate::addon_url;
use crate::admin::SandboxAdmin;
use crate::firefox::Browser;
use crate::sandbox::Sandbox;
use anyhow::{ensure, Context, Result};
use fantoccini::wd::WindowHandle;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A trusted click on the page's Backfill button, then Confirm when the
/// panel shows a plan; returns the panel's state once the run is under way
/// or over (`running`, `done` or `failed`), or `plan` when the plan has
/// nothing to trigger. Each wait lasts up to `wait`.
pub async fn click_backfill_and_confirm(browser: &Browser, wait: Duration) -> Result<String> {
    click_backfill_and_confirm_settling(browser, wait, wait).await
}

/// A trusted click on the page's Backfill button, once the panel of an
/// earlier click is gone, so that it is not mistaken for this click's.
pub async fn click_backfill_afresh(browser: &Browser, wait: Duration) -> Result<()> {
    browser
        .js("document.getElementById('mozci-panel')?.remove(); return true;")
        .await?;
    browser
        .click_when_ready("#mozci-backfill-btn", wait)
        .await?;
    Ok(())
}

/// Clicks the panel's "Check now" (a poll at once), unless the run settles
/// first: live events can settle it between a move of the sandbox's clock
/// and the click, and a settled panel has no such button. Waits up to
/// `wait` for one or the other.
pub async fn check_now_unless_settled(browser: &Browser, wait: Duration) -> Result<()> {
    let found = browser
        .wait_for_js(
            "document.getElementById('mozci-panel')?.dataset.state === 'done' ? 'done' : (document.querySelector('#mozci-panel .mozci-check-now:not([disabled])') ? 'check' : null)",
            wait,
        )
        .await?;
    if found == "check" {
        if let Err(e) = browser
            .click_when_ready("#mozci-panel .mozci-check-now", Duration::from_secs(2))
            .await
        {
            // Gone between the look and the click: the run settled.
            eprintln!("Check now went away before the click ({e:#})");
        }
    }
    Ok(())
}

/// [`click_backfill_and_confirm`], waiting up to `settle` (not `wait`) for
/// the panel to settle after Confirm: for runs whose answer is slow to
/// come on purpose (a timed-out request).
pub async fn click_backfill_and_confirm_settling(
    browser: &Browser,
    wait: Duration,
    settle: Duration,
) -> Result<String> {
    click_backfill_afresh(browser, wait).await?;
    let state = browser
        .wait_for_js(
            "(() => { const s = document.getElementById('mozci-panel')?.dataset.state; return s && s !== 'planning' ? s : null; })()",
            wait,
        )
        .await?;
    if state == "plan" {
        if let Ok(confirm) = browser
            .wait_for("#mozci-panel .mozci-confirm", Duration::from_secs(2))
            .await
        {
            confirm.click().await?;
        }
    }
    let state = browser
        .wait_for_js(
            "(() => { const p = document.getElementById('mozci-panel'); const s = p?.dataset.state; return ['running','done','failed'].includes(s) || (s === 'plan' && p.textContent.includes('Nothing to trigger')) ? s : null; })()",
            settle,
        )
        .await?;
    Ok(state.as_str().unwrap_or_default().to_string())
}

/// How long each step of opening a page may take.
const PAGE_WAIT: Duration = Duration::from_secs(30);

/// Stores the sandbox's demo user's Taskcluster login in the page's
/// `localStorage.userCredentials`, as Treeherder does when a user logs in.
pub async fn store_demo_login(
    browser: &Browser,
    sandbox: &Sandbox,
    admin: &SandboxAdmin,
) -> Result<()> {
    let demo = admin.get("/__sandbox/demo-credentials").await?;
    let stored = json!({ sandbox.origins.taskcluster.clone(): {
        "credentials": { "clientId": demo["clientId"], "accessToken": demo["accessToken"] },
        "expires": "2099-01-01T00:00:00.000Z",
    }});
    browser
        .js(&format!(
            "localStorage.setItem('userCredentials', {}); return true;",
            serde_json::to_string(&stored.to_string())?
        ))
        .await?;
    Ok(())
}

/// The job view of autoland's `push` (a `/__sandbox/summary` row) with the
/// first run of `label` selected, the demo user logged in
/// ([`store_demo_login`]), once the add-on's Backfill button is ready.
pub async fn open_job_view_logged_in(
    browser: &Browser,
    sandbox: &Sandbox,
    admin: &SandboxAdmin,
    push: &Value,
    label: &str,
) -> Result<()> {
    let push_id = push["push_id"].as_u64().context("push_id")?;
    let revision = push["revision"].as_str().context("revision")?;
    let jobs = admin.jobs("autoland", push_id, label).await?;
    let job = jobs.first().context("the job")?;
    let task = job["taskcluster"]["task_id"].as_str().context("task id")?;
    let run = job["taskcluster"]["retry_id"].as_u64().unwrap_or(0);
    browser
        .goto(&format!(
            "{}/jobs?repo=autoland&revision={revision}&selectedTaskRun={task}.{run}",
            sandbox.origins.treeherder
        ))
        .await?;
    browser.wait_for("body[data-th-ready]", PAGE_WAIT).await?;
    store_demo_login(browser, sandbox, admin).await?;
    browser
        .wait_for(
            "#mozci-backfill-btn[data-mozci-core]:not([aria-disabled='true'])",
            PAGE_WAIT,
        )
        .await?;
    Ok(())
}

/// [`open_job_view_logged_in`] on the job `label` of autoland's push at
/// scenario `index`.
pub async fn open_autoland_job_at(
    browser: &Browser,
    sandbox: &Sandbox,
    admin: &SandboxAdmin,
    index: u64,
    label: &str,
) -> Result<()> {
    let push = admin.push_at("autoland", index).await?;
    open_job_view_logged_in(browser, sandbox, admin, &push, label).await
}

/// Follows the panel's link to the options page (the add-on opens it in a
/// new tab) and switches to that tab once the page is ready; returns it.
/// Each wait lasts up to `wait`.
pub async fn open_options_from_panel(browser: &Browser, wait: Duration) -> Result<WindowHandle> {
    let before = browser.client.windows().await?;
    browser
        .click_when_ready("#mozci-panel .mozci-options-link", wait)
        .await?;
    let deadline = Instant::now() + wait;
    let options = loop {
        let now = browser.client.windows().await?;
        if let Some(tab) = now.into_iter().find(|tab| !before.contains(tab)) {
            break tab;
        }
        ensure!(Instant::now() < deadline, "the options page did not open");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    browser.client.switch_to_window(options.clone()).await?;
    let options_url = addon_url("extension/options.html");
    browser
        .wait_for_js(
            &format!(
                "location.href === {options_url:?} && document.body?.dataset.ready === 'true'"
            ),
            wait,
        )
        .await
        .context("the options page did not get ready")?;
    Ok(options)
}

/// The popup's page in a tab of its own: WebDriver can neither open the
/// toolbar popup nor navigate a tab to an extension page, but the options
/// page the panel links to (same extension) can load the popup's page.
/// Returns that tab, switched to, once the popup has filled in its choices.
pub async fn open_popup_from_panel(browser: &Browser, wait: Duration) -> Result<WindowHandle> {
    let tab = open_options_from_panel(browser, wait).await?;
    browser
        .js("location.href = 'popup.html'; return true;")
        .await?;
    browser
        .wait_for_js(
            "location.pathname.endsWith('/popup.html') && document.querySelectorAll('#times option').length === 11",
            wait,
        )
        .await
        .context("the popup's page did not fill in its choices")?;
    Ok(tab)
}

/// Follows the panel's link to the options page, runs `fill` there, saves,
/// and comes back to the page.
pub async fn through_options(
    browser: &Browser,
    wait: Duration,
    fill: impl AsyncFnOnce(&Browser) -> Result<()>,
) -> Result<()> {
    let page = browser.client.window().await?;
    open_options_from_panel(browser, wait).await?;
    fill(browser).await?;
    save_options_and_return(browser, page, wait).await
}

/// Chooses the mode, depth and times (`auto` or 1–10) in the options,
/// reached from the link of the panel a fresh Backfill click opens, saves,
/// and comes back to the page.
pub async fn choose_in_options(
    browser: &Browser,
    mode: &str,
    depth: &str,
    times: &str,
    wait: Duration,
) -> Result<()> {
    click_backfill_afresh(browser, wait).await?;
    through_options(browser, wait, async |b| {
        b.wait_for("#mode", wait)
            .await?
            .select_by_value(mode)
            .await?;
        b.wait_for("#times", wait)
            .await?
            .select_by_value(times)
            .await?;
        let depth_input = b.wait_for("#depth", wait).await?;
        depth_input.clear().await?;
        depth_input.send_keys(depth).await?;
        Ok(())
    })
    .await
}

/// Enters BuildAPI's Basic credentials (`user`, `password`) in the options,
/// reached from the panel's link (after Self-Serve refused), saves, and
/// comes back to the page.
pub async fn log_in_through_options(
    browser: &Browser,
    user: &str,
    password: &str,
    wait: Duration,
) -> Result<()> {
    through_options(browser, wait, async |b| {
        b.wait_for("#buildapi-user", wait)
            .await?
            .send_keys(user)
            .await?;
        b.wait_for("#buildapi-password", wait)
            .await?
            .send_keys(password)
            .await?;
        Ok(())
    })
    .await
}

/// On the options page: Save, wait until it says so, then close its tab
/// and go back to `page`.
pub async fn save_options_and_return(
    browser: &Browser,
    page: WindowHandle,
    wait: Duration,
) -> Result<()> {
    browser.click_when_ready("#save", wait).await?;
    browser
        .wait_for_js(
            "document.getElementById('status').textContent === 'Saved.'",
            wait,
        )
        .await
        .context("the options were not saved")?;
    browser.client.close_window().await?;
    browser.client.switch_to_window(page).await?;
    Ok(())
}

//! Browser tests of what the add-on trusts (docs/threat-model.md), with
//! local servers as adversaries. The real add-on (development build) runs in
//! headless Firefox ESR with the user's BuildAPI login entered in its
//! options and the `mozci-sandbox` enabled there, as the harness does for
//! every sandbox a test starts. Then:
//! - an impostor Treeherder on another loopback port serves the sandbox's
//!   pages through a proxy and answers `/__sandbox/state` itself, naming a
//!   logging proxy as its BuildAPI: a real click on Backfill (content-script
//!   route) and the toolbar popup's preview (popup route) must send the
//!   login nowhere, and nothing at all to the logger;
//! - a page that plants its own `#mozci-backfill-btn` gets nothing from
//!   Shift+B, which acts only through the add-on's own button.
//!
//! Each assertion reads the logger's record and the sandbox's request log.
//! Needs `scripts/build-addon` and `cargo build -p mozci-sandbox` first.
#![cfg(not(target_arch = "wasm32"))]

use anyhow::{anyhow, ensure, Context, Result};
use mozci_harness::fantoccini::actions::{InputSource, KeyAction, KeyActions};
use mozci_harness::fantoccini::key::Key;
use mozci_harness::panel::{
    click_backfill_afresh, log_in_through_options, open_options_from_panel, store_demo_login,
};
use mozci_harness::proxy::RecordingProxy;
use mozci_harness::{run_browser_test, Browser, Sandbox, SandboxAdmin};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const BUILDER: &str = "Ubuntu VM 12.04 x64 mozilla-inbound opt test mochitest-1";
const LABEL: &str = "test-linux64/opt-mochitest-browser-chrome-1";
const USER: &str = "sheriff@mozilla.com";
const PASSWORD: &str = "sheriff-password";
/// Long enough for a plan's reads to have gone out had any started.
const SETTLE: Duration = Duration::from_secs(3);

async fn admin_get(sandbox: &Sandbox, path: &str) -> Result<Value> {
    SandboxAdmin::new(sandbox).get(path).await
}

/// Id of the sandbox's newest logged request (0 when none).
async fn last_request_id(sandbox: &Sandbox) -> Result<u64> {
    SandboxAdmin::new(sandbox).last_request_id().await
}

/// The sandbox's log after request `after`, every origin.
async fn requests_after(sandbox: &Sandbox, after: u64) -> Result<Vec<Value>> {
    SandboxAdmin::new(sandbox).requests_after(None, after).await
}

/// What the sandbox logged after `after` (it logs every request that can
/// change something) that a leak or a trigger would leave: any request its
/// BuildAPI authenticated (a `user`), any POST.
async fn leaks_and_triggers(sandbox: &Sandbox, after: u64) -> Result<Vec<Value>> {
    Ok(requests_after(sandbox, after)
        .await?
        .into_iter()
        .filter(|r| !r["user"].is_null() || r["method"] == "POST")
        .collect())
}

/// The job view path (`/legacy#/jobs?…`) of mozilla-inbound's Buildbot
/// mochitest-1 on its push `index`.
async fn legacy_job_path(sandbox: &Sandbox, index: u64) -> Result<String> {
    let summary = admin_get(sandbox, "/__sandbox/summary?repo=mozilla-inbound").await?;
    let push = summary
        .as_array()
        .and_then(|a| a.iter().find(|p| p["index"].as_u64() == Some(index)))
        .ok_or_else(|| anyhow!("no push {index} of mozilla-inbound"))?;
    let push_id = push["push_id"].as_u64().context("push_id")?;
    let builder: String = url::form_urlencoded::byte_serialize(BUILDER.as_bytes()).collect();
    let jobs = admin_get(
        sandbox,
        &format!("/__sandbox/jobs?repo=mozilla-inbound&push_id={push_id}&label={builder}"),
    )
    .await?;
    let job_id = jobs[0]["id"].as_u64().context("job id")?;
    Ok(format!(
        "/legacy#/jobs?repo=mozilla-inbound&revision={}&selectedJob={job_id}",
        push["revision"].as_str().context("revision")?
    ))
}

/// The current job view (`/jobs?…`) of autoland's Taskcluster `LABEL` on its push `index`.
async fn current_job_path(sandbox: &Sandbox, index: u64) -> Result<String> {
    let summary = admin_get(sandbox, "/__sandbox/summary?repo=autoland").await?;
    let push = summary
        .as_array()
        .and_then(|a| a.iter().find(|p| p["index"].as_u64() == Some(index)))
        .ok_or_else(|| anyhow!("no push {index} of autoland"))?;
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
        "/jobs?repo=autoland&revision={}&selectedTaskRun={task}.0",
        push["revision"].as_str().context("revision")?
    ))
}

/// Open `url` and wait for the add-on's enabled Backfill button.
async fn open_page(browser: &Browser, url: &str) -> Result<()> {
    // A fresh document, also when only the fragment differs.
    browser.goto("about:blank").await?;
    browser.goto(url).await?;
    browser.wait_for("body[data-th-ready]", WAIT).await?;
    browser
        .wait_for(
            "#mozci-backfill-btn[data-mozci-core]:not([aria-disabled='true'])",
            WAIT,
        )
        .await?;
    Ok(())
}

/// Click Backfill for real; returns the panel once it left "planning".
async fn click_backfill(browser: &Browser) -> Result<(String, String)> {
    click_backfill_afresh(browser, WAIT).await?;
    let state = browser
        .wait_for_js(
            "(() => { const s = document.getElementById('mozci-panel')?.dataset.state; return s && s !== 'planning' ? s : null; })()",
            WAIT,
        )
        .await?;
    let text = browser
        .js("return document.getElementById('mozci-panel').textContent;")
        .await?;
    Ok((
        state.as_str().unwrap_or_default().to_string(),
        text.as_str().unwrap_or_default().to_string(),
    ))
}

/// The user's first Buildbot backfill on the real sandbox: BuildAPI says
/// 401, the panel links to the options, the login is entered and saved
/// there (for this session only: "remember" is not ticked).
async fn log_in(browser: &Browser, sandbox: &Sandbox) -> Result<()> {
    let page = format!(
        "{}{}",
        sandbox.origins.treeherder,
        legacy_job_path(sandbox, 22).await?
    );
    open_page(browser, &page).await?;
    let (state, text) = click_backfill(browser).await?;
    ensure!(
        state == "failed" && text.contains("LDAP"),
        "{state}: {text}"
    );
    log_in_through_options(browser, USER, PASSWORD, WAIT).await
}

/// A logging proxy in front of the sandbox's BuildAPI, and an impostor
/// Treeherder proxying the sandbox's pages whose `/__sandbox/state` names
/// itself and the logger.
async fn adversaries(sandbox: &Sandbox) -> Result<(RecordingProxy, RecordingProxy)> {
    let logger = RecordingProxy::start(&sandbox.origins.buildapi, |_| HashMap::new()).await?;
    let o = &sandbox.origins;
    let impostor = RecordingProxy::start(&o.treeherder, |own| {
        let state = json!({ "urls": {
            "treeherder": own, "hg": o.hg, "buildapi": logger.origin, "taskcluster": o.taskcluster,
        }});
        HashMap::from([("/__sandbox/state".to_string(), state.to_string())])
    })
    .await?;
    Ok((logger, impostor))
}

/// What the logger got, and whether any of it carried a login.
fn logged_with_login(logger: &RecordingProxy) -> (usize, usize) {
    let got = logger.received();
    let with_login = got
        .iter()
        .filter(|r| r.header("authorization").is_some())
        .count();
    (got.len(), with_login)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_impostor_page_gets_no_login_from_a_click_on_backfill() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let (logger, impostor) = adversaries(&sandbox).await?;
    run_browser_test("trust_impostor_click", async |browser| {
        log_in(browser, &sandbox).await?;
        // The login works where it belongs: the plan on the real sandbox,
        // refused with a 401 before, now reads its Self-Serve as the user
        // (and waits for Confirm).
        let real = format!(
            "{}{}",
            sandbox.origins.treeherder,
            legacy_job_path(&sandbox, 22).await?
        );
        open_page(browser, &real).await?;
        let (state, text) = click_backfill(browser).await?;
        ensure!(
            state == "plan" && text.contains("Confirm"),
            "{state}: {text}"
        );

        // The same job through the impostor: one real click.
        let fake = format!(
            "{}{}",
            impostor.origin,
            legacy_job_path(&sandbox, 22).await?
        );
        open_page(browser, &fake).await?;
        let before = last_request_id(&sandbox).await?;
        let (state, text) = click_backfill(browser).await?;
        ensure!(
            state == "failed" && text.contains("is not a Treeherder this add-on knows"),
            "{state}: {text}"
        );
        tokio::time::sleep(SETTLE).await;
        let (got, with_login) = logged_with_login(&logger);
        ensure!(
            with_login == 0,
            "the logger got the login {with_login} time(s)"
        );
        ensure!(
            got == 0,
            "the logger got {got} request(s): {:#?}",
            logger.received()
        );
        let asked = impostor
            .received()
            .into_iter()
            .filter(|r| r.target.starts_with("/__sandbox/"))
            .count();
        ensure!(asked == 0, "the add-on asked the impostor what it is");
        let leaks = leaks_and_triggers(&sandbox, before).await?;
        ensure!(
            leaks.is_empty(),
            "signed or POSTed after the click: {leaks:#?}"
        );
        Ok(())
    })
    .await
}

/// The popup's plan summary once it has one.
async fn popup_summary(browser: &Browser) -> Result<String> {
    let summary = browser
        .wait_for_js(
            "location.pathname.endsWith('/popup.html') && (() => { const t = document.getElementById('plan-summary')?.textContent || ''; return t && t !== '—' && !t.startsWith('Working') ? t : null; })()",
            WAIT,
        )
        .await?;
    Ok(summary.as_str().unwrap_or_default().to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_popup_plans_only_for_a_known_treeherder_never_for_an_impostor() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let (logger, impostor) = adversaries(&sandbox).await?;
    run_browser_test("trust_impostor_popup", async |browser| {
        log_in(browser, &sandbox).await?;
        // A plan panel on the real sandbox: its link opens the options, from
        // which the popup's page loads (WebDriver cannot open the toolbar popup).
        let (state, _) = click_backfill(browser).await?;
        ensure!(state == "plan", "{state}");
        let real_tab = browser.client.window().await?;
        // The impostor's page in a tab of its own, the web tab used last.
        let fake_tab = browser.client.new_window(true).await?.handle;
        browser.client.switch_to_window(fake_tab.clone()).await?;
        let fake = format!(
            "{}{}",
            impostor.origin,
            legacy_job_path(&sandbox, 22).await?
        );
        open_page(browser, &fake).await?;
        browser.client.switch_to_window(real_tab.clone()).await?;
        open_options_from_panel(browser, WAIT).await?;
        let popup_tab = browser.client.window().await?;
        browser.client.switch_to_window(fake_tab).await?;
        browser.client.switch_to_window(popup_tab.clone()).await?;
        let before = last_request_id(&sandbox).await?;
        browser
            .js("location.href = 'popup.html'; return true;")
            .await?;
        // The impostor's tab was used last; the popup plans for the real one.
        let summary = popup_summary(browser).await?;
        ensure!(
            summary.contains("needs confirmation"),
            "the popup's plan: {summary}"
        );
        // With the real tab gone, only the impostor's is left: no plan.
        browser.client.switch_to_window(real_tab).await?;
        browser.client.close_window().await?;
        browser.client.switch_to_window(popup_tab).await?;
        browser
            .js("document.getElementById('plan-summary').textContent = '—'; location.reload(); return true;")
            .await?;
        let summary = popup_summary(browser).await?;
        ensure!(
            summary.starts_with("Open a Treeherder job view"),
            "the popup with only the impostor's tab: {summary}"
        );
        tokio::time::sleep(SETTLE).await;
        let (got, with_login) = logged_with_login(&logger);
        ensure!(
            with_login == 0,
            "the logger got the login {with_login} time(s)"
        );
        ensure!(got == 0, "the logger got {got} request(s)");
        let asked = impostor
            .received()
            .into_iter()
            .filter(|r| r.target.starts_with("/__sandbox/"))
            .count();
        ensure!(asked == 0, "the add-on asked the impostor what it is");
        let leaks = leaks_and_triggers(&sandbox, before).await?;
        ensure!(
            leaks.is_empty(),
            "signed or POSTed from the popup: {leaks:#?}"
        );
        Ok(())
    })
    .await
}

/// A trusted Shift+B, as the user's keyboard gives it.
async fn press_shift_b(browser: &Browser) -> Result<()> {
    let shift = char::from(Key::Shift);
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: shift })
        .then(KeyAction::Down { value: 'B' })
        .then(KeyAction::Up { value: 'B' })
        .then(KeyAction::Up { value: shift });
    browser.client.perform_actions(keys).await?;
    browser.client.release_actions().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn shift_b_ignores_a_backfill_button_the_page_planted() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    run_browser_test("trust_planted_button", async |browser| {
        let page = format!("{}{}", sandbox.origins.treeherder, current_job_path(&sandbox, 21).await?);
        open_page(browser, &page).await?;
        store_demo_login(browser, &sandbox, &SandboxAdmin::new(&sandbox)).await?;
        // The page takes the add-on's button away (with Treeherder's action
        // bar) and plants its own under the same id, first in the document.
        browser
            .js("document.getElementById('actionbar')?.remove();
                 document.getElementById('mozci-backfill-btn')?.remove();
                 const planted = document.createElement('button');
                 planted.id = 'mozci-backfill-btn';
                 planted.textContent = 'Backfill';
                 document.body.prepend(planted);
                 return true;")
            .await?;
        let before = last_request_id(&sandbox).await?;
        press_shift_b(browser).await?;
        tokio::time::sleep(SETTLE).await;
        let panel = browser
            .js("return document.getElementById('mozci-panel')?.dataset.state ?? null;")
            .await?;
        ensure!(panel.is_null(), "Shift+B acted through the planted button: panel {panel}");
        let sent = leaks_and_triggers(&sandbox, before).await?;
        ensure!(sent.is_empty(), "sent after Shift+B: {sent:#?}");

        // The same key on the page with the add-on's own button works (and
        // still waits for Confirm): the key did reach the content script.
        open_page(browser, &page).await?;
        let before = last_request_id(&sandbox).await?;
        press_shift_b(browser).await?;
        let state = browser
            .wait_for_js(
                "(() => { const s = document.getElementById('mozci-panel')?.dataset.state; return s && s !== 'planning' ? s : null; })()",
                WAIT,
            )
            .await?;
        ensure!(state == "plan", "Shift+B with the add-on's own button: {state}");
        browser.wait_for("#mozci-panel .mozci-confirm", WAIT).await?;
        tokio::time::sleep(SETTLE).await;
        let posts: Vec<Value> = requests_after(&sandbox, before)
            .await?
            .into_iter()
            .filter(|r| r["method"] == "POST")
            .collect();
        ensure!(posts.is_empty(), "nothing starts before Confirm: {posts:#?}");
        Ok(())
    })
    .await
}

//! Browser end-to-end backfills: the real add-on in headless Firefox ESR on
//! the `mozci-sandbox` pages. A trusted click on Backfill plans, confirms and
//! triggers; the sandbox's request log must then show exactly the expected
//! hook triggers (Taskcluster) or Self-Serve POSTs (Buildbot), and nothing
//! for untrusted clicks, second clicks or refused credentials.
//! Needs `scripts/build-addon` and `cargo build -p mozci-sandbox` first.
#![cfg(not(target_arch = "wasm32"))]

use anyhow::{anyhow, ensure, Context, Result};
use mozci_harness::panel::{
    check_now_unless_settled, click_backfill_and_confirm, log_in_through_options,
    open_autoland_job_at, open_popup_from_panel, through_options,
};
use mozci_harness::{
    run_browser_session, run_browser_test, Browser, BrowserOptions, Sandbox, SandboxAdmin,
};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);
const LABEL: &str = "test-linux64/opt-mochitest-browser-chrome-1";
const BUILDER: &str = "Ubuntu VM 12.04 x64 mozilla-inbound opt test mochitest-1";

/// The simulator's record of the (first) run of `label` on a push.
async fn job(admin: &SandboxAdmin, repo: &str, push_id: u64, label: &str) -> Result<Value> {
    admin
        .jobs(repo, push_id, label)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow!("no {label} on push {push_id}"))
}

/// The job view with the failing `LABEL` of autoland's push `index` selected,
/// and the demo user's Taskcluster login in the page's localStorage.
async fn open_current_page(
    browser: &Browser,
    sandbox: &Sandbox,
    admin: &SandboxAdmin,
    index: u64,
) -> Result<()> {
    open_autoland_job_at(browser, sandbox, admin, index, LABEL).await
}

/// Hook triggers (POSTs to the hooks service) in a request log slice.
fn hook_triggers(log: &[Value]) -> Vec<&Value> {
    log.iter()
        .filter(|r| {
            r["method"] == "POST"
                && r["path"]
                    .as_str()
                    .is_some_and(|p| p.contains("/api/hooks/v1/hooks/"))
        })
        .collect()
}

async fn start_sandbox() -> Result<Sandbox> {
    Sandbox::start(&["--speed", "0"]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn taskcluster_backfill_triggers_exactly_the_planned_hooks() -> Result<()> {
    let sandbox = start_sandbox().await?;
    let admin = SandboxAdmin::new(&sandbox);
    run_browser_test("backfill_taskcluster_current_page", async |browser| {
        // Push 21 fails; 20, 19, 18 fail too and 17 passed: four pushes to fill.
        open_current_page(browser, &sandbox, &admin, 21).await?;
        let before = admin.last_request_id().await?;

        // A page script's synthetic click is untrusted: nothing happens.
        browser.js("document.getElementById('mozci-backfill-btn').click(); return true;").await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let panel = browser.js("return document.getElementById('mozci-panel') !== null;").await?;
        ensure!(panel == json!(false), "an untrusted click opened the panel");
        ensure!(admin.requests_after(Some("taskcluster"), before).await?.is_empty(), "an untrusted click sent requests");

        let state = click_backfill_and_confirm(browser, WAIT).await?;
        browser.screenshot("progress").await?;
        ensure!(state == "running", "panel state after confirming: {state}");
        let rows = browser
            .js("return [...document.querySelectorAll('#mozci-panel tr[data-push-id]')].map(r => Number(r.dataset.pushId));")
            .await?;
        let pushes: Vec<u64> = serde_json::from_value(rows)?;

        let log = admin.requests_after(Some("taskcluster"), before).await?;
        let triggers = hook_triggers(&log);
        ensure!(!pushes.is_empty(), "no pushes in progress");
        ensure!(triggers.len() == pushes.len(), "{} hook triggers for {} pushes: {log:#?}", triggers.len(), pushes.len());
        for t in &triggers {
            ensure!(t["status"] == 200, "hook trigger refused: {t}");
            ensure!(t["user"].as_str().is_some_and(|u| u.contains("sheriff")), "signed as the demo user: {t}");
            let body = t["body"].as_str().unwrap_or_default();
            ensure!(body.contains("retrigger-multiple") || body.contains("add-new-jobs"), "action: {body}");
            ensure!(body.contains(LABEL), "the job type: {body}");
        }
        // The expected range, from the simulator's own results: push 21 back to
        // (not including) the newest earlier push where the job did not fail.
        let summary = admin.get("/__sandbox/summary?repo=autoland").await?;
        let summary = summary.as_array().context("summary")?;
        let failed_at = |index: u64| {
            summary.iter().find(|p| p["index"].as_u64() == Some(index)).is_some_and(|p| {
                p["failed"].as_array().is_some_and(|f| f.iter().any(|l| l == LABEL))
            })
        };
        let mut expected = Vec::new();
        let mut index = 21;
        while failed_at(index) {
            let push = summary.iter().find(|p| p["index"].as_u64() == Some(index)).context("push")?;
            expected.push(push.clone());
            index -= 1;
        }
        let expected_ids: Vec<u64> = expected.iter().filter_map(|p| p["push_id"].as_u64()).collect();
        ensure!(pushes == expected_ids, "pushes {pushes:?}, expected {expected_ids:?}");
        // Each expected push got exactly one action (its revision in the hook's context).
        for push in &expected {
            let revision = push["revision"].as_str().context("revision")?;
            ensure!(
                triggers.iter().filter(|t| t["body"].as_str().is_some_and(|b| b.contains(revision))).count() == 1,
                "exactly one trigger for push {revision}"
            );
        }

        // A second click during the run shows it and sends nothing more.
        let after_first = admin.last_request_id().await?;
        browser.click_when_ready("#mozci-backfill-btn", WAIT).await?;
        browser.wait_for("#mozci-panel[data-state='running']", WAIT).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        ensure!(hook_triggers(&admin.requests_after(Some("taskcluster"), after_first).await?).is_empty(), "a second click triggered again");

        // The tab goes elsewhere and comes back: the run is still there, from
        // the background's storage, and a new click shows it instead of planning.
        browser.goto(&format!("{}/__sandbox/state", sandbox.origins.treeherder)).await?;
        open_current_page(browser, &sandbox, &admin, 21).await?;
        browser.click_when_ready("#mozci-backfill-btn", WAIT).await?;
        browser.wait_for("#mozci-panel[data-state='running']", WAIT).await?;

        // The runs finish; a poll reacts, and the answer appears.
        admin.post("/__sandbox/advance", json!({ "seconds": 4 * 3600 })).await?;
        check_now_unless_settled(browser, WAIT).await?;
        let verdict = browser
            .wait_for_js("document.querySelector('#mozci-panel[data-state=\"done\"] .mozci-verdict')?.textContent", Duration::from_secs(60))
            .await?;
        browser.screenshot("result").await?;
        let verdict = verdict.as_str().unwrap_or_default();
        ensure!(
            verdict.starts_with("first bad push") || verdict.starts_with("intermittent") || verdict.starts_with("no failure"),
            "verdict: {verdict}"
        );
        // The background told the user with a notification carrying the answer.
        let deadline = std::time::Instant::now() + WAIT;
        let notified = |log: String| log.lines().any(|l| l.contains("mozci: notified") && l.contains(LABEL) && l.contains(verdict));
        while !notified(browser.console_log()) {
            ensure!(std::time::Instant::now() < deadline, "no notification with the verdict was shown");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        ensure!(hook_triggers(&admin.requests_after(Some("taskcluster"), after_first).await?).iter().all(|t| t["status"] == 200), "re-runs while watching were accepted");
        Ok(())
    })
    .await
}

/// The Buildbot backfill as a sheriff first meets it: refused for want of
/// Self-Serve credentials (the panel links to the options), then tried
/// again after logging in as `user` there. The panel's state after the
/// second try.
async fn backfill_refused_then_logged_in(
    browser: &Browser,
    user: &str,
    password: &str,
) -> Result<String> {
    ensure!(
        click_backfill_and_confirm(browser, WAIT).await? == "failed",
        "without credentials BuildAPI refuses"
    );
    log_in_through_options(browser, user, password, WAIT).await?;
    click_backfill_and_confirm(browser, WAIT).await
}

/// The 2015 page with the failing Buildbot mochitest-1 of mozilla-inbound's push `index` selected.
async fn open_legacy_page(
    browser: &Browser,
    sandbox: &Sandbox,
    admin: &SandboxAdmin,
    index: u64,
) -> Result<()> {
    open_legacy_page_in(browser, sandbox, admin, index, "").await
}

/// As [`open_legacy_page`], with `query` (e.g. `?markup=2015-09`) before the hash.
async fn open_legacy_page_in(
    browser: &Browser,
    sandbox: &Sandbox,
    admin: &SandboxAdmin,
    index: u64,
    query: &str,
) -> Result<()> {
    let push = admin.push_at("mozilla-inbound", index).await?;
    let push_id = push["push_id"].as_u64().context("push_id")?;
    let revision = push["revision"].as_str().context("revision")?;
    let job = job(admin, "mozilla-inbound", push_id, BUILDER).await?;
    let job_id = job["id"].as_u64().context("job id")?;
    browser
        .goto(&format!(
            "{}/legacy{query}#/jobs?repo=mozilla-inbound&revision={revision}&selectedJob={job_id}",
            sandbox.origins.treeherder
        ))
        .await?;
    browser.wait_for("body[data-th-ready]", WAIT).await?;
    browser
        .wait_for(
            "#mozci-backfill-btn[data-mozci-core]:not([aria-disabled='true'])",
            WAIT,
        )
        .await?;
    Ok(())
}

fn buildapi_posts(log: &[Value]) -> Vec<&Value> {
    log.iter().filter(|r| r["method"] == "POST").collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn buildbot_backfill_posts_to_self_serve_as_the_options_user() -> Result<()> {
    let sandbox = start_sandbox().await?;
    let admin = SandboxAdmin::new(&sandbox);
    run_browser_test("backfill_buildbot_legacy_page", async |browser| {
        open_legacy_page(browser, &sandbox, &admin, 22).await?;
        let before = admin.last_request_id().await?;
        let state =
            backfill_refused_then_logged_in(browser, "sheriff@mozilla.com", "sheriff-password")
                .await?;
        browser.screenshot("progress").await?;
        ensure!(
            state == "running",
            "panel state: {state}; panel: {}; BuildAPI log: {:#?}",
            browser
                .js("return document.getElementById('mozci-panel')?.textContent;")
                .await?,
            admin.requests_after(Some("buildapi"), before).await?
        );
        let log = admin.requests_after(Some("buildapi"), before).await?;
        let posts = buildapi_posts(&log);
        ensure!(!posts.is_empty(), "no Self-Serve POSTs");
        for p in &posts {
            ensure!(p["user"] == "sheriff@mozilla.com", "Basic user: {p}");
            ensure!(
                p["status"]
                    .as_u64()
                    .is_some_and(|s| (200..300).contains(&s)),
                "accepted: {p}"
            );
            ensure!(
                p["path"]
                    .as_str()
                    .is_some_and(|path| path.starts_with("/buildapi/self-serve/mozilla-inbound/")),
                "path: {p}"
            );
        }
        let rows = browser
            .js("return document.querySelectorAll('#mozci-panel tr[data-push-id]').length;")
            .await?;
        ensure!(
            rows.as_u64() == Some(posts.len() as u64),
            "one POST per push: {rows} rows, {} posts: {log:#?}",
            posts.len()
        );
        Ok(())
    })
    .await
}

/// The 2015 page in its September-2015 form: Retrigger is the dropdown
/// `a#retriggerLabel` with Treeherder's own "Backfill job" in its menu. The
/// add-on's button sits right after the dropdown and backfills through
/// Self-Serve as the options user; Treeherder's own backfill is not used.
#[tokio::test(flavor = "multi_thread")]
async fn september_2015_dropdown_page_gets_the_button_and_it_backfills() -> Result<()> {
    let sandbox = start_sandbox().await?;
    let admin = SandboxAdmin::new(&sandbox);
    run_browser_test("backfill_buildbot_2015_09_dropdown", async |browser| {
        open_legacy_page_in(browser, &sandbox, &admin, 22, "?markup=2015-09").await?;
        let placement = browser
            .js("const li = document.querySelector('#job-details-actionbar a#retriggerLabel')?.closest('li');
                 return [li?.className ?? null,
                         li?.nextElementSibling?.firstElementChild?.id ?? null,
                         document.getElementById('mozci-backfill-btn')?.dataset.mozciEra ?? null,
                         document.querySelector('a[title=\"Retrigger this job\"]') === null,
                         Array.from(li?.querySelectorAll('.dropdown-menu a') ?? []).map((a) => a.textContent)];")
            .await?;
        ensure!(
            placement
                == json!([
                    "dropdown",
                    "mozci-backfill-btn",
                    "legacy2015-09",
                    true,
                    ["Retrigger job", "Backfill job", "Backfill job"]
                ]),
            "the dropdown form with the button right after it: {placement}"
        );
        let before = admin.last_request_id().await?;
        let state =
            backfill_refused_then_logged_in(browser, "sheriff@mozilla.com", "sheriff-password")
                .await?;
        browser.screenshot("progress").await?;
        ensure!(
            state == "running",
            "panel state: {state}; panel: {}",
            browser
                .js("return document.getElementById('mozci-panel')?.textContent;")
                .await?
        );
        let log = admin.requests_after(Some("buildapi"), before).await?;
        let posts = buildapi_posts(&log);
        ensure!(!posts.is_empty(), "no Self-Serve POSTs: {log:#?}");
        for p in &posts {
            ensure!(
                p["path"]
                    .as_str()
                    .is_some_and(|path| path.starts_with("/buildapi/self-serve/mozilla-inbound/")),
                "path: {p}"
            );
        }
        let accepted: Vec<&&Value> = posts
            .iter()
            .filter(|p| p["status"].as_u64().is_some_and(|s| (200..300).contains(&s)))
            .collect();
        ensure!(
            !accepted.is_empty() && accepted.iter().all(|p| p["user"] == "sheriff@mozilla.com"),
            "accepted POSTs signed by the options user: {posts:#?}"
        );
        let treeherder = admin.requests_after(Some("treeherder"), before).await?;
        ensure!(
            treeherder
                .iter()
                .all(|r| !r["path"].as_str().unwrap_or("").ends_with("/backfill/")),
            "Treeherder's own backfill was not used: {treeherder:#?}"
        );
        // The menu's own "Backfill job" is Treeherder's 2015 backfill: a POST
        // to its API (which published a job action for pulse_actions).
        let before_menu = admin.last_request_id().await?;
        browser.js("document.getElementById('mozci-panel')?.remove(); return true;").await?;
        browser.click_when_ready("a#retriggerLabel", WAIT).await?;
        browser
            .click_when_ready(".dropdown-menu.show .backfill-item a[data-action='backfill']", WAIT).await?;
        let notice = browser
            .wait_for_js("document.querySelector('#notification-box .alert-success')?.textContent", WAIT)
            .await?;
        ensure!(notice.as_str().is_some_and(|n| n.contains("backfilled job")), "notice: {notice}");
        let posts: Vec<Value> = admin
            .requests_after(Some("treeherder"), before_menu)
            .await?
            .into_iter()
            .filter(|r| r["method"] == "POST")
            .collect();
        ensure!(
            posts.len() == 1
                && posts[0]["path"].as_str().is_some_and(|p| p.starts_with("/api/project/mozilla-inbound/jobs/") && p.ends_with("/backfill/"))
                && posts[0]["status"] == 200,
            "one POST to Treeherder's backfill: {posts:#?}"
        );
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn buildbot_without_credentials_says_log_in_and_sends_nothing() -> Result<()> {
    let sandbox = start_sandbox().await?;
    let admin = SandboxAdmin::new(&sandbox);
    run_browser_test("backfill_buildbot_401", async |browser| {
        open_legacy_page(browser, &sandbox, &admin, 22).await?;
        let before = admin.last_request_id().await?;
        let state = click_backfill_and_confirm(browser, WAIT).await?;
        ensure!(state == "failed", "panel state: {state}");
        let auth = browser
            .js("return document.getElementById('mozci-panel').dataset.auth;")
            .await?;
        ensure!(auth == "log_in_in_options", "auth problem: {auth}");
        let text = browser
            .js("return document.getElementById('mozci-panel').textContent;")
            .await?;
        ensure!(
            text.as_str()
                .is_some_and(|t| t.contains("LDAP") && t.contains("Open the mozci options")),
            "message: {text}"
        );
        ensure!(
            buildapi_posts(&admin.requests_after(Some("buildapi"), before).await?).is_empty(),
            "nothing may be POSTed"
        );
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn buildbot_without_access_says_so() -> Result<()> {
    let sandbox = start_sandbox().await?;
    let admin = SandboxAdmin::new(&sandbox);
    run_browser_test("backfill_buildbot_403", async |browser| {
        open_legacy_page(browser, &sandbox, &admin, 22).await?;
        let before = admin.last_request_id().await?;
        let state = backfill_refused_then_logged_in(
            browser,
            "contributor@example.com",
            "contributor-password",
        )
        .await?;
        let text = browser
            .js("return document.getElementById('mozci-panel').textContent;")
            .await?;
        ensure!(
            text.as_str()
                .is_some_and(|t| t.contains("this account has no access")),
            "state {state}, message: {text}"
        );
        let accepted = admin
            .requests_after(Some("buildapi"), before)
            .await?
            .into_iter()
            .filter(|r| r["method"] == "POST" && r["status"].as_u64().is_some_and(|s| s < 300))
            .count();
        ensure!(
            accepted == 0,
            "a 403 account got {accepted} request(s) accepted"
        );
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn times_chosen_in_the_options_change_the_plan_and_the_triggers() -> Result<()> {
    let sandbox = start_sandbox().await?;
    let admin = SandboxAdmin::new(&sandbox);
    run_browser_test("backfill_times_choice", async |browser| {
        open_current_page(browser, &sandbox, &admin, 21).await?;
        let before = admin.last_request_id().await?;
        // No times chosen yet: the failure rate sets it. Four pushes failed
        // once each (rate 0.9): 2 runs per push, one more on each; a count
        // the add-on chose waits for a Confirm, with the reason shown.
        browser.click_when_ready("#mozci-backfill-btn", WAIT).await?;
        let counts = browser.wait_for_js("document.querySelector('#mozci-panel[data-state=\"plan\"] .mozci-counts')?.textContent", WAIT).await?;
        browser.screenshot("plan").await?;
        ensure!(counts == "4 job(s) to start on 4 push(es)", "plan with automatic times: {counts}");
        ensure!(browser.js("return !!document.querySelector('#mozci-panel .mozci-confirm');").await? == json!(true), "an automatic count needs a Confirm");
        let note = browser.js("return document.querySelector('#mozci-panel .mozci-note')?.textContent;").await?;
        ensure!(
            note.as_str().is_some_and(|n| n.starts_with("times 2 chosen from the failure rate: the job failed 4 of 4")),
            "the reason for the count: {note}"
        );
        // The selected job's failures, each with its kind and line, and how
        // runs are judged (both written by the core).
        let failures = browser
            .js("return [...document.querySelectorAll('#mozci-panel li.mozci-failure')].map(l => [l.dataset.kind, l.textContent]);")
            .await?;
        let failures: Vec<(String, String)> = serde_json::from_value(failures)?;
        ensure!(
            failures.iter().any(|(kind, text)| kind == "test_failure"
                && text.starts_with("line ")
                && text.contains("test_failure [browser/base/content/test/general/browser_tabs_close_beforeunload.js]")),
            "the failure lines: {failures:?}"
        );
        let panel = browser.js("return document.getElementById('mozci-panel').textContent;").await?;
        ensure!(
            panel.as_str().is_some_and(|t| t.contains("fails like the selected job") && t.contains("are re-run")),
            "the judging note: {panel}"
        );

        // Times 3 chosen in the options: 8 jobs, two more runs per push.
        through_options(browser, WAIT, async |b| {
            b.wait_for("#times", WAIT).await?.select_by_value("3").await?;
            Ok(())
        })
        .await?;
        ensure!(admin.requests_after(Some("taskcluster"), before).await?.is_empty(), "nothing sent before the second click");
        let state = click_backfill_and_confirm(browser, WAIT).await?;
        ensure!(state == "running", "state {state}");
        let log = admin.requests_after(Some("taskcluster"), before).await?;
        let triggers = hook_triggers(&log);
        ensure!(triggers.len() == 4, "{} triggers: {log:#?}", triggers.len());
        for t in &triggers {
            let body: Value = serde_json::from_str(t["body"].as_str().unwrap_or_default())?;
            let times = find_key(&body, "times");
            ensure!(times == Some(&json!(2)), "two more runs per push (times 3, one run there): {body}");
        }
        Ok(())
    })
    .await
}

/// The first value of `key` anywhere in a JSON document.
fn find_key<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    match value {
        Value::Object(map) => map
            .get(key)
            .or_else(|| map.values().find_map(|v| find_key(v, key))),
        Value::Array(items) => items.iter().find_map(|v| find_key(v, key)),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn button_appears_within_100_ms_of_the_panel_rendering() -> Result<()> {
    let sandbox = start_sandbox().await?;
    let admin = SandboxAdmin::new(&sandbox);
    run_browser_test("backfill_button_timing", async |browser| {
        open_current_page(browser, &sandbox, &admin, 21).await?;
        browser.screenshot("button").await?;
        // Time from a freshly rendered details panel to the Backfill button in it.
        browser
            .js("window.__timing = {}; window.__lastPanel = document.getElementById('details-panel');
                 new MutationObserver(() => {
                   const panel = document.getElementById('details-panel');
                   if (panel && panel !== window.__lastPanel) { window.__lastPanel = panel; window.__timing = { panel: performance.now() }; }
                   if (window.__timing.panel && !window.__timing.button && panel && panel.querySelector('#mozci-backfill-btn')) {
                     window.__timing.button = performance.now();
                   }
                 }).observe(document.body, { childList: true, subtree: true });
                 document.querySelector('button.job-btn:not(.selected-job)').click();
                 return true;")
            .await?;
        let delay = browser
            .wait_for_js("window.__timing.button ? { ms: window.__timing.button - window.__timing.panel } : null", WAIT)
            .await?;
        let delay = delay["ms"].as_f64().context("delay")?;
        println!("panel render → Backfill button: {delay:.1} ms");
        ensure!(delay < 100.0, "the button took {delay} ms");
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn monitoring_resumes_after_the_add_on_is_reloaded() -> Result<()> {
    let sandbox = start_sandbox().await?;
    let admin = SandboxAdmin::new(&sandbox);
    run_browser_test("backfill_resumes_after_reload", async |browser| {
        // Push 19: two pushes to fill, four jobs, started without a Confirm.
        open_current_page(browser, &sandbox, &admin, 19).await?;
        let before = admin.last_request_id().await?;
        ensure!(click_backfill_and_confirm(browser, WAIT).await? == "running");
        let sent = hook_triggers(&admin.requests_after(Some("taskcluster"), before).await?).len();
        ensure!(sent == 2, "{sent} hook triggers");

        // The add-on is reloaded (a new version installed over it) mid-run.
        browser.install_addon(&mozci_harness::repo_root()).await?;
        open_current_page(browser, &sandbox, &admin, 19).await?;
        browser.click_when_ready("#mozci-backfill-btn", WAIT).await?;
        browser.wait_for("#mozci-panel[data-state='running']", WAIT).await?;
        ensure!(
            hook_triggers(&admin.requests_after(Some("taskcluster"), before).await?).len() == sent,
            "the reloaded add-on must not trigger again"
        );
        admin.post("/__sandbox/advance", json!({ "seconds": 4 * 3600 })).await?;
        check_now_unless_settled(browser, WAIT).await?;
        let verdict = browser
            .wait_for_js("document.querySelector('#mozci-panel[data-state=\"done\"] .mozci-verdict')?.textContent", Duration::from_secs(60))
            .await?;
        ensure!(verdict.as_str().is_some_and(|v| !v.is_empty()), "verdict {verdict}");
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn times_chosen_in_the_popup_change_the_next_plan_and_its_triggers() -> Result<()> {
    let sandbox = start_sandbox().await?;
    let admin = SandboxAdmin::new(&sandbox);
    run_browser_test("backfill_popup_times", async |browser| {
        open_current_page(browser, &sandbox, &admin, 21).await?;
        let before = admin.last_request_id().await?;
        let page = browser.client.window().await?;
        // The plan with the automatic times waits for a Confirm: nothing sent.
        browser.click_when_ready("#mozci-backfill-btn", WAIT).await?;
        browser.wait_for("#mozci-panel[data-state='plan'] .mozci-confirm", WAIT).await?;
        open_popup_from_panel(browser, WAIT).await?;
        browser.wait_for("#times", WAIT).await?.select_by_value("2").await?;
        // The choice is saved before the popup previews again.
        browser
            .wait_for_js("!['', 'Working out the plan…'].includes(document.getElementById('plan-summary').textContent)", WAIT)
            .await?;
        browser.client.close_window().await?;
        browser.client.switch_to_window(page).await?;

        // Times 2 on the four pushes back to the last good one, one failed
        // run each: four retriggers, few enough to start without confirming.
        ensure!(admin.requests_after(Some("taskcluster"), before).await?.is_empty(), "the popup sent nothing");
        let state = click_backfill_and_confirm(browser, WAIT).await?;
        ensure!(state == "running", "state {state}");
        let log = admin.requests_after(Some("taskcluster"), before).await?;
        let triggers = hook_triggers(&log);
        ensure!(triggers.len() == 4, "{} triggers: {log:#?}", triggers.len());
        for t in &triggers {
            let body: Value = serde_json::from_str(t["body"].as_str().unwrap_or_default())?;
            ensure!(find_key(&body, "times") == Some(&json!(1)), "one more run per push: {body}");
        }
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_faulty_taskcluster_is_reported_and_the_next_backfill_sends_each_trigger_once(
) -> Result<()> {
    let sandbox = start_sandbox().await?;
    let admin = SandboxAdmin::new(&sandbox);
    run_browser_test("backfill_under_faults", async |browser| {
        open_current_page(browser, &sandbox, &admin, 21).await?;
        let before = admin.last_request_id().await?;
        // Every Taskcluster answer is a 503 from here on.
        admin
            .post(
                "/__sandbox/faults",
                json!({ "taskcluster": { "error_503": 1.0 } }),
            )
            .await?;
        let state = click_backfill_and_confirm(browser, WAIT).await?;
        ensure!(
            state == "done",
            "a refused backfill is finished, with the reason: {state}"
        );
        let text = browser
            .js("return document.getElementById('mozci-panel').textContent;")
            .await?;
        ensure!(
            text.as_str().is_some_and(|t| t.contains("503")),
            "the panel says what failed: {text}"
        );
        let accepted = hook_triggers(&admin.requests_after(Some("taskcluster"), before).await?)
            .into_iter()
            .filter(|r| r["status"] == 200)
            .count();
        ensure!(
            accepted == 0,
            "nothing was scheduled while Taskcluster failed"
        );

        // Taskcluster is back: the same backfill sends one trigger per push, once.
        admin.post("/__sandbox/faults", json!({})).await?;
        let state = click_backfill_and_confirm(browser, WAIT).await?;
        ensure!(state == "running", "state {state}");
        let log = admin.requests_after(Some("taskcluster"), before).await?;
        let ok: Vec<&Value> = hook_triggers(&log)
            .into_iter()
            .filter(|r| r["status"] == 200)
            .collect();
        ensure!(
            ok.len() == 4,
            "one accepted trigger per push of the range: {log:#?}"
        );
        let mut revisions: Vec<String> = ok
            .iter()
            .map(|r| r["body"].as_str().unwrap_or_default().to_string())
            .collect();
        revisions.sort();
        revisions.dedup();
        ensure!(revisions.len() == 4, "four different pushes, none twice");
        Ok(())
    })
    .await
}

/// Autoland's seeded regression of `LABEL` (q = 0.7), in sandbox/scenarios/demo.json.
const REGRESSION_INDEX: u64 = 18;
/// A job that fails only intermittently in the demo scenario.
const FLAKY_LABEL: &str = "test-linux64/opt-xpcshell";
const REGRESSING_TEST: &str =
    "browser/base/content/test/general/browser_tabs_close_beforeunload.js";

#[tokio::test(flavor = "multi_thread")]
async fn find_culprit_chosen_in_the_popup_names_the_regression_with_its_chart() -> Result<()> {
    let sandbox = start_sandbox().await?;
    let admin = SandboxAdmin::new(&sandbox);
    run_browser_test("find_culprit", async |browser| {
        open_current_page(browser, &sandbox, &admin, 21).await?;
        let culprit = admin.push_at("autoland", REGRESSION_INDEX).await?;
        let culprit_id = culprit["push_id"].as_u64().context("push_id")?;
        let culprit_revision = culprit["revision"].as_str().context("revision")?.to_string();
        let before = admin.last_request_id().await?;
        let page = browser.client.window().await?;

        // To the popup's page: panel → options → popup.html.
        browser.click_when_ready("#mozci-backfill-btn", WAIT).await?;
        browser.wait_for("#mozci-panel[data-state='plan'] .mozci-options-link", WAIT).await?;
        let popup = open_popup_from_panel(browser, WAIT).await?;

        // The selected job's failing tests, read from its logs.
        let tests = browser
            .wait_for_js("(() => { const t = [...document.querySelectorAll('#failing-tests li.failing-test')].map(li => li.dataset.test); return t.length ? t : null; })()", WAIT)
            .await?;
        ensure!(tests == json!([REGRESSING_TEST]), "failing tests shown: {tests}");
        browser.wait_for("#mode", WAIT).await?.select_by_value("find_culprit").await?;
        browser.wait_for("#culprit-test-label:not([hidden])", WAIT).await?;
        browser.wait_for("#culprit-test", WAIT).await?.select_by_value(REGRESSING_TEST).await?;
        // Confirm first (the default): the range is read from the job's
        // runs, not the depth: the seeded runs failed on REGRESSION_INDEX to
        // 21 and passed on the push before, the last good one.
        let searched = 21 - REGRESSION_INDEX + 1;
        let summary = browser
            .wait_for_js(&format!("(() => {{ const s = document.getElementById('plan-summary').textContent; return s.includes('then search the {searched} push(es) after') ? s : null; }})()"), WAIT)
            .await?;
        ensure!(
            summary.as_str().is_some_and(|s| s.starts_with("Find the culprit") && s.contains("browser_tabs_close_beforeunload.js fail in")),
            "culprit plan preview: {summary}"
        );
        browser.screenshot("popup-plan").await?;
        ensure!(admin.requests_after(Some("taskcluster"), before).await?.is_empty(), "the popup sent nothing");

        // The page's button now starts the search; its first round is sent.
        browser.client.switch_to_window(page.clone()).await?;
        let state = click_backfill_and_confirm(browser, WAIT).await?;
        ensure!(state == "running", "panel state after confirming: {state}");
        let heading = browser.js("return document.querySelector('#mozci-panel h3').textContent;").await?;
        ensure!(heading.as_str().is_some_and(|h| h.starts_with("Find the culprit of")), "heading {heading}");

        // Rounds: the sandbox's clock moves, the panel asks for a poll, the
        // search reads the runs (and their logs) and sends its next round.
        let mut rounds = 0;
        let verdict = loop {
            let done = browser
                .js("return document.querySelector('#mozci-panel[data-state=\"done\"] .mozci-verdict')?.textContent ?? null;")
                .await?;
            if let Some(text) = done.as_str() {
                break text.to_string();
            }
            ensure!(rounds < 40, "no answer after {rounds} rounds");
            admin.post("/__sandbox/advance", json!({ "seconds": 900 })).await?;
            check_now_unless_settled(browser, WAIT).await?;
            browser
                .wait_for_js("document.getElementById('mozci-panel')?.dataset.state === 'done' || document.querySelector('#mozci-panel .mozci-check-now:not([disabled])') !== null", Duration::from_secs(60))
                .await?;
            rounds += 1;
        };
        browser.screenshot("culprit-result").await?;
        ensure!(verdict.starts_with(&format!("Culprit: push {}", &culprit_revision[..12])), "verdict: {verdict}");

        // The notification carries the answer.
        let deadline = std::time::Instant::now() + WAIT;
        let notified = |log: String| log.lines().any(|l| l.contains("mozci: notified") && l.contains("Find the culprit of") && l.contains(&verdict));
        while !notified(browser.console_log()) {
            ensure!(std::time::Instant::now() < deadline, "no notification with the culprit");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Every run asked for was accepted.
        let log = admin.requests_after(Some("taskcluster"), before).await?;
        let triggers = hook_triggers(&log);
        ensure!(!triggers.is_empty() && triggers.iter().all(|t| t["status"] == 200), "{log:#?}");

        // The popup shows the finished search with its chart, the culprit marked.
        browser.client.switch_to_window(popup).await?;
        // The popup keeps itself up to date; reloaded, it must also draw
        // the finished search from scratch (the old page is marked so that
        // its chart is not mistaken for the new one's).
        browser.js("window.mozciOldPage = true; location.reload(); return true;").await?;
        let columns = browser
            .wait_for_js("(() => { if (window.mozciOldPage) return null; const c = document.querySelectorAll('#runs svg.mozci-chart g.column[data-push-id]'); return c.length ? c.length : null; })()", WAIT)
            .await?;
        ensure!(columns.as_u64().is_some_and(|c| c >= searched), "one column per suspect push: {columns}");
        let marked = browser
            .js("return [...document.querySelectorAll('#runs svg.mozci-chart g.column.culprit')].map(g => Number(g.dataset.pushId));")
            .await?;
        ensure!(marked == json!([culprit_id]), "the culprit's column is marked: {marked}");
        let failed_bars = browser.js("return document.querySelectorAll('#runs svg.mozci-chart rect.failed').length;").await?;
        ensure!(failed_bars.as_u64().is_some_and(|n| n >= 1), "failed runs drawn: {failed_bars}");
        browser.screenshot("popup-chart").await?;
        eprintln!("find culprit in the browser: {rounds} round(s), {} hook call(s): {verdict}", triggers.len());
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_culprit_search_waits_for_the_login_after_a_reload_and_continues_with_it() -> Result<()> {
    let sandbox = start_sandbox().await?;
    let admin = SandboxAdmin::new(&sandbox);
    run_browser_test("find_culprit_resumes", async |browser| {
        // xpcshell failed intermittently on push 8 (a flake, f = 0.12): ruling
        // out every push takes many rounds, so the search cannot end in one.
        open_autoland_job_at(browser, &sandbox, &admin, 8, FLAKY_LABEL).await?;
        // Find culprit over 8 pushes with job runs only, chosen in the
        // options (confirm first would read the flake's last good push and
        // search no further back).
        browser.click_when_ready("#mozci-backfill-btn", WAIT).await?;
        browser.wait_for("#mozci-panel[data-state='plan'] .mozci-options-link", WAIT).await?;
        through_options(browser, WAIT, async |b| {
            b.wait_for("#mode", WAIT).await?.select_by_value("find_culprit_runs_only").await?;
            let depth = b.wait_for("#depth", WAIT).await?;
            depth.clear().await?;
            depth.send_keys("8").await?;
            Ok(())
        })
        .await?;
        let before = admin.last_request_id().await?;
        ensure!(click_backfill_and_confirm(browser, WAIT).await? == "running");
        let sent = hook_triggers(&admin.requests_after(Some("taskcluster"), before).await?).len();
        ensure!(sent >= 1, "the first round was sent");

        // The add-on is reloaded: the search is in storage, the login is not.
        browser.install_addon(&mozci_harness::repo_root()).await?;
        open_autoland_job_at(browser, &sandbox, &admin, 8, FLAKY_LABEL).await?;
        browser.click_when_ready("#mozci-backfill-btn", WAIT).await?;
        browser.wait_for("#mozci-panel[data-state='running']", WAIT).await?;
        // Long enough for the first round (xpcshell runs 22 min) to finish.
        admin.post("/__sandbox/advance", json!({ "seconds": 3600 })).await?;
        browser.click_when_ready("#mozci-panel .mozci-check-now", WAIT).await?;
        let note = browser
            .wait_for_js("document.querySelector('#mozci-panel[data-auth=\"log_in_to_treeherder\"] .mozci-note')?.textContent", WAIT)
            .await?;
        ensure!(
            note.as_str().is_some_and(|n| n.starts_with("the next runs wait for your Treeherder login")),
            "the panel says what it waits for: {note}"
        );
        ensure!(
            hook_triggers(&admin.requests_after(Some("taskcluster"), before).await?).len() == sent,
            "nothing sent without the login"
        );

        // A synthetic click cannot hand the login over; a real one can.
        browser.js("document.querySelector('#mozci-panel .mozci-continue').click(); return true;").await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        ensure!(
            hook_triggers(&admin.requests_after(Some("taskcluster"), before).await?).len() == sent,
            "an untrusted click sent the next round"
        );
        browser.click_when_ready("#mozci-panel .mozci-continue", WAIT).await?;
        let deadline = std::time::Instant::now() + WAIT;
        let next_round = loop {
            let triggers = hook_triggers(&admin.requests_after(Some("taskcluster"), before).await?)
                .into_iter()
                .cloned()
                .collect::<Vec<Value>>();
            if triggers.len() > sent {
                break triggers;
            }
            ensure!(std::time::Instant::now() < deadline, "the next round was not sent");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        ensure!(next_round.iter().all(|t| t["status"] == 200), "{next_round:#?}");
        browser
            .wait_for_js("document.querySelector('#mozci-panel .mozci-continue') === null && document.getElementById('mozci-panel')?.dataset.auth !== 'log_in_to_treeherder'", WAIT)
            .await?;
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn monitoring_resumes_after_a_browser_restart_and_notifies_the_answer() -> Result<()> {
    let sandbox = start_sandbox().await?;
    let admin = SandboxAdmin::new(&sandbox);
    // One profile for both lives of the browser, with the add-on installed in it.
    let profile =
        std::env::temp_dir().join(format!("mozci-restart-profile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile)?;
    Browser::install_in_profile(&profile, &mozci_harness::repo_root())?;
    let options = BrowserOptions {
        profile: Some(profile.clone()),
        ..BrowserOptions::default()
    };
    let before = admin.last_request_id().await?;
    let mut sent = 0;
    run_browser_session("restart_before", options.clone(), async |browser| {
        // Push 19: two pushes to fill.
        open_current_page(browser, &sandbox, &admin, 19).await?;
        ensure!(click_backfill_and_confirm(browser, WAIT).await? == "running");
        sent = hook_triggers(&admin.requests_after(Some("taskcluster"), before).await?).len();
        ensure!(sent == 2, "{sent} hook triggers");
        Ok(())
    })
    .await?;

    // The browser is gone; the runs finish meanwhile. In its next life the
    // background resumes by itself (its alarm polls every minute), gives the
    // verdict in a notification, and sends nothing twice.
    admin
        .post("/__sandbox/advance", json!({ "seconds": 4 * 3600 }))
        .await?;
    let result = run_browser_session("restart_after", options, async |browser| {
        let deadline = std::time::Instant::now() + Duration::from_secs(150);
        let notified = |log: String| log.lines().any(|l| l.contains("mozci: notified") && l.contains(LABEL));
        while !notified(browser.console_log()) {
            ensure!(std::time::Instant::now() < deadline, "no notification after the restart");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        ensure!(
            hook_triggers(&admin.requests_after(Some("taskcluster"), before).await?).len() == sent,
            "the restarted add-on triggered again"
        );
        // The page shows the finished run from storage.
        open_current_page(browser, &sandbox, &admin, 19).await?;
        browser.click_when_ready("#mozci-backfill-btn", WAIT).await?;
        let state = browser
            .wait_for_js("(() => { const s = document.getElementById('mozci-panel')?.dataset.state; return s && s !== 'planning' ? s : null; })()", WAIT)
            .await?;
        ensure!(state == "plan", "a finished run no longer blocks a new plan: {state}");
        Ok(())
    })
    .await;
    let _ = std::fs::remove_dir_all(&profile);
    result
}

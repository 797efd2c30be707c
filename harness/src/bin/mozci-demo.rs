//! `mozci-demo`: the README's first command lands here. Starts the local
//! Mozilla CI (`mozci-sandbox`, demo scenario, clock running), opens Firefox
//! with the add-on on its Treeherder job view with a failing job selected,
//! so the Backfill button shows next to Retrigger. With a display Firefox
//! stays open until Ctrl-C; headless (no display, or `--headless`) it saves
//! `artifacts/demo/demo.png` and exits.

use anyhow::{Context, Result};
use mozci_harness::artifacts::artifacts_dir;
use mozci_harness::{repo_root, Browser, BrowserOptions, Sandbox};
use serde_json::Value;
use std::time::Duration;

/// The newest autoland push with a failing browser-chrome run, and that run.
async fn failing_job(sandbox: &Sandbox) -> Result<(String, String)> {
    let th = &sandbox.origins.treeherder;
    let summary: Value = reqwest_json(&format!("{th}/__sandbox/summary?repo=autoland")).await?;
    let label = "test-linux64/opt-mochitest-browser-chrome-1";
    let row = summary
        .as_array()
        .and_then(|rows| {
            rows.iter().rev().find(|r| {
                r["failed"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|l| l == label))
            })
        })
        .context("the demo scenario has no failing browser-chrome run")?;
    let push_id = row["push_id"].as_u64().context("push id")?;
    let revision = row["revision"].as_str().context("revision")?.to_string();
    let jobs: Value = reqwest_json(&format!(
        "{th}/__sandbox/jobs?repo=autoland&push_id={push_id}&label={label}"
    ))
    .await?;
    let task = jobs
        .as_array()
        .and_then(|jobs| jobs.iter().find(|j| j["result"] == "testfailed"))
        .and_then(|j| j["taskcluster"]["task_id"].as_str())
        .context("the failing run has a task id")?;
    Ok((revision, format!("{task}.0")))
}

async fn reqwest_json(url: &str) -> Result<Value> {
    let client = mozci::http::NativeClient::new(Duration::from_secs(10))?;
    Ok(mozci::http::get_json(&client, url, "sandbox").await?)
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut options = BrowserOptions::default();
    if std::env::args().any(|a| a == "--headless") {
        options.headless = true;
    } else if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
    {
        options.headless = false;
    }
    anyhow::ensure!(
        mozci_harness::addon_is_built(),
        "the add-on is not built: run scripts/build-addon"
    );

    // Ten simulated seconds per second: jobs move while a person watches.
    // scripts/run starts a local Pulse broker and names it here: the
    // sandbox then publishes every job change to it.
    let pulse = std::env::var("MOZCI_PULSE_PUBLISH_URL").ok();
    let mut args = vec!["--scenario", "demo", "--speed", "10"];
    if let Some(url) = pulse.as_deref().filter(|u| !u.is_empty()) {
        args.extend(["--pulse", url]);
    }
    let sandbox = Sandbox::start(&args).await?;
    println!(
        "sandbox: {}",
        serde_json::to_string(&sandbox.origins_json())?
    );
    let (revision, task_run) = failing_job(&sandbox).await?;
    let url = format!(
        "{}/jobs?repo=autoland&revision={revision}&selectedTaskRun={task_run}",
        sandbox.origins.treeherder
    );

    let dir = artifacts_dir("demo");
    let browser = Browser::launch(&options, &dir).await?;
    let run = async {
        browser.install_addon(&repo_root()).await?;
        // The add-on's options open on install: the demo enables its sandbox there.
        browser
            .configure_after_install(std::slice::from_ref(&sandbox.origins))
            .await?;
        browser.goto(&url).await?;
        browser
            .wait_for("body[data-th-ready='true']", Duration::from_secs(30))
            .await
            .context("the sandbox's Treeherder page did not finish loading")?;
        browser
            .wait_for(
                "#mozci-backfill-btn[data-mozci-core]",
                Duration::from_secs(20),
            )
            .await
            .context("the add-on's Backfill button did not appear")?;
        anyhow::Ok(())
    };
    let outcome = run.await;
    if options.headless || outcome.is_err() {
        let shot = browser.screenshot("demo").await?;
        println!("screenshot: {}", shot.display());
        println!("browser console: {}", browser.console_log_path().display());
        browser.close().await?;
        return outcome;
    }
    println!("Firefox is open on {url} with the add-on installed. Press Ctrl-C to quit.");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    browser.close().await
}

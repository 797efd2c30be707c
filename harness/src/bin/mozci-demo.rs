//! `mozci-demo`: the README's first command lands here. Starts the local
//! Mozilla CI (`mozci-sandbox`, demo scenario, clock running), opens Firefox
//! with the add-on on its Treeherder job view with a failing job selected,
//! so the Backfill button shows next to Retrigger. With a display Firefox
//! stays open until Ctrl-C; headless (no display, or `--headless`) it saves
//! `artifacts/demo/demo.png` and exits.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use anyhow::{Context, Result};
use mozci_harness::artifacts::artifacts_dir;
use mozci_harness::{repo_root, Browser, BrowserOptions, Sandbox};
use std::time::Duration;

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
    let url = sandbox.demo_failing_job_view().await?;

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

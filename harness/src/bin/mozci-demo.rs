//! `mozci-demo`: the README's first command lands here. Opens Firefox with
//! the add-on on a Treeherder job view and selects a job so the Backfill
//! button shows. With a display it leaves Firefox open until Ctrl-C;
//! headless (no display, or `--headless`) it saves a screenshot and exits.

use anyhow::{Context, Result};
use mozci_harness::artifacts::artifacts_dir;
use mozci_harness::{repo_root, Browser, BrowserOptions, StaticSite};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<()> {
    let headless_flag = std::env::args().any(|a| a == "--headless");
    let mut options = BrowserOptions::default();
    if headless_flag {
        options.headless = true;
    } else if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
    {
        options.headless = false;
    }
    anyhow::ensure!(
        mozci_harness::addon_is_built(),
        "the add-on is not built: run scripts/build-addon"
    );

    let pages = repo_root().join("tests/pages");
    let site = StaticSite::serve(&[("/jobs", &pages.join("jobs-current.html"))]).await?;
    let url = site.url("/jobs?repo=autoland&revision=3a8a4e6b3f7c9d2e1f0a5b6c7d8e9f0a1b2c3d4e&selectedTaskRun=ZBK4oDL4TnK1EjT-UY-o2A.0");

    let dir = artifacts_dir("demo");
    let browser = Browser::launch(&options, &dir).await?;
    let run = async {
        browser.install_addon(&repo_root()).await?;
        browser.goto(&url).await?;
        browser
            .wait_for(
                "#mozci-backfill-btn[data-mozci-core]",
                Duration::from_secs(20),
            )
            .await
            .context("the add-on's Backfill button did not appear")?;
        // Hover the button so its tooltip state is visible in the screenshot.
        browser
            .js("document.querySelector('#mozci-backfill-btn').focus(); return true;")
            .await?;
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

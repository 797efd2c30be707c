//! The add-on's panel on a Treeherder page, driven as a user would: the
//! browser tests and the benchmarks click Backfill and Confirm through here.

use crate::firefox::Browser;
use anyhow::Result;
use std::time::Duration;

/// A trusted click on the page's Backfill button, then Confirm when the
/// panel shows a plan; returns the panel's state once the run is under way
/// or over (`running`, `done` or `failed`). Each wait lasts up to `wait`.
pub async fn click_backfill_and_confirm(browser: &Browser, wait: Duration) -> Result<String> {
    // A panel left from an earlier attempt must not be mistaken for this one's.
    browser
        .js("document.getElementById('mozci-panel')?.remove(); return true;")
        .await?;
    browser
        .wait_for("#mozci-backfill-btn", wait)
        .await?
        .click()
        .await?;
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
            "(() => { const s = document.getElementById('mozci-panel')?.dataset.state; return ['running','done','failed'].includes(s) ? s : null; })()",
            wait,
        )
        .await?;
    Ok(state.as_str().unwrap_or_default().to_string())
}

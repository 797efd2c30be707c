//! The add-on's engine requests (`engine::addon`) natively against the
//! `mozci-sandbox`: the modes the browser tests do not drive (Taskcluster's
//! fixed-range `backfill` action, N runs on this push), the ledger keeping a
//! second plan from asking again, and sandbox discovery from a page origin.
//! Needs `cargo build -p mozci-sandbox` first.
#![cfg(not(target_arch = "wasm32"))]

use anyhow::{anyhow, ensure, Context, Result};
use mozci::engine::addon::{execute, plan, AddonSettings, Mode, PlanRequest};
use mozci::engine::ledger::Ledger;
use mozci::http::{HttpClient, NativeClient};
use mozci_harness::Sandbox;
use serde_json::{json, Value};
use std::rc::Rc;
use std::time::Duration;

const LABEL: &str = "test-linux64/opt-mochitest-browser-chrome-1";

async fn admin_get(sandbox: &Sandbox, path: &str) -> Result<Value> {
    let url = format!("{}{path}", sandbox.origins.treeherder);
    let response = reqwest::get(&url).await.with_context(|| url.clone())?;
    ensure!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    Ok(serde_json::from_slice(&response.bytes().await?)?)
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

fn client() -> Result<Rc<dyn HttpClient>> {
    Ok(Rc::new(NativeClient::new(Duration::from_secs(30))?))
}

#[tokio::test]
async fn fixed_range_sends_one_backfill_action_with_depth_and_times() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let http = client()?;
    let settings = AddonSettings::default();
    let request = PlanRequest {
        page_url: page_url(&sandbox, 21).await?,
        mode: Mode::FixedRange,
        depth: 3,
        times: 2,
    };
    let planned = plan(http.clone(), &settings, &request, &Ledger::default()).await?;
    // The endpoints were discovered from the page's origin (a sandbox).
    assert_eq!(planned.endpoints.hg, sandbox.origins.hg);
    assert_eq!(planned.jobs_started_now, 6);
    assert!(
        planned.needs_confirmation,
        "6 jobs are above the small limit"
    );
    assert_eq!(planned.rows.len(), 3, "the three earlier pushes");

    let credentials = user_credentials(&sandbox).await?;
    let mut ledger = Ledger::default();
    let answer = execute(http, &settings, &planned, Some(&credentials), &mut ledger).await?;
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
async fn trigger_here_then_the_ledger_keeps_a_second_plan_from_asking_again() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let http = client()?;
    let settings = AddonSettings::default();
    let request = PlanRequest {
        page_url: page_url(&sandbox, 21).await?,
        mode: Mode::TriggerHere,
        depth: 1,
        times: 3,
    };
    let planned = plan(http.clone(), &settings, &request, &Ledger::default()).await?;
    assert_eq!(
        planned.jobs_started_now, 2,
        "one run there, three wanted: {planned:#?}"
    );
    let credentials = user_credentials(&sandbox).await?;
    let mut ledger = Ledger::default();
    execute(
        http.clone(),
        &settings,
        &planned,
        Some(&credentials),
        &mut ledger,
    )
    .await?;
    assert_eq!(hook_triggers(&sandbox).await?.len(), 1);

    // The action task has not made the runs visible yet (the clock stands):
    // the ledger counts them as pending, so the same plan asks for nothing.
    let again = plan(http, &settings, &request, &ledger).await?;
    assert_eq!(again.jobs_started_now, 0, "nothing doubled: {again:#?}");
    Ok(())
}

#[tokio::test]
async fn execution_without_treeherder_login_sends_nothing() -> Result<()> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let http = client()?;
    let settings = AddonSettings::default();
    let request = PlanRequest {
        page_url: page_url(&sandbox, 21).await?,
        mode: Mode::ToLastGood,
        depth: 20,
        times: 3,
    };
    let planned = plan(http.clone(), &settings, &request, &Ledger::default()).await?;
    let mut ledger = Ledger::default();
    let refused = execute(http, &settings, &planned, None, &mut ledger).await;
    let error = refused
        .err()
        .context("execution without credentials must fail")?;
    assert!(error.to_string().contains("log in"), "{error}");
    assert!(hook_triggers(&sandbox).await?.is_empty());
    assert!(ledger.records.is_empty());
    Ok(())
}

//! Benchmark (not a test; `cargo bench --bench live_events`): the add-on in
//! headless Firefox follows a 25-push Taskcluster backfill (fixed range,
//! the `backfill` action, one run per push) on the sandbox, whose clock runs
//! at `PACE` simulated seconds per real second, twice: with Taskcluster's
//! live events (the sandbox's `/subscription`), and with the endpoint down,
//! so that only the one-minute alarm polls. It prints
//! - event-to-screen latency: how long each push's row in the panel stays
//!   behind the sandbox's own count of unfinished runs (sampled every
//!   100 ms), and
//! - the watch's API requests (reads the sandbox served on its four
//!   origins, `/__sandbox` ones aside) from the panel showing the run until
//!   it shows the answer.
//!
//! Needs `scripts/build-addon` and `cargo build -p mozci-sandbox` first.

use anyhow::{anyhow, ensure, Context, Result};
use mozci_harness::panel::{
    choose_in_options, click_backfill_and_confirm, open_job_view_logged_in,
};
use mozci_harness::{run_browser_test, Browser, Sandbox, SandboxAdmin};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);
const LABEL: &str = "test-linux64/opt-mochitest-browser-chrome-1";
/// Simulated seconds per real second while the runs go.
const PACE: i64 = 20;
/// The most a watch may take (real time).
const LIMIT: Duration = Duration::from_secs(12 * 60);

/// Reads served so far, per origin.
async fn reads(admin: &SandboxAdmin) -> Result<BTreeMap<String, u64>> {
    let reads = admin.get("/__sandbox/reads").await?;
    Ok(reads
        .as_object()
        .context("reads")?
        .iter()
        .filter_map(|(origin, n)| Some((origin.clone(), n.as_u64()?)))
        .collect())
}

/// Unfinished runs of `LABEL` per push.
async fn in_progress(admin: &SandboxAdmin, pushes: &[u64]) -> Result<BTreeMap<u64, usize>> {
    let label: String = url::form_urlencoded::byte_serialize(LABEL.as_bytes()).collect();
    let jobs = admin
        .get(&format!("/__sandbox/jobs?repo=autoland&label={label}"))
        .await?;
    let mut counts: BTreeMap<u64, usize> = pushes.iter().map(|&p| (p, 0)).collect();
    for job in jobs.as_array().context("jobs")? {
        if let Some(n) = job["push_id"].as_u64().and_then(|p| counts.get_mut(&p)) {
            if job["state"] != "completed" {
                *n += 1;
            }
        }
    }
    Ok(counts)
}

/// The panel's "… pending/running" count per push.
async fn shown(browser: &Browser) -> Result<BTreeMap<u64, usize>> {
    let rows = browser
        .js("return [...document.querySelectorAll('#mozci-panel tr[data-push-id]')].map(r => [Number(r.dataset.pushId), r.textContent]);")
        .await?;
    let rows: Vec<(u64, String)> = serde_json::from_value(rows)?;
    Ok(rows
        .into_iter()
        .filter_map(|(push, text)| {
            let n = text
                .strip_suffix(" pending/running")?
                .rsplit(' ')
                .next()?
                .parse()
                .ok()?;
            Some((push, n))
        })
        .collect())
}

#[derive(Debug, Default, Clone)]
struct Report {
    latencies: Vec<Duration>,
    /// Reads of the watch per origin.
    requests: BTreeMap<String, u64>,
    watch: Duration,
    pushes: usize,
}

async fn watch_one(live: bool) -> Result<Report> {
    let sandbox = Sandbox::start(&["--speed", "0"]).await?;
    let admin = SandboxAdmin::new(&sandbox);
    let summary = admin.get("/__sandbox/summary?repo=autoland").await?;
    // The newest push with 25 before it.
    let push = summary
        .as_array()
        .context("summary")?
        .iter()
        .filter(|p| p["index"].as_u64().is_some_and(|i| i >= 25))
        .max_by_key(|p| p["index"].as_u64())
        .cloned()
        .ok_or_else(|| anyhow!("no push with 25 before it"))?;
    let report = Arc::new(Mutex::new(Report::default()));
    let out = report.clone();
    let name = if live {
        "bench_live_events"
    } else {
        "bench_polling"
    };
    run_browser_test(name, async |browser| {
        open_job_view_logged_in(browser, &sandbox, &admin, &push, LABEL).await?;
        // The CI's own backfill action over a fixed range: 25 pushes, one
        // run each.
        choose_in_options(browser, "ci_backfill", "25", "1", WAIT).await?;
        if !live {
            admin
                .post("/__sandbox/subscriptions/refuse", json!({"refuse": true}))
                .await?;
        }
        ensure!(
            click_backfill_and_confirm(browser, WAIT).await? == "running",
            "the backfill did not start"
        );
        let pushes: Vec<u64> = shown(browser).await?.into_keys().collect();
        if live {
            browser
                .wait_for("#mozci-panel .mozci-mode-live", WAIT)
                .await?;
        }
        let reads_before = reads(&admin).await?;
        let started = Instant::now();
        // The clock runs from now on.
        let pacer = {
            let admin = admin.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    let _ = admin
                        .post("/__sandbox/advance", json!({ "seconds": PACE / 4 }))
                        .await;
                }
            })
        };
        let mut behind: BTreeMap<u64, Instant> = BTreeMap::new();
        let mut latencies = Vec::new();
        let outcome = loop {
            if started.elapsed() > LIMIT {
                break Err(anyhow!("the watch took longer than {LIMIT:?}"));
            }
            let truth = in_progress(&admin, &pushes).await?;
            let panel = shown(browser).await?;
            let now = Instant::now();
            for (push, n) in &truth {
                if panel.get(push) == Some(n) {
                    if let Some(since) = behind.remove(push) {
                        latencies.push(now - since);
                    }
                } else {
                    behind.entry(*push).or_insert(now);
                }
            }
            let done = browser
                .js("return document.getElementById('mozci-panel')?.dataset.state === 'done';")
                .await?;
            if done == json!(true) {
                break Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        pacer.abort();
        outcome?;
        let watch = started.elapsed();
        let requests = reads(&admin)
            .await?
            .into_iter()
            .map(|(origin, n)| {
                let before = reads_before.get(&origin).copied().unwrap_or(0);
                (origin, n - before)
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        *out.lock().map_err(|_| anyhow!("report lock"))? = Report {
            latencies,
            requests,
            watch,
            pushes: pushes.len(),
        };
        Ok(())
    })
    .await?;
    let report = report.lock().map_err(|_| anyhow!("report lock"))?.clone();
    Ok(report)
}

fn describe(latencies: &[Duration]) -> String {
    let mut sorted: Vec<f64> = latencies.iter().map(Duration::as_secs_f64).collect();
    sorted.sort_by(f64::total_cmp);
    match (sorted.first(), sorted.last()) {
        (Some(min), Some(max)) => format!(
            "median {:.2} s (min {min:.2}, max {max:.2}, {} changes)",
            sorted[sorted.len() / 2],
            sorted.len()
        ),
        _ => "no change seen".into(),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    // `cargo bench` passes --bench; a filter naming another bench skips this one.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with('-') && !"live_events".contains(a.as_str()))
    {
        return Ok(());
    }
    let live = watch_one(true).await?;
    let polling = watch_one(false).await?;
    println!(
        "event-to-screen latency, live events: {}",
        describe(&live.latencies)
    );
    println!(
        "event-to-screen latency, polling (alarm every 60 s): {}",
        describe(&polling.latencies)
    );
    let total = |r: &Report| r.requests.values().sum::<u64>();
    println!(
        "{}-push backfill watch at {PACE} sim-s per s: {} requests with live events ({:.0} s; {:?}), {} polling ({:.0} s; {:?})",
        live.pushes,
        total(&live),
        live.watch.as_secs_f64(),
        live.requests,
        total(&polling),
        polling.watch.as_secs_f64(),
        polling.requests,
    );
    println!("(polling: the subscription endpoint refused with 503, so its taskcluster reads are the add-on's reconnection attempts, backoff 1 s doubling to 60 s)");
    Ok(())
}

//! `mozci-addon-bench`: what the add-on's two WebAssembly modules cost a
//! user in Firefox, measured in headless Firefox ESR against the local
//! Mozilla CI (`mozci-sandbox`, demo scenario), and compared with the size
//! budget (docs/research/wasm-size.md). Run it through `scripts/bench-addon`,
//! which builds what it measures first.
//!
//! Each round uninstalls and installs the add-on (a new event page: a cold
//! start) and reads, from the options page the install opens, the marks the
//! development build's event page records in its own performance timeline.
//! There it also times each module's fetch, compile and instantiation one
//! step at a time (where the cold start goes), then lets the event page be
//! suspended and wakes it with a message (a cold start with the message
//! waiting from the start). Last, it opens Treeherder's job view of a
//! failing job, reads the content script's measures from the page's
//! timeline, and clicks Backfill. Rows, definitions and budget verdicts are
//! printed at the end (median, min, max over the rounds).

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use anyhow::{bail, Context, Result};
use mozci_harness::artifacts::artifacts_dir;
use mozci_harness::{repo_root, Browser, BrowserOptions, Sandbox, ADDON_ID};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const USAGE: &str = "usage: mozci-addon-bench [--rounds N] [--release-dir DIR]
  --rounds N         cold starts to measure (default 7)
  --release-dir DIR  the release build whose module sizes are judged
                     (default dist/release/addon, as `scripts/build-addon --release` makes it)";

/// The per-page module's budget: 64 KB gzipped.
const PAGE_MODULE_BUDGET_GZIP: u64 = 64 * 1024;
/// The background's cold start to its first answer: under 100 ms.
const COLD_START_BUDGET_MS: f64 = 100.0;

const WAIT: Duration = Duration::from_secs(30);

/// What the rows mean, printed under them.
const ROWS: &str = "
bg:    a fresh install; 0 is the event page's time origin (Firefox began loading it).
       `cold start to first answer` = core ready + the time answering took once
       both the core and the first message (the options page's) were there.
bg steps, page steps: each module loaded one step at a time in an extension page.
wake:  the event page suspended after idling, woken by an extension page's message
       (waiting from its start): `cold start to first answer` is from its time
       origin; `message sent to answer received` is what the sender saw.
page:  the content script's module load on the sandbox's Treeherder job view.
plan:  Backfill click to the plan shown (fetches the job's data from the sandbox).
";

/// The install row for the cold start to the first answer.
const COLD_START: &str = "bg: cold start to first answer";
/// The row the cold-start budget judges: a message waiting from the start.
const WAKE_COLD_START: &str = "wake: cold start to first answer";

struct Args {
    rounds: usize,
    release_dir: PathBuf,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        rounds: 7,
        release_dir: repo_root().join("dist/release/addon"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--rounds" => {
                let n = it.next().context(USAGE)?;
                args.rounds = n
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .with_context(|| format!("--rounds {n}: a positive number\n{USAGE}"))?;
            }
            "--release-dir" => args.release_dir = PathBuf::from(it.next().context(USAGE)?),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    Ok(args)
}

/// A module's size on disk and as `gzip -9` writes it (what
/// `scripts/build-addon` reports).
fn sizes(wasm: &Path) -> Result<(u64, u64)> {
    let raw = std::fs::metadata(wasm)
        .with_context(|| format!("{} (build the add-on first)", wasm.display()))?
        .len();
    let out = std::process::Command::new("gzip")
        .args(["-9", "-c"])
        .arg(wasm)
        .output()
        .context("running gzip")?;
    if !out.status.success() {
        bail!("gzip -9 {} failed", wasm.display());
    }
    Ok((raw, out.stdout.len() as u64))
}

/// The timings of one round, by name, in milliseconds, in the order shown.
type Round = Vec<(String, f64)>;

fn insert(round: &mut Round, name: impl Into<String>, ms: f64) {
    round.push((name.into(), ms));
}

fn ms(value: &Value, what: &str) -> Result<f64> {
    value
        .as_f64()
        .with_context(|| format!("{what}: not a number ({value})"))
}

/// The content script's measures in the job view page.
const PAGE_MEASURES: &str = "
    const read = (name) => performance.getEntriesByName(name, 'measure')[0]?.duration ?? null;
    return { glue: read('mozci:page-glue'), wasm: read('mozci:page-wasm'), module: read('mozci:page-module') };";

/// The event page's start-up, read from an extension page: its time origin
/// (epoch ms) and its marks. (Firefox keeps no resource timing entries for
/// an extension's own files, so the fetch is timed in `module_steps`.)
const BACKGROUND_STARTUP: &str = "
    const bg = await browser.runtime.getBackgroundPage();
    const mark = (name) => bg.performance.getEntriesByName(name, 'mark')[0] ?? null;
    return {
      timeOrigin: bg.performance.timeOrigin,
      scriptStart: mark('mozci:script-start')?.startTime ?? null,
      coreReady: mark('mozci:core-ready')?.startTime ?? null,
      firstMessage: mark('mozci:first-message')?.startTime ?? null,
      firstType: mark('mozci:first-message')?.detail ?? null,
      firstAnswer: mark('mozci:first-answer')?.startTime ?? null,
    };";

/// Sent from an extension page to a suspended event page: its `core-info`
/// request wakes it (the first message, waiting from the event page's
/// start). The times around it are epoch ms, as is the event page's origin.
const WAKE_BY_MESSAGE: &str = "
    const sent = performance.timeOrigin + performance.now();
    await browser.runtime.sendMessage({ type: 'core-info' });
    const answered = performance.timeOrigin + performance.now();
    const bg = await browser.runtime.getBackgroundPage();
    const mark = (name) => bg.performance.getEntriesByName(name, 'mark')[0] ?? null;
    return {
      sent,
      answered,
      timeOrigin: bg.performance.timeOrigin,
      scriptStart: mark('mozci:script-start')?.startTime ?? null,
      coreReady: mark('mozci:core-ready')?.startTime ?? null,
      firstType: mark('mozci:first-message')?.detail ?? null,
      firstAnswer: mark('mozci:first-answer')?.startTime ?? null,
    };";

/// How long Firefox lets the event page idle before it suspends it, in
/// this benchmark (Firefox's default is 30 s).
const IDLE_TIMEOUT_MS: u64 = 1000;

/// Wait for the event page to be suspended, then wake it with a message
/// from the current extension page.
async fn wake_by_message(browser: &Browser, round: &mut Round) -> Result<()> {
    tokio::time::sleep(Duration::from_millis(IDLE_TIMEOUT_MS * 3)).await;
    let wake = run_js(browser, WAKE_BY_MESSAGE).await?;
    let sent = ms(&wake["sent"], "sent")?;
    let origin = ms(&wake["timeOrigin"], "the woken event page's timeOrigin")?;
    if origin < sent {
        bail!("the event page was not suspended after {IDLE_TIMEOUT_MS} ms idle: no cold start");
    }
    if wake["firstType"] != "core-info" {
        bail!(
            "the woken event page's first message was {}, not core-info",
            wake["firstType"]
        );
    }
    insert(
        round,
        "wake: event page start to script run",
        ms(&wake["scriptStart"], "mozci:script-start")?,
    );
    insert(
        round,
        "wake: event page start to core ready",
        ms(&wake["coreReady"], "mozci:core-ready")?,
    );
    insert(
        round,
        WAKE_COLD_START,
        ms(&wake["firstAnswer"], "mozci:first-answer")?,
    );
    insert(
        round,
        "wake: message sent to answer received",
        ms(&wake["answered"], "answered")? - sent,
    );
    Ok(())
}

/// A script for an extension page that loads the module `wasm` with its
/// glue `glue` one step at a time: fetch, compile, the glue's import,
/// instantiate (the module's start-up code included); then once more as
/// the add-on does, in one streaming step (`init` with the module's URL,
/// which overlaps fetch and compile), through a second instance of the glue.
fn module_steps(wasm: &str, glue: &str) -> String {
    format!(
        "const wasmUrl = browser.runtime.getURL('{wasm}');
        const t0 = performance.now();
        const bytes = await (await fetch(wasmUrl)).arrayBuffer();
        const t1 = performance.now();
        const module = await WebAssembly.compile(bytes);
        const t2 = performance.now();
        const glue = await import(browser.runtime.getURL('{glue}'));
        const t3 = performance.now();
        await glue.default({{ module_or_path: module }});
        const t4 = performance.now();
        const streamedGlue = await import(browser.runtime.getURL('{glue}?streamed'));
        const t5 = performance.now();
        await streamedGlue.default({{ module_or_path: wasmUrl }});
        const t6 = performance.now();
        return {{ fetch: t1 - t0, compile: t2 - t1, glue: t3 - t2, instantiate: t4 - t3, streamed: t6 - t5 }};"
    )
}

/// Time `module_steps` in the current extension page, as rows `{prefix} …`.
async fn time_module_steps(
    browser: &Browser,
    round: &mut Round,
    prefix: &str,
    wasm: &str,
    glue: &str,
) -> Result<()> {
    let steps = run_js(browser, &module_steps(wasm, glue)).await?;
    for (step, key) in [
        ("fetch", "fetch"),
        ("compile", "compile"),
        ("glue import", "glue"),
        ("instantiate", "instantiate"),
        ("all in one streaming init", "streamed"),
    ] {
        insert(round, format!("{prefix}{step}"), ms(&steps[key], key)?);
    }
    Ok(())
}

async fn run_js(browser: &Browser, script: &str) -> Result<Value> {
    // WebDriver waits for the promise an async function body returns.
    browser
        .js(&format!("return (async () => {{ {script} }})();"))
        .await
}

/// The event page's start-up marks, once it has published them.
async fn background_startup(browser: &Browser) -> Result<Value> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let bg = run_js(browser, BACKGROUND_STARTUP).await?;
        if !bg["firstAnswer"].is_null() {
            return Ok(bg);
        }
        if std::time::Instant::now() > deadline {
            bail!(
                "the event page published no start-up marks (is this a development build?): {bg}"
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn one_round(browser: &Browser, sandbox: &Sandbox, job_view: &str) -> Result<Round> {
    let mut round = Round::new();
    let home = browser.client.window().await?;
    browser.goto("about:blank").await?;
    // A fresh install each round: Firefox starts a new event page (a cold
    // start) and the add-on opens its options page, whose `core-info`
    // request is the event page's first message.
    browser.uninstall_addon(ADDON_ID).await?;
    let before_install = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("clock")?
        .as_secs_f64()
        * 1000.0;
    browser.install_addon(&repo_root()).await?;
    let options_tab = browser
        .fill_options_after_install(std::slice::from_ref(&sandbox.origins))
        .await?;

    let bg = background_startup(browser).await?;
    if bg["firstType"] != "core-info" {
        bail!(
            "the event page's first message was {}, not the options page's core-info",
            bg["firstType"]
        );
    }
    let origin = ms(&bg["timeOrigin"], "the event page's timeOrigin")?;
    let script_start = ms(&bg["scriptStart"], "mozci:script-start")?;
    let core_ready = ms(&bg["coreReady"], "mozci:core-ready")?;
    let first_message = ms(&bg["firstMessage"], "mozci:first-message")?;
    let first_answer = ms(&bg["firstAnswer"], "mozci:first-answer")?;
    insert(
        &mut round,
        "bg: install command to event page start",
        origin - before_install,
    );
    insert(
        &mut round,
        "bg: event page start to script run (glue loaded)",
        script_start,
    );
    insert(
        &mut round,
        "bg: script run to core ready (wasm streamed)",
        core_ready - script_start,
    );
    insert(&mut round, "bg: event page start to core ready", core_ready);
    insert(&mut round, "bg: first message arrived", first_message);
    insert(&mut round, "bg: first answer", first_answer);
    // What a message waiting from the event page's start would wait: until
    // the core is ready, then as long as answering took once both the
    // core and the message were there.
    insert(
        &mut round,
        COLD_START,
        core_ready + (first_answer - first_message.max(core_ready)).max(0.0),
    );

    time_module_steps(
        browser,
        &mut round,
        "bg steps: ",
        "pkg/mozci_bg.wasm",
        "pkg/mozci.js",
    )
    .await?;
    time_module_steps(
        browser,
        &mut round,
        "page steps: ",
        "pkg-page/mozci_page_bg.wasm",
        "pkg-page/mozci_page.js",
    )
    .await?;
    wake_by_message(browser, &mut round).await?;
    if options_tab.is_some() {
        browser.client.close_window().await?;
        browser.client.switch_to_window(home).await?;
    }

    browser.goto(job_view).await?;
    browser
        .wait_for(
            "#mozci-backfill-btn[data-mozci-core][data-mozci-background-core]",
            WAIT,
        )
        .await
        .context("the Backfill button did not get both cores' versions")?;
    browser
        .wait_for_js(
            "performance.getEntriesByName('mozci:page-module', 'measure').length > 0",
            WAIT,
        )
        .await
        .context("the content script published no load times (is this a development build?)")?;
    let page = browser.js(PAGE_MEASURES).await?;
    insert(
        &mut round,
        "page: glue import",
        ms(&page["glue"], "mozci:page-glue")?,
    );
    insert(
        &mut round,
        "page: wasm fetch+compile+instantiate",
        ms(&page["wasm"], "mozci:page-wasm")?,
    );
    insert(
        &mut round,
        "page: module load total",
        ms(&page["module"], "mozci:page-module")?,
    );

    // The plan for the selected failing job: the first answer that runs the
    // engine (the background fetches the job's data from the sandbox).
    let clicked = std::time::Instant::now();
    browser
        .wait_for("#mozci-backfill-btn", WAIT)
        .await?
        .click()
        .await?;
    let state = browser
        .wait_for_js(
            "(s => s && s !== 'planning' && s)(document.getElementById('mozci-panel')?.dataset.state)",
            WAIT,
        )
        .await
        .context("no plan after the Backfill click")?;
    insert(
        &mut round,
        "plan: Backfill click to plan shown",
        clicked.elapsed().as_secs_f64() * 1000.0,
    );
    if state != "plan" {
        let text = browser
            .js("return document.getElementById('mozci-panel').textContent;")
            .await?;
        bail!("the Backfill click showed `{state}`, not a plan: {text}");
    }
    Ok(round)
}

/// The 1, 5 and 15 minute load averages: how busy the machine was (the
/// times are wall-clock times).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}

fn median_min_max(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    (median, values[0], values[n - 1])
}

fn verdict(within: bool) -> &'static str {
    if within {
        "PASS"
    } else {
        "OVER"
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    anyhow::ensure!(
        mozci_harness::addon_is_built(),
        "the add-on is not built: run scripts/bench-addon (or scripts/build-addon)"
    );

    println!(
        "== module sizes (gzip -9; release: what ships, timed: the development build in place, which the times below are from) =="
    );
    let modules = [
        (
            "release",
            "background",
            args.release_dir.join("pkg/mozci_bg.wasm"),
        ),
        (
            "release",
            "page",
            args.release_dir.join("pkg-page/mozci_page_bg.wasm"),
        ),
        ("timed", "background", repo_root().join("pkg/mozci_bg.wasm")),
        (
            "timed",
            "page",
            repo_root().join("pkg-page/mozci_page_bg.wasm"),
        ),
    ];
    let mut release_page_gzip = None;
    for (variant, role, path) in &modules {
        let (raw, gzip) = sizes(path)?;
        println!(
            "{variant:>8} {role:<10} {:>10} B raw {:>9} B gzip  {}",
            raw,
            gzip,
            path.strip_prefix(repo_root()).unwrap_or(path).display()
        );
        if *variant == "release" && *role == "page" {
            release_page_gzip = Some(gzip);
        }
    }

    let sandbox = Sandbox::start(&["--scenario", "demo", "--speed", "0"]).await?;
    let job_view = sandbox.demo_failing_job_view().await?;
    let options = BrowserOptions {
        prefs: vec![(
            "extensions.background.idle.timeout".to_string(),
            Value::from(IDLE_TIMEOUT_MS),
        )],
        ..BrowserOptions::default()
    };
    let browser = Browser::launch(&options, &artifacts_dir("addon-bench")).await?;
    let measured = async {
        // Installed once before the rounds, each of which installs it afresh.
        browser.install_addon(&repo_root()).await?;
        browser
            .configure_after_install(std::slice::from_ref(&sandbox.origins))
            .await?;
        let version = browser
            .wait_for_js("navigator.userAgent", WAIT)
            .await?
            .as_str()
            .unwrap_or_default()
            .to_string();
        println!(
            "\n== {} cold starts in {version}, load average {} ==",
            args.rounds,
            load_average()
        );
        let mut rounds = Vec::new();
        for n in 1..=args.rounds {
            let round = one_round(&browser, &sandbox, &job_view)
                .await
                .with_context(|| format!("round {n}"))?;
            eprintln!("round {n}/{} done", args.rounds);
            rounds.push(round);
        }
        anyhow::Ok(rounds)
    }
    .await;
    let rounds = match measured {
        Ok(rounds) => {
            browser.close().await?;
            rounds
        }
        Err(err) => {
            let shot = browser.screenshot("failure").await.ok();
            let log = browser.console_log_path().to_path_buf();
            let _ = browser.close().await;
            return Err(err.context(format!(
                "screenshot {shot:?}, browser console {}",
                log.display()
            )));
        }
    };
    sandbox.stop().await?;

    println!("{:<50} {:>8} {:>8} {:>8}", "ms", "median", "min", "max");
    let mut medians = Vec::new();
    if let Some(first) = rounds.first() {
        for (name, _) in first {
            let mut values: Vec<f64> = rounds
                .iter()
                .filter_map(|r| r.iter().find(|(n, _)| n == name).map(|(_, v)| *v))
                .collect();
            let (median, min, max) = median_min_max(&mut values);
            println!("{name:<50} {median:>8.1} {min:>8.1} {max:>8.1}");
            medians.push((name.clone(), median));
        }
    }
    println!("load average after: {}", load_average());
    println!("{ROWS}");

    println!("== budgets ==");
    let page_gzip = release_page_gzip.context("the release page module's size")?;
    println!(
        "{}  per-page module (release pkg-page): {page_gzip} B gzipped <= {PAGE_MODULE_BUDGET_GZIP} B (64 KB)",
        verdict(page_gzip <= PAGE_MODULE_BUDGET_GZIP)
    );
    let median_of = |row: &str| {
        medians
            .iter()
            .find(|(name, _)| name == row)
            .map(|(_, median)| *median)
            .with_context(|| format!("no row {row}"))
    };
    for (row, what) in [
        (WAKE_COLD_START, "woken by a message"),
        (COLD_START, "after install"),
    ] {
        let median = median_of(row)?;
        println!(
            "{}  background cold start to first answer, {what}: median {median:.1} ms < {COLD_START_BUDGET_MS} ms",
            verdict(median < COLD_START_BUDGET_MS)
        );
    }
    Ok(())
}

//! `mozci culprit` and `mozci failures` against the sandbox's demo scenario:
//! the intermittent regression seeded on autoland at push index 18
//! (mochitest-browser-chrome-1, q = 0.7) is found with the expected
//! confidence while the test moves the sandbox clock, and the request log
//! shows the runs it triggered. Needs `cargo build -p mozci-sandbox` first.

mod common;

use common::{client, get, hook_calls};
use mozci::http::{send_checked, HttpRequest, RetryPolicy};
use mozci_harness::{newest_failed_push, Sandbox};
use serde_json::Value;
use std::process::Stdio;
use std::time::{Duration, Instant};

const BC1: &str = "test-linux64/opt-mochitest-browser-chrome-1";
const REGRESSING_TEST: &str =
    "browser/base/content/test/general/browser_tabs_close_beforeunload.js";
const REGRESSION_INDEX: u64 = 18;

fn mozci_command(s: &Sandbox, state: &std::path::Path, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::from(common::mozci_command(s, state, args));
    command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

async fn advance(s: &Sandbox, seconds: u64) {
    let request = HttpRequest::post_json(
        format!("{}/__sandbox/advance", s.origins.treeherder),
        &serde_json::json!({ "seconds": seconds }),
    );
    send_checked(&client(), request, RetryPolicy::none())
        .await
        .expect("the clock moves");
}

/// Wait for a `mozci culprit` run to finish while the sandbox's clock moves
/// 15 minutes at a time (so its runs complete); it must exit 0, and its own
/// `--timeout-minutes 2` is what ends it otherwise.
async fn finish_while_the_clock_moves(
    s: &Sandbox,
    mut child: tokio::process::Child,
) -> (std::process::Output, String) {
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("child status") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(150),
            "no answer within 150 s (the CLI gives up after 120)"
        );
        advance(s, 900).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let out = child.wait_with_output().await.expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(status.code(), Some(0), "{stderr}");
    (out, stderr)
}

/// The newest autoland push where bc1 failed, and the summary rows.
async fn failure_seen(s: &Sandbox) -> (Value, Vec<Value>) {
    let rows = get(&format!(
        "{}/__sandbox/summary?repo=autoland",
        s.origins.treeherder
    ))
    .await;
    let rows = rows.as_array().expect("rows").clone();
    let seen = newest_failed_push(&rows, BC1)
        .expect("a push where bc1 failed")
        .clone();
    (seen, rows)
}

#[tokio::test(flavor = "current_thread")]
async fn culprit_finds_the_seeded_intermittent_regression() {
    let s = Sandbox::start(&["--speed", "0"]).await.expect("sandbox");
    let state = common::StateDir::new("culprit-test");
    let (seen, rows) = failure_seen(&s).await;
    let seen_index = seen["index"].as_u64().expect("index");
    assert!(seen_index >= REGRESSION_INDEX, "{seen}");
    let culprit_revision = rows
        .iter()
        .find(|r| r["index"].as_u64() == Some(REGRESSION_INDEX))
        .and_then(|r| r["revision"].as_str())
        .expect("the regressing push")
        .to_string();
    // The regressing push is the 4th oldest of the suspects (12 or more).
    let suspects_n = (seen_index - REGRESSION_INDEX + 4).max(12);
    let suspects = suspects_n.to_string();
    let revision = seen["revision"].as_str().expect("revision").to_string();
    let base = [
        "culprit",
        "--repo",
        "autoland",
        "--label",
        BC1,
        "--rev",
        &revision,
        "--suspects",
        &suspects,
        // The whole-job-runs search (the confirm-first default has its own test).
        "--no-confirm",
    ];

    // A dry run shows the first round and sends nothing.
    let dry = mozci_command(
        &s,
        &state,
        &[&["--json"], &base[..], &["--dry-run"]].concat(),
    )
    .output()
    .await
    .expect("mozci runs");
    let stderr = String::from_utf8_lossy(&dry.stderr);
    assert_eq!(dry.status.code(), Some(0), "{stderr}");
    let doc: Value = serde_json::from_slice(&dry.stdout).expect("one JSON document");
    let first_round: u64 = doc["rounds"][0]["planned"]
        .as_array()
        .expect("planned runs")
        .iter()
        .map(|p| p["runs"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(first_round, 8, "{doc}");
    assert_eq!(doc["done"], false);

    // The job's history: the pushes before the suspects and the 10 older
    // pushes, counted as `mozci rate` counts them on the same pushes.
    let newest_history_index = seen_index + 1 - suspects_n - 10 - 1;
    let history_pushes: Vec<&Value> = rows
        .iter()
        .filter(|r| {
            r["index"]
                .as_u64()
                .is_some_and(|i| i <= newest_history_index)
        })
        .collect();
    assert!(
        !history_pushes.is_empty(),
        "the scenario has pushes before the range"
    );
    assert_eq!(
        doc["history"]["pushes"].as_u64(),
        Some(history_pushes.len() as u64),
        "{doc}"
    );
    let newest_history_revision = rows
        .iter()
        .find(|r| r["index"].as_u64() == Some(newest_history_index))
        .and_then(|r| r["revision"].as_str())
        .expect("the newest history push");
    let history_count = history_pushes.len().to_string();
    let rate = mozci_command(
        &s,
        &state,
        &[
            &["--json"],
            &common::rate_args(BC1, newest_history_revision, &history_count, None)[..],
        ]
        .concat(),
    )
    .output()
    .await
    .expect("mozci runs");
    let rate: Value = serde_json::from_slice(&rate.stdout).expect("one JSON document");
    assert_eq!(doc["history"]["runs"], rate["runs"], "{doc} {rate}");
    assert_eq!(doc["history"]["failures"], rate["failures"], "{doc} {rate}");
    assert!(rate["runs"].as_u64().is_some_and(|r| r > 0), "{rate}");
    let dry_text = mozci_command(&s, &state, &[&base[..], &["--dry-run"]].concat())
        .output()
        .await
        .expect("mozci runs");
    let text = String::from_utf8_lossy(&dry_text.stdout);
    assert!(
        text.contains("round 1: would trigger") && text.contains("dry run: nothing sent"),
        "{text}"
    );
    assert!(
        text.contains("Flake rate first estimated from the job's history"),
        "{text}"
    );
    // Runs are judged by the failure signature of the failed run on the
    // push of --rev: the regressing test's failure.
    assert!(
        text.contains(
            "A run counts as failed only when it fails like the selected job: test failure in"
        ) && text.contains(REGRESSING_TEST),
        "{text}"
    );
    assert_eq!(hook_calls(&s).await.len(), 0, "a dry run sends nothing");

    // The search itself, with the clock moved while it waits.
    let child = mozci_command(
        &s,
        &state,
        &[
            &["--json"],
            &base[..],
            &["--poll-seconds", "1", "--timeout-minutes", "2"],
        ]
        .concat(),
    )
    .spawn()
    .expect("mozci starts");
    let started = Instant::now();
    let (out, _) = finish_while_the_clock_moves(&s, child).await;
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["done"], true, "{doc}");
    assert_eq!(
        doc["culprit"]["revision"],
        culprit_revision.as_str(),
        "{}",
        doc["explanation"]
    );
    let confidence = doc["answer"]["confidence"].as_f64().expect("confidence");
    assert!(confidence >= 0.99, "{}", doc["explanation"]);

    // Every run asked for went through a hook trigger that was accepted.
    let triggered: u64 = doc["rounds"]
        .as_array()
        .expect("rounds")
        .iter()
        .flat_map(|r| r["planned"].as_array().cloned().unwrap_or_default())
        .map(|p| p["runs"].as_u64().unwrap_or(0))
        .sum();
    assert!(triggered >= 1, "{doc}");
    let hooks = hook_calls(&s).await;
    let records: usize = doc["rounds"]
        .as_array()
        .expect("rounds")
        .iter()
        .map(|r| r["triggered"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(hooks.len(), records, "one hook call per push and round");
    assert!(hooks.iter().all(|h| h["status"] == 200), "{hooks:?}");
    eprintln!(
        "culprit found in {} round(s), {} run(s) triggered, {:.1} s: {}",
        doc["rounds"].as_array().map_or(0, Vec::len),
        triggered,
        started.elapsed().as_secs_f64(),
        doc["explanation"]
    );

    // The same command again: the answer comes from the runs already there.
    let again = mozci_command(&s, &state, &[&["--json"], &base[..]].concat())
        .output()
        .await
        .expect("mozci runs");
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let doc: Value = serde_json::from_slice(&again.stdout).expect("one JSON document");
    assert_eq!(doc["done"], true, "{doc}");
    assert_eq!(doc["rounds"].as_array().map(Vec::len), Some(0), "{doc}");
    assert_eq!(doc["culprit"]["revision"], culprit_revision.as_str());
    assert_eq!(
        hook_calls(&s).await.len(),
        hooks.len(),
        "nothing sent twice"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn culprit_of_one_test_reads_the_failed_runs_logs() {
    let s = Sandbox::start(&["--speed", "0"]).await.expect("sandbox");
    let state = common::StateDir::new("culprit-test1");
    let (seen, rows) = failure_seen(&s).await;
    let seen_index = seen["index"].as_u64().expect("index");
    let culprit_revision = rows
        .iter()
        .find(|r| r["index"].as_u64() == Some(REGRESSION_INDEX))
        .and_then(|r| r["revision"].as_str())
        .expect("the regressing push")
        .to_string();
    let suspects = (seen_index - REGRESSION_INDEX + 4).max(12).to_string();
    let revision = seen["revision"].as_str().expect("revision").to_string();
    let test_name = REGRESSING_TEST.rsplit('/').next().expect("file name");
    let args = [
        "--json",
        "culprit",
        "--repo",
        "autoland",
        "--label",
        BC1,
        "--rev",
        &revision,
        "--suspects",
        &suspects,
        "--no-confirm",
        "--test",
        test_name,
        "--poll-seconds",
        "1",
        "--timeout-minutes",
        "2",
    ];
    let child = mozci_command(&s, &state, &args)
        .spawn()
        .expect("mozci starts");
    let (out, stderr) = finish_while_the_clock_moves(&s, child).await;
    assert!(!stderr.contains("logs not read"), "{stderr}");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["test"], test_name);
    assert_eq!(doc["done"], true, "{doc}");
    assert_eq!(
        doc["culprit"]["revision"],
        culprit_revision.as_str(),
        "{}",
        doc["explanation"]
    );
    assert!(doc["answer"]["confidence"].as_f64().expect("confidence") >= 0.99);
}

/// The hook triggers in the sandbox's request log.

#[tokio::test(flavor = "current_thread")]
async fn failures_lists_the_failing_test_of_a_job() {
    let s = Sandbox::start(&["--speed", "0"]).await.expect("sandbox");
    let state = common::StateDir::new("failures-test");
    let jobs = get(&format!(
        "{}/__sandbox/jobs?repo=autoland&label={BC1}",
        s.origins.treeherder
    ))
    .await;
    let failing = jobs
        .as_array()
        .expect("jobs")
        .iter()
        .find(|j| {
            j["failures"]
                .as_array()
                .is_some_and(|f| f.iter().any(|t| t["test"] == REGRESSING_TEST))
        })
        .expect("a failing bc1 job");
    let job_id = failing["id"].as_u64().expect("job id").to_string();
    let args = [
        "failures",
        "--repo",
        "autoland",
        "--job-id",
        job_id.as_str(),
    ];

    let out = mozci_command(&s, &state, &[&["--json"], &args[..]].concat())
        .output()
        .await
        .expect("mozci runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let tests: Vec<&str> = doc["failures"]["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .filter_map(|f| f["test"].as_str())
        .collect();
    assert!(tests.contains(&REGRESSING_TEST), "{doc}");
    assert_eq!(doc["failures"]["source"], "structured", "{doc}");

    let out = mozci_command(&s, &state, &args)
        .output()
        .await
        .expect("mozci runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(REGRESSING_TEST) && text.contains("failing test"),
        "{text}"
    );

    let missing = mozci_command(
        &s,
        &state,
        &["failures", "--repo", "autoland", "--job-id", "999999999"],
    )
    .output()
    .await
    .expect("mozci runs");
    assert_eq!(
        missing.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
}

#[tokio::test(flavor = "current_thread")]
async fn culprit_confirms_first_by_default_on_taskcluster() {
    // The demo with the autoland regression made permanent: every push from
    // REGRESSION_INDEX on fails, the one before passes.
    let mut demo: Value =
        serde_json::from_str(include_str!("../../sandbox/scenarios/demo.json")).expect("demo");
    demo["regressions"][1]["q"] = serde_json::json!(1.0);
    let file = std::env::temp_dir().join(format!("mozci-cli-confirm-{}.json", std::process::id()));
    std::fs::write(&file, demo.to_string()).expect("scenario written");
    let s = Sandbox::start(&["--speed", "0", "--scenario", file.to_str().expect("path")])
        .await
        .expect("sandbox");
    let state = common::StateDir::new("culprit-confirm-test");
    let (seen, rows) = failure_seen(&s).await;
    let culprit_revision = rows
        .iter()
        .find(|r| r["index"].as_u64() == Some(REGRESSION_INDEX))
        .and_then(|r| r["revision"].as_str())
        .expect("the regressing push")
        .to_string();
    let revision = seen["revision"].as_str().expect("revision").to_string();
    let args = [
        "--json",
        "culprit",
        "--repo",
        "autoland",
        "--label",
        BC1,
        "--rev",
        &revision,
        "--poll-seconds",
        "1",
        "--timeout-minutes",
        "2",
    ];
    let child = mozci_command(&s, &state, &args)
        .spawn()
        .expect("mozci starts");
    let (out, _) = finish_while_the_clock_moves(&s, child).await;
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["mode"], "confirm_first", "{doc}");
    // The range: after the last push where the job passed, up to --rev.
    assert_eq!(doc["confirm_first"]["plan"], "search", "{doc}");
    let seen_index = seen["index"].as_u64().expect("index");
    assert_eq!(
        doc["confirm_first"]["range"].as_array().map(Vec::len),
        Some((seen_index - REGRESSION_INDEX + 1) as usize),
        "{doc}"
    );
    assert_eq!(doc["done"], true, "{doc}");
    assert_eq!(
        doc["culprit"]["revision"],
        culprit_revision.as_str(),
        "{}",
        doc["explanation"]
    );
    assert!(doc["answer"]["confidence"]
        .as_f64()
        .is_some_and(|c| c >= 0.99));
    assert!(doc["cost_used"].as_f64().is_some(), "{doc}");

    // Each trigger once, accepted, signed by the user; confirm-failures at
    // most once per push.
    let hooks = hook_calls(&s).await;
    let records: usize = doc["rounds"]
        .as_array()
        .expect("rounds")
        .iter()
        .map(|r| r["triggered"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(hooks.len(), records, "{hooks:#?}");
    assert!(hooks.iter().all(|h| h["status"] == 200), "{hooks:?}");
    let mut confirmed = std::collections::BTreeSet::new();
    for hook in &hooks {
        let body: Value = serde_json::from_str(hook["body"].as_str().unwrap_or("")).expect("body");
        if body["decision"]["action"]["cb_name"] == "confirm-failures" {
            assert!(confirmed.insert(body["decision"]["push"]["pushlog_id"].to_string()));
        }
    }
    // One -cf task per request here (one failing test), counted once read.
    let used = doc["confirm_tasks_used"]
        .as_u64()
        .expect("confirm tasks used");
    assert!(used >= 1 && used <= confirmed.len() as u64, "{doc}");
    // Confirm first: the first trigger is the confirm on the failing push.
    let first: Value = serde_json::from_str(hooks[0]["body"].as_str().unwrap_or("")).expect("body");
    assert_eq!(first["decision"]["action"]["cb_name"], "confirm-failures");
    assert_eq!(first["decision"]["push"]["revision"], revision.as_str());
    eprintln!("{}", doc["explanation"]);
}

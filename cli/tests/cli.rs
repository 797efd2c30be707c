//! The `mozci` binary against the local Mozilla CI: dry runs, JSON output,
//! confirmation, credentials and exit codes, and no double triggering when
//! the same command runs twice. Needs `cargo build -p mozci-sandbox` first.

mod common;

use common::{get, hook_calls, sandbox_line};
use mozci_harness::Sandbox;
use serde_json::Value;
use std::process::Command;

const BC1: &str = "test-linux64/opt-mochitest-browser-chrome-1";

fn mozci(sandbox: &Sandbox, state: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = common::mozci_command(sandbox, state, args)
        .output()
        .expect("mozci runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn failing_revision(s: &Sandbox) -> String {
    let rows = get(&format!(
        "{}/__sandbox/summary?repo=autoland",
        s.origins.treeherder
    ))
    .await;
    let row = rows
        .as_array()
        .expect("rows")
        .iter()
        .rev()
        .find(|r| {
            r["failed"]
                .as_array()
                .is_some_and(|f| f.iter().any(|l| l == BC1))
        })
        .expect("failing push");
    row["revision"].as_str().expect("revision").to_string()
}

async fn hook_triggers(s: &Sandbox) -> usize {
    hook_calls(s).await.len()
}

#[tokio::test(flavor = "current_thread")]
async fn backfill_dry_run_then_trigger_then_nothing_twice() {
    let s = Sandbox::start(&["--speed", "0"]).await.expect("sandbox");
    let state = common::StateDir::new("cli-test");
    let rev = failing_revision(&s).await;
    let base = [
        "trigger",
        "--repo",
        "autoland",
        "--label",
        BC1,
        "--rev",
        rev.as_str(),
        "--backfill",
        "--max-revisions",
        "8",
        "--times",
        "3",
    ];

    let (code, out, err) = mozci(
        &s,
        &state,
        &[&["--json"], &base[..], &["--dry-run"]].concat(),
    );
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(doc["dry_run"], true);
    let planned: u64 = doc["plan"]["pushes"]
        .as_array()
        .expect("pushes")
        .iter()
        .map(|p| match p["action"]["action"].as_str() {
            Some("retrigger") | Some("trigger") => p["action"]["count"].as_u64().unwrap_or(0),
            _ => 0,
        })
        .sum();
    assert!(planned >= 2, "{out}");
    assert_eq!(hook_triggers(&s).await, 0, "a dry run sends nothing");
    // The plan says how runs are judged: like the selected one, with
    // infrastructure failures re-run; --any-failure and --test change it.
    let notes = doc["plan"]["notes"].to_string();
    assert!(
        notes.contains("a run counts as failed only when it fails like the selected job: test failure in browser/")
            && notes.contains("are no evidence against a push and are re-run, at most 2 extra run(s) per push"),
        "{notes}"
    );
    let (code, out, err) = mozci(
        &s,
        &state,
        &[&base[..], &["--dry-run", "--any-failure"]].concat(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("note: any failure of this job counts; runs ending in an exception or retry are no evidence"), "{out}");
    let (code, out, err) = mozci(
        &s,
        &state,
        &[
            &base[..],
            &["--dry-run", "--test", "browser_tabs_close_beforeunload.js"],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(
            "note: a run counts as failed only when browser_tabs_close_beforeunload.js fails"
        ),
        "{out}"
    );
    let (code, _, err) = mozci(
        &s,
        &state,
        &[&base[..], &["--dry-run", "--any-failure", "--test", "x.js"]].concat(),
    );
    assert_eq!(code, 2, "--any-failure and --test conflict: {err}");

    // Without --times the failure rate on the failing pushes sets it, and
    // the plan's notes say why.
    let automatic: Vec<&str> = base
        .iter()
        .copied()
        .take_while(|a| *a != "--times")
        .collect();
    let (code, out, err) = mozci(
        &s,
        &state,
        &[&["--json"], &automatic[..], &["--dry-run"]].concat(),
    );
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).expect("one JSON document");
    let times = doc["plan"]["request"]["times"].as_u64().expect("times");
    let note = doc["plan"]["notes"][0].as_str().unwrap_or_default();
    assert!(
        note.starts_with(&format!(
            "times {times} chosen from the failure rate: the job failed "
        )),
        "{out}"
    );
    assert!((1..=10).contains(&times), "{out}");
    // A count nobody typed is confirmed first, as in the add-on, however
    // small the plan: not interactive, so refused with exit code 3.
    let (code, _, err) = mozci(&s, &state, &automatic);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("needs confirmation"), "{err}");
    assert_eq!(hook_triggers(&s).await, 0);
    // The CLI's bounds are the add-on's (`plan::choices`).
    let (code, _, err) = mozci(
        &s,
        &state,
        &[&automatic[..], &["--times", "11", "--dry-run"]].concat(),
    );
    assert_eq!(code, 2, "at most 10 runs per push: {err}");

    // Above the confirmation limit and not interactive: refused with exit code 3.
    let (code, _, err) = mozci(&s, &state, &[&base[..], &["--confirm-above", "1"]].concat());
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("needs confirmation"), "{err}");
    assert_eq!(hook_triggers(&s).await, 0);

    let (code, out, err) = mozci(&s, &state, &[&base[..], &["--yes"]].concat());
    assert_eq!(code, 0, "{out}\n{err}");
    let sent = hook_triggers(&s).await;
    assert!(sent >= 1, "{out}");
    assert!(out.contains("accepted"), "{out}");

    // The same command again: everything already counts, nothing is sent.
    let (code, out, _) = mozci(&s, &state, &[&base[..], &["--yes"]].concat());
    assert_eq!(code, 0);
    assert!(out.contains("0 job(s) to start"), "{out}");
    assert_eq!(hook_triggers(&s).await, sent);
}

#[tokio::test(flavor = "current_thread")]
async fn missing_buildapi_credentials_exit_with_the_auth_code() {
    let s = Sandbox::start(&["--speed", "0"]).await.expect("sandbox");
    let state = common::StateDir::new("cli-auth");
    let line = sandbox_line(&s);
    let origins: Value = serde_json::from_str(&line).expect("line");
    let push = get(&format!(
        "{}/api/project/mozilla-inbound/push/?count=1",
        origins["treeherder"].as_str().expect("th")
    ))
    .await;
    let rev = push["results"][0]["revision"]
        .as_str()
        .expect("revision")
        .to_string();
    let (code, _, err) = mozci(
        &s,
        &state,
        &[
            "trigger",
            "--repo",
            "mozilla-inbound",
            "-b",
            "Ubuntu VM 12.04 x64 mozilla-inbound opt test crashtest",
            "--rev",
            &rev,
            "--dry-run",
        ],
    );
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("401") && err.contains("log in"), "{err}");
}

#[test]
fn help_has_examples_and_bad_flags_are_usage_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_mozci"))
        .arg("--help")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Examples:") && text.contains("Exit codes"),
        "{text}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_mozci"))
        .args(["trigger", "--repo", "x"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_mozci"))
        .args([
            "trigger", "--repo", "x", "-b", "y", "--rev", "z", "--times", "0",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "times must be at least 1");
}

#[tokio::test(flavor = "current_thread")]
async fn graph_lists_each_build_with_the_tests_it_triggers() {
    let s = Sandbox::start(&["--speed", "0"]).await.expect("sandbox");
    let state = common::StateDir::new("cli-graph");
    let (code, out, err) = mozci(&s, &state, &["graph", "--repo", "mozilla-inbound"]);
    assert_eq!(code, 0, "{err}");
    let graph: Value = serde_json::from_str(&out).expect("graph JSON");
    let linux = &graph["opt"]["linux64"];
    let tests = linux["Linux x86-64 mozilla-inbound build"]
        .as_array()
        .expect("the linux64 opt build and its tests");
    assert!(
        tests
            .iter()
            .any(|t| t == "Ubuntu VM 12.04 x64 mozilla-inbound opt test mochitest-1"),
        "{linux}"
    );
    assert!(linux["tests"]
        .as_array()
        .expect("suites")
        .iter()
        .any(|t| t == "mochitest-browser-chrome-1"));
    assert!(graph["debug"].is_object() && graph["pgo"].is_object());
}

#[tokio::test(flavor = "current_thread")]
async fn follow_merge_plans_on_the_source_repository_pushes() {
    let s = Sandbox::start(&["--speed", "0"]).await.expect("sandbox");
    let state = common::StateDir::new("cli-merge");
    let th = s.origins.treeherder.clone();
    let merges = get(&format!("{th}/api/project/mozilla-central/push/?count=1")).await;
    let merge_rev = merges["results"][0]["revision"]
        .as_str()
        .expect("merge revision")
        .to_string();
    let (code, out, err) = mozci(
        &s,
        &state,
        &[
            "--json",
            "trigger",
            "--repo",
            "mozilla-central",
            "--follow-merge",
            "autoland",
            "--label",
            BC1,
            "--rev",
            &merge_rev,
            "--dry-run",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(doc["repo"], "autoland");
    let planned: Vec<String> = doc["plan"]
        .as_array()
        .expect("plans")
        .iter()
        .map(|p| p["revision"].as_str().unwrap_or_default().to_string())
        .collect();
    // The demo merges autoland ten pushes at a time: the newest merge
    // carries the ten newest autoland pushes.
    let autoland = get(&format!("{th}/api/project/autoland/push/?count=10")).await;
    let newest_ten: Vec<String> = autoland["results"]
        .as_array()
        .expect("pushes")
        .iter()
        .map(|p| p["revision"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(planned, newest_ten);
}

#[tokio::test(flavor = "current_thread")]
async fn rate_counts_the_failures_the_sandbox_made_and_says_how_many_runs_show_them() {
    const XPCSHELL: &str = "test-linux64/opt-xpcshell";
    let s = Sandbox::start(&["--speed", "0"]).await.expect("sandbox");
    let state = common::StateDir::new("rate-test");
    let rows = get(&format!(
        "{}/__sandbox/summary?repo=autoland",
        s.origins.treeherder
    ))
    .await;
    let rows = rows.as_array().expect("rows");
    let newest = rows.last().expect("a push");
    let rev = newest["revision"].as_str().expect("revision");
    // The simulator's own account: pushes where the flaky xpcshell failed.
    let expected_failures = rows
        .iter()
        .filter(|r| {
            r["failed"]
                .as_array()
                .is_some_and(|f| f.iter().any(|l| l == XPCSHELL))
        })
        .count() as u64;
    assert!(expected_failures >= 1, "the scenario has xpcshell flakes");
    let pushes = rows.len().to_string();

    let (code, out, err) = mozci(
        &s,
        &state,
        &[
            &["--json"],
            &common::rate_args(XPCSHELL, rev, &pushes, None)[..],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(doc["failures"].as_u64(), Some(expected_failures), "{doc}");
    let runs = doc["runs"].as_u64().expect("runs");
    assert!(
        runs >= expected_failures && runs <= rows.len() as u64,
        "{doc}"
    );
    let rate = doc["rate"].as_f64().expect("rate");
    let (lo, hi) = (
        doc["interval"][0].as_f64().expect("lower"),
        doc["interval"][1].as_f64().expect("upper"),
    );
    assert!(lo < rate && rate < hi, "{doc}");
    assert!(doc["runs_needed"].as_u64().is_some_and(|k| k >= 2), "{doc}");

    // The flaky test itself, read from the failed runs' logs: the same count.
    let (code, out, err) = mozci(
        &s,
        &state,
        &[
            &["--json"],
            &common::rate_args(XPCSHELL, rev, &pushes, Some("test_http2.js"))[..],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(doc["failures"].as_u64(), Some(expected_failures), "{doc}");
    assert_eq!(
        doc["unread_logs"].as_array().map(Vec::len),
        Some(0),
        "{doc}"
    );
    // Another test of the job never failed.
    let (code, out, _) = mozci(
        &s,
        &state,
        &common::rate_args(XPCSHELL, rev, &pushes, Some("test_Http.js")),
    );
    assert_eq!(code, 0);
    assert!(
        out.contains(" 0 failed of ") && out.contains("no run failed"),
        "{out}"
    );
}

/// `mozci` with no sandbox: for commands that read only local files.
fn mozci_offline(state: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mozci"))
        .args(args)
        .env("MOZCI_STATE_DIR", state)
        .env("MOZCI_CONFIG", state.join("no-config.toml"))
        .output()
        .expect("mozci runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `(line number, kind, test)` of every line `failures --log --json` prints.
fn printed_lines(doc: &Value) -> Vec<(u64, String, Option<String>)> {
    doc["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["line_number"].as_u64().expect("line number"),
                l["kind"].as_str().unwrap_or("none").to_string(),
                l["test"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn failures_of_a_log_at_hand_plain_or_gzip_text_or_structured() {
    use std::io::Write;
    let state = common::StateDir::new("cli-failures-log");
    std::fs::create_dir_all(&*state).expect("state dir");
    // A Taskcluster task log with `\r\n` line ends: a crash, an assertion,
    // and the exit status that follows from them.
    let log = concat!(
        "[taskcluster 2025-01-01 00:00:00.000Z] Task ID: abc\r\n",
        "[task 2025-01-01T00:00:01.000Z] 00:00:01     INFO - TEST-START | dom/a.html\r\n",
        "[task 2025-01-01T00:00:02.000Z] 00:00:02     INFO - GECKO(7) | Assertion failure: mRefCnt > 0, at xpcom/A.h:3\r\n",
        "[task 2025-01-01T00:00:03.000Z] 00:00:03     INFO - PROCESS-CRASH | dom/a.html | application crashed [@ mozilla::dom::A::Run()]\r\n",
        "[task 2025-01-01T00:00:04.000Z] 00:00:04    ERROR - Return code: 1\r\n",
    );
    let plain = state.join("live_backing.log");
    std::fs::write(&plain, log).expect("write log");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(log.as_bytes()).expect("gzip");
    let gzipped = state.join("live_backing.log.gz");
    std::fs::write(&gzipped, gz.finish().expect("gzip")).expect("write log");
    let expected = vec![
        (2, "assertion".to_string(), None),
        (3, "crash".to_string(), Some("dom/a.html".to_string())),
        (4, "crash".to_string(), None),
    ];
    for path in [&plain, &gzipped] {
        let path = path.to_str().expect("utf-8 path");
        let (code, out, err) = mozci_offline(&state, &["--json", "failures", "--log", path]);
        assert_eq!(code, 0, "{err}");
        let doc: Value = serde_json::from_str(&out).expect("one JSON document");
        assert_eq!(printed_lines(&doc), expected, "{doc}");
        assert_eq!(doc["kind"], "crash", "{doc}");
        assert_eq!(doc["kinds"], serde_json::json!(["crash", "assertion"]));
        assert_eq!(
            doc["lines"][1]["signature"], "mozilla::dom::A::Run()",
            "{doc}"
        );
        assert_eq!(doc["source"], "text_log");
    }
    // The human form names the kinds and every line.
    let (code, out, _) = mozci_offline(
        &state,
        &["failures", "--log", gzipped.to_str().unwrap_or("")],
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("failure kind: crash (also: assertion)"),
        "{out}"
    );
    assert!(
        out.contains("line 3 crash [dom/a.html @ mozilla::dom::A::Run()]"),
        "{out}"
    );

    // The recorded Treeherder fixture: the line Treeherder keeps, by number.
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/logs/mochitest-fail.log.gz"
    );
    let (code, out, err) = mozci_offline(&state, &["--json", "failures", "--log", fixture]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).expect("one JSON document");
    let lines = printed_lines(&doc);
    assert_eq!(lines.len(), 1, "{doc}");
    assert_eq!((lines[0].0, lines[0].1.as_str()), (9093, "test_failure"));

    // An error summary: the failures it records, at their raw-log lines.
    let summary = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/logs/mochitest-plain-chunked.errorsummary.log"
    );
    let (code, out, err) = mozci_offline(&state, &["--json", "failures", "--log", summary]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(doc["source"], "error_summary");
    assert_eq!(
        printed_lines(&doc),
        [(
            3116,
            "test_failure".to_string(),
            Some(
                "toolkit/content/tests/widgets/test_videocontrols_video_direction.html".to_string()
            )
        )]
    );

    // A missing file is a usage error, and so is giving neither a job nor a log.
    let (code, _, err) = mozci_offline(&state, &["failures", "--log", "/nonexistent/log"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot read the log"), "{err}");
    let (code, _, _) = mozci_offline(&state, &["failures"]);
    assert_eq!(code, 2);
}

/// Serves `routes` (path, extra headers, body) on a loopback port until the
/// test process ends; 404 for anything else. Returns the base URL.
fn serve_logs(routes: Vec<(&'static str, &'static str, Vec<u8>)>) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("loopback port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // The rest of the head, up to the blank line.
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("");
            let mut stream = &stream;
            let answer = match routes.iter().find(|(p, _, _)| *p == path) {
                Some((_, headers, body)) => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n",
                        body.len()
                    );
                    stream
                        .write_all(head.as_bytes())
                        .and_then(|()| stream.write_all(body))
                }
                None => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
            drop(answer);
        }
    });
    base
}

#[test]
fn failures_of_a_log_url_plain_gzip_file_or_gzip_encoded() {
    use std::io::Write;
    let state = common::StateDir::new("cli-failures-url");
    std::fs::create_dir_all(&*state).expect("state dir");
    // A task aborted at max run time after a leak: every line Treeherder
    // keeps, and what kind each is.
    let log = concat!(
        "[taskcluster 2025-01-01 00:00:00.000Z] Task ID: abc\r\n",
        "[task 2025-01-01T00:00:01.000Z] 00:00:01     INFO - TEST-START | dom/a.html\r\n",
        "[task 2025-01-01T00:00:02.000Z] 00:00:02     INFO - TEST-UNEXPECTED-FAIL | dom/a.html | x is 1 - got 2\r\n",
        "[task 2025-01-01T00:00:03.000Z] 00:00:03     INFO - TEST-UNEXPECTED-FAIL | leakcheck | default process: 2048 bytes leaked (nsThread)\r\n",
        "[taskcluster:error] Task aborted - max run time exceeded\r\n",
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(log.as_bytes()).expect("gzip");
    let gzipped = gz.finish().expect("gzip");
    let base = serve_logs(vec![
        (
            "/plain/live_backing.log",
            "Content-Type: text/plain\r\n",
            log.as_bytes().to_vec(),
        ),
        (
            "/file/live_backing.log.gz",
            "Content-Type: application/gzip\r\n",
            gzipped.clone(),
        ),
        (
            "/encoded/live_backing.log",
            "Content-Type: text/plain\r\nContent-Encoding: gzip\r\n",
            gzipped,
        ),
    ]);
    let expected = vec![
        (
            2,
            "test_failure".to_string(),
            Some("dom/a.html".to_string()),
        ),
        (3, "leak".to_string(), Some("leakcheck".to_string())),
        (4, "infrastructure".to_string(), None),
    ];
    for path in [
        "/plain/live_backing.log",
        "/file/live_backing.log.gz",
        "/encoded/live_backing.log",
    ] {
        let url = format!("{base}{path}");
        let (code, out, err) = mozci_offline(&state, &["--json", "failures", "--log", &url]);
        assert_eq!(code, 0, "{url}: {err}");
        let doc: Value = serde_json::from_str(&out).expect("one JSON document");
        assert_eq!(printed_lines(&doc), expected, "{url}: {doc}");
        assert_eq!(doc["kind"], "leak", "{doc}");
        assert_eq!(
            doc["kinds"],
            serde_json::json!(["leak", "test_failure", "infrastructure"]),
            "{doc}"
        );
    }
    // A URL that answers 404 is an error that names it, not an empty answer.
    let missing = format!("{base}/nothing.log");
    let (code, _, err) = mozci_offline(&state, &["failures", "--log", &missing]);
    assert_ne!(code, 0);
    assert!(err.contains("404"), "{err}");
}

/// The sandbox serves a crashed run's task log as Taskcluster does; the
/// CLI reads it by URL with no job id.
#[tokio::test(flavor = "current_thread")]
async fn failures_of_a_task_log_the_sandbox_serves() {
    let mut demo: Value =
        serde_json::from_str(include_str!("../../sandbox/scenarios/demo.json")).expect("demo");
    demo["job_failures"] = serde_json::json!([
        {"label": BC1, "repo": "autoland", "kind": "crash", "runs": [0], "signature": "mozilla::dom::Foo::Bar()"}
    ]);
    let state = common::StateDir::new("cli-failures-sandbox-log");
    std::fs::create_dir_all(&*state).expect("state dir");
    let scenario = state.join("crash.json");
    std::fs::write(&scenario, demo.to_string()).expect("scenario");
    let s = Sandbox::start(&[
        "--scenario",
        scenario.to_str().unwrap_or(""),
        "--speed",
        "0",
    ])
    .await
    .expect("sandbox");
    let jobs = get(&format!(
        "{}/__sandbox/jobs?repo=autoland&label={}",
        s.origins.treeherder,
        BC1.replace('/', "%2F")
    ))
    .await;
    let crashed = jobs
        .as_array()
        .expect("jobs")
        .iter()
        .find(|j| j["forced_failure"].is_u64() && j["state"] == "completed")
        .expect("a crashed run");
    let url = format!(
        "{}/api/queue/v1/task/{}/runs/{}/artifacts/public/logs/live_backing.log",
        s.origins.taskcluster,
        crashed["taskcluster"]["task_id"].as_str().expect("task id"),
        crashed["taskcluster"]["retry_id"]
    );
    let (code, out, err) = mozci_offline(&state, &["--json", "failures", "--log", &url]);
    assert_eq!(code, 0, "{err}");
    let doc: Value = serde_json::from_str(&out).expect("one JSON document");
    assert_eq!(doc["kind"], "crash", "{doc}");
    let crash_line = doc["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|l| l["kind"] == "crash")
        .expect("a crash line");
    assert_eq!(crash_line["signature"], "mozilla::dom::Foo::Bar()");
    assert!(crash_line["test"].is_string(), "{crash_line}");
}

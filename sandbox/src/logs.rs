//! Job logs generated from a job's record: the unstructured text log with
//! `TEST-UNEXPECTED-FAIL` lines, the mozlog raw log, the errorsummary, and the
//! failure lines Treeherder extracts (`text_log_errors`, `bug_suggestions`).

use serde_json::{json, Value};

use crate::model::{Job, JobKind};
use crate::scenario::{CiSystem, Scenario};
use crate::web::iso;

/// A log a job has, by Treeherder log name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    Text,
    Raw,
    ErrorSummary,
}

impl LogKind {
    /// Treeherder `job-log-url` name for this log in the job's CI system.
    pub fn treeherder_name(self, system: CiSystem) -> &'static str {
        match (self, system) {
            (LogKind::Text, CiSystem::Taskcluster) => "live_backing_log",
            (LogKind::Text, CiSystem::Buildbot) => "buildbot_text",
            (LogKind::Raw, _) => "mozlog_json",
            (LogKind::ErrorSummary, _) => "errorsummary_json",
        }
    }

    /// The logs a job has (tests have structured logs too).
    pub fn of(job: &Job) -> Vec<LogKind> {
        if job.kind == JobKind::Test {
            vec![LogKind::Text, LogKind::Raw, LogKind::ErrorSummary]
        } else {
            vec![LogKind::Text]
        }
    }
}

fn tests_of<'a>(scenario: &'a Scenario, job: &Job) -> (&'a str, Vec<&'a str>) {
    job.test_type
        .as_deref()
        .and_then(|t| scenario.test_type(t))
        .map(|t| {
            (
                t.harness.as_str(),
                t.tests.iter().map(String::as_str).collect(),
            )
        })
        .unwrap_or(("build", Vec::new()))
}

fn clock_prefix(ts: i64) -> String {
    let stamp = iso(ts);
    format!("{}     INFO - ", stamp.get(11..19).unwrap_or("00:00:00"))
}

/// The unstructured log, one entry per line.
pub fn text_lines(scenario: &Scenario, job: &Job) -> Vec<String> {
    let start = job.start.unwrap_or(job.submit);
    let prefix = clock_prefix(start);
    let mut lines = vec![
        format!(
            "{} {} ({})",
            if job.system == CiSystem::Buildbot {
                "builder:"
            } else {
                "[taskcluster]"
            },
            job.label,
            job.repo
        ),
        format!("revision: {}", job.revision),
        format!("{prefix}Starting {}", job.label),
    ];
    let (harness, tests) = tests_of(scenario, job);
    if job.kind == JobKind::Build {
        lines.push(format!("{prefix}make -f client.mk build"));
        lines.push(format!("{prefix}Build complete"));
    }
    if job.kind == JobKind::Test && job.result == "exception" && job.buildbot.is_some() {
        lines.push(format!(
            "{prefix}ERROR - no packageUrl/testsUrl given: this test job needs a finished build"
        ));
    }
    for (n, test) in tests.iter().enumerate() {
        lines.push(format!("{prefix}{} INFO TEST-START | {test}", 100 + n * 3));
        match job.failures.iter().find(|f| f.test == *test) {
            Some(failure) => lines.push(format!(
                "{prefix}{} INFO TEST-UNEXPECTED-FAIL | {test} | {}",
                101 + n * 3,
                failure.message
            )),
            None => lines.push(format!(
                "{prefix}{} INFO TEST-PASS | {test} | all checks passed",
                101 + n * 3
            )),
        }
        lines.push(format!(
            "{prefix}{} INFO TEST-OK | {test} | took 1234ms",
            102 + n * 3
        ));
    }
    if job.kind == JobKind::Test {
        let failed = job.failures.len();
        lines.push(format!(
            "{prefix}{harness} INFO Passed: {}",
            tests.len().saturating_sub(failed)
        ));
        lines.push(format!("{prefix}{harness} INFO Failed: {failed}"));
    }
    lines.push(format!(
        "{prefix}Return code: {}",
        if job.is_failure() { 1 } else { 0 }
    ));
    lines
}

pub fn text(scenario: &Scenario, job: &Job) -> String {
    let mut out = text_lines(scenario, job).join("\n");
    out.push('\n');
    out
}

/// The failure lines Treeherder's log parser extracts: (0-based line number, line).
pub fn error_lines(scenario: &Scenario, job: &Job) -> Vec<(usize, String)> {
    text_lines(scenario, job)
        .into_iter()
        .enumerate()
        .filter(|(_, l)| {
            l.contains("TEST-UNEXPECTED-") || l.contains("PROCESS-CRASH") || l.contains("ERROR - ")
        })
        .collect()
}

fn group_of(test: &str) -> String {
    match test.rfind('/') {
        Some(i) => format!("{}/{}.ini", &test[..i], "mochitest"),
        None => "default.ini".into(),
    }
}

/// mozlog raw structured log (JSON lines).
pub fn raw(scenario: &Scenario, job: &Job) -> String {
    let (harness, tests) = tests_of(scenario, job);
    let time = job.start.unwrap_or(job.submit) * 1000;
    let base = json!({"thread": "MainThread", "pid": 5269, "source": harness});
    let line = |extra: Value| {
        let mut v = base.clone();
        if let (Some(obj), Some(add)) = (v.as_object_mut(), extra.as_object()) {
            for (k, val) in add {
                obj.insert(k.clone(), val.clone());
            }
        }
        v.to_string()
    };
    let mut out = vec![line(
        json!({"action": "suite_start", "time": time, "tests": {"default": tests}, "run_info": {"os": job.platform}}),
    )];
    for (n, test) in tests.iter().enumerate() {
        let t = time + n as i64 * 1000;
        out.push(line(
            json!({"action": "test_start", "time": t, "test": test}),
        ));
        match job.failures.iter().find(|f| f.test == *test) {
            Some(f) => {
                out.push(line(json!({"action": "test_status", "time": t + 400, "test": test, "subtest": f.message, "status": "FAIL", "expected": "PASS", "message": f.message})));
                out.push(line(
                    json!({"action": "test_end", "time": t + 900, "test": test, "status": "OK"}),
                ));
            }
            None => {
                out.push(line(json!({"action": "test_status", "time": t + 400, "test": test, "subtest": "all checks", "status": "PASS"})));
                out.push(line(
                    json!({"action": "test_end", "time": t + 900, "test": test, "status": "OK"}),
                ));
            }
        }
    }
    out.push(line(
        json!({"action": "suite_end", "time": time + tests.len() as i64 * 1000}),
    ));
    out.join("\n") + "\n"
}

/// mozlog errorsummary (JSON lines): groups, failing results, group results.
pub fn errorsummary(scenario: &Scenario, job: &Job) -> String {
    let (_, tests) = tests_of(scenario, job);
    let mut groups: Vec<String> = tests.iter().map(|t| group_of(t)).collect();
    groups.dedup();
    let mut out = vec![json!({"action": "test_groups", "line": 0, "groups": groups}).to_string()];
    for (n, failure) in job.failures.iter().enumerate() {
        out.push(
            json!({
                "action": "test_result", "test": failure.test, "subtest": failure.message, "group": group_of(&failure.test),
                "status": "FAIL", "expected": "PASS", "message": failure.message, "stack": null,
                "known_intermittent": [], "duration": 1234, "line": 10 + n,
            })
            .to_string(),
        );
    }
    for group in &groups {
        let failed = job.failures.iter().any(|f| &group_of(&f.test) == group);
        out.push(json!({"action": "group_result", "group": group, "status": if failed { "ERROR" } else { "OK" }, "duration": 5000, "line": 100}).to_string());
    }
    out.join("\n") + "\n"
}

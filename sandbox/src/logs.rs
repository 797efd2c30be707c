//! Job logs generated from a job's record: the unstructured text log with
//! `TEST-UNEXPECTED-FAIL` lines, the mozlog raw log, the errorsummary, and the
//! failure lines Treeherder extracts (`text_log_errors`, `bug_suggestions`).
//! A run failed by a scenario's `job_failures` entry leaves the lines that
//! failure leaves in production logs: the worker's `[taskcluster:error]`
//! abort at max run time, a failed download, a crash with its signature, an
//! assertion, an AddressSanitizer report, a leak, a shutdown hang, a
//! compiler error.

use serde_json::{json, Value};

use crate::model::{Job, JobKind};
use crate::scenario::{CiSystem, JobFailureKind, JobFailureSpec, Scenario};
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

    /// The logs a job has (tests have structured logs too, unless the
    /// infrastructure failed them before or while the harness ran).
    pub fn of(scenario: &Scenario, job: &Job) -> Vec<LogKind> {
        if has_structured_logs(scenario, job) {
            vec![LogKind::Text, LogKind::Raw, LogKind::ErrorSummary]
        } else {
            vec![LogKind::Text]
        }
    }
}

/// The scenario entry that failed this run, if any.
pub fn forced_failure<'a>(scenario: &'a Scenario, job: &Job) -> Option<&'a JobFailureSpec> {
    scenario.job_failures.get(job.forced_failure?)
}

/// Whether the job has a raw structured log and an error summary: test
/// runs, except those the infrastructure stopped (the harness never wrote
/// or uploaded them).
pub fn has_structured_logs(scenario: &Scenario, job: &Job) -> bool {
    job.kind == JobKind::Test
        && !forced_failure(scenario, job).is_some_and(|f| f.kind.is_infrastructure())
}

/// The default frame named by a crash, assertion or sanitizer report.
fn signature_of(spec: &JobFailureSpec) -> &str {
    spec.signature.as_deref().unwrap_or(match spec.kind {
        JobFailureKind::Crash => "mozilla::dom::Document::Destroy()",
        JobFailureKind::Assertion => "!mIsDestroyed",
        JobFailureKind::Sanitizer => "mozilla::dom::Element::UnbindFromTree(bool)",
        _ => "",
    })
}

/// The lines one forced failure leaves, after the mozharness prefix of
/// their level (`info`, `error`) or none (the worker's own lines).
fn failure_lines(
    spec: &JobFailureSpec,
    job: &Job,
    test: &str,
    info: &str,
    error: &str,
) -> Vec<String> {
    let sig = signature_of(spec);
    let source = "/builds/worker/checkouts/gecko/dom/base/Element.cpp";
    let build_task = crate::ids::revision(&["build-of", &job.revision]);
    let url = format!(
        "https://firefox-ci-tc.services.mozilla.com/api/queue/v1/task/{}/artifacts/public/build/target.tar.bz2",
        build_task.get(..22).unwrap_or("")
    );
    match spec.kind {
        JobFailureKind::MaxRunTime => vec![
            "[taskcluster:error] Aborting task...".to_string(),
            "[taskcluster:error] Task aborted - max run time exceeded".to_string(),
        ],
        JobFailureKind::Download => vec![
            format!("{info}Downloading {url} to /builds/worker/workspace/build/firefox.tar.bz2"),
            format!("{error}Error downloading \"{url}\": 503 Server Error: Service Unavailable"),
            format!("{error}Could not download the build after 5 attempts: giving up"),
        ],
        JobFailureKind::Crash => vec![
            format!("{info}GECKO(1854) | ExceptionHandler::GenerateDump cloned child 1951"),
            format!("{info}PROCESS-CRASH | {test} | application crashed [@ {sig}]"),
            format!("{info}Crash reason:  SIGSEGV /SEGV_MAPERR"),
            format!("{info} 0  libxul.so!{sig} [Document.cpp:4821 + 0x5]"),
        ],
        JobFailureKind::Assertion => vec![
            format!("{info}GECKO(1854) | Assertion failure: {sig}, at /builds/worker/checkouts/gecko/dom/base/Document.cpp:4821"),
            format!("{info}GECKO(1854) | #01: mozilla::dom::Document::Destroy() [dom/base/Document.cpp:4821]"),
        ],
        JobFailureKind::Sanitizer => vec![
            format!("{error}==1854==ERROR: AddressSanitizer: heap-use-after-free on address 0x60b000123456 at pc 0x7f3a2c1d bp 0x7ffd5e10 sp 0x7ffd5e08"),
            format!("{info}READ of size 8 at 0x60b000123456 thread T0"),
            format!("{info}    #0 0x7f3a2c1d in {sig} {source}:1234:5"),
            format!("{info}SUMMARY: AddressSanitizer: heap-use-after-free {source}:1234:5 in {sig}"),
        ],
        JobFailureKind::Leak => vec![
            format!("{info}WARNING: YOU ARE LEAKING THE WORLD (at least one JSRuntime and everything alive inside it, that is) AT JS_ShutDown TIME.  FIX THIS!"),
            format!("{info}TEST-UNEXPECTED-FAIL | leakcheck | default process: 2048 bytes leaked (nsTArray_base, nsThread)"),
        ],
        JobFailureKind::ShutdownHang => vec![
            format!("{info}GECKO(1854) | Hit MOZ_CRASH(Shutdown hanging at step XPCOMWillShutdown. Something is blocking the main-thread.) at /builds/worker/checkouts/gecko/toolkit/components/terminator/nsTerminator.cpp:218"),
            format!("{info}Process 1854 hanging at shutdown; attempting crash report (fatal error)"),
            format!("{info}mozcrash minidumpwriter exited with status: 1"),
        ],
        JobFailureKind::Build => vec![
            format!("{error}{source}:1234:5: error: use of undeclared identifier 'mFoo'"),
            format!("{error}gmake[4]: *** [/builds/worker/checkouts/gecko/config/rules.mk:676: Unified_cpp_dom_base0.o] Error 1"),
            format!("{error}gmake[3]: *** [/builds/worker/checkouts/gecko/config/recurse.mk:72: dom/base/target-objects] Error 2"),
        ],
    }
}

/// What a forced failure adds to the structured logs (mozlog actions
/// without their common fields): the `crash` action mozcrash logs, or the
/// ERROR-level `log` messages the harness relays from the browser.
fn structured_entries(spec: &JobFailureSpec, job: &Job, test: &str) -> Vec<Value> {
    if spec.kind == JobFailureKind::Crash {
        return vec![json!({
            "action": "crash", "test": test, "signature": signature_of(spec), "process": 1854,
            "minidump_path": format!("/tmp/tmp{}/minidumps/crash.dmp", job.id),
            "reason": "SIGSEGV /SEGV_MAPERR",
        })];
    }
    let strip = |line: String| match line.split_once(" - ") {
        Some((_, message)) => message.to_string(),
        None => line,
    };
    let first = failure_lines(
        spec,
        job,
        test,
        "00:00:00     INFO - ",
        "00:00:00    ERROR - ",
    )
    .into_iter()
    .map(strip)
    .find(|line| !line.starts_with("WARNING"));
    first
        .map(|message| json!({"action": "log", "level": "ERROR", "message": message}))
        .into_iter()
        .collect()
}

fn tests_of<'a>(scenario: &'a Scenario, job: &'a Job) -> (&'a str, Vec<&'a str>) {
    let (harness, tests) = suite_of(scenario, job);
    match &job.confirm {
        // A confirm-failures task runs only the test it confirms.
        Some(confirm) => (harness, vec![confirm.test.as_str()]),
        None => (harness, tests),
    }
}

/// Each test run of the job in order, with its failure message when it
/// failed: every test of the suite once, or a confirm-failures task's one
/// test once per repeat.
fn runs_of<'a>(scenario: &'a Scenario, job: &'a Job) -> Vec<(&'a str, Option<&'a str>)> {
    match &job.confirm {
        Some(confirm) => {
            let message = job.failures.first().map(|f| f.message.as_str());
            confirm
                .outcomes
                .iter()
                .map(|failed| (confirm.test.as_str(), message.filter(|_| *failed)))
                .collect()
        }
        None => tests_of(scenario, job)
            .1
            .into_iter()
            .map(|test| {
                let failure = job.failures.iter().find(|f| f.test == test);
                (test, failure.map(|f| f.message.as_str()))
            })
            .collect(),
    }
}

fn suite_of<'a>(scenario: &'a Scenario, job: &Job) -> (&'a str, Vec<&'a str>) {
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
    level_prefix(ts, "INFO")
}

/// mozharness's line prefix: the time and the level right-aligned in 8.
fn level_prefix(ts: i64, level: &str) -> String {
    let stamp = iso(ts);
    format!("{} {level:>8} - ", stamp.get(11..19).unwrap_or("00:00:00"))
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
    let error = level_prefix(start, "ERROR");
    let forced = forced_failure(scenario, job);
    let forced_lines = |test: &str| {
        forced
            .map(|spec| failure_lines(spec, job, test, &prefix, &error))
            .unwrap_or_default()
    };
    if job.kind == JobKind::Build {
        lines.push(format!("{prefix}make -f client.mk build"));
        if forced.is_some() {
            lines.extend(forced_lines(""));
        } else {
            lines.push(format!("{prefix}Build complete"));
        }
    }
    if job.kind == JobKind::Test && job.result == "exception" && job.buildbot.is_some() {
        lines.push(format!(
            "{error}no packageUrl/testsUrl given: this test job needs a finished build"
        ));
    }
    match forced.map(|f| f.kind) {
        // The download fails before the harness starts.
        Some(JobFailureKind::Download) => {
            lines.extend(forced_lines(""));
            lines.push(format!("{prefix}Return code: 4"));
            return lines;
        }
        // The worker stops the task during the first test.
        Some(JobFailureKind::MaxRunTime) => {
            if let Some(test) = tests.first() {
                lines.push(format!("{prefix}100 INFO TEST-START | {test}"));
            }
            lines.extend(forced_lines(""));
            return lines;
        }
        _ => {}
    }
    // A crash, assertion, sanitizer report or shutdown hang happens in the
    // first test; a leak shows after the last one.
    let in_test =
        forced.is_some_and(|f| !matches!(f.kind, JobFailureKind::Leak | JobFailureKind::Build));
    let runs = runs_of(scenario, job);
    for (n, (test, failure)) in runs.iter().enumerate() {
        lines.push(format!("{prefix}{} INFO TEST-START | {test}", 100 + n * 3));
        if n == 0 && in_test {
            lines.extend(forced_lines(test));
        }
        match failure {
            Some(message) => lines.push(format!(
                "{prefix}{} INFO TEST-UNEXPECTED-FAIL | {test} | {message}",
                101 + n * 3,
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
        let failed = runs.iter().filter(|(_, f)| f.is_some()).count();
        lines.push(format!(
            "{prefix}{harness} INFO Passed: {}",
            runs.len().saturating_sub(failed)
        ));
        lines.push(format!("{prefix}{harness} INFO Failed: {failed}"));
        if forced.is_some_and(|f| f.kind == JobFailureKind::Leak) {
            lines.extend(forced_lines(""));
        }
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

/// What marks the sandbox's own log lines as error lines, as Treeherder's
/// `ErrorParser` (treeherder/log_parser/parsers.py) would judge them: a
/// mozharness ERROR/CRITICAL/FATAL level (`RE_ERR_1_MATCH`), the
/// `TEST-UNEXPECTED-`, `PROCESS-CRASH`, `Assertion failure:`, `Hit
/// MOZ_CRASH`, `YOU ARE LEAKING THE WORLD`, `SUMMARY: AddressSanitizer`
/// search terms and the `[taskcluster:error]` and `fatal error` matches.
/// Kept apart from the core's parser on purpose (a mistake there is not
/// mirrored here); a test checks both agree on every line the sandbox writes.
const ERROR_MARKERS: &[&str] = &[
    "   ERROR - ",
    "CRITICAL - ",
    "   FATAL - ",
    "TEST-UNEXPECTED-",
    "PROCESS-CRASH",
    "Assertion failure:",
    "Hit MOZ_CRASH",
    "YOU ARE LEAKING THE WORLD",
    "SUMMARY: AddressSanitizer",
    "[taskcluster:error]",
    "(fatal error)",
];

/// The failure lines Treeherder's log parser extracts: (0-based line
/// number, line without its end), at most 40 as Treeherder keeps.
pub fn error_lines(scenario: &Scenario, job: &Job) -> Vec<(usize, String)> {
    text_lines(scenario, job)
        .into_iter()
        .enumerate()
        .filter(|(_, l)| ERROR_MARKERS.iter().any(|m| l.contains(m)))
        .take(40)
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
    let forced = forced_failure(scenario, job);
    let in_test = forced.filter(|f| f.kind != JobFailureKind::Leak);
    for (n, (test, failure)) in runs_of(scenario, job).into_iter().enumerate() {
        let t = time + n as i64 * 1000;
        out.push(line(
            json!({"action": "test_start", "time": t, "test": test}),
        ));
        if let Some(spec) = in_test.filter(|_| n == 0) {
            for entry in structured_entries(spec, job, test) {
                out.push(line(entry));
            }
            if spec.kind == JobFailureKind::Crash {
                out.push(line(json!({"action": "test_end", "time": t + 900, "test": test, "status": "CRASH", "expected": "OK"})));
                continue;
            }
        }
        match failure {
            Some(message) => {
                out.push(line(json!({"action": "test_status", "time": t + 400, "test": test, "subtest": message, "status": "FAIL", "expected": "PASS", "message": message})));
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
    if let Some(spec) = forced.filter(|f| f.kind == JobFailureKind::Leak) {
        for entry in structured_entries(spec, job, "") {
            out.push(line(entry));
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
    if job.confirm.is_some() {
        // MOZLOG_DUMP_ALL_TESTS=1: every result, passing ones too, one per repeat.
        for (n, (test, failure)) in runs_of(scenario, job).into_iter().enumerate() {
            let (status, subtest) = match failure {
                Some(message) => ("FAIL", message),
                None => ("PASS", "all checks"),
            };
            out.push(
                json!({
                    "action": "test_result", "test": test, "subtest": subtest, "group": group_of(test),
                    "status": status, "expected": "PASS", "message": failure, "stack": null,
                    "known_intermittent": [], "duration": 1234, "line": 10 + n,
                })
                .to_string(),
            );
        }
    }
    for (n, failure) in job
        .failures
        .iter()
        .enumerate()
        .filter(|_| job.confirm.is_none())
    {
        out.push(
            json!({
                "action": "test_result", "test": failure.test, "subtest": failure.message, "group": group_of(&failure.test),
                "status": "FAIL", "expected": "PASS", "message": failure.message, "stack": null,
                "known_intermittent": [], "duration": 1234, "line": 10 + n,
            })
            .to_string(),
        );
    }
    if let Some(spec) = forced_failure(scenario, job) {
        let test = tests.first().copied().unwrap_or_default();
        out.extend(
            structured_entries(spec, job, test)
                .into_iter()
                .map(|entry| entry.to_string()),
        );
    }
    for group in &groups {
        let failed = job.failures.iter().any(|f| &group_of(&f.test) == group);
        out.push(json!({"action": "group_result", "group": group, "status": if failed { "ERROR" } else { "OK" }, "duration": 5000, "line": 100}).to_string());
    }
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::JobState;
    use crate::world::World;
    use mozci::sources::test_failures::{log_failures, FailureKind, JobFailures};

    /// The demo world with one `job_failures` entry failing the first run
    /// of every job whose label contains `label`.
    fn world_failing(label: &str, kind: &str) -> World {
        let mut demo: Value = serde_json::from_str(crate::scenario::DEMO_JSON).unwrap();
        demo["job_failures"] = json!([{"label": label, "kind": kind, "runs": [0]}]);
        World::new(Scenario::parse(&demo.to_string()).unwrap(), 7)
    }

    fn forced_job(w: &World) -> &Job {
        w.jobs
            .iter()
            .find(|j| j.state == JobState::Completed && j.forced_failure.is_some())
            .expect("a completed run failed by the scenario")
    }

    fn read(log: &str) -> JobFailures {
        log_failures(log.as_bytes()).expect("the sandbox's log reads")
    }

    #[test]
    fn every_forced_failure_leaves_the_lines_of_its_kind() {
        use FailureKind::*;
        let cases = [
            (
                "autoland",
                "opt-mochitest-browser-chrome-1",
                "max_run_time",
                Infrastructure,
                "[taskcluster:error] Task aborted - max run time exceeded",
            ),
            (
                "autoland",
                "opt-mochitest-browser-chrome-1",
                "download",
                Infrastructure,
                "Error downloading",
            ),
            (
                "autoland",
                "opt-mochitest-browser-chrome-1",
                "crash",
                Crash,
                "application crashed [@ mozilla::dom::Document::Destroy()]",
            ),
            (
                "autoland",
                "opt-mochitest-browser-chrome-1",
                "assertion",
                Assertion,
                "Assertion failure: !mIsDestroyed",
            ),
            (
                "autoland",
                "opt-mochitest-browser-chrome-1",
                "sanitizer",
                Sanitizer,
                "SUMMARY: AddressSanitizer: heap-use-after-free",
            ),
            (
                "autoland",
                "opt-mochitest-browser-chrome-1",
                "leak",
                Leak,
                "TEST-UNEXPECTED-FAIL | leakcheck",
            ),
            (
                "autoland",
                "opt-mochitest-browser-chrome-1",
                "shutdown_hang",
                ShutdownHang,
                "Shutdown hanging at step XPCOMWillShutdown",
            ),
            (
                "mozilla-inbound",
                "Linux x86-64 mozilla-inbound build",
                "build",
                Build,
                "error: use of undeclared identifier 'mFoo'",
            ),
            (
                "autoland",
                "build-linux64/opt",
                "build",
                Build,
                "gmake[4]: ***",
            ),
        ];
        for (repo, label, kind, expected, line) in cases {
            let w = world_failing(label, kind);
            let job = w
                .jobs
                .iter()
                .find(|j| {
                    j.repo == repo && j.state == JobState::Completed && j.forced_failure.is_some()
                })
                .unwrap_or_else(|| panic!("{kind}: a run of {label} on {repo} failed"));
            let expected_result = if kind == "build" {
                "busted"
            } else {
                "testfailed"
            };
            assert_eq!(job.result, expected_result, "{kind}");
            let log = text(&w.scenario, job);
            let from_text = read(&log);
            assert_eq!(from_text.kind, Some(expected), "{kind}: text log\n{log}");
            // Treeherder's error lines (what text_log_errors serves) hold
            // it, and are exactly the ones the core's Treeherder rules keep.
            let errors = error_lines(&w.scenario, job);
            let by_treeherder_rules: Vec<(usize, String)> =
                mozci::sources::treeherder_errors::treeherder_error_lines(log.as_bytes())
                    .into_iter()
                    .map(|e| (e.line_number as usize, e.line))
                    .collect();
            assert_eq!(errors, by_treeherder_rules, "{kind}");
            assert!(
                errors.iter().any(|(_, l)| l.contains(line)),
                "{kind}: {errors:#?}"
            );
            let structured = has_structured_logs(&w.scenario, job);
            assert_eq!(
                structured,
                job.kind == JobKind::Test && !matches!(kind, "max_run_time" | "download"),
                "{kind}: the infrastructure leaves only the task log"
            );
            if structured {
                let from_raw = read(&raw(&w.scenario, job));
                assert_eq!(from_raw.kind, Some(expected), "{kind}: raw log");
                let from_summary = read(&errorsummary(&w.scenario, job));
                assert_eq!(from_summary.kind, Some(expected), "{kind}: error summary");
            }
        }
    }

    #[test]
    fn a_crash_names_its_signature_and_infrastructure_clears_test_results() {
        let mut demo: Value = serde_json::from_str(crate::scenario::DEMO_JSON).unwrap();
        demo["job_failures"] = json!([{"label": "mochitest-browser-chrome-1", "kind": "crash", "runs": [0], "signature": "js::gc::Foo"}]);
        let w = World::new(Scenario::parse(&demo.to_string()).unwrap(), 7);
        let job = forced_job(&w);
        let from_raw = read(&raw(&w.scenario, job));
        let signature = from_raw.signature().expect("a crash");
        assert_eq!(signature.crash_signatures, ["js::gc::Foo"]);
        let from_text = read(&text(&w.scenario, job));
        assert_eq!(
            from_text.signature().map(|s| s.crash_signatures),
            Some(vec!["js::gc::Foo".to_string()])
        );

        let w = world_failing("mochitest", "max_run_time");
        assert!(w
            .jobs
            .iter()
            .filter(|j| j.forced_failure.is_some())
            .all(|j| j.failures.is_empty()));
        // Only the first run of a job type on a push is hit ("runs": [0]).
        for job in w.jobs.iter().filter(|j| j.forced_failure.is_some()) {
            assert!(
                !w.jobs
                    .iter()
                    .any(|j| j.push_id == job.push_id && j.label == job.label && j.id < job.id),
                "job {} is not the first run of {} on its push",
                job.id,
                job.label
            );
        }
    }

    /// The sandbox's own error-line markers give what Treeherder's rules
    /// (the core's implementation of them) keep, on every demo job's log.
    #[test]
    fn error_lines_agree_with_treeherder_rules_on_every_demo_job() {
        let w = World::new(Scenario::load("demo").unwrap(), 7);
        let mut failed = 0;
        for job in w.jobs.iter().filter(|j| j.state == JobState::Completed) {
            let log = text(&w.scenario, job);
            let by_treeherder_rules: Vec<(usize, String)> =
                mozci::sources::treeherder_errors::treeherder_error_lines(log.as_bytes())
                    .into_iter()
                    .map(|e| (e.line_number as usize, e.line))
                    .collect();
            assert_eq!(error_lines(&w.scenario, job), by_treeherder_rules, "{log}");
            failed += usize::from(!by_treeherder_rules.is_empty());
        }
        assert!(failed > 10, "the demo has failing jobs: {failed}");
    }

    #[test]
    fn job_failures_are_validated() {
        let mut demo: Value = serde_json::from_str(crate::scenario::DEMO_JSON).unwrap();
        demo["job_failures"] = json!([{"label": "x", "kind": "crash", "p": 2.0}]);
        assert!(Scenario::parse(&demo.to_string()).is_err());
        demo["job_failures"] = json!([{"label": "x", "kind": "lightning"}]);
        assert!(Scenario::parse(&demo.to_string()).is_err());
    }
}

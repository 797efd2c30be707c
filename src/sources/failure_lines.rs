//! What one log line says failed: the failure markers harnesses print
//! (`TEST-UNEXPECTED-<status> | <test> | <message>`, `PROCESS-CRASH | …`,
//! task timeouts) found under the prefixes workers and harnesses add, and
//! the [`FailureKind`] of any error line ([`classify_error_line`]), with its
//! test, subtest and crash signature.

#![warn(missing_docs)]

use super::failure_types::{bounded_field, Crash, FailureKind, FailureSource, TestFailure};
use super::treeherder_errors::{strip_mozharness_prefix, strip_taskcluster_prefix};

pub(crate) const UNEXPECTED_MARKER: &str = "TEST-UNEXPECTED-";
pub(crate) const KNOWN_INTERMITTENT_MARKER: &str = "TEST-KNOWN-INTERMITTENT-";
pub(crate) const CRASH_MARKER: &str = "PROCESS-CRASH";
/// Taskcluster's worker, when the task exceeded its `maxRunTime`.
pub(crate) const TASK_TIMEOUT_MARKER: &str = "[taskcluster:error] Task timeout after";
/// Buildbot, when a step printed nothing for too long.
pub(crate) const COMMAND_TIMEOUT_MARKER: &str = "command timed out:";

/// What one log line reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineFailure<'a> {
    /// A test's unexpected (or known intermittent) result.
    Test(LineTestFailure<'a>),
    /// A process crash.
    Crash(LineCrash<'a>),
    /// The whole task or command was stopped for running too long.
    TaskTimeout,
}

/// `TEST-UNEXPECTED-<status> | <test> | <message>` (or `TEST-KNOWN-INTERMITTENT-…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineTestFailure<'a> {
    /// The second field: the test's path or name.
    pub test: &'a str,
    /// The word after the marker (`FAIL`, `TIMEOUT`, `CRASH`, …).
    pub status: &'a str,
    /// The third field, when the line has one.
    pub message: Option<&'a str>,
    /// The line was `TEST-KNOWN-INTERMITTENT-…`: expected to fail sometimes.
    pub known_intermittent: bool,
}

/// `PROCESS-CRASH | <test> | application crashed [@ <signature>]`, the two
/// fields in either order (mozlog swapped them in later versions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineCrash<'a> {
    /// The test that was running, when the line names one.
    pub test: Option<&'a str>,
    /// The crash signature without its `@ ` (`mozilla::dom::Foo::Bar`).
    pub signature: Option<&'a str>,
}

impl LineTestFailure<'_> {
    /// The [`TestFailure`] this line reports, found at `line_number` of `source`
    /// (fields bounded in length).
    pub fn into_failure(self, line_number: Option<u64>, source: FailureSource) -> TestFailure {
        TestFailure {
            test: bounded_field(self.test),
            subtest: None,
            status: bounded_field(self.status),
            expected: None,
            message: self.message.map(bounded_field),
            known_intermittent: self.known_intermittent,
            group: None,
            line_number,
            source,
        }
    }
}

impl LineCrash<'_> {
    /// The [`Crash`] this line reports, found at `line_number` of `source`
    /// (fields bounded in length).
    pub fn into_crash(self, line_number: Option<u64>, source: FailureSource) -> Crash {
        Crash {
            test: self.test.map(bounded_field),
            signature: self.signature.map(bounded_field),
            minidump: None,
            reason: None,
            line_number,
            source,
        }
    }
}

/// Read one log line, whatever prefixes precede the marker (`[task <time>]`,
/// `HH:MM:SS     INFO - `, `GECKO(1234) | `, a mochitest sequence number).
/// The marker must start the line or follow whitespace.
pub fn parse_failure_line(line: &str) -> Option<LineFailure<'_>> {
    if let Some(rest) = after_marker(line, UNEXPECTED_MARKER) {
        return parse_test_failure(rest, false).map(LineFailure::Test);
    }
    if let Some(rest) = after_marker(line, KNOWN_INTERMITTENT_MARKER) {
        return parse_test_failure(rest, true).map(LineFailure::Test);
    }
    if let Some(rest) = after_marker(line, CRASH_MARKER) {
        return parse_crash(rest).map(LineFailure::Crash);
    }
    if line.contains(TASK_TIMEOUT_MARKER) || line.contains(COMMAND_TIMEOUT_MARKER) {
        return Some(LineFailure::TaskTimeout);
    }
    None
}

/// The line as Treeherder shows it: without the Taskcluster `[task <time>] `
/// prefix (the harness's own timestamp and level stay).
pub fn treeherder_display_line(line: &str) -> &str {
    let Some(rest) = line.strip_prefix("[task ") else {
        return line;
    };
    let Some((stamp, after)) = rest.split_once("] ") else {
        return line;
    };
    let is_timestamp = stamp.starts_with(|c: char| c.is_ascii_digit())
        && stamp
            .bytes()
            .all(|b| b.is_ascii_digit() || b"-:.TZ ".contains(&b));
    if is_timestamp {
        after
    } else {
        line
    }
}

/// A crash signature as Treeherder's bug search wants it: without the `@ `.
pub fn crash_signature(signature: &str) -> &str {
    let trimmed = signature.trim();
    trimmed.strip_prefix('@').map(str::trim).unwrap_or(trimmed)
}

/// The text after the first occurrence of `marker` that starts the line or
/// follows whitespace.
fn after_marker<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let finder = memchr::memmem::find_iter(line.as_bytes(), marker.as_bytes());
    for start in finder {
        let at_boundary = start == 0
            || line
                .as_bytes()
                .get(start - 1)
                .is_some_and(u8::is_ascii_whitespace);
        if at_boundary {
            return line.get(start + marker.len()..);
        }
    }
    None
}

fn parse_test_failure(rest: &str, known_intermittent: bool) -> Option<LineTestFailure<'_>> {
    let (status, fields) = rest.split_once('|')?;
    let status = status.trim_end();
    let status_ok = !status.is_empty()
        && status
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'-' || b == b'_');
    if !status_ok {
        return None;
    }
    let (test, message) = match fields.split_once(" | ") {
        Some((test, message)) => (test.trim(), Some(message.trim())),
        None => (fields.trim(), None),
    };
    Some(LineTestFailure {
        test,
        status,
        message: message.filter(|m| !m.is_empty()),
        known_intermittent,
    })
}

fn parse_crash(rest: &str) -> Option<LineCrash<'_>> {
    let fields = rest.trim_start().strip_prefix('|')?;
    let mut crash = LineCrash {
        test: None,
        signature: None,
    };
    for field in fields.split(" | ").map(str::trim) {
        if let Some(after) = field.strip_prefix("application crashed [") {
            let inside = after.rsplit_once(']').map_or(after, |(inside, _)| inside);
            crash.signature = Some(crash_signature(inside)).filter(|s| !s.is_empty());
        } else if crash.test.is_none() && !field.is_empty() {
            crash.test = Some(field);
        }
    }
    Some(crash)
}

/// What an error line says failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineClass {
    /// What kind of failure the line reports.
    pub kind: FailureKind,
    /// The test it names, if any.
    pub test: Option<String>,
    /// The subtest it names, if any.
    pub subtest: Option<String>,
    /// The crash signature it names (without `@ `), if any.
    pub signature: Option<String>,
    /// The line reports only a process's exit status (`Return code: 1`,
    /// `exit status 1`): it is infrastructure only when nothing else in the
    /// run failed, and otherwise takes the kind of what did.
    pub exit_status_only: bool,
}

impl LineClass {
    fn of(kind: FailureKind) -> Self {
        LineClass {
            kind,
            test: None,
            subtest: None,
            signature: None,
            exit_status_only: false,
        }
    }
}

/// Lines saying the browser did not shut down in time (mozcrash, the
/// terminator's `MOZ_CRASH`, AsyncShutdown).
const SHUTDOWN_HANG: &[&str] = &[
    "hanging at shutdown",
    "Shutdown hanging",
    "AsyncShutdown timeout",
    "minidumpwriter exited with status",
    "Shutdown too long",
];
/// Assertions, aborts and fatal errors in Gecko and Rust code.
const ASSERTION: &[&str] = &[
    "Assertion failure",
    "Assertion failed",
    "###!!! ABORT:",
    "Hit MOZ_CRASH",
    "MOZ_CRASH(",
    "MOZ_RELEASE_ASSERT",
    "MOZ_DIAGNOSTIC_ASSERT",
    "FATAL ERROR",
    "panicked at",
];
/// The harness ran out of time (a test, or the application, gave no output).
/// A task the worker aborted at its max run time is infrastructure (below):
/// issue #18 lists "task aborted" there, and the run says nothing about the
/// code it ran.
const TIMEOUT: &[&str] = &[
    "command timed out:",
    "application timed out after",
    "timed out after",
    "with no output",
    "ran for longer than allowed maximum time",
];
/// Compilers, linkers and build systems.
const BUILD: &[&str] = &[
    "fatal error",
    "lld-link: error",
    "ld.lld: error",
    "ld: error",
    "error: linking with",
    "error: could not compile",
    "error: aborting due to",
    "undefined reference to",
    "undefined symbol",
    "unresolved external",
    "make: ***",
    "make[",
    "mozmake.",
    " error LNK",
    " error C",
    " error RC",
    "Compilation failed",
    "error[E",
];
/// The task, the worker or the network, not the code under test.
const INFRASTRUCTURE: &[&str] = &[
    "Task aborted",
    "max run time exceeded",
    "Task timeout after",
    "Task run time exceeded",
    "Aborting task",
    "Error downloading",
    "download failed",
    "Download failed",
    "failed to download",
    "could not download",
    "wget: unable",
    "remoteFailed:",
    "Automation Error:",
    "worker-shutdown",
    "Worker shutdown",
    "worker was lost",
    "claim expired",
    "Could not upload artifact",
    "No space left on device",
    "Connection reset",
    "Connection refused",
    "ConnectionError",
    "ChunkedEncodingError",
    "HTTPError",
    "URLError",
    "SSLError",
    "ReadTimeout",
    "network attempts",
    "rm: cannot",
    "bash.exe: ***",
    "exit code: 137",
];
/// A process's exit status and nothing more.
const EXIT_STATUS: &[&str] = &[
    "Return code:",
    "exit status",
    "exit code",
    "returned non-zero exit status",
    "Unsuccessful task run",
];

fn contains_any(text: &str, needles: &[&str]) -> bool {
    needles.iter().any(|needle| text.contains(needle))
}

/// The kind of failure an error line reports, with the test, subtest and
/// crash signature it names. `line` is a line Treeherder keeps (see
/// `treeherder_errors`), with or without its Taskcluster prefix. The rules
/// are checked most specific first: a test line's own fields, then shutdown
/// hangs (whose `MOZ_CRASH` is not an assertion), sanitizers, leaks,
/// assertions, timeouts, build errors (a failed link also prints an exit
/// status), exit statuses, infrastructure and GoogleTest failures.
pub fn classify_error_line(line: &str) -> LineClass {
    let message = strip_mozharness_prefix(strip_taskcluster_prefix(line));
    if let Some(found) = parse_failure_line(message) {
        if let Some(class) = classify_marker_line(found) {
            return class;
        }
    }
    let kind = if contains_any(message, SHUTDOWN_HANG) {
        FailureKind::ShutdownHang
    } else if message.contains("Sanitizer") {
        FailureKind::Sanitizer
    } else if message.contains("LEAKING THE WORLD") || message.contains("leakcheck") {
        FailureKind::Leak
    } else if contains_any(message, ASSERTION) {
        FailureKind::Assertion
    } else if contains_any(message, TIMEOUT) {
        FailureKind::Timeout
    } else if contains_any(message, BUILD)
        || message.starts_with("error: ")
        || compiler_error(message)
    {
        FailureKind::Build
    } else if contains_any(message, EXIT_STATUS) {
        return LineClass {
            exit_status_only: true,
            ..LineClass::of(FailureKind::Infrastructure)
        };
    } else if contains_any(message, INFRASTRUCTURE)
        || is_worker_error_marker(message)
        || message.starts_with("abort:")
        || http_error_status(message)
    {
        FailureKind::Infrastructure
    } else if let Some(test) = message.strip_prefix("[  FAILED  ] ") {
        // GoogleTest: `[  FAILED  ] Suite.Name, where GetParam() = 5`.
        let test = test.split([',', ' ']).next().unwrap_or(test);
        return LineClass {
            test: Some(bounded_field(test)),
            ..LineClass::of(FailureKind::TestFailure)
        };
    } else {
        FailureKind::Unknown
    };
    LineClass::of(kind)
}

/// `[taskcluster:error]`, `[taskcluster] Error:` and the like: the worker
/// or a task script reporting its own failure.
fn is_worker_error_marker(message: &str) -> bool {
    message.starts_with("[taskcluster] Error:")
        || (message.starts_with('[')
            && (message.contains(":error]") || message.contains(":exception]")))
}

/// `ERROR 404:` and the like (wget, curl).
fn http_error_status(message: &str) -> bool {
    memchr::memmem::find_iter(message.as_bytes(), b"ERROR ").any(|at| {
        matches!(message.as_bytes().get(at + 6..at + 10),
            Some([status, d1, d2, b':'])
                if matches!(status, b'4' | b'5') && d1.is_ascii_digit() && d2.is_ascii_digit())
    })
}

/// `file.cpp:12:3: error:` (clang, gcc).
fn compiler_error(message: &str) -> bool {
    let bytes = message.as_bytes();
    memchr::memmem::find_iter(bytes, b": error:").any(|at| {
        bytes
            .get(..at)
            .and_then(|head| head.last())
            .is_some_and(u8::is_ascii_digit)
    })
}

/// A `TEST-UNEXPECTED-…`, `PROCESS-CRASH` or task timeout line, by what its
/// fields say; `None` for a known intermittent (not a failure of the run).
fn classify_marker_line(found: LineFailure<'_>) -> Option<LineClass> {
    match found {
        LineFailure::Crash(crash) => Some(LineClass {
            test: crash.test.map(bounded_field),
            signature: crash.signature.map(bounded_field),
            ..LineClass::of(FailureKind::Crash)
        }),
        LineFailure::TaskTimeout => Some(LineClass::of(FailureKind::Timeout)),
        LineFailure::Test(test) if test.known_intermittent => None,
        LineFailure::Test(test) => {
            let message = test.message.unwrap_or_default();
            let kind = if test.test == "leakcheck"
                || test.test.ends_with(" leakcheck")
                || message.contains("leaked")
            {
                FailureKind::Leak
            } else if contains_any(message, SHUTDOWN_HANG) {
                FailureKind::ShutdownHang
            } else if message.contains("Sanitizer") {
                FailureKind::Sanitizer
            } else if test.status == "CRASH" || message.contains("application crashed") {
                FailureKind::Crash
            } else if contains_any(message, ASSERTION) {
                FailureKind::Assertion
            } else if message.contains("application timed out")
                || message.contains("with no output")
                || message.contains("ran for longer than allowed maximum time")
            {
                FailureKind::Timeout
            } else {
                FailureKind::TestFailure
            };
            // TBPL lines read `<subtest> - <message>` for a failed assertion.
            let subtest = (kind == FailureKind::TestFailure)
                .then(|| message.split(" - ").next().unwrap_or(message).trim())
                .filter(|s| !s.is_empty());
            Some(LineClass {
                test: Some(bounded_field(test.test)),
                subtest: subtest.map(bounded_field),
                ..LineClass::of(kind)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_lines_under_prefix_noise() {
        let lines = [
            "[task 2025-02-13T11:00:27.837Z] 11:00:27     INFO - TEST-UNEXPECTED-FAIL | a/b.js | it broke - stack: x | y",
            "[task 2017-06-01 10:00:00.000Z] 10:00:00     INFO -  1234 INFO TEST-UNEXPECTED-FAIL | a/b.js | it broke - stack: x | y",
            "GECKO(1234) | TEST-UNEXPECTED-FAIL | a/b.js | it broke - stack: x | y",
            "TEST-UNEXPECTED-FAIL | a/b.js | it broke - stack: x | y",
        ];
        for line in lines {
            let Some(LineFailure::Test(f)) = parse_failure_line(line) else {
                panic!("not read: {line}");
            };
            assert_eq!(
                (f.test, f.status, f.message, f.known_intermittent),
                ("a/b.js", "FAIL", Some("it broke - stack: x | y"), false),
                "{line}"
            );
        }
    }

    #[test]
    fn statuses_timeouts_and_known_intermittents() {
        let Some(LineFailure::Test(f)) = parse_failure_line(
            "08:00:00  WARNING -  TEST-UNEXPECTED-TIMEOUT | dom/t.html | Test timed out.",
        ) else {
            panic!("timeout line not read");
        };
        assert_eq!((f.status, f.message), ("TIMEOUT", Some("Test timed out.")));
        let Some(LineFailure::Test(f)) =
            parse_failure_line("TEST-KNOWN-INTERMITTENT-FAIL | x.js | flaky")
        else {
            panic!("known intermittent line not read");
        };
        assert!(f.known_intermittent);
        let Some(LineFailure::Test(f)) = parse_failure_line("TEST-UNEXPECTED-ERROR | x.js") else {
            panic!("line without message not read");
        };
        assert_eq!((f.test, f.status, f.message), ("x.js", "ERROR", None));
        assert_eq!(
            parse_failure_line(
                "[taskcluster:error] Task timeout after 5400 seconds. Force killing container."
            ),
            Some(LineFailure::TaskTimeout)
        );
    }

    #[test]
    fn crash_lines_in_both_field_orders() {
        let old = parse_failure_line(
            "12:00:00     INFO - PROCESS-CRASH | dom/t.html | application crashed [@ mozilla::Foo::Bar()]",
        );
        let new = parse_failure_line(
            "PROCESS-CRASH | application crashed [@ mozilla::Foo::Bar()] | dom/t.html",
        );
        let expected = Some(LineFailure::Crash(LineCrash {
            test: Some("dom/t.html"),
            signature: Some("mozilla::Foo::Bar()"),
        }));
        assert_eq!(old, expected);
        assert_eq!(new, expected);
    }

    #[test]
    fn look_alikes_are_not_failures() {
        for line in [
            "INFO - TEST-PASS | a.js | fine",
            "INFO - TEST-OK | a.js | took 5ms",
            "ok(true, 'xTEST-UNEXPECTED-FAIL | a | b')",
            "TEST-UNEXPECTED-fail | a | b",
            "TEST-UNEXPECTED- | a | b",
            "TEST-UNEXPECTED-FAIL without separators",
            "PROCESS-CRASHED is not a marker",
            "",
        ] {
            assert_eq!(parse_failure_line(line), None, "{line}");
        }
    }

    #[test]
    fn display_lines_lose_only_the_task_prefix() {
        assert_eq!(
            treeherder_display_line("[task 2025-02-13T11:00:27.837Z] 11:00:27     INFO - x"),
            "11:00:27     INFO - x"
        );
        assert_eq!(
            treeherder_display_line("[taskcluster 2025-02-13 11:05:43.566Z] x"),
            "[taskcluster 2025-02-13 11:05:43.566Z] x"
        );
        assert_eq!(treeherder_display_line("[task foo] x"), "[task foo] x");
    }

    /// The lines issue 18 lists as missed, and one line of every kind.
    #[test]
    fn every_kind_is_recognised() {
        use FailureKind::*;
        let cases: &[(&str, FailureKind)] = &[
            ("10:00:00     INFO - TEST-UNEXPECTED-FAIL | a/b.html | x is 1 - got 2", TestFailure),
            ("[  FAILED  ] AllHashFuncs/TlsHkdfTest.HkdfNullNull/1, where GetParam() = 5", TestFailure),
            ("PROCESS-CRASH | a/b.html | application crashed [@ mozilla::Foo()]", Crash),
            ("TEST-UNEXPECTED-CRASH | a/b.html | expected OK", Crash),
            ("GECKO(6227) | Assertion failure: parent, at docshell/base/BrowsingContext.cpp:1365", Assertion),
            ("GECKO(1) | Hit MOZ_CRASH(unexpected state) at dom/A.cpp:3", Assertion),
            ("GECKO(1) | ###!!! ABORT: file dom/A.cpp, line 3", Assertion),
            ("12:00:00    ERROR - ==1234==ERROR: AddressSanitizer: heap-use-after-free on address 0x6", Sanitizer),
            ("SUMMARY: AddressSanitizer: heap-use-after-free dom/A.cpp:3 in Foo", Sanitizer),
            ("GECKO(2516) | ThreadSanitizer: nested bug in the same thread, aborting.", Sanitizer),
            ("TEST-UNEXPECTED-FAIL | leakcheck | default process: 2000 bytes leaked (A, B)", Leak),
            ("WARNING: YOU ARE LEAKING THE WORLD (at least one JSRuntime) AT JS_ShutDown TIME.  FIX THIS!", Leak),
            ("Process 4242 hanging at shutdown; attempting crash report (fatal error)", ShutdownHang),
            ("mozcrash minidumpwriter exited with status: 1", ShutdownHang),
            ("GECKO(3166) | Hit MOZ_CRASH(Shutdown hanging after all known phases and workers finished.) at nsTerminator.cpp:246", ShutdownHang),
            ("PID 15468 | FATAL ERROR: AsyncShutdown timeout in xpcom-will-shutdown", ShutdownHang),
            ("[taskcluster:error] Task aborted - max run time exceeded", Infrastructure),
            ("[taskcluster] Error: Task run time exceeded 7200 seconds.", Infrastructure),
            ("REFTEST ERROR | file:///a.html | application timed out after 330 seconds with no output", Timeout),
            ("TEST-UNEXPECTED-TIMEOUT | automation.py | application timed out after 370 seconds with no output", Timeout),
            ("error: linking with `cc` failed: exit status: 1", Build),
            ("12:00:00    ERROR - lld-link: error: undefined symbol: foo", Build),
            ("widget/gtk/nsWindow.cpp:3536:30: error: too few arguments to function", Build),
            ("src/gl.cc(2249): error C2065: 'BLEND_1': undeclared identifier", Build),
            ("softokn3.dll.lib : fatal error LNK1120: 2 unresolved externals", Build),
            ("20:57:49    ERROR -  make[3]: *** [widget/gtk/target-objects] Error 2", Build),
            ("[taskcluster:error] Error downloading \"public/image.tar.zst\"", Infrastructure),
            ("Aborting task...", Infrastructure),
            ("wget: unable to resolve host address `queue.taskcluster.net'", Infrastructure),
            ("abort: reached maximum number of network attempts; giving up", Infrastructure),
            ("[taskcluster:error] Could not upload artifact", Infrastructure),
            ("2014-04-04 06:37:57 ERROR 403: Forbidden.", Infrastructure),
            ("23:57:52 CRITICAL - Preparing to abort run due to failed verify check.", Unknown),
            ("InvalidArgumentException: Unknown pointerType: [object String]", Unknown),
        ];
        for (line, kind) in cases {
            let class = classify_error_line(line);
            assert_eq!(class.kind, *kind, "{line}");
            assert!(!class.exit_status_only, "{line}");
        }
        for line in [
            "12:00:00    ERROR - Return code: 1",
            "[taskcluster 2025-01-01 00:00:00.000Z] exit status 1",
            "[taskcluster:error] exit status 1",
            "Unsuccessful task run with exit code: 1 completed in 20 seconds",
        ] {
            let class = classify_error_line(line);
            assert!(class.exit_status_only, "{line}");
            assert_eq!(class.kind, Infrastructure, "{line}");
        }
    }

    #[test]
    fn test_crash_and_gtest_lines_name_their_test() {
        let failure = classify_error_line(
            "[task 2025-01-01T00:00:00.000Z] 10:00:00     INFO - TEST-UNEXPECTED-FAIL | a/b.html | x is 1 - got 2",
        );
        assert_eq!(failure.test.as_deref(), Some("a/b.html"));
        assert_eq!(failure.subtest.as_deref(), Some("x is 1"));
        let crash = classify_error_line(
            "PROCESS-CRASH | application crashed [@ mozilla::Foo()] | a/b.html",
        );
        assert_eq!(
            (crash.test.as_deref(), crash.signature.as_deref()),
            (Some("a/b.html"), Some("mozilla::Foo()"))
        );
        let gtest = classify_error_line("[  FAILED  ] Suite.Name, where GetParam() = 5");
        assert_eq!(gtest.test.as_deref(), Some("Suite.Name"));
        // A known intermittent is no failure of the run.
        let known = classify_error_line("TEST-KNOWN-INTERMITTENT-FAIL | a.html | flaky");
        assert_eq!(known.kind, FailureKind::Unknown);
    }
}

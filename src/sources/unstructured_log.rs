//! The plain task log fallback: failure lines (`TEST-UNEXPECTED-<status> |
//! <test> | <message>`, `PROCESS-CRASH | …`, task timeouts) found under the
//! prefixes workers and harnesses add, read from byte chunks; and the same
//! reading of the lines in Treeherder's `text_log_errors`.

use super::test_failures::{
    bounded_field, feed_reader, Crash, ErrorLine, FailureCollector, FailureSource, JobFailures,
    LineSplitter, SplitLine, TestFailure,
};
use crate::error::Result;
use std::io::Read;
use std::sync::OnceLock;

const UNEXPECTED_MARKER: &str = "TEST-UNEXPECTED-";
const KNOWN_INTERMITTENT_MARKER: &str = "TEST-KNOWN-INTERMITTENT-";
const CRASH_MARKER: &str = "PROCESS-CRASH";
/// Taskcluster's worker, when the task exceeded its `maxRunTime`.
const TASK_TIMEOUT_MARKER: &str = "[taskcluster:error] Task timeout after";
/// Buildbot, when a step printed nothing for too long.
const COMMAND_TIMEOUT_MARKER: &str = "command timed out:";

/// What one log line reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineFailure<'a> {
    Test(LineTestFailure<'a>),
    Crash(LineCrash<'a>),
    /// The whole task or command was stopped for running too long.
    TaskTimeout,
}

/// `TEST-UNEXPECTED-<status> | <test> | <message>` (or `TEST-KNOWN-INTERMITTENT-…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineTestFailure<'a> {
    pub test: &'a str,
    pub status: &'a str,
    pub message: Option<&'a str>,
    pub known_intermittent: bool,
}

/// `PROCESS-CRASH | <test> | application crashed [@ <signature>]`, the two
/// fields in either order (mozlog swapped them in later versions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineCrash<'a> {
    pub test: Option<&'a str>,
    pub signature: Option<&'a str>,
}

impl LineTestFailure<'_> {
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

/// A push parser for a plain task log: feed it chunks of any size, then
/// [`finish`](Self::finish). It keeps the failures found and at most one
/// partial line ([`MAX_LINE_BYTES`](super::test_failures::MAX_LINE_BYTES)).
#[derive(Debug)]
pub struct TextLogParser {
    splitter: LineSplitter,
    collector: FailureCollector,
}

impl Default for TextLogParser {
    fn default() -> Self {
        Self::new()
    }
}

impl TextLogParser {
    pub fn new() -> Self {
        TextLogParser {
            splitter: LineSplitter::default(),
            collector: FailureCollector::new(FailureSource::TextLog),
        }
    }

    /// Read the next piece of the log.
    pub fn push(&mut self, chunk: &[u8]) {
        let collector = &mut self.collector;
        self.splitter
            .push(chunk, |line| read_log_line(collector, &line));
    }

    /// End of input: read a last unterminated line and return the failures.
    pub fn finish(mut self) -> JobFailures {
        let collector = &mut self.collector;
        self.splitter.finish(|line| read_log_line(collector, &line));
        let lines = self.splitter.lines();
        let mut result = self.collector.finish();
        result.lines_read = lines;
        result
    }
}

fn read_log_line(collector: &mut FailureCollector, line: &SplitLine<'_>) {
    // Nearly every line of a task log reports nothing: look for the markers
    // in the bytes before paying for UTF-8 decoding and field splitting.
    let has_marker = marker_finders()
        .iter()
        .any(|finder| finder.find(line.bytes).is_some());
    if !has_marker {
        return;
    }
    let text = String::from_utf8_lossy(line.bytes);
    record_line(collector, &text, line.number);
}

/// Searchers for every marker, built once (building one per line would cost
/// more than the search itself).
fn marker_finders() -> &'static [memchr::memmem::Finder<'static>] {
    static FINDERS: OnceLock<Vec<memchr::memmem::Finder<'static>>> = OnceLock::new();
    FINDERS.get_or_init(|| {
        [
            UNEXPECTED_MARKER,
            KNOWN_INTERMITTENT_MARKER,
            CRASH_MARKER,
            TASK_TIMEOUT_MARKER,
            COMMAND_TIMEOUT_MARKER,
        ]
        .iter()
        .map(|marker| memchr::memmem::Finder::new(marker.as_bytes()).into_owned())
        .collect()
    })
}

/// Add what `line` reports to `collector`; `false` if it reports nothing.
fn record_line(collector: &mut FailureCollector, line: &str, line_number: u64) -> bool {
    let source = collector.source();
    let found = match parse_failure_line(line) {
        Some(found) => found,
        None => return false,
    };
    let display = treeherder_display_line(line);
    let shown_by_treeherder = match found {
        LineFailure::Test(failure) => {
            let unexpected = !failure.known_intermittent;
            collector.add_failure(failure.into_failure(Some(line_number), source));
            unexpected
        }
        LineFailure::Crash(crash) => {
            collector.add_crash(crash.into_crash(Some(line_number), source));
            true
        }
        LineFailure::TaskTimeout => {
            collector.set_task_timeout(display);
            true
        }
    };
    if shown_by_treeherder {
        collector.add_error_line(ErrorLine {
            line_number,
            line: bounded_field(display),
        });
    }
    true
}

/// The failures in an uncompressed task log held in memory.
pub fn parse_text_log(log: &[u8]) -> JobFailures {
    let mut parser = TextLogParser::new();
    parser.push(log);
    parser.finish()
}

/// Stream a task log, plain or gzip-compressed, from `reader`.
pub fn read_text_log(reader: impl Read) -> Result<JobFailures> {
    let mut parser = TextLogParser::new();
    feed_reader(reader, |chunk| parser.push(chunk))?;
    Ok(parser.finish())
}

/// The failures named by the lines of Treeherder's
/// `GET /api/project/{repo}/jobs/{id}/text_log_errors/`; lines that name no
/// test failure (build errors, harness messages) are counted in
/// `other_error_lines`.
pub fn failures_from_text_log_errors(lines: &[ErrorLine]) -> JobFailures {
    let mut collector = FailureCollector::new(FailureSource::TextLogErrors);
    let mut other = 0;
    for error in lines {
        if !record_line(&mut collector, &error.line, error.line_number) {
            other += 1;
        }
    }
    let mut result = collector.finish();
    result.lines_read = lines.len() as u64;
    result.other_error_lines = other;
    result
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

    #[test]
    fn text_log_errors_lines_become_failures() {
        let lines = [
            ErrorLine {
                line_number: 10,
                line: "11:00:27     INFO - TEST-UNEXPECTED-FAIL | a.js | boom".into(),
            },
            ErrorLine {
                line_number: 12,
                line: "11:00:28     INFO - TEST-UNEXPECTED-FAIL | a.js | boom".into(),
            },
            ErrorLine {
                line_number: 30,
                line: "12:00:00    ERROR - Return code: 1".into(),
            },
        ];
        let result = failures_from_text_log_errors(&lines);
        assert_eq!(result.source, FailureSource::TextLogErrors);
        assert_eq!(result.failures.len(), 1);
        assert_eq!(result.duplicates, 1);
        assert_eq!(result.failures[0].line_number, Some(10));
        assert_eq!(result.other_error_lines, 1);
        assert_eq!(result.error_lines.len(), 2);
    }
}

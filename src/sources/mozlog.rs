//! mozlog structured logs: the raw log (one JSON action a line) and the error
//! summary (`test_groups`, failing `test_result`s, `group_result`s, crashes),
//! read from byte chunks in bounded memory into [`JobFailures`].

#![warn(missing_docs)]

use super::failure_lines::{self, LineFailure};
use super::failure_types::{
    bounded_field, Crash, FailureCollector, FailureKind, FailureSource, GroupResult, JobFailures,
    TestFailure,
};
use super::log_lines::{feed_reader, LineSplitter, SplitLine};
use crate::error::Result;
use serde::Deserialize;
use std::borrow::Cow;
use std::io::Read;
use std::sync::OnceLock;

/// A push parser for mozlog JSON lines: feed it chunks of any size (lines
/// and UTF-8 characters may straddle chunks), then [`finish`](Self::finish).
/// It keeps the failures found and at most one partial line.
///
/// Lines naming a result, crash, group result or an ERROR/CRITICAL level are
/// parsed as JSON; the others (nearly all of a raw log) are only checked to
/// be an object with an `action` key. A line failing either check is counted
/// in `malformed_lines` and skipped.
#[derive(Debug)]
pub struct MozlogParser {
    splitter: LineSplitter,
    reader: ActionReader,
}

impl MozlogParser {
    /// For a raw structured log: failures are `test_status`/`test_end`
    /// results that differ from `expected`, plus `crash` actions.
    pub fn raw_structured() -> Self {
        Self::with_source(FailureSource::Structured)
    }

    /// For an error summary: failing `test_result`s, `crash`es and `group_result`s.
    pub fn errorsummary() -> Self {
        Self::with_source(FailureSource::ErrorSummary)
    }

    fn with_source(source: FailureSource) -> Self {
        MozlogParser {
            splitter: LineSplitter::default(),
            reader: ActionReader {
                collector: FailureCollector::new(source),
                valid_lines: 0,
            },
        }
    }

    /// Read the next piece of the log.
    pub fn push(&mut self, chunk: &[u8]) {
        let reader = &mut self.reader;
        self.splitter.push(chunk, |line| reader.read_line(line));
    }

    /// Lines so far that were mozlog objects (zero means "not a mozlog log").
    pub fn valid_lines(&self) -> u64 {
        self.reader.valid_lines
    }

    /// End of input, for a body that may not be a mozlog at all: the failures
    /// if at least one line (the last unterminated one included) was a mozlog
    /// object, else `None`.
    pub fn finish_if_mozlog(mut self) -> Option<JobFailures> {
        let reader = &mut self.reader;
        self.splitter.finish(|line| reader.read_line(line));
        if self.reader.valid_lines == 0 {
            return None;
        }
        let lines = self.splitter.lines();
        let mut result = self.reader.collector.finish();
        result.lines_read = lines;
        Some(result)
    }

    /// End of input: read a last unterminated line and return the failures.
    pub fn finish(mut self) -> JobFailures {
        let reader = &mut self.reader;
        self.splitter.finish(|line| reader.read_line(line));
        let lines = self.splitter.lines();
        let mut result = self.reader.collector.finish();
        result.lines_read = lines;
        result
    }
}

/// The failures in an uncompressed raw structured log held in memory.
pub fn parse_raw_structured_log(log: &[u8]) -> JobFailures {
    let mut parser = MozlogParser::raw_structured();
    parser.push(log);
    parser.finish()
}

/// The failures in an uncompressed error summary held in memory.
pub fn parse_errorsummary_log(log: &[u8]) -> JobFailures {
    let mut parser = MozlogParser::errorsummary();
    parser.push(log);
    parser.finish()
}

/// Stream a raw structured log, plain or gzip-compressed, from `reader`.
pub fn read_raw_structured_log(reader: impl Read) -> Result<JobFailures> {
    let mut parser = MozlogParser::raw_structured();
    feed_reader(reader, |chunk| parser.push(chunk))?;
    Ok(parser.finish())
}

/// Stream an error summary, plain or gzip-compressed, from `reader`.
pub fn read_errorsummary_log(reader: impl Read) -> Result<JobFailures> {
    let mut parser = MozlogParser::errorsummary();
    feed_reader(reader, |chunk| parser.push(chunk))?;
    Ok(parser.finish())
}

/// A string that borrows from the line unless it holds JSON escapes
/// (`Option<Cow<str>>` alone would always allocate).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// The fields of a mozlog action this module reads; others are skipped.
#[derive(Debug, Deserialize)]
struct Action<'a> {
    #[serde(borrow)]
    action: Text<'a>,
    #[serde(borrow, default)]
    test: Option<Text<'a>>,
    #[serde(borrow, default)]
    subtest: Option<Text<'a>>,
    #[serde(borrow, default)]
    status: Option<Text<'a>>,
    #[serde(borrow, default)]
    expected: Option<Text<'a>>,
    #[serde(borrow, default)]
    message: Option<Text<'a>>,
    #[serde(borrow, default)]
    known_intermittent: Option<Vec<Text<'a>>>,
    #[serde(borrow, default)]
    group: Option<Text<'a>>,
    #[serde(borrow, default)]
    signature: Option<Text<'a>>,
    #[serde(borrow, default)]
    minidump_path: Option<Text<'a>>,
    #[serde(borrow, default)]
    reason: Option<Text<'a>>,
    #[serde(borrow, default)]
    level: Option<Text<'a>>,
    /// Error summaries: the action's line in the raw log.
    #[serde(default)]
    line: Option<u64>,
}

fn text<'b>(field: &'b Option<Text<'_>>) -> Option<&'b str> {
    field.as_ref().map(|t| t.0.as_ref())
}

fn bounded(field: &Option<Text<'_>>) -> Option<String> {
    text(field).map(bounded_field)
}

/// Whether a line names an action or level that can report a failure.
/// mozlog writes ASCII names unescaped, so a line that can report one holds
/// one of these byte strings.
fn may_report_failure(line: &[u8]) -> bool {
    static FINDERS: OnceLock<Vec<memchr::memmem::Finder<'static>>> = OnceLock::new();
    FINDERS
        .get_or_init(|| {
            [
                "test_status",
                "test_end",
                "test_result",
                "\"crash\"",
                "group_result",
                "\"ERROR\"",
                "\"CRITICAL\"",
            ]
            .iter()
            .map(|needle| memchr::memmem::Finder::new(needle.as_bytes()).into_owned())
            .collect()
        })
        .iter()
        .any(|finder| finder.find(line).is_some())
}

/// The shape of a mozlog line: a JSON object with an `action` key.
fn looks_like_action(line: &[u8]) -> bool {
    line.starts_with(b"{")
        && line.ends_with(b"}")
        && memchr::memmem::find(line, b"\"action\"").is_some()
}

/// Turns one line into failures, crashes or group results.
#[derive(Debug)]
struct ActionReader {
    collector: FailureCollector,
    valid_lines: u64,
}

impl ActionReader {
    fn read_line(&mut self, line: SplitLine<'_>) {
        if line.truncated {
            self.collector.result_mut().oversized_lines += 1;
            return;
        }
        let bytes = line.bytes.trim_ascii();
        if bytes.is_empty() {
            return;
        }
        if !may_report_failure(bytes) {
            // Most lines (`log` at INFO, `test_start`, `process_output`)
            // cannot report a failure: checking their shape is enough to
            // count them, and a full JSON parse would triple the cost.
            if looks_like_action(bytes) {
                self.valid_lines += 1;
            } else {
                self.collector.result_mut().malformed_lines += 1;
            }
            return;
        }
        let action: Action<'_> = match serde_json::from_slice(bytes) {
            Ok(action) => action,
            Err(_) => {
                self.collector.result_mut().malformed_lines += 1;
                return;
            }
        };
        let line_number = match self.collector.source() {
            FailureSource::ErrorSummary => action.line,
            _ => Some(line.number),
        };
        if self.read_action(&action, line_number) {
            self.valid_lines += 1;
        } else {
            self.collector.result_mut().malformed_lines += 1;
        }
    }

    /// `false` when a field the action requires is missing.
    fn read_action(&mut self, action: &Action<'_>, line_number: Option<u64>) -> bool {
        match action.action.0.as_ref() {
            "test_status" | "test_end" | "test_result" => self.read_result(action, line_number),
            "crash" => {
                self.collector.add_crash(Crash {
                    test: bounded(&action.test),
                    signature: text(&action.signature)
                        .map(failure_lines::crash_signature)
                        .map(bounded_field),
                    minidump: bounded(&action.minidump_path),
                    reason: bounded(&action.reason),
                    line_number,
                    source: self.collector.source(),
                });
                true
            }
            "group_result" => match (text(&action.group), text(&action.status)) {
                (Some(group), Some(status)) => {
                    self.collector.add_group_result(GroupResult {
                        group: bounded_field(group),
                        status: bounded_field(status),
                    });
                    true
                }
                _ => false,
            },
            "log" => {
                self.read_log_message(action, line_number);
                true
            }
            _ => true,
        }
    }

    fn read_result(&mut self, action: &Action<'_>, line_number: Option<u64>) -> bool {
        let (Some(test), Some(status)) = (text(&action.test), text(&action.status)) else {
            return false;
        };
        // No `expected` means the result was the expected one.
        let Some(expected) = text(&action.expected) else {
            return true;
        };
        if expected == status {
            return true;
        }
        let known_intermittent = action
            .known_intermittent
            .as_ref()
            .is_some_and(|known| known.iter().any(|k| k.0 == status));
        self.collector.add_failure(TestFailure {
            test: bounded_field(test),
            subtest: bounded(&action.subtest),
            status: bounded_field(status),
            expected: Some(bounded_field(expected)),
            message: text(&action.message)
                .filter(|m| !m.is_empty())
                .map(bounded_field),
            known_intermittent,
            group: bounded(&action.group),
            line_number,
            source: self.collector.source(),
        });
        true
    }

    /// Harness checks outside any test (leak checks, shutdown crashes) are
    /// logged as ERROR messages in the text-log format: read them as such.
    fn read_log_message(&mut self, action: &Action<'_>, line_number: Option<u64>) {
        if !matches!(text(&action.level), Some("ERROR" | "CRITICAL")) {
            return;
        }
        let Some(message) = text(&action.message) else {
            return;
        };
        let source = self.collector.source();
        match failure_lines::parse_failure_line(message) {
            Some(LineFailure::Test(found)) => self
                .collector
                .add_failure(found.into_failure(line_number, source)),
            Some(LineFailure::Crash(found)) => self
                .collector
                .add_crash(found.into_crash(line_number, source)),
            Some(LineFailure::TaskTimeout) => self.collector.note_kind(FailureKind::Timeout),
            None => {
                // Sanitizer reports, leaks, assertions and shutdown hangs
                // the harness logs outside any test.
                let class = failure_lines::classify_error_line(message);
                if class.kind != FailureKind::Unknown && !class.exit_status_only {
                    self.collector.note_kind(class.kind);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = concat!(
        r#"{"action": "suite_start", "tests": ["a.html", "b.html"], "time": 1}"#,
        "\n",
        r#"{"action": "test_start", "test": "a.html"}"#,
        "\n",
        r#"{"action": "test_status", "test": "a.html", "subtest": "x is 1", "status": "PASS"}"#,
        "\n",
        r#"{"action": "test_status", "test": "a.html", "subtest": "y is 2", "status": "FAIL", "expected": "PASS", "message": "got 3"}"#,
        "\n",
        r#"{"action": "test_status", "test": "a.html", "subtest": "z", "status": "FAIL", "expected": "FAIL"}"#,
        "\n",
        r#"{"action": "test_end", "test": "a.html", "status": "OK"}"#,
        "\n",
        r#"{"action": "test_end", "test": "b.html", "status": "TIMEOUT", "expected": "OK", "known_intermittent": ["TIMEOUT"]}"#,
        "\n",
        r#"{"action": "crash", "test": "b.html", "signature": "@ mozilla::Foo", "minidump_path": "/tmp/x.dmp", "reason": "SIGSEGV"}"#,
        "\n",
        r#"{"action": "log", "level": "ERROR", "message": "TEST-UNEXPECTED-FAIL | leakcheck | default process: 2000 bytes leaked"}"#,
        "\n",
        r#"{"action": "log", "level": "INFO", "message": "TEST-UNEXPECTED-FAIL | not | an error level"}"#,
        "\n",
        r#"{"action": "suite_end"}"#,
        "\n",
    );

    #[test]
    fn unexpected_results_crashes_and_harness_errors() {
        let result = parse_raw_structured_log(RAW.as_bytes());
        assert_eq!(result.malformed_lines, 0);
        assert_eq!(result.lines_read, 11);
        let found: Vec<(&str, Option<&str>, &str, bool)> = result
            .failures
            .iter()
            .map(|f| {
                (
                    f.test.as_str(),
                    f.subtest.as_deref(),
                    f.status.as_str(),
                    f.known_intermittent,
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("a.html", Some("y is 2"), "FAIL", false),
                ("b.html", None, "TIMEOUT", true),
                ("leakcheck", None, "FAIL", false),
            ]
        );
        assert_eq!(result.failures[0].line_number, Some(3));
        assert_eq!(result.failures[0].message.as_deref(), Some("got 3"));
        assert_eq!(result.failures[0].expected.as_deref(), Some("PASS"));
        assert_eq!(result.crashes.len(), 1);
        assert_eq!(result.crashes[0].minidump.as_deref(), Some("/tmp/x.dmp"));
        assert_eq!(result.failed_tests(), ["a.html", "leakcheck", "b.html"]);
    }

    #[test]
    fn malformed_lines_are_counted_and_skipped() {
        let log = concat!(
            "not json\n",
            "[1, 2]\n",
            "{\"no_action\": 1}\n",
            "{\"action\": \"test_end\", \"status\": \"FAIL\", \"expected\": \"OK\"}\n",
            "{\"action\": \"test_end\", \"test\": 5, \"status\": \"FAIL\"}\n",
            "{\"action\": \"test_end\", \"test\": \"t\", \"status\": \"FAIL\", \"expected\": \"OK\"",
            "\n\n   \n",
            "{\"action\": \"test_end\", \"test\": \"ok\", \"status\": \"ERROR\", \"expected\": \"OK\"}",
        );
        let result = parse_raw_structured_log(log.as_bytes());
        assert_eq!(result.malformed_lines, 6);
        assert_eq!(result.failures.len(), 1);
        assert_eq!(result.failures[0].test, "ok");
        assert_eq!(result.failures[0].line_number, Some(8));
    }

    #[test]
    fn escaped_strings_and_oversized_lines() {
        let mut log = br#"{"action": "test_end", "test": "a\u00e9\"b", "status": "FAIL", "expected": "PASS"}"#.to_vec();
        log.push(b'\n');
        log.extend_from_slice(br#"{"action": "log", "message": ""#);
        log.extend(std::iter::repeat_n(
            b'x',
            crate::sources::test_failures::MAX_LINE_BYTES,
        ));
        log.extend_from_slice(b"\"}\n");
        let result = parse_raw_structured_log(&log);
        assert_eq!(result.failures[0].test, "a\u{e9}\"b");
        assert_eq!(result.oversized_lines, 1);
        assert_eq!(result.malformed_lines, 0);
    }

    #[test]
    fn errorsummary_lines_keep_mozlog_line_numbers() {
        let log = concat!(
            r#"{"action": "test_groups", "line": 2, "groups": ["a/browser.ini"]}"#,
            "\n",
            r#"{"action": "test_result", "test": "a/browser_x.js", "subtest": "Test timed out", "status": "FAIL", "expected": "PASS", "group": "a/browser.ini", "message": null, "line": 42}"#,
            "\n",
            r#"{"action": "group_result", "group": "a/browser.ini", "status": "ERROR", "line": 50}"#,
            "\n",
        );
        let result = parse_errorsummary_log(log.as_bytes());
        assert_eq!(result.source, FailureSource::ErrorSummary);
        assert_eq!(result.failures.len(), 1);
        assert_eq!(result.failures[0].line_number, Some(42));
        assert_eq!(result.failures[0].message, None);
        assert_eq!(result.failures[0].group.as_deref(), Some("a/browser.ini"));
        assert_eq!(
            result.group_results,
            [GroupResult {
                group: "a/browser.ini".into(),
                status: "ERROR".into()
            }]
        );
    }

    #[test]
    fn structured_logs_say_the_kind() {
        let log = concat!(
            r#"{"action": "test_end", "test": "a.html", "status": "FAIL", "expected": "PASS"}"#,
            "\n",
            r#"{"action": "crash", "test": "a.html", "signature": "@ mozilla::Foo"}"#,
            "\n",
            r#"{"action": "log", "level": "ERROR", "message": "==12==ERROR: AddressSanitizer: heap-use-after-free"}"#,
            "\n",
        );
        let result = parse_raw_structured_log(log.as_bytes());
        assert_eq!(result.kind, Some(FailureKind::Sanitizer));
        assert_eq!(
            result.kinds,
            [
                FailureKind::Sanitizer,
                FailureKind::Crash,
                FailureKind::TestFailure
            ]
        );
        let summary = r#"{"action": "test_result", "test": "leakcheck", "status": "FAIL", "expected": "PASS", "line": 3}"#;
        let result = parse_errorsummary_log(summary.as_bytes());
        assert_eq!(result.kind, Some(FailureKind::Leak));
        let passing = r#"{"action": "test_end", "test": "a.html", "status": "OK"}"#;
        assert_eq!(parse_raw_structured_log(passing.as_bytes()).kind, None);
    }
}

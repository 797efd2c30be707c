//! The plain task log: the error lines Treeherder keeps (its rules are in
//! `treeherder_errors`), each classified (`failure_lines`), and every failing
//! test, crash and task timeout the log reports, read from byte chunks; and
//! the same reading of the lines in Treeherder's `text_log_errors`.

#![warn(missing_docs)]

use super::failure_types::{
    bounded_field, ErrorLine, FailureCollector, FailureKind, FailureSource, JobFailures,
};
use super::log_lines::{feed_reader, LineSplitter, SplitLine};
use super::treeherder_errors::{error_line_needles, ErrorLineSelector, NeedleSet};
use crate::error::Result;
use std::collections::BTreeSet;
use std::io::Read;
use std::sync::OnceLock;

pub use super::failure_lines::{
    classify_error_line, crash_signature, parse_failure_line, treeherder_display_line, LineClass,
    LineCrash, LineFailure, LineTestFailure,
};
use super::failure_lines::{
    COMMAND_TIMEOUT_MARKER, CRASH_MARKER, KNOWN_INTERMITTENT_MARKER, TASK_TIMEOUT_MARKER,
    UNEXPECTED_MARKER,
};

/// A push parser for a plain task log: feed it chunks of any size, then
/// [`finish`](Self::finish). It keeps the failures found, at most
/// [`MAX_ERROR_LINES`](super::treeherder_errors::MAX_ERROR_LINES) error lines
/// and at most one partial line
/// ([`MAX_LINE_BYTES`](super::failure_types::MAX_LINE_BYTES)).
#[derive(Debug)]
pub struct TextLogParser {
    splitter: LineSplitter,
    reader: LineReader,
}

#[derive(Debug)]
struct LineReader {
    collector: FailureCollector,
    selector: ErrorLineSelector,
    /// Indexes in `error_lines` of lines reporting only an exit status.
    exit_status_lines: Vec<usize>,
}

impl Default for TextLogParser {
    fn default() -> Self {
        Self::new()
    }
}

impl TextLogParser {
    /// A parser before the log's first byte.
    pub fn new() -> Self {
        TextLogParser {
            splitter: LineSplitter::default(),
            reader: LineReader {
                collector: FailureCollector::new(FailureSource::TextLog),
                selector: ErrorLineSelector::new(),
                exit_status_lines: Vec::new(),
            },
        }
    }

    /// Read the next piece of the log.
    pub fn push(&mut self, chunk: &[u8]) {
        let reader = &mut self.reader;
        self.splitter.push(chunk, |line| reader.read_line(&line));
    }

    /// End of input: read a last unterminated line and return the failures.
    pub fn finish(mut self) -> JobFailures {
        let reader = &mut self.reader;
        self.splitter.finish(|line| reader.read_line(&line));
        let lines = self.splitter.lines();
        let mut result = settle_exit_status_lines(
            self.reader.collector.finish(),
            &self.reader.exit_status_lines,
        );
        result.lines_read = lines;
        result
    }
}

impl LineReader {
    fn read_line(&mut self, line: &SplitLine<'_>) {
        // Nearly every line of a task log reports nothing: one pass over its
        // bytes for every needle of both readings before anything else.
        let groups = line_needles().groups_in(line.bytes);
        let candidate = groups & 1 != 0;
        if let Some(kept) = self
            .selector
            .read_gated_line(line.number, line.bytes, candidate)
        {
            let kept = kept.clone();
            add_classified_line(&mut self.collector, &mut self.exit_status_lines, kept);
        }
        let has_marker = groups & 2 != 0;
        if has_marker {
            let text = String::from_utf8_lossy(line.bytes);
            record_failures(&mut self.collector, &text, line.number);
        }
    }
}

/// Classify `line` and store it in `collector`'s error lines.
fn add_classified_line(
    collector: &mut FailureCollector,
    exit_status_lines: &mut Vec<usize>,
    mut line: ErrorLine,
) {
    let class = classify_error_line(&line.line);
    if class.exit_status_only {
        // Its kind is settled once the whole run is known.
        exit_status_lines.push(collector.error_line_count());
    } else {
        line.kind = Some(class.kind);
    }
    line.test = class.test;
    line.subtest = class.subtest;
    line.signature = class.signature;
    collector.add_error_line(line);
}

/// A line reporting only an exit status is infrastructure when nothing else
/// in the run failed, and otherwise takes the run's main kind.
fn settle_exit_status_lines(mut result: JobFailures, exit_status_lines: &[usize]) -> JobFailures {
    if exit_status_lines.is_empty() {
        return result;
    }
    let kind = result.kind.unwrap_or(FailureKind::Infrastructure);
    for index in exit_status_lines {
        if let Some(line) = result.error_lines.get_mut(*index) {
            line.kind = Some(kind);
        }
    }
    let found: BTreeSet<FailureKind> = result.kinds.iter().copied().collect();
    result.settle_kinds(&found);
    result
}

/// The needles of Treeherder's error lines (group 0) and of every failure
/// marker (group 1), searched in one pass: a line holding none reports
/// nothing.
fn line_needles() -> &'static NeedleSet {
    static NEEDLES: OnceLock<NeedleSet> = OnceLock::new();
    NEEDLES.get_or_init(|| {
        NeedleSet::grouped(&[
            error_line_needles(),
            &[
                (UNEXPECTED_MARKER, 4),
                (KNOWN_INTERMITTENT_MARKER, 4),
                (CRASH_MARKER, 7),
                (TASK_TIMEOUT_MARKER, 12),
                (COMMAND_TIMEOUT_MARKER, 16),
            ],
        ])
    })
}

/// Add the test failure, crash or task timeout `line` reports to
/// `collector`; `false` if it reports none.
fn record_failures(collector: &mut FailureCollector, line: &str, line_number: u64) -> bool {
    let source = collector.source();
    match parse_failure_line(line) {
        Some(LineFailure::Test(failure)) => {
            collector.add_failure(failure.into_failure(Some(line_number), source));
        }
        Some(LineFailure::Crash(crash)) => {
            collector.add_crash(crash.into_crash(Some(line_number), source));
        }
        Some(LineFailure::TaskTimeout) => {
            collector.set_task_timeout(treeherder_display_line(line));
        }
        None => return false,
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
/// `GET /api/project/{repo}/jobs/{id}/text_log_errors/`, each line
/// classified; lines that name no test failure, crash or timeout (build
/// errors, harness messages) are counted in `other_error_lines`.
pub fn failures_from_text_log_errors(lines: &[ErrorLine]) -> JobFailures {
    let mut collector = FailureCollector::new(FailureSource::TextLogErrors);
    let mut exit_status_lines = Vec::new();
    let mut other = 0;
    for error in lines {
        if !record_failures(&mut collector, &error.line, error.line_number) {
            other += 1;
        }
        let line = ErrorLine::new(error.line_number, bounded_field(&error.line));
        add_classified_line(&mut collector, &mut exit_status_lines, line);
    }
    let mut result = settle_exit_status_lines(collector.finish(), &exit_status_lines);
    result.lines_read = lines.len() as u64;
    result.other_error_lines = other;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_log_errors_lines_become_failures() {
        let lines = [
            ErrorLine::new(10, "11:00:27     INFO - TEST-UNEXPECTED-FAIL | a.js | boom"),
            ErrorLine::new(12, "11:00:28     INFO - TEST-UNEXPECTED-FAIL | a.js | boom"),
            ErrorLine::new(30, "12:00:00    ERROR - Return code: 1"),
        ];
        let result = failures_from_text_log_errors(&lines);
        assert_eq!(result.source, FailureSource::TextLogErrors);
        assert_eq!(result.failures.len(), 1);
        assert_eq!(result.duplicates, 1);
        assert_eq!(result.failures[0].line_number, Some(10));
        assert_eq!(result.other_error_lines, 1);
        let kinds: Vec<Option<FailureKind>> = result.error_lines.iter().map(|l| l.kind).collect();
        // The exit status follows from the test failure: it takes its kind.
        assert_eq!(kinds, [Some(FailureKind::TestFailure); 3]);
        assert_eq!(result.kind, Some(FailureKind::TestFailure));
        assert_eq!(result.kinds, [FailureKind::TestFailure]);
    }

    fn kinds_of(log: &str) -> Vec<(u64, FailureKind)> {
        parse_text_log(log.as_bytes())
            .error_lines
            .iter()
            .map(|l| (l.line_number, l.kind.unwrap_or(FailureKind::Unknown)))
            .collect()
    }

    #[test]
    fn an_exit_status_alone_is_infrastructure() {
        let log = "[taskcluster 2025-01-01 00:00:00.000Z] Worker Type: t\n\
                   [task 2025-01-01T00:00:01.000Z] 00:00:01    ERROR - Return code: 1\n\
                   [taskcluster 2025-01-01 00:00:02.000Z] exit status 1\n";
        let result = parse_text_log(log.as_bytes());
        assert_eq!(result.kind, Some(FailureKind::Infrastructure));
        let lines: Vec<(u64, &str)> = result
            .error_lines
            .iter()
            .map(|l| (l.line_number, l.line.as_str()))
            .collect();
        // Only the mozharness ERROR line is an error line for Treeherder.
        assert_eq!(lines, [(1, "00:00:01    ERROR - Return code: 1")]);
    }

    #[test]
    fn every_kind_from_a_task_log() {
        use FailureKind::*;
        let log = concat!(
            "[taskcluster 2025-01-01 00:00:00.000Z] Task ID: abc\n",
            "[task 2025-01-01T00:00:01.000Z] 00:00:01     INFO - TEST-PASS | a.html | fine\n",
            "[task 2025-01-01T00:00:02.000Z] 00:00:02     INFO - TEST-UNEXPECTED-FAIL | a.html | x is 1 - got 2\n",
            "[task 2025-01-01T00:00:03.000Z] 00:00:03     INFO - GECKO(12) | Assertion failure: ptr, at dom/A.cpp:12\n",
            "[task 2025-01-01T00:00:04.000Z] 00:00:04     INFO - PROCESS-CRASH | a.html | application crashed [@ mozilla::A::B()]\n",
            "[task 2025-01-01T00:00:05.000Z] 00:00:05    ERROR - ==123==ERROR: AddressSanitizer: heap-use-after-free on address 0x1\n",
            "[task 2025-01-01T00:00:06.000Z] 00:00:06     INFO - SUMMARY: AddressSanitizer: heap-use-after-free dom/A.cpp:12 in B\n",
            "[task 2025-01-01T00:00:07.000Z] 00:00:07     INFO - TEST-UNEXPECTED-FAIL | leakcheck | default process: 2000 bytes leaked (A, B)\n",
            "[task 2025-01-01T00:00:08.000Z] 00:00:08     INFO - WARNING: YOU ARE LEAKING THE WORLD (at least one JSRuntime) AT JS_ShutDown TIME.  FIX THIS!\n",
            "[task 2025-01-01T00:00:09.000Z] 00:00:09     INFO - Process 4242 hanging at shutdown; attempting crash report (fatal error)\n",
            "[task 2025-01-01T00:00:10.000Z] 00:00:10     INFO - TEST-UNEXPECTED-TIMEOUT | b.html | application timed out after 370 seconds with no output\n",
            "[task 2025-01-01T00:00:11.000Z] 00:00:11     INFO - dom/A.cpp:12:3: error: use of undeclared identifier 'x'\n",
            "[task 2025-01-01T00:00:12.000Z] 00:00:12    ERROR - lld-link: error: undefined symbol: foo\n",
            "[task 2025-01-01T00:00:13.000Z] error: linking with `cc` failed: exit status: 1\n",
            "[taskcluster:error] Task aborted - max run time exceeded\n",
            "[taskcluster:error] Error downloading \"public/image.tar.zst\"\n",
            "[task 2025-01-01T00:00:14.000Z] 00:00:14 CRITICAL - Something odd happened\n",
        );
        // Sanitizer and linker errors are error lines once mozharness logs
        // them at ERROR level; at INFO level Treeherder would not keep them.
        assert!(kinds_of(&log.replace("   ERROR - ", "    INFO - ")).len() == 13);
        assert_eq!(
            kinds_of(log),
            [
                (2, TestFailure),
                (3, Assertion),
                (4, Crash),
                (5, Sanitizer),
                (6, Sanitizer),
                (7, Leak),
                (8, Leak),
                (9, ShutdownHang),
                (10, Timeout),
                (11, Build),
                (12, Build),
                (13, Build),
                (14, Infrastructure),
                (15, Infrastructure),
                (16, Unknown),
            ]
        );
        let result = parse_text_log(log.as_bytes());
        assert_eq!(result.kind, Some(Build));
        let crash = &result.error_lines[2];
        assert_eq!(crash.signature.as_deref(), Some("mozilla::A::B()"));
        assert_eq!(crash.test.as_deref(), Some("a.html"));
        let failure = &result.error_lines[0];
        assert_eq!(
            (failure.test.as_deref(), failure.subtest.as_deref()),
            (Some("a.html"), Some("x is 1"))
        );
        assert_eq!(
            result.error_lines[0].line,
            "00:00:02     INFO - TEST-UNEXPECTED-FAIL | a.html | x is 1 - got 2"
        );
    }

    /// A web-platform-tests log as wptrunner prints it under mozharness:
    /// `\r\n` line ends, a lone `\r` progress line, the last line without an
    /// end; every line number counted as Treeherder counts it.
    #[test]
    fn web_platform_tests_log_line_numbers() {
        let log = concat!(
            "[taskcluster 2025-03-01 10:00:00.000Z] Task ID: wpt\r\n",
            "[task 2025-03-01T10:00:01.000Z] 10:00:01     INFO - Running wpt-testharness\r\n",
            "[task 2025-03-01T10:00:02.000Z] 10:00:02     INFO - TEST-START | /css/a.html\r\n",
            "downloading 10%\rdownloading 100%\r\n",
            "[task 2025-03-01T10:00:03.000Z] 10:00:03     INFO - TEST-UNEXPECTED-FAIL | /css/a.html | width is 10px - assert_equals: expected 10 but got 12\r\n",
            "[task 2025-03-01T10:00:04.000Z] 10:00:04     INFO - TEST-UNEXPECTED-TIMEOUT | /css/b.html | expected OK\r\n",
            "\r\n",
            "[task 2025-03-01T10:00:05.000Z] 10:00:05    ERROR - Return code: 1",
        );
        let result = parse_text_log(log.as_bytes());
        let got: Vec<(u64, &str, Option<FailureKind>, Option<&str>)> = result
            .error_lines
            .iter()
            .map(|l| (l.line_number, l.line.as_str(), l.kind, l.test.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (5, "10:00:03     INFO - TEST-UNEXPECTED-FAIL | /css/a.html | width is 10px - assert_equals: expected 10 but got 12", Some(FailureKind::TestFailure), Some("/css/a.html")),
                (6, "10:00:04     INFO - TEST-UNEXPECTED-TIMEOUT | /css/b.html | expected OK", Some(FailureKind::TestFailure), Some("/css/b.html")),
                (8, "10:00:05    ERROR - Return code: 1", Some(FailureKind::TestFailure), None),
            ]
        );
        assert_eq!(result.lines_read, 9);
        assert_eq!(result.failed_tests(), ["/css/a.html", "/css/b.html"]);
        // The same answer fed a byte at a time.
        let mut parser = TextLogParser::new();
        log.as_bytes().chunks(1).for_each(|c| parser.push(c));
        assert_eq!(parser.finish(), result);
    }

    #[test]
    fn failures_past_the_error_line_cap_are_still_read() {
        let mut log = String::new();
        for i in 0..60 {
            log.push_str(&format!("TEST-UNEXPECTED-FAIL | t{i}.html | boom\n"));
        }
        let result = parse_text_log(log.as_bytes());
        assert_eq!(result.error_lines.len(), 40);
        assert_eq!(result.failures.len(), 60);
    }

    /// Every kind under every line rule of Treeherder's parser: kept with
    /// its 0-based number and stored text in a Taskcluster log (`[task …]`
    /// prefix removed, `\r\n` ends) and in a Buildbot log (lone `\r` ends,
    /// nothing removed); kept once when repeated; not kept past the 40-line
    /// cap, where test failures and crashes are still counted.
    #[test]
    fn every_kind_under_every_line_rule() {
        use FailureKind::*;
        // (kind, mozharness level or "" for the worker's own line, message)
        let cases = [
            (TestFailure, "INFO", "TEST-UNEXPECTED-FAIL | dom/a.html | x is 1 - got 2"),
            (Crash, "INFO", "PROCESS-CRASH | dom/a.html | application crashed [@ mozilla::A::B()]"),
            (Assertion, "INFO", "GECKO(7) | Assertion failure: mRefCnt > 0, at xpcom/A.h:3"),
            (Sanitizer, "ERROR", "==1234==ERROR: AddressSanitizer: heap-use-after-free on address 0x1"),
            (Leak, "INFO", "TEST-UNEXPECTED-FAIL | leakcheck | default process: 2000 bytes leaked (A, B)"),
            (ShutdownHang, "INFO", "Process 4242 hanging at shutdown; attempting crash report (fatal error)"),
            (Timeout, "INFO", "command timed out: 3600 seconds without output running ['python', 'run_tests.py'], attempting to kill"),
            (Build, "ERROR", "lld-link: error: undefined symbol: foo"),
            (Infrastructure, "", "[taskcluster:error] Task aborted - max run time exceeded"),
            (Infrastructure, "ERROR", "Error downloading \"public/build/target.tar.bz2\""),
            (Unknown, "CRITICAL", "Something odd happened"),
        ];
        let mozharness = |level: &str, message: &str| match level {
            "" => message.to_string(),
            level => format!("00:00:02 {level:>8} - {message}"),
        };
        for (kind, level, message) in cases {
            let stored = mozharness(level, message);
            let task_line = if level.is_empty() {
                stored.clone()
            } else {
                format!("[task 2025-01-01T00:00:02.000Z] {stored}")
            };
            let taskcluster = format!(
                "[taskcluster 2025-01-01 00:00:00.000Z] Task ID: x\r\n\
                 [task 2025-01-01T00:00:01.000Z] 00:00:01     INFO - TEST-START | dom/a.html\r\n\
                 {task_line}\r\n"
            );
            let buildbot =
                format!("builder: x\r00:00:01     INFO - TEST-START | dom/a.html\r{stored}\r");
            for (log, what) in [
                (&taskcluster, "taskcluster, \\r\\n"),
                (&buildbot, "buildbot, \\r"),
            ] {
                let result = parse_text_log(log.as_bytes());
                let got: Vec<(u64, &str, Option<FailureKind>)> = result
                    .error_lines
                    .iter()
                    .map(|l| (l.line_number, l.line.as_str(), l.kind))
                    .collect();
                assert_eq!(
                    got,
                    [(2, stored.as_str(), Some(kind))],
                    "{kind:?} in a {what} log"
                );
                assert_eq!(result.kind, Some(kind), "{kind:?} in a {what} log");
            }
            // The repeat rule: the same line again right after is not kept.
            let repeated = format!("{taskcluster}{task_line}\r\n");
            assert_eq!(
                parse_text_log(repeated.as_bytes()).error_lines.len(),
                1,
                "{kind:?} repeated"
            );
            // The cap: after 40 kept lines, the line is not kept; a test
            // failure or crash past it still counts.
            let mut capped = String::new();
            for i in 0..40 {
                capped.push_str(&format!("TEST-UNEXPECTED-FAIL | filler{i}.html | boom\r\n"));
            }
            capped.push_str(&stored);
            capped.push_str("\r\n");
            let result = parse_text_log(capped.as_bytes());
            assert_eq!(result.error_lines.len(), 40, "{kind:?} past the cap");
            assert!(
                result.error_lines.iter().all(|l| l.line != stored),
                "{kind:?} past the cap"
            );
            let counted = result.failed_tests().contains(&"dom/a.html");
            assert_eq!(
                counted,
                matches!(kind, TestFailure | Crash),
                "{kind:?} past the cap"
            );
        }
    }
}

//! Which tests failed in a job: [`job_failures`] reads the best of the
//! sources the caller has fetched (mozlog structured log, error summary,
//! Treeherder's `text_log_errors`, the plain text log). The types it returns
//! live in `failure_types` and are re-exported here.

#![warn(missing_docs)]

use crate::error::{Error, Result};

use super::mozlog::MozlogParser;
use super::unstructured_log;

pub use super::failure_types::{
    Crash, ErrorLine, FailureKind, FailureSignature, FailureSource, GroupResult, JobFailures,
    SameFailure, TestFailure, MAX_FIELD_BYTES, MAX_LINE_BYTES, MAX_STORED_CRASHES,
    MAX_STORED_FAILURES, MAX_STORED_GROUP_RESULTS,
};
pub use super::log_lines::feed_reader;

/// What the caller has fetched for one job; any may be missing. Log bodies
/// may be gzip-compressed (detected from their first bytes).
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchedLogs<'a> {
    /// The raw structured log (2015: `mozlog_json`; now a task artifact).
    pub raw_structured_log: Option<&'a [u8]>,
    /// The error summary (`errorsummary_json`).
    pub errorsummary_log: Option<&'a [u8]>,
    /// `GET /api/project/{repo}/jobs/{id}/text_log_errors/`, as lines.
    pub text_log_errors: Option<&'a [ErrorLine]>,
    /// The plain task log (`live_backing_log`, 2015 `buildbot_text`).
    pub text_log: Option<&'a [u8]>,
}

/// The failures of one job from the best source fetched: the raw structured
/// log, else the error summary, else Treeherder's `text_log_errors`, else the
/// plain text log. A structured source counts only if at least one of its
/// lines is a mozlog object (an HTML error page is not an error summary); an
/// empty `text_log_errors` gives way to the text log when there is one; a
/// source that cannot be read (bad gzip) is passed over for the next one.
pub fn job_failures(fetched: &FetchedLogs<'_>) -> Result<JobFailures> {
    let mut last_error = None;
    let structured = [
        fetched
            .raw_structured_log
            .map(|body| (body, MozlogParser::raw_structured())),
        fetched
            .errorsummary_log
            .map(|body| (body, MozlogParser::errorsummary())),
    ];
    for (body, mut parser) in structured.into_iter().flatten() {
        match feed_reader(body, |chunk| parser.push(chunk)) {
            Ok(()) => {
                // The last line may lack its newline: finish before judging.
                if let Some(found) = parser.finish_if_mozlog() {
                    return Ok(found);
                }
            }
            Err(e) => last_error = Some(e),
        }
    }
    // Treeherder answers an empty list both when the log has no error and
    // when it has not parsed the log yet: with the log at hand, read it.
    let text_log_errors = fetched
        .text_log_errors
        .filter(|lines| !lines.is_empty() || fetched.text_log.is_none());
    if let Some(lines) = text_log_errors {
        return Ok(unstructured_log::failures_from_text_log_errors(lines));
    }
    if let Some(body) = fetched.text_log.filter(|b| !b.is_empty()) {
        let mut parser = unstructured_log::TextLogParser::new();
        match feed_reader(body, |chunk| parser.push(chunk)) {
            Ok(()) => return Ok(parser.finish()),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        Error::parse(
            "job logs",
            "no usable log: fetch the raw or errorsummary log, text_log_errors or the task log",
        )
    }))
}

/// The failures in one log a user has at hand, whatever it is: plain or
/// gzip; a raw structured log, an error summary (both mozlog JSON lines,
/// told apart by the error summary's own actions) or a plain task log.
pub fn log_failures(body: &[u8]) -> Result<JobFailures> {
    let mut plain = Vec::new();
    feed_reader(body, |chunk| plain.extend_from_slice(chunk))?;
    let first_line = plain
        .split(|b| *b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|line| !line.is_empty())
        .unwrap_or_default();
    if first_line.starts_with(b"{") {
        let summary_actions: [&[u8]; 3] = [b"test_groups", b"test_result", b"group_result"];
        let is_summary = summary_actions
            .iter()
            .any(|action| memchr::memmem::find(&plain, action).is_some());
        let mut parser = if is_summary {
            MozlogParser::errorsummary()
        } else {
            MozlogParser::raw_structured()
        };
        parser.push(&plain);
        if let Some(found) = parser.finish_if_mozlog() {
            return Ok(found);
        }
    }
    Ok(unstructured_log::parse_text_log(&plain))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::failure_types::{bounded_field, FailureCollector};

    #[test]
    fn a_one_line_structured_log_without_newline_is_read() {
        let log = br#"{"action":"test_end","test":"a.html","status":"FAIL","expected":"PASS","message":"boom"}"#;
        let fetched = FetchedLogs {
            raw_structured_log: Some(log),
            ..FetchedLogs::default()
        };
        let failures = job_failures(&fetched).expect("read");
        assert_eq!(failures.failures.len(), 1, "{failures:?}");
        assert_eq!(failures.failures[0].test, "a.html");
    }

    #[test]
    fn fields_are_bounded_at_char_boundaries() {
        let text = "é".repeat(MAX_FIELD_BYTES);
        let cut = bounded_field(&text);
        assert!(cut.len() <= MAX_FIELD_BYTES + '…'.len_utf8());
        assert!(cut.ends_with('…'));
        assert_eq!(bounded_field("short"), "short");
    }

    fn failure(test: &str, message: &str) -> TestFailure {
        TestFailure {
            test: test.into(),
            subtest: None,
            status: "FAIL".into(),
            expected: Some("PASS".into()),
            message: Some(message.into()),
            known_intermittent: false,
            group: None,
            line_number: None,
            source: FailureSource::TextLog,
        }
    }

    #[test]
    fn repeats_collapse_and_the_cap_counts_the_rest() {
        let mut collector = FailureCollector::new(FailureSource::TextLog);
        collector.add_failure(failure("a.js", "m"));
        collector.add_failure(failure("a.js", "m"));
        collector.add_failure(failure("a.js", "other"));
        for i in 0..MAX_STORED_FAILURES + 5 {
            collector.add_failure(failure(&format!("t{i}.js"), "m"));
        }
        let result = collector.finish();
        assert_eq!(result.duplicates, 1);
        assert_eq!(result.failures.len(), MAX_STORED_FAILURES);
        assert_eq!(result.failures_not_stored, 7);
        assert_eq!(result.failed_tests()[..2], ["a.js", "t0.js"]);
        assert!(result.has_failures());
    }

    #[test]
    fn no_source_fetched_is_an_error() {
        let err = job_failures(&FetchedLogs::default()).expect_err("nothing fetched");
        assert!(err.to_string().contains("no usable log"), "{err}");
    }

    fn text_failures(log: &str) -> JobFailures {
        unstructured_log::parse_text_log(log.as_bytes())
    }

    #[test]
    fn runs_fail_the_same_way_by_test_crash_or_kind() {
        let chased = text_failures("TEST-UNEXPECTED-FAIL | a.html | boom\n");
        let signature = chased.signature().expect("a failure");
        assert_eq!(signature.tests, ["a.html"]);
        let same = text_failures("TEST-UNEXPECTED-FAIL | a.html | other message\n");
        let other = text_failures("TEST-UNEXPECTED-FAIL | b.html | boom\n");
        let infra = text_failures(
            "[taskcluster:error] Error downloading \"public/build/target.tar.gz\"\n\
             12:00:00    ERROR - Return code: 1\n",
        );
        let nothing = text_failures("all fine\n");
        assert_eq!(signature.compare(&same), SameFailure::Same);
        assert_eq!(signature.compare(&other), SameFailure::Different);
        assert_eq!(infra.kind, Some(FailureKind::Infrastructure));
        assert_eq!(signature.compare(&infra), SameFailure::NotEvidence);
        assert_eq!(signature.compare(&nothing), SameFailure::NotEvidence);
        // A test failure next to infrastructure trouble still counts.
        let both = text_failures(
            "[taskcluster:error] Error downloading x\nTEST-UNEXPECTED-FAIL | a.html | boom\n",
        );
        assert_eq!(signature.compare(&both), SameFailure::Same);

        let crash = text_failures("PROCESS-CRASH | Shutdown | application crashed [@ f()]\n");
        let crash_signature = crash.signature().expect("a crash");
        assert_eq!(crash_signature.kind, FailureKind::Crash);
        assert_eq!(crash_signature.crash_signatures, ["f()"]);
        let other_crash = text_failures("PROCESS-CRASH | Shutdown | application crashed [@ g()]\n");
        assert_eq!(
            crash_signature.compare(&other_crash),
            SameFailure::Different
        );
        assert_eq!(crash_signature.compare(&crash), SameFailure::Same);

        let build = text_failures("a.cpp:1:2: error: x\n")
            .signature()
            .expect("build");
        assert_eq!(build.kind, FailureKind::Build);
        assert_eq!(
            build.compare(&text_failures("b.cpp:3:4: error: y\n")),
            SameFailure::Same
        );
        assert_eq!(build.compare(&same), SameFailure::Different);
    }
}

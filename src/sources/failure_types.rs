//! The failure types every log reader fills and the add-on and CLI show:
//! [`TestFailure`], [`Crash`], [`ErrorLine`], the [`FailureKind`] of each,
//! the per-job [`JobFailures`] and the bounded collection the parsers fill.
//! The parsers (`mozlog`, `unstructured_log`, `treeherder_errors`) and the
//! source choice (`test_failures`) depend on this module, never the reverse.

#![warn(missing_docs)]

use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};

/// At most this many distinct failures are stored per job; the rest are only
/// counted (`failures_not_stored`). A broken build can fail every test of a
/// suite, and a list that long says no more than its first thousand entries.
pub const MAX_STORED_FAILURES: usize = 1000;
/// At most this many crashes are stored per job; the rest are counted.
pub const MAX_STORED_CRASHES: usize = 100;
/// At most this many group (manifest) results are stored per job.
pub const MAX_STORED_GROUP_RESULTS: usize = 5000;
/// Stored text fields (test, subtest, message, signature, log line) are cut to
/// this many bytes, at a character boundary, with `…` appended.
pub const MAX_FIELD_BYTES: usize = 2048;
/// A log line longer than this is not kept whole: a structured (JSON) line is
/// skipped and counted in `oversized_lines`; a text line keeps its first
/// `MAX_LINE_BYTES`, which hold the failure marker and the test name.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Where a failure was read from, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureSource {
    /// The mozlog raw structured log (`mozlog_json`, `*_raw.log`).
    Structured,
    /// The mozlog error summary (`errorsummary_json`, `*_errorsummary.log`).
    ErrorSummary,
    /// Treeherder's `text_log_errors` for the job (lines its parser kept).
    TextLogErrors,
    /// The plain task log (`live_backing_log`, `buildbot_text`).
    TextLog,
}

/// One unexpected (or known-intermittent) test result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestFailure {
    /// The test's path or id as the harness names it.
    pub test: String,
    /// The assertion (mozlog `subtest`) when the source distinguishes it.
    pub subtest: Option<String>,
    /// The result, e.g. `FAIL`, `TIMEOUT`, `ERROR`, `CRASH`.
    pub status: String,
    /// The expected result when the source says it (text lines do not).
    pub expected: Option<String>,
    /// The harness's message about the result, when it prints one.
    pub message: Option<String>,
    /// The status is listed in the test's `known_intermittent` statuses (or
    /// the text line says `TEST-KNOWN-INTERMITTENT-…`): a failure the
    /// harness does not count against the job.
    pub known_intermittent: bool,
    /// The manifest (mozlog `group`) when the source gives it.
    pub group: Option<String>,
    /// 0-based line index in the log it was read from (for errorsummary,
    /// mozlog's own `line` field, which points into the raw log).
    pub line_number: Option<u64>,
    /// The log it was read from.
    pub source: FailureSource,
}

impl TestFailure {
    /// What kind of failure this result is: the harness's leak check is a
    /// leak, a `CRASH` status a crash, anything else a test failure.
    pub fn kind(&self) -> FailureKind {
        if self.test == "leakcheck" || self.test.ends_with(" leakcheck") {
            FailureKind::Leak
        } else if self.status == "CRASH" {
            FailureKind::Crash
        } else {
            FailureKind::TestFailure
        }
    }

    /// The key under which repeats of one failure are collapsed: the same
    /// test, assertion, status and message is one failure however often the
    /// log prints it.
    fn dedup_key(&self) -> (String, Option<String>, String, Option<String>) {
        (
            self.test.clone(),
            self.subtest.clone(),
            self.status.clone(),
            self.message.clone(),
        )
    }
}

/// A crashed process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Crash {
    /// The test running when the process crashed, when known.
    pub test: Option<String>,
    /// The top frame(s) of the crashing stack (`mozilla::foo`), without `@`.
    pub signature: Option<String>,
    /// Path of the minidump, when the log gives it.
    pub minidump: Option<String>,
    /// Why it crashed (`EXCEPTION_ACCESS_VIOLATION_READ`, …), when given.
    pub reason: Option<String>,
    /// 0-based line index in the log it was read from, when known.
    pub line_number: Option<u64>,
    /// The log it was read from.
    pub source: FailureSource,
}

/// The overall result of one test group (manifest), from an error summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupResult {
    /// The group: a manifest path.
    pub group: String,
    /// `OK`, `ERROR`, `TIMEOUT`, …
    pub status: String,
}

/// What kind of failure a log line or a whole run reports. The order is the
/// precedence used to name a run's main kind: a crash explains the test
/// failures it causes, a build error the missing tests, and a bare exit
/// status explains nothing when anything else was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// A compiler, linker or build system error.
    Build,
    /// An AddressSanitizer, ThreadSanitizer, LeakSanitizer or
    /// UndefinedBehaviorSanitizer report.
    Sanitizer,
    /// A process crashed (`PROCESS-CRASH`, a `crash` action), with its
    /// signature when the log names one.
    Crash,
    /// `Assertion failure:`, `###!!! ABORT:`, `Hit MOZ_CRASH(…)`, a fatal error.
    Assertion,
    /// The browser did not shut down in time.
    ShutdownHang,
    /// Leaked memory (`leakcheck`, `YOU ARE LEAKING THE WORLD`).
    Leak,
    /// A test with an unexpected result.
    TestFailure,
    /// The harness ran out of time (a test or the application gave no
    /// output). The worker aborting a task at its max run time is
    /// infrastructure.
    Timeout,
    /// Not the code under test: the task was aborted (max run time), a
    /// download failed, the worker was lost, or only an exit status was
    /// reported.
    Infrastructure,
    /// An error line that none of the rules recognises.
    Unknown,
}

impl FailureKind {
    /// The name shown to users and written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Build => "build",
            FailureKind::Sanitizer => "sanitizer",
            FailureKind::Crash => "crash",
            FailureKind::Assertion => "assertion",
            FailureKind::ShutdownHang => "shutdown_hang",
            FailureKind::Leak => "leak",
            FailureKind::TestFailure => "test_failure",
            FailureKind::Timeout => "timeout",
            FailureKind::Infrastructure => "infrastructure",
            FailureKind::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A log line kept because it reports a failure: its 0-based line number and
/// its text, both as Treeherder stores them in `text_log_errors` (see
/// `treeherder_errors`), and what the line says failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorLine {
    /// 0-based line index in the log.
    pub line_number: u64,
    /// The line's text.
    pub line: String,
    /// What kind of failure the line reports (`None` until classified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<FailureKind>,
    /// The test the line names, when it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    /// The assertion within the test, when the line gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtest: Option<String>,
    /// The crash signature (without `@`), for crash lines that give one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl ErrorLine {
    /// An unclassified line.
    pub fn new(line_number: u64, line: impl Into<String>) -> Self {
        ErrorLine {
            line_number,
            line: line.into(),
            ..ErrorLine::default()
        }
    }
}

/// Everything one job's log says failed: for the add-on and the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFailures {
    /// The source these were read from.
    pub source: FailureSource,
    /// Distinct failures in log order, at most [`MAX_STORED_FAILURES`].
    pub failures: Vec<TestFailure>,
    /// Distinct crashes (by test and signature), at most [`MAX_STORED_CRASHES`].
    pub crashes: Vec<Crash>,
    /// Per-group results (error summaries only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_results: Vec<GroupResult>,
    /// The failure lines as Treeherder shows them (text sources only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_lines: Vec<ErrorLine>,
    /// The line saying the whole task or command timed out, if any (text sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_timeout: Option<String>,
    /// Failures beyond [`MAX_STORED_FAILURES`], counted but not kept.
    pub failures_not_stored: u64,
    /// Crashes beyond [`MAX_STORED_CRASHES`], counted but not kept.
    pub crashes_not_stored: u64,
    /// Repeats of a stored failure or crash that were collapsed into it.
    pub duplicates: u64,
    /// Lines read (for `text_log_errors`: entries given).
    pub lines_read: u64,
    /// Lines that were not what the source promises (not JSON, not a mozlog
    /// object, a field of the wrong type), skipped.
    pub malformed_lines: u64,
    /// Structured lines longer than [`MAX_LINE_BYTES`], skipped.
    pub oversized_lines: u64,
    /// `text_log_errors` entries that name no test failure (build errors,
    /// harness messages).
    pub other_error_lines: u64,
    /// The main kind of the run's failure (the first of `kinds`), `None` when
    /// nothing failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<FailureKind>,
    /// Every kind of failure found, in [`FailureKind`] precedence order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<FailureKind>,
}

impl JobFailures {
    /// An empty result for `source`.
    pub fn empty(source: FailureSource) -> Self {
        JobFailures {
            source,
            failures: Vec::new(),
            crashes: Vec::new(),
            group_results: Vec::new(),
            error_lines: Vec::new(),
            task_timeout: None,
            failures_not_stored: 0,
            crashes_not_stored: 0,
            duplicates: 0,
            lines_read: 0,
            malformed_lines: 0,
            oversized_lines: 0,
            other_error_lines: 0,
            kind: None,
            kinds: Vec::new(),
        }
    }

    /// Fill `kinds` and `kind` from what was found: the failures, crashes,
    /// task timeout and classified error lines, plus `noted` (kinds a parser
    /// saw in lines it does not keep).
    pub(crate) fn settle_kinds(&mut self, noted: &BTreeSet<FailureKind>) {
        let mut kinds = noted.clone();
        kinds.extend(self.unexpected().map(TestFailure::kind));
        if self.failures_not_stored > 0 {
            kinds.insert(FailureKind::TestFailure);
        }
        if !self.crashes.is_empty() || self.crashes_not_stored > 0 {
            kinds.insert(FailureKind::Crash);
        }
        if self.task_timeout.is_some() {
            kinds.insert(FailureKind::Timeout);
        }
        kinds.extend(self.error_lines.iter().filter_map(|line| line.kind));
        self.kinds = kinds.into_iter().collect();
        self.kind = self.kinds.first().copied();
    }

    /// Failures the harness counts against the job (not known intermittent).
    pub fn unexpected(&self) -> impl Iterator<Item = &TestFailure> {
        self.failures.iter().filter(|f| !f.known_intermittent)
    }

    /// Distinct names of tests with an unexpected result or a crash, in log order.
    pub fn failed_tests(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        self.unexpected()
            .map(|f| f.test.as_str())
            .chain(self.crashes.iter().filter_map(|c| c.test.as_deref()))
            .filter(|t| seen.insert(*t))
            .collect()
    }

    /// Whether the log reports any unexpected failure, crash or task timeout.
    pub fn has_failures(&self) -> bool {
        self.unexpected().next().is_some()
            || !self.crashes.is_empty()
            || self.failures_not_stored > 0
            || self.crashes_not_stored > 0
            || self.task_timeout.is_some()
    }
}

/// What one run's failure looked like, to ask of another run of the same
/// job "did it fail the same way?": a crash's signatures, else its failing
/// tests, else its main kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureSignature {
    /// The run's main kind of failure.
    pub kind: FailureKind,
    /// Tests with an unexpected result or a crash (empty: not a test failure).
    pub tests: Vec<String>,
    /// Crash signatures, without `@`.
    pub crash_signatures: Vec<String>,
}

/// How another run compares with a [`FailureSignature`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SameFailure {
    /// It failed the same way: evidence of the failure we chase.
    Same,
    /// It failed, but otherwise.
    Different,
    /// Only infrastructure failed, or its logs tell nothing: no evidence
    /// either way, run it again.
    NotEvidence,
}

impl JobFailures {
    /// The signature of this run's failure, `None` when nothing failed.
    pub fn signature(&self) -> Option<FailureSignature> {
        let kind = self.kind?;
        let crash_signatures = self
            .crashes
            .iter()
            .filter_map(|c| c.signature.clone())
            .chain(self.error_lines.iter().filter_map(|l| l.signature.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        Some(FailureSignature {
            kind,
            tests: self
                .failed_tests()
                .into_iter()
                .map(str::to_string)
                .collect(),
            crash_signatures,
        })
    }
}

impl JobFailures {
    /// Every failure with its line, kind and test, as the CLI, the popup
    /// and the panel show them: the error lines of a text source; for a
    /// structured source, each unexpected result and crash.
    pub fn shown_lines(&self) -> Vec<ErrorLine> {
        if !self.error_lines.is_empty() {
            return self.error_lines.clone();
        }
        let results = self.unexpected().map(|f| ErrorLine {
            line_number: f.line_number.unwrap_or_default(),
            line: match &f.subtest {
                Some(subtest) => format!("TEST-UNEXPECTED-{} | {} | {subtest}", f.status, f.test),
                None => format!("TEST-UNEXPECTED-{} | {}", f.status, f.test),
            },
            kind: Some(f.kind()),
            test: Some(f.test.clone()),
            subtest: f.subtest.clone(),
            signature: None,
        });
        let crashes = self.crashes.iter().map(|c| ErrorLine {
            line_number: c.line_number.unwrap_or_default(),
            line: format!(
                "PROCESS-CRASH | {} | application crashed [@ {}]",
                c.test.as_deref().unwrap_or(""),
                c.signature.as_deref().unwrap_or("")
            ),
            kind: Some(FailureKind::Crash),
            test: c.test.clone(),
            subtest: None,
            signature: c.signature.clone(),
        });
        results.chain(crashes).collect()
    }
}

impl ErrorLine {
    /// `line N kind [test @ signature]: text`, the one-line form every
    /// front end shows.
    pub fn describe(&self) -> String {
        let kind = self.kind.map_or("unknown", FailureKind::as_str);
        let about = match (&self.test, &self.signature) {
            (Some(test), Some(signature)) => format!(" [{test} @ {signature}]"),
            (Some(test), None) => format!(" [{test}]"),
            (None, Some(signature)) => format!(" [@ {signature}]"),
            (None, None) => String::new(),
        };
        format!("line {} {kind}{about}: {}", self.line_number, self.line)
    }
}

impl FailureSignature {
    /// Whether `other` (another run's failures) failed the same way. A run
    /// whose only failure is infrastructure is no evidence, nor is one whose
    /// logs name no failure at all.
    pub fn compare(&self, other: &JobFailures) -> SameFailure {
        let Some(theirs) = other.signature() else {
            return SameFailure::NotEvidence;
        };
        if theirs.kind == FailureKind::Infrastructure {
            return SameFailure::NotEvidence;
        }
        let shares = |ours: &[String], theirs: &[String]| ours.iter().any(|o| theirs.contains(o));
        // A crash is told by where it crashed, whichever test was running.
        let crashed = matches!(
            self.kind,
            FailureKind::Crash | FailureKind::Sanitizer | FailureKind::Assertion
        );
        let same = if crashed && !self.crash_signatures.is_empty() {
            shares(&self.crash_signatures, &theirs.crash_signatures)
        } else if !self.tests.is_empty() {
            shares(&self.tests, &theirs.tests)
        } else {
            other.kinds.contains(&self.kind)
        };
        if same {
            SameFailure::Same
        } else {
            SameFailure::Different
        }
    }
}

/// `text` cut to [`MAX_FIELD_BYTES`] at a character boundary, `…` marking a cut.
pub(crate) fn bounded_field(text: &str) -> String {
    if text.len() <= MAX_FIELD_BYTES {
        return text.to_string();
    }
    let mut end = MAX_FIELD_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = text.get(..end).unwrap_or("").to_string();
    out.push('…');
    out
}

/// The bounded, de-duplicating store every parser fills.
#[derive(Debug)]
pub(crate) struct FailureCollector {
    result: JobFailures,
    seen_failures: HashSet<(String, Option<String>, String, Option<String>)>,
    seen_crashes: HashSet<(Option<String>, Option<String>)>,
    noted_kinds: BTreeSet<FailureKind>,
}

impl FailureCollector {
    pub(crate) fn new(source: FailureSource) -> Self {
        FailureCollector {
            result: JobFailures::empty(source),
            seen_failures: HashSet::new(),
            seen_crashes: HashSet::new(),
            noted_kinds: BTreeSet::new(),
        }
    }

    pub(crate) fn source(&self) -> FailureSource {
        self.result.source
    }

    pub(crate) fn add_failure(&mut self, failure: TestFailure) {
        if self.result.failures.len() >= MAX_STORED_FAILURES {
            // Past the cap, repeats cannot be told from new failures without
            // keeping their keys, which would unbound memory: count them all.
            self.result.failures_not_stored += 1;
            return;
        }
        if self.seen_failures.insert(failure.dedup_key()) {
            self.result.failures.push(failure);
        } else {
            self.result.duplicates += 1;
        }
    }

    pub(crate) fn add_crash(&mut self, crash: Crash) {
        if self.result.crashes.len() >= MAX_STORED_CRASHES {
            self.result.crashes_not_stored += 1;
            return;
        }
        if self
            .seen_crashes
            .insert((crash.test.clone(), crash.signature.clone()))
        {
            self.result.crashes.push(crash);
        } else {
            self.result.duplicates += 1;
        }
    }

    pub(crate) fn add_group_result(&mut self, group: GroupResult) {
        if self.result.group_results.len() < MAX_STORED_GROUP_RESULTS {
            self.result.group_results.push(group);
        }
    }

    pub(crate) fn error_line_count(&self) -> usize {
        self.result.error_lines.len()
    }

    pub(crate) fn add_error_line(&mut self, line: ErrorLine) {
        if self.result.error_lines.len() < MAX_STORED_FAILURES {
            self.result.error_lines.push(line);
        }
    }

    pub(crate) fn set_task_timeout(&mut self, line: &str) {
        if self.result.task_timeout.is_none() {
            self.result.task_timeout = Some(bounded_field(line));
        }
    }

    pub(crate) fn result_mut(&mut self) -> &mut JobFailures {
        &mut self.result
    }

    /// Record a kind of failure seen in a line that is not kept.
    pub(crate) fn note_kind(&mut self, kind: FailureKind) {
        self.noted_kinds.insert(kind);
    }

    pub(crate) fn finish(mut self) -> JobFailures {
        self.result.settle_kinds(&self.noted_kinds);
        self.result
    }
}

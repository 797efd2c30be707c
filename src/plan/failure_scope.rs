//! Which failures count when a backfill asks "did it fail the same way?":
//! the selected run's failure signature (its failing tests, crash signature
//! or error kind), any failure of the job (judged by result alone), or one
//! test. Pure: the engine reads the failed runs' logs and asks
//! [`FailureScope::reading`] what each one says.

#![warn(missing_docs)]

use crate::model::RunReading;
use crate::sources::test_failures::{FailureKind, FailureSignature, JobFailures, SameFailure};
use serde::{Deserialize, Serialize};

/// What a run must show to count as a failure of interest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum FailureScope {
    /// Any failed result of the job (the logs are not read). The default of
    /// state written before signatures existed.
    #[default]
    AnyFailure,
    /// The selected run's failure signature.
    Signature {
        /// What the selected run's logs said failed.
        signature: FailureSignature,
    },
    /// This test failed (its path, or the end of its path).
    Test {
        /// The test's path, or its end.
        test: String,
    },
}

impl FailureScope {
    /// The scope for a backfill: `test` when the user narrowed it, any
    /// failure when they widened it, else the selected run's signature
    /// (any failure when its logs named none, or only infrastructure).
    pub fn choose(
        any_failure: bool,
        test: Option<&str>,
        selected: Option<&JobFailures>,
    ) -> FailureScope {
        if let Some(test) = test.map(str::trim).filter(|t| !t.is_empty()) {
            return FailureScope::Test {
                test: test.to_string(),
            };
        }
        if any_failure {
            return FailureScope::AnyFailure;
        }
        match selected.and_then(JobFailures::signature) {
            Some(signature) if signature.kind != FailureKind::Infrastructure => {
                FailureScope::Signature { signature }
            }
            _ => FailureScope::AnyFailure,
        }
    }

    /// Whether failed runs' logs must be read to judge them.
    pub fn reads_logs(&self) -> bool {
        !matches!(self, FailureScope::AnyFailure)
    }

    /// What one failed run's logs say under this scope. `busted`: the run
    /// broke (it may have stopped before the test could tell).
    pub fn reading(&self, failures: &JobFailures, busted: bool) -> RunReading {
        let infrastructure_only = failures.kind == Some(FailureKind::Infrastructure);
        match self {
            FailureScope::AnyFailure => {
                if infrastructure_only {
                    RunReading::NotEvidence
                } else {
                    RunReading::SameFailure
                }
            }
            FailureScope::Signature { signature } => match signature.compare(failures) {
                SameFailure::Same => RunReading::SameFailure,
                SameFailure::Different => RunReading::OtherFailure,
                SameFailure::NotEvidence => RunReading::NotEvidence,
            },
            FailureScope::Test { test } => {
                let names_it = |name: &str| {
                    name == test || name.ends_with(&format!("/{}", test.trim_start_matches('/')))
                };
                if failures.failed_tests().iter().any(|name| names_it(name)) {
                    RunReading::SameFailure
                } else if busted || infrastructure_only || failures.kind.is_none() {
                    RunReading::NotEvidence
                } else {
                    RunReading::OtherFailure
                }
            }
        }
    }

    /// Whether the repeats of `test` (a confirm task re-runs one failing
    /// test) are evidence under this scope: the scope's test, a test of
    /// the signature, or any test when any failure counts.
    pub fn confirms_test(&self, test: &str) -> bool {
        let same = |a: &str, b: &str| {
            let (a, b) = (a.trim_start_matches('/'), b.trim_start_matches('/'));
            a == b || a.ends_with(&format!("/{b}")) || b.ends_with(&format!("/{a}"))
        };
        match self {
            FailureScope::AnyFailure => true,
            FailureScope::Test { test: wanted } => same(test, wanted),
            FailureScope::Signature { signature } => signature.tests.iter().any(|t| same(test, t)),
        }
    }

    /// What counts, in the words the plan, the CLI and the panel use.
    pub fn describe(&self) -> String {
        match self {
            FailureScope::AnyFailure => "any failure of this job counts".to_string(),
            FailureScope::Test { test } => format!("a run counts as failed only when {test} fails"),
            FailureScope::Signature { signature } => {
                let kind = signature.kind.as_str().replace('_', " ");
                let what = if !signature.crash_signatures.is_empty()
                    && matches!(
                        signature.kind,
                        FailureKind::Crash | FailureKind::Sanitizer | FailureKind::Assertion
                    ) {
                    format!("{kind} [@ {}]", signature.crash_signatures.join(", "))
                } else if !signature.tests.is_empty() {
                    format!("{kind} in {}", list(&signature.tests))
                } else {
                    kind
                };
                format!("a run counts as failed only when it fails like the selected job: {what}")
            }
        }
    }
}

/// The note every backfill plan carries: how failures are judged and what
/// happens to infrastructure failures.
pub fn judging_note(scope: &FailureScope, rerun_budget: u32) -> String {
    let infrastructure = if scope.reads_logs() {
        "runs whose logs show only infrastructure trouble (max run time, a download failure, a bare exit status) or an exception"
    } else {
        "runs ending in an exception or retry"
    };
    format!(
        "{}; {infrastructure} are no evidence against a push and are re-run, at most {rerun_budget} extra run(s) per push",
        scope.describe()
    )
}

fn list(tests: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut text = tests
        .iter()
        .take(SHOWN)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if tests.len() > SHOWN {
        text.push_str(&format!(" and {} more", tests.len() - SHOWN));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_failures::log_failures;

    fn read(log: &str) -> JobFailures {
        log_failures(log.as_bytes()).expect("a plain log reads")
    }

    #[test]
    fn the_selected_runs_signature_is_the_default_scope() {
        let selected = read("TEST-UNEXPECTED-FAIL | dom/a.html | boom\n");
        let scope = FailureScope::choose(false, None, Some(&selected));
        assert!(matches!(scope, FailureScope::Signature { .. }), "{scope:?}");
        assert_eq!(
            scope.reading(&read("TEST-UNEXPECTED-FAIL | dom/a.html | again\n"), false),
            RunReading::SameFailure
        );
        assert_eq!(
            scope.reading(&read("TEST-UNEXPECTED-FAIL | dom/b.html | boom\n"), false),
            RunReading::OtherFailure
        );
        let worker_lost = read("Automation Error: the worker was lost mid-task\n");
        assert_eq!(scope.reading(&worker_lost, false), RunReading::NotEvidence);
        assert!(scope.describe().contains("test failure in dom/a.html"));
        let note = judging_note(&scope, 2);
        assert!(note.contains("max run time") && note.contains("at most 2 extra run(s) per push"));
    }

    #[test]
    fn the_user_widens_or_narrows_the_scope() {
        let selected = read("TEST-UNEXPECTED-FAIL | dom/a.html | boom\n");
        let any = FailureScope::choose(true, None, Some(&selected));
        assert_eq!(any, FailureScope::AnyFailure);
        assert!(!any.reads_logs());
        assert_eq!(
            any.reading(&read("TEST-UNEXPECTED-FAIL | dom/b.html | boom\n"), false),
            RunReading::SameFailure
        );
        let one = FailureScope::choose(true, Some(" a.html "), Some(&selected));
        assert_eq!(
            one,
            FailureScope::Test {
                test: "a.html".into()
            }
        );
        assert_eq!(
            one.reading(&selected, false),
            RunReading::SameFailure,
            "the end of the path names the test"
        );
        let crash = read("PROCESS-CRASH | dom/b.html | application crashed [@ f()]\n");
        assert_eq!(one.reading(&crash, false), RunReading::OtherFailure);
        assert_eq!(
            one.reading(&read("Return code: 1\n"), true),
            RunReading::NotEvidence
        );
    }

    #[test]
    fn a_selected_run_without_a_readable_failure_counts_any_failure() {
        let infra = read("Automation Error: the worker was lost mid-task\n");
        assert_eq!(
            FailureScope::choose(false, None, Some(&infra)),
            FailureScope::AnyFailure
        );
        assert_eq!(
            FailureScope::choose(false, None, None),
            FailureScope::AnyFailure
        );
        let crash = read("PROCESS-CRASH | dom/b.html | application crashed [@ mozilla::Foo]\n");
        let scope = FailureScope::choose(false, None, Some(&crash));
        assert!(
            scope.describe().ends_with("crash [@ mozilla::Foo]"),
            "{}",
            scope.describe()
        );
    }
}

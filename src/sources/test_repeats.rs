//! The repeated runs of each test in a confirm task's error summary: with
//! `MOZLOG_DUMP_ALL_TESTS=1` (what gecko_taskgraph's confirm_failure.py
//! sets on its `-cf` tasks) the errorsummary lists every `test_result`,
//! passing ones too, one per repeat of the test. Pure: bytes in, counts out.

#![warn(missing_docs)]

use serde::{Deserialize, Serialize};

/// How one test fared over its repeats in one task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestRepeats {
    /// The test's name as the errorsummary's `test` field gives it.
    pub test: String,
    /// Results read for the test (one per repeat).
    pub runs: u32,
    /// Results that were not the expected one (nor a known intermittent status).
    pub failures: u32,
}

#[derive(Deserialize)]
struct ResultLine {
    action: String,
    #[serde(default)]
    test: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    expected: Option<String>,
    #[serde(default)]
    known_intermittent: Vec<String>,
}

/// Most distinct tests kept from one summary (a confirm task runs one; the
/// cap bounds what a hostile log can make us hold).
const MAX_TESTS: usize = 64;

/// Each test's repeats in an errorsummary, in order of first appearance.
/// Lines that are not JSON `test_result` objects are skipped; a `SKIP`
/// is no run.
pub fn test_repeats(errorsummary: &[u8]) -> Vec<TestRepeats> {
    let mut out: Vec<TestRepeats> = Vec::new();
    for line in errorsummary.split(|b| *b == b'\n') {
        let Ok(result) = serde_json::from_slice::<ResultLine>(line) else {
            continue;
        };
        let (Some(test), Some(status)) = (result.test, result.status) else {
            continue;
        };
        if result.action != "test_result" || status == "SKIP" {
            continue;
        }
        // mozlog: `expected` is left out when it equals the status.
        let expected = result.expected.unwrap_or_else(|| status.clone());
        let failed = status != expected && !result.known_intermittent.contains(&status);
        let at = match out.iter().position(|t| t.test == test) {
            Some(at) => at,
            None if out.len() < MAX_TESTS => {
                out.push(TestRepeats {
                    test,
                    ..TestRepeats::default()
                });
                out.len() - 1
            }
            None => continue,
        };
        out[at].runs = out[at].runs.saturating_add(1);
        out[at].failures = out[at].failures.saturating_add(u32::from(failed));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_repeat_counts_once_and_only_unexpected_results_fail() {
        let log = br#"{"action": "test_groups", "groups": ["a/mochitest.ini"], "line": 0}
{"action": "test_result", "test": "a/t.html", "status": "FAIL", "expected": "PASS", "line": 1}
{"action": "test_result", "test": "a/t.html", "status": "PASS", "expected": "PASS", "line": 2}
{"action": "test_result", "test": "a/t.html", "status": "PASS", "line": 3}
{"action": "test_result", "test": "a/t.html", "status": "TIMEOUT", "expected": "PASS", "known_intermittent": ["TIMEOUT"], "line": 4}
{"action": "test_result", "test": "a/t.html", "status": "SKIP", "expected": "PASS", "line": 5}
not json
{"action": "test_result", "test": "b/u.js", "status": "CRASH", "expected": "OK", "line": 6}
{"action": "group_result", "group": "a/mochitest.ini", "status": "ERROR"}
"#;
        assert_eq!(
            test_repeats(log),
            vec![
                TestRepeats {
                    test: "a/t.html".into(),
                    runs: 4,
                    failures: 1
                },
                TestRepeats {
                    test: "b/u.js".into(),
                    runs: 1,
                    failures: 1
                },
            ]
        );
        assert!(test_repeats(b"").is_empty());
    }
}

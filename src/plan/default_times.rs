//! The default times count of a backfill, from how often the job failed on
//! the pushes where it failed at all: enough runs per push that a push
//! carrying the failure shows it at least once, at 95% confidence.

#![warn(missing_docs)]

use super::failure_rate::{runs_needed, FailureRate};
use crate::model::PushHistory;
use serde::{Deserialize, Serialize};

/// Confidence that a push with the failure shows it in `times` runs.
pub const CONFIDENCE: f64 = 0.95;
/// Without any failed run to learn from: mozci's customary 5, which is
/// `runs_needed(0.5, 0.95)` (a failure seen every other run).
pub const WITHOUT_FAILURES: u32 = 5;

/// A suggested times count and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimesSuggestion {
    /// Runs to ask for on each push.
    pub times: u32,
    /// Finished runs (passed or failed) on the pushes where the job failed.
    pub runs: u32,
    /// Of which failed.
    pub failures: u32,
    /// Posterior mean of the failure rate there (Jeffreys' prior).
    pub rate: Option<f64>,
    /// Its 90% credible interval.
    pub interval: Option<(f64, f64)>,
    /// One sentence a person can check.
    pub reason: String,
}

/// The times count for a backfill of the job whose runs are `histories`,
/// between 1 and `max_times`. The rate is estimated where the job failed
/// (pushes without a failure may predate the culprit and would dilute it).
pub fn suggest_times(histories: &[PushHistory], max_times: u32) -> TimesSuggestion {
    let (failures, runs) = histories
        .iter()
        .map(PushHistory::counts)
        .filter(|c| c.failed > 0)
        .fold((0u32, 0u32), |(f, n), c| {
            (f + c.failed, n + c.failed + c.succeeded)
        });
    let max_times = max_times.max(1);
    if failures == 0 {
        return TimesSuggestion {
            times: WITHOUT_FAILURES.min(max_times),
            runs: 0,
            failures: 0,
            rate: None,
            interval: None,
            reason: format!(
                "no failed run to learn the failure rate from: mozci's customary {WITHOUT_FAILURES}"
            ),
        };
    }
    let estimate = FailureRate::from_runs(failures, runs - failures);
    let rate = estimate.mean();
    let interval = estimate.credible_interval(0.9).ok();
    // The mean of a Jeffreys posterior is strictly inside (0, 1).
    let needed = runs_needed(rate, CONFIDENCE).unwrap_or(WITHOUT_FAILURES);
    let times = needed.clamp(1, max_times);
    let interval_text = interval
        .map(|(lo, hi)| format!(", 90% interval {lo:.2}–{hi:.2}"))
        .unwrap_or_default();
    let capped = if needed > max_times {
        format!(" (needs {needed}, capped at {max_times})")
    } else {
        String::new()
    };
    TimesSuggestion {
        times,
        runs,
        failures,
        rate: Some(rate),
        interval,
        reason: format!(
            "the job failed {failures} of {runs} run(s) on the pushes where it failed \
             (rate ≈ {rate:.2}{interval_text}): {times} run(s) per push show such a failure \
             at least once with {:.0}% confidence{capped}",
            CONFIDENCE * 100.0
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::JobState;
    use crate::plan::test_support::{history, FAIL, OK};

    #[test]
    fn one_failed_run_suggests_three() {
        let histories = vec![history(3, &[FAIL]), history(2, &[OK])];
        let s = suggest_times(&histories, 10);
        // Jeffreys: (1 + 1/2) / (1 + 1) = 0.75; 0.25^3 <= 0.05 < 0.25^2.
        assert_eq!((s.failures, s.runs, s.times), (1, 1, 3), "{}", s.reason);
        assert!((s.rate.unwrap() - 0.75).abs() < 1e-12);
        assert!(s.reason.contains("1 of 1 run(s)"), "{}", s.reason);
    }

    #[test]
    fn rarer_failures_need_more_runs_up_to_the_cap() {
        // 2 failures in 8 runs where it failed: rate 2.5/9 ≈ 0.28 → 10 runs.
        let mut jobs = vec![FAIL, FAIL];
        jobs.extend([OK; 6]);
        let histories = vec![history(5, &jobs)];
        let s = suggest_times(&histories, 20);
        assert_eq!(s.times, 10, "{}", s.reason);
        let capped = suggest_times(&histories, 6);
        assert_eq!(capped.times, 6);
        assert!(
            capped.reason.contains("needs 10, capped at 6"),
            "{}",
            capped.reason
        );
        let (lo, hi) = s.interval.unwrap();
        assert!(lo < s.rate.unwrap() && s.rate.unwrap() < hi);
    }

    #[test]
    fn a_job_failing_every_run_needs_few_and_none_falls_back_to_five() {
        let histories: Vec<_> = (1..=4).map(|id| history(id, &[FAIL])).collect();
        // 4.5 / 5 = 0.9: 0.1^2 <= 0.05.
        assert_eq!(suggest_times(&histories, 10).times, 2);
        let passing = vec![history(1, &[OK, JobState::Pending])];
        let s = suggest_times(&passing, 10);
        assert_eq!((s.times, s.rate), (WITHOUT_FAILURES, None));
        assert_eq!(suggest_times(&passing, 3).times, 3);
    }
}

//! Which part of a job's history to leave out when estimating its flake
//! rate: stretches of consecutive pushes on which every run failed, too
//! long to be flakes at the rate the rest of the history shows. In Mozilla's
//! CI such a stretch is a regression that was later backed out or fixed;
//! counted as flakes, it would make the job look flakier than it is, and a
//! culprit search would then take a real regression for intermittent noise.

#![warn(missing_docs)]

/// Leave a streak out only when flakes would produce one that long less
/// often than this, over the whole history.
const SIGNIFICANCE: f64 = 0.01;

/// One-sided 99% normal quantile for the upper bound of the flake rate:
/// the rate is overestimated rather than under, so that a flaky job's own
/// chance streaks are kept.
const Z_UPPER: f64 = 2.326;

/// Streaks shorter than this are never left out, whatever the rate.
const MIN_STREAK_RUNS: u32 = 3;

/// Consecutive pushes (indices into the history, oldest first, both ends
/// included) on which every run failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streak {
    /// Its oldest push.
    pub first: usize,
    /// Its newest push.
    pub last: usize,
    /// Pushes of the streak that had runs.
    pub pushes: u32,
    /// Runs on them, all failed.
    pub runs: u32,
}

/// Runs and failures of the job on one push of its history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushCount {
    /// Finished runs.
    pub runs: u32,
    /// Of which failed.
    pub failures: u32,
}

/// Every maximal streak of pushes whose runs all failed; pushes without
/// a run (the job was not scheduled there) neither break nor extend one.
fn all_failed_streaks(history: &[PushCount]) -> Vec<Streak> {
    let mut streaks = Vec::new();
    let mut open: Option<Streak> = None;
    for (index, push) in history.iter().enumerate() {
        if push.runs == 0 {
            continue;
        }
        if push.failures >= push.runs {
            let streak = open.get_or_insert(Streak {
                first: index,
                last: index,
                pushes: 0,
                runs: 0,
            });
            streak.last = index;
            streak.pushes += 1;
            streak.runs += push.runs;
        } else if let Some(done) = open.take() {
            streaks.push(done);
        }
    }
    streaks.extend(open);
    streaks
}

/// Wilson score upper bound of a binomial rate.
fn upper_rate(failures: u32, runs: u32) -> f64 {
    let n = f64::from(runs);
    let p = f64::from(failures) / n;
    let z2 = Z_UPPER * Z_UPPER;
    let centre = p + z2 / (2.0 * n);
    let spread = Z_UPPER * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre + spread) / (1.0 + z2 / n)).min(1.0)
}

/// The streaks of `history` (oldest push first) to leave out of the flake
/// rate: all runs failed on them, and flakes at even a generous estimate
/// of the rate elsewhere would make a streak that long somewhere in the
/// history less than 1% of the time. Nothing is left out when no run
/// passed outside the streaks: then a broken stretch cannot be told from
/// a job that always fails.
pub fn broken_streaks(history: &[PushCount]) -> Vec<Streak> {
    let candidates: Vec<Streak> = all_failed_streaks(history)
        .into_iter()
        .filter(|s| s.runs >= MIN_STREAK_RUNS)
        .collect();
    let total_runs: u32 = history.iter().map(|p| p.runs).sum();
    let total_failures: u32 = history.iter().map(|p| p.failures.min(p.runs)).sum();
    let candidate_runs: u32 = candidates.iter().map(|s| s.runs).sum();
    // The rate outside every candidate: what flakes alone look like.
    let rest_runs = total_runs - candidate_runs;
    let rest_failures = total_failures - candidate_runs;
    if rest_runs == 0 || rest_failures >= rest_runs {
        return Vec::new();
    }
    let flake_upper = upper_rate(rest_failures, rest_runs);
    candidates
        .into_iter()
        .filter(|s| {
            // Expected number of all-failing streaks of at least s.runs runs
            // among total_runs flaky runs is at most total_runs · f^runs.
            f64::from(total_runs) * flake_upper.powf(f64::from(s.runs)) < SIGNIFICANCE
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One run per push: `pattern` has 'F' for a failed run, '.' for a
    /// passed one and ' ' for a push without a run.
    fn history(pattern: &str) -> Vec<PushCount> {
        pattern
            .chars()
            .map(|c| match c {
                'F' => PushCount {
                    runs: 1,
                    failures: 1,
                },
                '.' => PushCount {
                    runs: 1,
                    failures: 0,
                },
                _ => PushCount::default(),
            })
            .collect()
    }

    #[test]
    fn a_stable_job_broken_for_a_while_has_that_stretch_left_out() {
        // 2 flakes in 80 passing pushes, then 8 pushes that all failed.
        let mut pattern = ".".repeat(40);
        pattern.push_str("..F.....");
        pattern.push_str("FFFFFFFF");
        pattern.push_str(&".".repeat(30));
        pattern.push_str("F.");
        let streaks = broken_streaks(&history(&pattern));
        assert_eq!(
            streaks,
            vec![Streak {
                first: 48,
                last: 55,
                pushes: 8,
                runs: 8
            }]
        );
    }

    #[test]
    fn a_flaky_jobs_chance_streaks_are_kept() {
        // Fails about 2 runs in 5 with streaks of 3 and 4: flakes at that
        // rate make such streaks all the time.
        let pattern = "F.F..FFF.F..F.FFFF..F.F...F.F.FF..F..FF.F..F.F..FFF..F.";
        assert!(broken_streaks(&history(pattern)).is_empty());
    }

    #[test]
    fn short_streaks_are_kept_even_in_a_stable_job() {
        let mut pattern = ".".repeat(100);
        pattern.push_str("FF");
        pattern.push_str(&".".repeat(100));
        assert!(broken_streaks(&history(&pattern)).is_empty());
    }

    #[test]
    fn pushes_without_runs_neither_break_nor_extend_a_streak() {
        let mut pattern = ".".repeat(60);
        pattern.push_str("FF  FF FF");
        pattern.push_str("  ");
        pattern.push_str(&".".repeat(60));
        let streaks = broken_streaks(&history(&pattern));
        assert_eq!(
            streaks,
            vec![Streak {
                first: 60,
                last: 68,
                pushes: 6,
                runs: 6
            }]
        );
    }

    #[test]
    fn several_runs_on_a_push_count_toward_the_streak() {
        // Three pushes, each with 3 failed runs (retriggers), in a stable job.
        let mut h = history(&".".repeat(50));
        h.extend(
            [PushCount {
                runs: 3,
                failures: 3,
            }; 3],
        );
        h.extend(history(&".".repeat(50)));
        // One of three runs passing on a push ends the streak.
        h.push(PushCount {
            runs: 3,
            failures: 2,
        });
        let streaks = broken_streaks(&h);
        assert_eq!(streaks.len(), 1, "{streaks:?}");
        assert_eq!((streaks[0].pushes, streaks[0].runs), (3, 9));
        assert_eq!((streaks[0].first, streaks[0].last), (50, 52));
    }

    #[test]
    fn two_broken_stretches_are_both_left_out() {
        let mut pattern = ".".repeat(30);
        pattern.push_str("FFFFFF");
        pattern.push_str(&".".repeat(30));
        pattern.push_str("FFFFFFF");
        pattern.push_str(&".".repeat(30));
        let streaks = broken_streaks(&history(&pattern));
        assert_eq!(
            streaks.iter().map(|s| s.pushes).collect::<Vec<_>>(),
            vec![6, 7]
        );
    }

    #[test]
    fn nothing_is_left_out_when_no_run_passed() {
        assert!(broken_streaks(&history(&"F".repeat(20))).is_empty());
        assert!(broken_streaks(&history("")).is_empty());
        assert!(broken_streaks(&history("    ")).is_empty());
    }

    #[test]
    fn the_upper_rate_bounds_the_observed_rate_from_above() {
        for (failures, runs) in [(0, 10), (3, 10), (10, 10), (40, 100)] {
            let upper = upper_rate(failures, runs);
            let observed = f64::from(failures) / f64::from(runs);
            assert!(
                upper >= observed && upper <= 1.0,
                "{failures}/{runs}: {upper}"
            );
        }
        // 0 of 100: about z²/n.
        assert!((upper_rate(0, 100) - 0.0513).abs() < 0.002);
    }
}

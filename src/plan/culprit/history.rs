//! What the job's runs before a culprit search's range say about its flake
//! rate: read once when the search starts, they set the search's prior.

use crate::error::Result;
use crate::plan::broken_streaks::{broken_streaks, PushCount};
use crate::plan::culprit::RateModel;
use crate::plan::failure_rate::PushRuns;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// The job's finished runs on pushes before a search's range (and before
/// its older pushes), read once when the search starts. They tell the flake
/// rate before the search makes a single run, and not knowing it is what
/// costs a search most runs (see the culprit benchmark). They are not the
/// search's own runs: they update its prior and do not count in its budget.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlakeHistory {
    /// Pushes read.
    pub pushes: u32,
    /// Every finished run read, and the failed ones among them.
    pub runs: u32,
    /// Of which failed the way the search counts.
    pub failures: u32,
    /// Stretches of consecutive pushes on which every run failed, too long
    /// to be flakes (see `plan::broken_streaks`): the job was broken there.
    /// Their runs are left out of the flake rate.
    #[serde(default)]
    pub left_out: Vec<BrokenStretch>,
}

/// A stretch of the history where the job failed on every push: most
/// likely a regression that was backed out or fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokenStretch {
    /// Pushes with runs in the stretch, and their runs (all failed).
    pub pushes: u32,
    /// Runs in it, all failed.
    pub runs: u32,
    /// Its oldest push's revision.
    pub oldest_revision: String,
    /// Its newest push's revision.
    pub newest_revision: String,
}

impl FlakeHistory {
    /// Sums the runs of `per_push` (one entry per push read, any order)
    /// and finds the stretches where the job was broken.
    pub fn from_runs(per_push: &[PushRuns]) -> Self {
        let mut oldest_first: Vec<&PushRuns> = per_push.iter().collect();
        oldest_first.sort_by_key(|p| p.push_id);
        let counts: Vec<PushCount> = oldest_first
            .iter()
            .map(|p| PushCount {
                runs: p.runs,
                failures: p.failures,
            })
            .collect();
        let revision = |index: usize| {
            oldest_first
                .get(index)
                .map(|p| p.revision.clone())
                .unwrap_or_default()
        };
        let left_out = broken_streaks(&counts)
            .into_iter()
            .map(|streak| BrokenStretch {
                pushes: streak.pushes,
                runs: streak.runs,
                oldest_revision: revision(streak.first),
                newest_revision: revision(streak.last),
            })
            .collect();
        FlakeHistory {
            pushes: per_push.len() as u32,
            runs: per_push.iter().map(|p| p.runs).sum(),
            failures: per_push.iter().map(|p| p.failures).sum(),
            left_out,
        }
    }

    /// (failures, runs) that estimate the flake rate: every run read but
    /// those of the broken stretches.
    pub fn counted(&self) -> (u32, u32) {
        let left_out: u32 = self.left_out.iter().map(|s| s.runs).sum();
        (
            self.failures.saturating_sub(left_out),
            self.runs.saturating_sub(left_out),
        )
    }

    /// The search's rate model: the default prior with its flake rate
    /// updated by the counted runs.
    pub fn rate_model(&self) -> Result<RateModel> {
        let (failures, runs) = self.counted();
        RateModel::with_flake_history(failures, runs)
    }

    /// One line for the plan and the CLI.
    pub fn describe(&self) -> String {
        let (failures, runs) = self.counted();
        let mut text = if runs == 0 {
            format!(
                "No finished run of the job on the {} push(es) before the range: \
                 the flake rate is learnt from the search's own runs.",
                self.pushes
            )
        } else {
            format!(
                "Flake rate first estimated from the job's history: {failures} of {runs} run(s) \
                 failed on the {} push(es) before the range (not counted in the budget).",
                self.pushes
            )
        };
        for stretch in &self.left_out {
            let _ = write!(
                text,
                " Left out: all {} run(s) failed on the {} push(es) {}..{}, too many in a row \
                 for flakes: the job was likely broken there, then fixed.",
                stretch.runs, stretch.pushes, stretch.oldest_revision, stretch.newest_revision
            );
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flake_history_sums_its_pushes_and_moves_the_prior() {
        let runs = |push_id, runs, failures| PushRuns {
            push_id,
            revision: format!("{push_id:012}"),
            runs,
            failures,
        };
        let history = FlakeHistory::from_runs(&[runs(1, 2, 1), runs(2, 0, 0), runs(3, 1, 0)]);
        assert_eq!(
            history,
            FlakeHistory {
                pushes: 3,
                runs: 3,
                failures: 1,
                left_out: Vec::new(),
            }
        );
        assert!(
            history
                .describe()
                .contains("1 of 3 run(s) failed on the 3 push(es)"),
            "{}",
            history.describe()
        );
        assert_eq!(
            history.rate_model().unwrap(),
            RateModel::with_flake_history(1, 3).unwrap()
        );
        let empty = FlakeHistory::from_runs(&[runs(1, 0, 0)]);
        assert!(
            empty.describe().starts_with("No finished run"),
            "{}",
            empty.describe()
        );
        assert_eq!(empty.rate_model().unwrap(), RateModel::default_grid());
    }

    #[test]
    fn a_broken_stretch_of_the_history_is_left_out_of_the_flake_rate() {
        // 60 pushes, listed newest first as Treeherder gives them: one
        // flake, and pushes 31..=36 where every run failed (a regression,
        // then its backout).
        let per_push: Vec<PushRuns> = (1..=60u64)
            .rev()
            .map(|push_id| PushRuns {
                push_id,
                revision: format!("{push_id:012}"),
                runs: 1,
                failures: u32::from((31..=36).contains(&push_id) || push_id == 10),
            })
            .collect();
        let history = FlakeHistory::from_runs(&per_push);
        assert_eq!((history.runs, history.failures), (60, 7), "every run read");
        assert_eq!(
            history.left_out,
            vec![BrokenStretch {
                pushes: 6,
                runs: 6,
                oldest_revision: "000000000031".into(),
                newest_revision: "000000000036".into(),
            }]
        );
        assert_eq!(history.counted(), (1, 54));
        assert_eq!(
            history.rate_model().unwrap(),
            RateModel::with_flake_history(1, 54).unwrap()
        );
        let text = history.describe();
        assert!(
            text.contains("1 of 54 run(s) failed on the 60 push(es)"),
            "{text}"
        );
        assert!(
            text.contains(
                "Left out: all 6 run(s) failed on the 6 push(es) 000000000031..000000000036"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_history_stored_before_broken_stretches_still_loads() {
        let stored = r#"{"pushes":100,"runs":90,"failures":4}"#;
        let history: FlakeHistory = serde_json::from_str(stored).unwrap();
        assert!(history.left_out.is_empty());
        assert_eq!(history.counted(), (4, 90));
    }
}

//! The pushes of one culprit search and the search's numbering of them,
//! and what a step's decision means on them: the pushes its runs go to and
//! the account of its answer.

use crate::error::{Error, Result};
use crate::model::{JobType, Push, Revision};
use crate::plan::culprit::{Answer, Hypothesis, Outcome};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The pushes of one search and the search's numbering of them: suspects
/// are 1 (oldest) ..= n (where the failure was seen); older pushes, used
/// to learn the flake rate, are 0 (the one just before the range), -1, …
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CulpritRange {
    /// The repository's short name.
    pub repo: String,
    /// The job type searched.
    pub job_type: JobType,
    /// Oldest first: `suspects[i]` is push `i + 1`.
    suspects: Vec<Push>,
    /// Newest first: `older[k]` is push `-k`.
    older: Vec<Push>,
}

impl CulpritRange {
    /// From pushes given newest first (as Treeherder lists them): the first
    /// `suspects` are the suspects, the rest are older pushes.
    pub fn from_newest_first(
        repo: &str,
        job_type: &JobType,
        pushes: Vec<Push>,
        suspects: u32,
    ) -> Result<Self> {
        let n = suspects as usize;
        if n == 0 {
            return Err(Error::Invalid(
                "a culprit search needs at least 1 suspect push".into(),
            ));
        }
        if pushes.len() < n {
            return Err(Error::Invalid(format!(
                "{suspects} suspect pushes asked for, but {repo} has only {} up to that revision",
                pushes.len()
            )));
        }
        let mut pushes = pushes;
        let older = pushes.split_off(n);
        pushes.reverse();
        Ok(CulpritRange {
            repo: repo.to_string(),
            job_type: job_type.clone(),
            suspects: pushes,
            older,
        })
    }

    /// The oldest push read with the range: the oldest older push, or the
    /// oldest suspect when there is none.
    pub fn oldest_push(&self) -> Option<&Push> {
        self.older.last().or_else(|| self.suspects.first())
    }

    /// The number of suspects, `n`.
    pub fn n(&self) -> u32 {
        self.suspects.len() as u32
    }

    /// The push the search calls `index`.
    pub fn push_at(&self, index: i64) -> Option<&Push> {
        if index >= 1 {
            self.suspects.get(usize::try_from(index - 1).ok()?)
        } else {
            self.older.get(usize::try_from(index.checked_neg()?).ok()?)
        }
    }

    /// The search's index of the push with Treeherder id `push_id`.
    pub fn index_of(&self, push_id: u64) -> Option<i64> {
        if let Some(i) = self.suspects.iter().position(|p| p.id == push_id) {
            return Some(i as i64 + 1);
        }
        self.older
            .iter()
            .position(|p| p.id == push_id)
            .map(|k| -(k as i64))
    }

    /// Every push of the range, newest first.
    pub fn pushes_newest_first(&self) -> Vec<Push> {
        self.suspects
            .iter()
            .rev()
            .chain(self.older.iter())
            .cloned()
            .collect()
    }
}

impl CulpritRange {
    /// Pushes for the requested runs (`request`: runs by search index);
    /// "an older push" is the one just before the range. Fails when the
    /// search needs an older push and there is none.
    pub fn planned_runs(&self, request: &BTreeMap<i64, u32>) -> Result<Vec<PlannedRuns>> {
        request
            .iter()
            .filter(|(_, runs)| **runs > 0)
            .map(|(&index, &runs)| {
                let push = self.push_at(index).ok_or_else(|| {
                    Error::Invalid(format!(
                        "the search wants runs on push {index}, which the range does not have \
                         (older pushes are needed to learn the flake rate)"
                    ))
                })?;
                Ok(PlannedRuns {
                    index,
                    push_id: push.id,
                    revision: push.revision.clone(),
                    runs,
                })
            })
            .collect()
    }

    /// The answer's account: its verdict, then one line per push with the
    /// push's revision, runs, failures and posterior.
    pub fn explain(&self, answer: &Answer, in_flight: u32) -> String {
        let full = answer.explanation();
        let mut text = full.lines().next().unwrap_or_default().to_string();
        if let Hypothesis::Culprit(index) = answer.hypothesis {
            if let Some(push) = self.push_at(i64::from(index)) {
                let label = match answer.outcome {
                    Outcome::Decided => "Culprit",
                    Outcome::Undecided => "Best guess (undecided)",
                    Outcome::Searching => "Most probable so far",
                };
                let _ = write!(
                    text,
                    "\n{label}: push {index} = {} (Treeherder push {}) by {}",
                    push.revision, push.id, push.author
                );
            }
        }
        if in_flight > 0 {
            let _ = write!(text, "\n{in_flight} run(s) still on their way.");
        }
        for summary in answer.pushes.iter().rev() {
            let name = match self.push_at(summary.push) {
                Some(push) if summary.push >= 1 => {
                    format!("push {:>3} {}", summary.push, push.revision.short())
                }
                _ => format!("older pushes ({} examined)", self.older.len()),
            };
            let _ = write!(
                text,
                "\n  {name}: {} failed of {} run(s), P(culprit) = {:.3}",
                summary.failures, summary.runs, summary.posterior
            );
            if summary.push == i64::from(self.n()) {
                text.push_str(SEEN_FAILURE_NOT_COUNTED);
            }
        }
        text
    }
}

/// Said of push n wherever its runs are counted: the failure that started
/// the search is not evidence (see `ObservedRuns::without_the_failure_seen`).
pub const SEEN_FAILURE_NOT_COUNTED: &str = " (the failure that started the search is not counted)";

/// New runs asked for on one push in a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRuns {
    /// The search's index of the push.
    pub index: i64,
    /// Its pushlog id.
    pub push_id: u64,
    /// Its revision.
    pub revision: Revision,
    /// Runs (or confirm tasks) asked for there.
    pub runs: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_support::{job_type, newest_first, push};

    #[test]
    fn indices_map_to_pushes_both_ways() {
        let range =
            CulpritRange::from_newest_first("autoland", &job_type(), newest_first(), 4).unwrap();
        assert_eq!(range.n(), 4);
        let ids = |indices: &[i64]| -> Vec<Option<u64>> {
            indices
                .iter()
                .map(|&i| range.push_at(i).map(|p| p.id))
                .collect()
        };
        assert_eq!(
            ids(&[1, 2, 3, 4]),
            vec![Some(17), Some(18), Some(19), Some(20)]
        );
        assert_eq!(ids(&[0, -1, -5]), vec![Some(16), Some(15), Some(11)]);
        assert_eq!(ids(&[5, -6, i64::MIN]), vec![None, None, None]);
        for p in newest_first() {
            let index = range.index_of(p.id).unwrap();
            assert_eq!(range.push_at(index).map(|q| q.id), Some(p.id));
        }
        assert_eq!(range.index_of(99), None);
        let all: Vec<u64> = range.pushes_newest_first().iter().map(|p| p.id).collect();
        assert_eq!(all, (11..=20).rev().collect::<Vec<_>>());
        assert!(
            CulpritRange::from_newest_first("autoland", &job_type(), newest_first(), 11).is_err()
        );
        assert!(
            CulpritRange::from_newest_first("autoland", &job_type(), newest_first(), 0).is_err()
        );
    }

    #[test]
    fn the_oldest_push_is_the_oldest_older_one_else_the_oldest_suspect() {
        let with_older =
            CulpritRange::from_newest_first("autoland", &job_type(), newest_first(), 4).unwrap();
        assert_eq!(with_older.oldest_push().map(|p| p.id), Some(11));
        let only_suspects =
            CulpritRange::from_newest_first("autoland", &job_type(), newest_first(), 10).unwrap();
        assert_eq!(only_suspects.oldest_push().map(|p| p.id), Some(11));
        let fewer = CulpritRange::from_newest_first(
            "autoland",
            &job_type(),
            (18..=20).rev().map(push).collect(),
            3,
        )
        .unwrap();
        assert_eq!(fewer.oldest_push().map(|p| p.id), Some(18));
    }

    #[test]
    fn runs_go_to_the_pushes_of_their_indices_and_need_an_older_push() {
        let range =
            CulpritRange::from_newest_first("autoland", &job_type(), newest_first(), 4).unwrap();
        let planned = range
            .planned_runs(&BTreeMap::from([(0, 2), (2, 0), (4, 1)]))
            .unwrap();
        let pushes: Vec<(i64, u64, u32)> = planned
            .iter()
            .map(|p| (p.index, p.push_id, p.runs))
            .collect();
        assert_eq!(pushes, vec![(0, 16, 2), (4, 20, 1)]);
        let no_older =
            CulpritRange::from_newest_first("autoland", &job_type(), newest_first(), 10).unwrap();
        let err = no_older
            .planned_runs(&BTreeMap::from([(0, 1)]))
            .unwrap_err();
        assert!(err.to_string().contains("older pushes are needed"), "{err}");
    }
}

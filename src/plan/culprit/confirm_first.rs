//! "Confirm first, then backfill" (mozci issue 1189), decided from the
//! job's runs already fetched: which failing push to confirm, the last push
//! where the job passed, whether an older push already showed the same
//! failure (then there is nothing to search), and otherwise the range to
//! search, at most [`MAX_RANGE`] pushes.

use crate::error::{Error, Result};
use crate::plan::failure_rate::PushRuns;
use serde::{Deserialize, Serialize};

/// The most pushes a confirm-first search backfills (mozci issue 1189: "up
/// to 40 pushes"); a longer stretch without a passing run is cut to the
/// newest 40.
pub const MAX_RANGE: usize = 40;

/// What the job's runs on one push show, judged by the failure signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PushState {
    /// At least one run failed the way the signature asks.
    Failing,
    /// Runs finished and none failed that way.
    Passing,
    /// No finished run: says nothing.
    Unknown,
}

fn state(push: &PushRuns) -> PushState {
    if push.failures > 0 {
        PushState::Failing
    } else if push.runs > 0 {
        PushState::Passing
    } else {
        PushState::Unknown
    }
}

/// A push named by a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedPush {
    /// Its pushlog id.
    pub push_id: u64,
    /// Its revision.
    pub revision: String,
}

impl From<&PushRuns> for PlannedPush {
    fn from(push: &PushRuns) -> Self {
        PlannedPush {
            push_id: push.push_id,
            revision: push.revision.clone(),
        }
    }
}

/// What to do about a failure, confirm first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "plan")]
pub enum ConfirmFirstPlan {
    /// No run on the pushes read fails the way the signature asks: there
    /// is nothing to confirm.
    NoFailure,
    /// The same failure already showed on `older_failing`, before the last
    /// push where the job passed: it is not new in this range (an
    /// intermittent, or an older regression), so no search is run.
    AlreadyFailing {
        /// The push the failure was seen on.
        failing: PlannedPush,
        /// The newest push before it where the job passed.
        last_good: PlannedPush,
        /// An older push failing the same way.
        older_failing: PlannedPush,
    },
    /// Confirm the failure on `failing`, then search `range`.
    Search {
        /// The newest failing push: where the confirm task is asked.
        failing: PlannedPush,
        /// The newest push before it where the job passed; `None` when
        /// none of the pushes read did.
        last_good: Option<PlannedPush>,
        /// The pushes after `last_good` up to `failing`, newest first, at
        /// most [`MAX_RANGE`].
        range: Vec<PlannedPush>,
        /// The stretch was longer than [`MAX_RANGE`] and was cut to its
        /// newest pushes (or no passing push was found at all).
        capped: bool,
    },
}

/// Decide the confirm-first flow from `pushes`, newest first (push ids
/// strictly decreasing), each with the job's finished runs and the failed
/// ones among them, judged by the failure signature. The failing push is
/// the newest with a failure.
pub fn plan_confirm_first(pushes: &[PushRuns]) -> Result<ConfirmFirstPlan> {
    if pushes
        .windows(2)
        .any(|pair| matches!(pair, [newer, older] if newer.push_id <= older.push_id))
    {
        return Err(Error::Invalid(
            "confirm-first planning needs the pushes newest first, each once".into(),
        ));
    }
    let Some(failing_at) = pushes.iter().position(|p| state(p) == PushState::Failing) else {
        return Ok(ConfirmFirstPlan::NoFailure);
    };
    let (newer_and_failing, older) = pushes.split_at(failing_at + 1);
    let failing = newer_and_failing
        .last()
        .map(PlannedPush::from)
        .ok_or_else(|| Error::Invalid("no failing push".into()))?;
    let last_good_at = older.iter().position(|p| state(p) == PushState::Passing);
    if let Some(good_at) = last_good_at {
        let before_good = older.get(good_at + 1..).unwrap_or_default();
        if let (Some(good), Some(older_failing)) = (
            older.get(good_at),
            before_good.iter().find(|p| state(p) == PushState::Failing),
        ) {
            return Ok(ConfirmFirstPlan::AlreadyFailing {
                failing,
                last_good: good.into(),
                older_failing: older_failing.into(),
            });
        }
    }
    // (last good, failing]: the failing push, then the older pushes up to
    // the last good one, cut to MAX_RANGE.
    let between = last_good_at.unwrap_or(older.len());
    let stretch =
        std::iter::once(failing.clone()).chain(older.iter().take(between).map(PlannedPush::from));
    let range: Vec<PlannedPush> = stretch.take(MAX_RANGE).collect();
    let capped = last_good_at.is_none() || between + 1 > MAX_RANGE;
    Ok(ConfirmFirstPlan::Search {
        failing,
        last_good: last_good_at
            .and_then(|at| older.get(at))
            .map(PlannedPush::from),
        range,
        capped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pushes newest first from (runs, failures) pairs; push ids count down
    /// from 1000.
    fn pushes(runs: &[(u32, u32)]) -> Vec<PushRuns> {
        runs.iter()
            .enumerate()
            .map(|(i, &(runs, failures))| PushRuns {
                push_id: 1000 - i as u64,
                revision: format!("rev{}", 1000 - i as u64),
                runs,
                failures,
            })
            .collect()
    }

    fn ids(range: &[PlannedPush]) -> Vec<u64> {
        range.iter().map(|p| p.push_id).collect()
    }

    #[test]
    fn searches_between_the_last_good_push_and_the_failure() {
        // 1000 failed, 999 not run, 998 failed (one of two runs), 997 and
        // 996 passed.
        let plan = plan_confirm_first(&pushes(&[(1, 1), (0, 0), (2, 1), (1, 0), (1, 0)])).unwrap();
        let ConfirmFirstPlan::Search {
            failing,
            last_good,
            range,
            capped,
        } = plan
        else {
            panic!("expected a search: {plan:?}");
        };
        assert_eq!(failing.push_id, 1000);
        assert_eq!(last_good.map(|p| p.push_id), Some(997));
        assert_eq!(ids(&range), vec![1000, 999, 998]);
        assert!(!capped);
    }

    #[test]
    fn the_failing_push_is_the_newest_with_the_failure() {
        // The two newest pushes have no failure of the signature (one not
        // run, one passed): the failure to confirm is on 998.
        let plan = plan_confirm_first(&pushes(&[(0, 0), (1, 0), (1, 1), (1, 0)])).unwrap();
        let ConfirmFirstPlan::Search {
            failing,
            last_good,
            range,
            ..
        } = plan
        else {
            panic!("expected a search: {plan:?}");
        };
        assert_eq!(failing.push_id, 998);
        assert_eq!(failing.revision, "rev998");
        assert_eq!(last_good.map(|p| p.push_id), Some(997));
        assert_eq!(ids(&range), vec![998]);
    }

    #[test]
    fn an_older_failure_with_the_same_signature_skips_the_search() {
        // Failed on 1000, passed on 998, but 996 already failed the same way.
        let plan =
            plan_confirm_first(&pushes(&[(1, 1), (1, 1), (1, 0), (0, 0), (3, 1), (1, 1)])).unwrap();
        assert_eq!(
            plan,
            ConfirmFirstPlan::AlreadyFailing {
                failing: PlannedPush {
                    push_id: 1000,
                    revision: "rev1000".into()
                },
                last_good: PlannedPush {
                    push_id: 998,
                    revision: "rev998".into()
                },
                older_failing: PlannedPush {
                    push_id: 996,
                    revision: "rev996".into()
                },
            }
        );
    }

    #[test]
    fn a_long_stretch_is_cut_to_the_newest_forty_pushes() {
        // Failing, then 50 pushes not run, then a pass.
        let mut runs = vec![(1, 1)];
        runs.extend(std::iter::repeat_n((0, 0), 50));
        runs.push((1, 0));
        let plan = plan_confirm_first(&pushes(&runs)).unwrap();
        let ConfirmFirstPlan::Search {
            range,
            capped,
            last_good,
            ..
        } = plan
        else {
            panic!("expected a search: {plan:?}");
        };
        assert_eq!(range.len(), MAX_RANGE);
        assert_eq!(range.first().map(|p| p.push_id), Some(1000));
        assert_eq!(range.last().map(|p| p.push_id), Some(961));
        assert!(capped);
        assert_eq!(last_good.map(|p| p.push_id), Some(949));
    }

    #[test]
    fn without_a_passing_push_the_whole_read_stretch_is_searched_and_capped() {
        let plan = plan_confirm_first(&pushes(&[(1, 1), (0, 0), (2, 2)])).unwrap();
        let ConfirmFirstPlan::Search {
            range,
            capped,
            last_good,
            ..
        } = plan
        else {
            panic!("expected a search: {plan:?}");
        };
        assert_eq!(ids(&range), vec![1000, 999, 998]);
        assert!(
            capped,
            "no good push found: the range may not reach the culprit"
        );
        assert_eq!(last_good, None);
    }

    #[test]
    fn no_failure_means_nothing_to_confirm() {
        assert_eq!(
            plan_confirm_first(&pushes(&[(1, 0), (0, 0), (2, 0)])).unwrap(),
            ConfirmFirstPlan::NoFailure
        );
        assert_eq!(
            plan_confirm_first(&[]).unwrap(),
            ConfirmFirstPlan::NoFailure
        );
    }

    #[test]
    fn pushes_out_of_order_are_an_error() {
        let mut list = pushes(&[(1, 1), (1, 0)]);
        list.reverse();
        assert!(plan_confirm_first(&list).is_err());
        let mut twice = pushes(&[(1, 1)]);
        twice.push(twice[0].clone());
        assert!(plan_confirm_first(&twice).is_err());
    }
}

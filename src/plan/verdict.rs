//! The answer once a backfill's runs are in: the first bad push, "no failure
//! reproduced", or "intermittent: n of m runs failed".

#![warn(missing_docs)]

use crate::model::PushHistory;
use crate::model::Revision;
use serde::{Deserialize, Serialize};

/// What a backfill's finished runs say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Runs are still pending or running.
    Incomplete {
        /// Runs not finished.
        in_progress: u32,
    },
    /// Every push before this one passed and every push from it on failed.
    FirstBadPush {
        /// Its pushlog id.
        push_id: u64,
        /// Its revision.
        revision: Revision,
    },
    /// Only the originally seen failure: every other run passed.
    NoFailureReproduced {
        /// Runs that passed.
        runs: u32,
    },
    /// Failures and passes mixed without a clean boundary.
    Intermittent {
        /// Runs that failed.
        failed: u32,
        /// Runs with a verdict.
        total: u32,
    },
    /// No run finished with a verdict (all cancelled, coalesced, …).
    NoData,
}

impl Verdict {
    /// The sentence the notification and the CLI show.
    pub fn describe(&self) -> String {
        match self {
            Verdict::Incomplete { in_progress } => {
                format!("{in_progress} run(s) still pending or running")
            }
            Verdict::FirstBadPush { revision, .. } => {
                format!("first bad push: {}", revision.short())
            }
            Verdict::NoFailureReproduced { runs } => {
                format!("no failure reproduced in {runs} run(s)")
            }
            Verdict::Intermittent { failed, total } => {
                format!("intermittent: {failed} of {total} runs failed")
            }
            Verdict::NoData => "no run finished with a result".to_string(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PushOutcome {
    Good,
    Bad,
    Mixed,
    Empty,
}

/// Judge a backfilled range. `range` is newest first: the selected push,
/// the pushes filled, and (if known) the last good push at the end. A run
/// counts as failed only when it failed the way the chased run did (by its
/// result alone, or by its logs when `PushHistory::readings` has them); a
/// run whose logs show only infrastructure trouble counts as no run.
pub fn backfill_verdict(range: &[PushHistory]) -> Verdict {
    let in_progress: u32 = range.iter().map(|h| h.counts().in_progress()).sum();
    if in_progress > 0 {
        return Verdict::Incomplete { in_progress };
    }
    let failed: u32 = range.iter().map(|h| h.counts().failed).sum();
    let total: u32 = range.iter().map(|h| h.counts().finished()).sum();
    if total == 0 {
        return Verdict::NoData;
    }
    let outcome = |h: &PushHistory| {
        let c = h.counts();
        // A run that failed otherwise than the chased run did is no failure
        // of interest: for this question it is as good as a pass.
        match (c.without_failure() > 0, c.failed > 0) {
            (true, false) => PushOutcome::Good,
            (false, true) => PushOutcome::Bad,
            (true, true) => PushOutcome::Mixed,
            (false, false) => PushOutcome::Empty,
        }
    };
    // Oldest first, skipping pushes with no verdict.
    let judged: Vec<(&PushHistory, PushOutcome)> = range
        .iter()
        .rev()
        .map(|h| (h, outcome(h)))
        .filter(|(_, o)| *o != PushOutcome::Empty)
        .collect();
    if let Some(first_bad) = judged.iter().position(|(_, o)| *o == PushOutcome::Bad) {
        let before_all_good = judged[..first_bad]
            .iter()
            .all(|(_, o)| *o == PushOutcome::Good);
        let after_all_bad = judged[first_bad..]
            .iter()
            .all(|(_, o)| *o == PushOutcome::Bad);
        if before_all_good && after_all_bad {
            let push = &judged[first_bad].0.push;
            return Verdict::FirstBadPush {
                push_id: push.id,
                revision: push.revision.clone(),
            };
        }
    }
    let selected_failures = range.first().map(|h| h.counts().failed).unwrap_or(0);
    if failed == selected_failures && failed <= 1 && total > failed {
        return Verdict::NoFailureReproduced {
            runs: total - failed,
        };
    }
    Verdict::Intermittent { failed, total }
}

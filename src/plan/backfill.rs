//! Backfill to the last good push: from the selected job's push, walk
//! earlier pushes newest → oldest up to a depth, stop at the first push with
//! a successful run of the job type, and fill every push in between.
//!
//! When no good run exists within the depth the plan says so plainly and
//! still carries the full-depth plan, for the user to confirm or not.

#![warn(missing_docs)]

use super::trigger::{push_plan, PushPlan};
use crate::model::PushHistory;
use crate::model::Revision;
use serde::{Deserialize, Serialize};

/// How far back, and how many runs per push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillRequest {
    /// Earlier pushes to examine (not counting the selected one).
    pub depth: u32,
    /// Runs wanted on each push of the range, in total.
    pub times: u32,
}

/// Where the walk stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BackfillOutcome {
    /// A push with a successful run bounds the range (it is not filled).
    LastGoodFound {
        /// The good push's pushlog id.
        push_id: u64,
        /// Its revision.
        revision: Revision,
    },
    /// No successful run within `depth` earlier pushes: the plan covers all
    /// of them, and needs the user's confirmation.
    NoGoodWithinDepth {
        /// Earlier pushes looked at.
        depth: u32,
    },
    /// The history holds fewer earlier pushes than the depth and none passed
    /// (the repository's first pushes).
    HistoryExhausted {
        /// Earlier pushes there were.
        examined: u32,
    },
}

/// A backfill decided: the pushes to fill and what to do on each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackfillPlan {
    /// What was asked.
    pub request: BackfillRequest,
    /// Where the walk back stopped.
    pub outcome: BackfillOutcome,
    /// Newest first: the selected push, then every earlier push up to (not
    /// including) the last good one.
    pub pushes: Vec<PushPlan>,
    /// Things a person should know before confirming.
    pub notes: Vec<String>,
}

impl BackfillPlan {
    /// CI jobs the plan starts right away (builds included).
    pub fn jobs_started_now(&self) -> u32 {
        self.pushes
            .iter()
            .map(|p| p.action.jobs_started_now())
            .sum()
    }

    /// Whether a person must confirm before anything is triggered: above
    /// `small_limit` new jobs, or when no last good push bounds the range.
    pub fn needs_confirmation(&self, small_limit: u32) -> bool {
        self.jobs_started_now() > small_limit
            || !matches!(self.outcome, BackfillOutcome::LastGoodFound { .. })
    }

    /// One line saying what the plan is.
    pub fn summary(&self) -> String {
        let n = self.pushes.len();
        let jobs = self.jobs_started_now();
        match &self.outcome {
            BackfillOutcome::LastGoodFound { revision, .. } => {
                format!("last good push {}: {jobs} job(s) to start on {n} push(es)", revision.short())
            }
            BackfillOutcome::NoGoodWithinDepth { depth } => format!(
                "no successful run in the {depth} earlier pushes: the full-depth plan starts {jobs} job(s) on {n} push(es)"
            ),
            BackfillOutcome::HistoryExhausted { examined } => {
                format!("no successful run in all {examined} earlier pushes there are: {jobs} job(s) on {n} push(es)")
            }
        }
    }
}

/// Plan a backfill. `history` is newest first and starts with the selected
/// job's push; it should hold at least `depth` earlier pushes if they exist.
pub fn backfill_plan(history: &[PushHistory], request: BackfillRequest) -> BackfillPlan {
    let mut notes = Vec::new();
    let Some((selected, earlier)) = history.split_first() else {
        return BackfillPlan {
            request,
            outcome: BackfillOutcome::HistoryExhausted { examined: 0 },
            pushes: Vec::new(),
            notes: vec!["the selected push is not in the history: nothing to plan".to_string()],
        };
    };
    let counts = selected.counts();
    if selected.has_success() && counts.failed > 0 {
        notes.push(format!(
            "the selected push already has {} passing and {} failing run(s) of this job: the failure looks intermittent",
            counts.succeeded, counts.failed
        ));
    }

    let mut pushes = vec![push_plan(selected, request.times)];
    let mut outcome = None;
    for past in earlier.iter().take(request.depth as usize) {
        if past.has_success() {
            outcome = Some(BackfillOutcome::LastGoodFound {
                push_id: past.push.id,
                revision: past.push.revision.clone(),
            });
            break;
        }
        pushes.push(push_plan(past, request.times));
    }
    let examined = earlier.len().min(request.depth as usize) as u32;
    let outcome = outcome.unwrap_or(if examined < request.depth {
        BackfillOutcome::HistoryExhausted { examined }
    } else {
        BackfillOutcome::NoGoodWithinDepth {
            depth: request.depth,
        }
    });
    if !matches!(outcome, BackfillOutcome::LastGoodFound { .. }) {
        notes.push(
            "no last good push bounds this range: confirm before triggering the whole depth"
                .to_string(),
        );
    }
    BackfillPlan {
        request,
        outcome,
        pushes,
        notes,
    }
}

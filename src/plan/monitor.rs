//! Reactions while triggered work runs: trigger tests once a needed build
//! finishes, re-run coalesced or infrastructure-failed jobs within a budget,
//! and say when a push's expectations are met or cannot be.
//!
//! Pure: the driver (CLI watcher, add-on background) fetches a fresh
//! [`PushHistory`], asks [`react`], and carries out the answer.

#![warn(missing_docs)]

use super::failure_scope::FailureScope;
use super::trigger::retrigger_candidate;
use crate::model::{Job, JobReading};
use crate::model::{PushHistory, UpstreamBuild};
use serde::{Deserialize, Serialize};

/// Where one push's watched work is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The job type needs a build that has not finished yet.
    WaitingForBuild,
    /// Runs of the job type are wanted or under way.
    Running,
    /// Every wanted run finished with a verdict.
    Done,
    /// Expectations cannot be met (build keeps failing, budget spent).
    GaveUp,
}

/// One push's watched work; persisted by the driver between polls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchItem {
    /// The push's pushlog id.
    pub push_id: u64,
    /// The job type's name (buildername or label).
    pub job_name: String,
    /// Runs wanted on the push in total.
    pub wanted: u32,
    /// Where the work is.
    pub stage: Stage,
    /// Extra runs (coalesced / infra-failed re-runs, rebuilds) still allowed.
    pub rerun_budget: u32,
    /// Which failures count; decides whether failed runs' logs are read.
    #[serde(default)]
    pub scope: FailureScope,
    /// What the logs of this push's failed runs said, once read (kept
    /// between polls so that each run's logs are read once).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<JobReading>,
}

/// Why a push's work is run again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RerunReason {
    /// Runs were merged into a newer push's build.
    Coalesced,
    /// Runs said nothing: only the infrastructure failed.
    InfrastructureFailure,
    /// The build the tests need failed.
    BuildFailed,
}

/// What the watcher does next on one push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reaction", rename_all = "snake_case")]
pub enum Reaction {
    /// Nothing to do yet.
    Wait,
    /// The build finished: start the test runs with its files.
    TriggerTests {
        /// Runs to start.
        count: u32,
        /// The build's files the tests need.
        files: Vec<String>,
    },
    /// Rebuild (the build failed), then tests.
    Rebuild {
        /// The build job type's name.
        build_name: String,
    },
    /// Run an existing job again to replace runs that said nothing.
    Rerun {
        /// The run to repeat.
        job: Box<Job>,
        /// Times.
        count: u32,
        /// Why.
        reason: RerunReason,
    },
    /// All wanted runs finished.
    Done,
    /// Tell the user: expectations are not met and will not be.
    GiveUp {
        /// What the user is told.
        reason: String,
    },
}

impl Reaction {
    /// One line for the CLI's watch output and the add-on's panel.
    pub fn describe(&self) -> String {
        match self {
            Reaction::Wait => "waiting".to_string(),
            Reaction::TriggerTests { count, .. } => {
                format!("the build is in: {count} test run(s) triggered")
            }
            Reaction::Rebuild { build_name } => {
                format!("the build failed: rebuilding {build_name}")
            }
            Reaction::Rerun {
                count,
                reason: RerunReason::InfrastructureFailure,
                ..
            } => format!(
                "{count} run(s) failed by infrastructure (no evidence against the push): re-run"
            ),
            Reaction::Rerun {
                count,
                reason: RerunReason::Coalesced,
                ..
            } => format!("{count} run(s) coalesced: re-run"),
            Reaction::Rerun {
                count,
                reason: RerunReason::BuildFailed,
                ..
            } => format!("{count} run(s) lost to a failed build: re-run"),
            Reaction::Done => "every wanted run finished".to_string(),
            Reaction::GiveUp { reason } => format!("gave up: {reason}"),
        }
    }
}

/// Decide the next step for `item` given the push's current history;
/// returns the reaction and the item's next state.
pub fn react(item: &WatchItem, history: &PushHistory) -> (Reaction, WatchItem) {
    let mut next = item.clone();
    match item.stage {
        Stage::Done | Stage::GaveUp => (Reaction::Wait, next),
        Stage::WaitingForBuild => match &history.upstream_build {
            UpstreamBuild::Ready { files, .. } => {
                let missing = item.wanted.saturating_sub(history.counts().potential());
                next.stage = Stage::Running;
                if missing == 0 {
                    (Reaction::Wait, next)
                } else {
                    (
                        Reaction::TriggerTests {
                            count: missing,
                            files: files.clone(),
                        },
                        next,
                    )
                }
            }
            UpstreamBuild::NotNeeded => {
                next.stage = Stage::Running;
                (Reaction::Wait, next)
            }
            // A build we asked for may take a poll or two to show up.
            UpstreamBuild::InProgress { .. } | UpstreamBuild::Missing { .. } => {
                (Reaction::Wait, next)
            }
            UpstreamBuild::Failed { build } => {
                if item.rerun_budget > 0 {
                    next.rerun_budget -= 1;
                    (
                        Reaction::Rebuild {
                            build_name: build.name.clone(),
                        },
                        next,
                    )
                } else {
                    next.stage = Stage::GaveUp;
                    let reason = format!(
                        "the {} build failed on push {} and the rebuild budget is spent",
                        build.name, item.push_id
                    );
                    (Reaction::GiveUp { reason }, next)
                }
            }
        },
        Stage::Running => {
            let counts = history.counts();
            let shortfall = item.wanted.saturating_sub(counts.potential());
            if shortfall == 0 {
                if counts.in_progress() == 0 {
                    next.stage = Stage::Done;
                    return (Reaction::Done, next);
                }
                return (Reaction::Wait, next);
            }
            // Runs are missing: some were coalesced, infra-failed or cancelled.
            let reason = if counts.coalesced > 0 {
                RerunReason::Coalesced
            } else {
                RerunReason::InfrastructureFailure
            };
            match retrigger_candidate(&history.jobs) {
                Some(job) if item.rerun_budget > 0 => {
                    let count = shortfall.min(item.rerun_budget);
                    next.rerun_budget -= count;
                    (
                        Reaction::Rerun {
                            job: Box::new(job.clone()),
                            count,
                            reason,
                        },
                        next,
                    )
                }
                _ => {
                    next.stage = Stage::GaveUp;
                    let reason = format!(
                        "{} of {} wanted run(s) of {} on push {} did not run (coalesced {}, infrastructure failures {}, other {}) and the re-run budget is spent",
                        shortfall, item.wanted, item.job_name, item.push_id, counts.coalesced, counts.infra_failed, counts.other
                    );
                    (Reaction::GiveUp { reason }, next)
                }
            }
        }
    }
}

//! "N jobs of this type on each push of a range": what to trigger where.
//!
//! `times` is the total wanted on a push. Pending, running and finished runs
//! count; coalesced ones do not. An existing run is retriggered where there
//! is one (with a `count` where the CI system takes one), otherwise new ones are
//! triggered; a test whose build is missing gets the build first.

#![warn(missing_docs)]

use crate::model::{Job, JobResult, JobState, Revision};
use crate::model::{JobCounts, PushHistory, UpstreamBuild};
use serde::{Deserialize, Serialize};

/// What to do on one push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum PushAction {
    /// Enough runs exist or are on their way.
    Nothing,
    /// Run an existing job again `count` times.
    Retrigger {
        /// The run to repeat.
        job: Box<Job>,
        /// Times.
        count: u32,
    },
    /// Schedule `count` new runs; `files` are the build's artifacts a test
    /// needs, for a CI system that wants them passed.
    Trigger {
        /// Runs to schedule.
        count: u32,
        /// The build's files a test needs (empty where the CI finds them).
        files: Vec<String>,
    },
    /// Trigger the build (once), then `then_tests` runs when it finishes.
    BuildFirst {
        /// The build job type's name.
        build_name: String,
        /// Test runs once it finishes.
        then_tests: u32,
    },
    /// A build is already on its way: wait for it, then `then_tests` runs.
    WaitForBuild {
        /// The build on its way.
        build: Box<Job>,
        /// Test runs once it finishes.
        then_tests: u32,
    },
}

impl PushAction {
    /// New CI jobs this action starts now (builds included).
    pub fn jobs_started_now(&self) -> u32 {
        match self {
            PushAction::Nothing | PushAction::WaitForBuild { .. } => 0,
            PushAction::Retrigger { count, .. } | PushAction::Trigger { count, .. } => *count,
            PushAction::BuildFirst { .. } => 1,
        }
    }

    /// Test (or build) runs of the requested job type this action leads to.
    pub fn runs_of_job_type(&self) -> u32 {
        match self {
            PushAction::Nothing => 0,
            PushAction::Retrigger { count, .. } | PushAction::Trigger { count, .. } => *count,
            PushAction::BuildFirst { then_tests, .. }
            | PushAction::WaitForBuild { then_tests, .. } => *then_tests,
        }
    }
}

/// The decision for one push, with what it was based on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushPlan {
    /// The push's pushlog id.
    pub push_id: u64,
    /// Its revision.
    pub revision: Revision,
    /// How its runs stood when planned.
    pub counts: JobCounts,
    /// Runs wanted on it in all.
    pub wanted: u32,
    /// What to do now.
    pub action: PushAction,
    /// One sentence a person can check.
    pub reason: String,
}

/// Decide what one push needs so that `times` runs of the job type exist.
pub fn push_plan(history: &PushHistory, times: u32) -> PushPlan {
    let counts = history.counts();
    let potential = counts.potential();
    let missing = times.saturating_sub(potential);
    let (action, reason) = if missing == 0 {
        (
            PushAction::Nothing,
            format!("{potential} run(s) already count towards the {times} wanted"),
        )
    } else {
        decide_missing(history, &counts, missing)
    };
    PushPlan {
        push_id: history.push.id,
        revision: history.push.revision.clone(),
        counts,
        wanted: times,
        action,
        reason,
    }
}

fn decide_missing(history: &PushHistory, counts: &JobCounts, missing: u32) -> (PushAction, String) {
    let have = counts.potential();
    match &history.upstream_build {
        UpstreamBuild::Missing { build_name } => (
            PushAction::BuildFirst {
                build_name: build_name.clone(),
                then_tests: missing,
            },
            format!("no {build_name} build on this push: build first, then {missing} run(s)"),
        ),
        UpstreamBuild::Failed { build } => (
            PushAction::BuildFirst {
                build_name: build.name.clone(),
                then_tests: missing,
            },
            format!(
                "the {} build failed on this push: rebuild, then {missing} run(s)",
                build.name
            ),
        ),
        UpstreamBuild::InProgress { build } => (
            PushAction::WaitForBuild {
                build: Box::new(build.clone()),
                then_tests: missing,
            },
            format!(
                "the {} build is {}: {missing} run(s) once it finishes",
                build.name,
                describe(build.state)
            ),
        ),
        UpstreamBuild::Ready { files, .. } => runs_now(history, have, missing, files),
        UpstreamBuild::NotNeeded => runs_now(history, have, missing, &[]),
    }
}

/// The build is there (or not needed): retrigger an existing run if there
/// is one, else trigger new runs (with the build's `files` if any).
fn runs_now(
    history: &PushHistory,
    have: u32,
    missing: u32,
    files: &[String],
) -> (PushAction, String) {
    let wanted = have + missing;
    match retrigger_candidate(&history.jobs) {
        Some(job) => (
            PushAction::Retrigger {
                job: Box::new(job.clone()),
                count: missing,
            },
            format!("{have} of {wanted} wanted: retrigger an existing run {missing} time(s)"),
        ),
        None if files.is_empty() => (
            PushAction::Trigger {
                count: missing,
                files: Vec::new(),
            },
            format!("{have} of {wanted} wanted: {missing} new run(s)"),
        ),
        None => (
            PushAction::Trigger {
                count: missing,
                files: files.to_vec(),
            },
            format!("{have} of {wanted} wanted: {missing} new run(s) with the push's build"),
        ),
    }
}

fn describe(state: JobState) -> &'static str {
    match state {
        JobState::Pending => "pending",
        JobState::Running => "running",
        _ => "in progress",
    }
}

/// The run to retrigger: one that ran on this push and finished with a
/// verdict; else an infrastructure failure, a cancelled or an unfinished run.
/// Coalesced runs are retriggerable too (their request exists), but last.
pub fn retrigger_candidate(jobs: &[Job]) -> Option<&Job> {
    let identifiable = |j: &&Job| {
        j.ids.task_id.is_some()
            || !j.ids.request_ids.is_empty()
            || j.ids.build_id.is_some()
            || j.ids.job_id.is_some()
    };
    let rank = |j: &Job| match j.state {
        JobState::Completed(r)
            if r == JobResult::Success || r.is_failure() && !r.is_infrastructure() =>
        {
            0
        }
        JobState::Completed(r) if r.is_infrastructure() => 1,
        JobState::Completed(_) => 2,
        JobState::Running | JobState::Pending => 3,
        JobState::Unknown => 4,
        JobState::Coalesced => 5,
    };
    jobs.iter().filter(identifiable).min_by_key(|j| rank(j))
}

/// Plan every push of a range (given newest first); the plan keeps that order.
pub fn trigger_range_plan(histories: &[PushHistory], times: u32) -> Vec<PushPlan> {
    histories.iter().map(|h| push_plan(h, times)).collect()
}

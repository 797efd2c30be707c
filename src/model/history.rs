//! What is known about one push for one job type: the input of every
//! trigger and backfill decision.
//!
//! The `ci/` layer fills these from the CI systems; decisions only read them.

#![warn(missing_docs)]

use super::{Job, JobResult, JobState, Push};
use serde::{Deserialize, Serialize};

/// Whether the job type can run on this push now, as far as builds go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum UpstreamBuild {
    /// A build job type, or a CI system that schedules builds itself
    /// (Taskcluster's `add-new-jobs` pulls in dependencies).
    NotNeeded,
    /// A finished build; `files` are what a test job needs from it
    /// (Buildbot: packageUrl and testsUrl).
    Ready {
        /// The build that finished.
        build: Job,
        /// The files a test job needs from it.
        files: Vec<String>,
    },
    /// A build is pending or running: wait for it, do not start another.
    InProgress {
        /// The build under way.
        build: Job,
    },
    /// The build ran and failed (or was cancelled): it must be rebuilt.
    Failed {
        /// The build that failed.
        build: Job,
    },
    /// No build of the upstream builder exists on this push.
    Missing {
        /// The upstream builder's name.
        build_name: String,
    },
}

/// One push, the runs of the job type on it, and the build situation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushHistory {
    /// The push.
    pub push: Push,
    /// Runs of the job type on this push (all states).
    pub jobs: Vec<Job>,
    /// Whether a test run here needs a build first, and which.
    pub upstream_build: UpstreamBuild,
    /// Jobs this tool already asked for that the CI system does not show yet
    /// (from the trigger ledger). They count as pending, so that running the
    /// same command twice does not ask twice.
    pub requested_not_yet_visible: u32,
    /// What the logs of failed runs said about the failure being chased
    /// (filled by the engine when the runs are judged by their failure
    /// signature; a failed run not listed counts by its result alone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<JobReading>,
}

/// What a failed run's logs say about the failure being chased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunReading {
    /// It failed the same way: a failure of interest.
    SameFailure,
    /// It failed, but not the way the chased run did (another test, another
    /// crash, another kind): no failure of interest here.
    OtherFailure,
    /// Only infrastructure failed (max run time, a download, a bare exit
    /// status) or the logs name no failure: no evidence, to be run again.
    NotEvidence,
}

/// One failed run's [`RunReading`], by Treeherder job id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobReading {
    /// Treeherder's job id of the failed run.
    pub job_id: u64,
    /// What its logs said.
    pub reading: RunReading,
}

impl PushHistory {
    /// A push and its runs, needing no build, nothing asked, nothing read.
    pub fn new(push: Push, jobs: Vec<Job>) -> Self {
        PushHistory {
            push,
            jobs,
            upstream_build: UpstreamBuild::NotNeeded,
            requested_not_yet_visible: 0,
            readings: Vec::new(),
        }
    }

    /// How its runs stand, failed runs counted by their readings.
    pub fn counts(&self) -> JobCounts {
        JobCounts::of_read(&self.jobs, self.requested_not_yet_visible, &self.readings)
    }

    /// The reading of job `job_id`, if its logs were read.
    pub fn reading_of(&self, job_id: u64) -> Option<RunReading> {
        self.readings
            .iter()
            .find(|r| r.job_id == job_id)
            .map(|r| r.reading)
    }

    /// A run of this job type on this push passed.
    pub fn has_success(&self) -> bool {
        self.jobs
            .iter()
            .any(|j| j.state == JobState::Completed(JobResult::Success))
    }
}

/// How the runs on one push stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobCounts {
    /// Scheduled, plus asked for and not visible yet.
    pub pending: u32,
    /// Started.
    pub running: u32,
    /// Passed.
    pub succeeded: u32,
    /// testfailed and busted: the code's fault, as far as anyone can tell
    /// (and, when the logs were read, failed the way the chased run did).
    pub failed: u32,
    /// testfailed and busted whose logs name another failure than the one
    /// chased: a verdict on the code, but not a failure of interest.
    #[serde(default)]
    pub failed_otherwise: u32,
    /// exception and retry, and failed runs whose logs show only
    /// infrastructure trouble: the infrastructure's fault, to be run again.
    pub infra_failed: u32,
    /// Merged into a newer push's build (Buildbot): no verdict here.
    pub coalesced: u32,
    /// cancelled, superseded, skipped, unknown.
    pub other: u32,
}

impl JobCounts {
    /// The counts of `jobs`, failed runs counted by their result alone.
    pub fn of(jobs: &[Job], requested_not_yet_visible: u32) -> Self {
        Self::of_read(jobs, requested_not_yet_visible, &[])
    }

    /// As [`JobCounts::of`], a failed run counted by what its logs said
    /// when `readings` has it.
    pub fn of_read(jobs: &[Job], requested_not_yet_visible: u32, readings: &[JobReading]) -> Self {
        let reading = |job: &Job| {
            let id = job.ids.job_id?;
            readings.iter().find(|r| r.job_id == id).map(|r| r.reading)
        };
        let mut c = JobCounts {
            pending: requested_not_yet_visible,
            ..JobCounts::default()
        };
        for job in jobs {
            match job.state {
                JobState::Pending => c.pending += 1,
                JobState::Running => c.running += 1,
                JobState::Coalesced => c.coalesced += 1,
                JobState::Unknown => c.other += 1,
                JobState::Completed(JobResult::Success) => c.succeeded += 1,
                JobState::Completed(JobResult::TestFailed | JobResult::Busted) => {
                    match reading(job) {
                        None | Some(RunReading::SameFailure) => c.failed += 1,
                        Some(RunReading::OtherFailure) => c.failed_otherwise += 1,
                        Some(RunReading::NotEvidence) => c.infra_failed += 1,
                    }
                }
                JobState::Completed(JobResult::Exception | JobResult::Retry) => c.infra_failed += 1,
                JobState::Completed(
                    JobResult::UserCancel | JobResult::Superseded | JobResult::Skipped,
                ) => c.other += 1,
            }
        }
        c
    }

    /// Jobs that count towards "N wanted on this push": pending, running and
    /// finished with a verdict on the code. Coalesced runs did not run here;
    /// infrastructure failures and cancellations said nothing.
    pub fn potential(&self) -> u32 {
        self.pending + self.running + self.succeeded + self.failed + self.failed_otherwise
    }

    /// Runs that finished with a verdict on the code.
    pub fn finished(&self) -> u32 {
        self.succeeded + self.failed + self.failed_otherwise
    }

    /// Finished runs without the failure of interest (passed, or failed
    /// otherwise).
    pub fn without_failure(&self) -> u32 {
        self.succeeded + self.failed_otherwise
    }

    /// Runs not finished yet (pending, asked for, or running).
    pub fn in_progress(&self) -> u32 {
        self.pending + self.running
    }
}

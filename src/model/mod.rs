//! The project's vocabulary: pushes, jobs, their states and results.
//!
//! Every source parses into these types and every decision reads them, so
//! they stay free of wire-format details (those live in `sources/`).

#![warn(missing_docs)]

use serde::{Deserialize, Serialize};
use std::fmt;

#[cfg(test)]
pub(crate) mod fixtures;
pub mod job_view;

/// A 40-hex Mercurial changeset id (or a shorter prefix where a source gives one).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Revision(pub String);

impl Revision {
    /// The 12-character short form that Buildbot-era tools compare on.
    pub fn short(&self) -> &str {
        let end = self.0.len().min(12);
        self.0.get(..end).unwrap_or(&self.0)
    }

    /// Whether two revisions name the same changeset, comparing on the
    /// shorter of the two (BuildAPI and buildjson often carry 12-char prefixes).
    pub fn matches(&self, other: &Revision) -> bool {
        let n = self.0.len().min(other.0.len()).min(40);
        n >= 12
            && self.0.get(..n).map(str::to_ascii_lowercase)
                == other.0.get(..n).map(str::to_ascii_lowercase)
    }

    /// A full 40-hex-digit changeset id.
    pub fn is_full(&self) -> bool {
        self.0.len() == 40 && self.0.bytes().all(|b| b.is_ascii_hexdigit())
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Revision {
    fn from(s: &str) -> Self {
        Revision(s.to_string())
    }
}

/// One changeset inside a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changeset {
    /// The changeset's full 40-digit hash.
    pub node: Revision,
    /// Its author as hg records it (`Name <email>`).
    pub author: String,
    /// Its commit message.
    pub desc: String,
}

/// A push to a repository: one or more changesets landed together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Push {
    /// The pushlog id (numeric, increasing within a repository).
    pub id: u64,
    /// The push's revision: its LAST changeset's node.
    pub revision: Revision,
    /// Changesets, oldest first (pushlog order).
    pub changesets: Vec<Changeset>,
    /// The pusher's user name or email.
    pub author: String,
    /// Push time, seconds since the Unix epoch (UTC).
    pub date: i64,
    /// The repository's short name (`mozilla-inbound`, `autoland`, …).
    pub repository: String,
}

/// Which of the two CI systems runs a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CiSystem {
    /// Mozilla's CI until 2017: builders, Self-Serve BuildAPI.
    Buildbot,
    /// Mozilla's CI since: tasks, in-tree actions.
    Taskcluster,
}

/// Build jobs produce binaries; test jobs need one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// Compiles and packages a binary.
    Build,
    /// Runs tests (or talos) against a build's binary.
    Test,
}

/// What a finished job reported. Names follow Treeherder's `result` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobResult {
    /// Passed (Buildbot SUCCESS, 0).
    Success,
    /// Treeherder `testfailed`, Buildbot WARNINGS (1).
    TestFailed,
    /// Treeherder `busted`, Buildbot FAILURE (2).
    Busted,
    /// Treeherder `exception`, Buildbot EXCEPTION (4): the infrastructure's fault.
    Exception,
    /// Treeherder `retry`, Buildbot RETRY (5): run again by the CI system.
    Retry,
    /// Treeherder `usercancel`, Buildbot CANCELLED (6).
    UserCancel,
    /// Treeherder `superseded`: replaced by a newer run before it finished.
    Superseded,
    /// Treeherder `skipped`: Buildbot SKIPPED (3), never run.
    Skipped,
}

impl JobResult {
    /// Treeherder's failure set: the results that count as "this job failed".
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            JobResult::TestFailed | JobResult::Busted | JobResult::Exception
        )
    }

    /// Results that say nothing about the code: the job must be run again to learn anything.
    pub fn is_infrastructure(self) -> bool {
        matches!(self, JobResult::Exception | JobResult::Retry)
    }

    /// Treeherder's spelling.
    pub fn as_treeherder(self) -> &'static str {
        match self {
            JobResult::Success => "success",
            JobResult::TestFailed => "testfailed",
            JobResult::Busted => "busted",
            JobResult::Exception => "exception",
            JobResult::Retry => "retry",
            JobResult::UserCancel => "usercancel",
            JobResult::Superseded => "superseded",
            JobResult::Skipped => "skipped",
        }
    }

    /// Parse Treeherder's `result` (`unknown` and unrecognised values give `None`).
    pub fn from_treeherder(s: &str) -> Option<JobResult> {
        Some(match s {
            "success" => JobResult::Success,
            "testfailed" | "warnings" => JobResult::TestFailed,
            "busted" | "failure" | "failed" => JobResult::Busted,
            "exception" => JobResult::Exception,
            "retry" => JobResult::Retry,
            "usercancel" | "cancelled" | "canceled" => JobResult::UserCancel,
            "superseded" => JobResult::Superseded,
            "skipped" => JobResult::Skipped,
            _ => return None,
        })
    }

    /// Map a Buildbot numeric result (0 success … 6 cancelled).
    pub fn from_buildbot(code: i64) -> Option<JobResult> {
        Some(match code {
            0 => JobResult::Success,
            1 => JobResult::TestFailed,
            2 => JobResult::Busted,
            3 => JobResult::Skipped,
            4 => JobResult::Exception,
            5 => JobResult::Retry,
            6 => JobResult::UserCancel,
            _ => return None,
        })
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", content = "result", rename_all = "lowercase")]
pub enum JobState {
    /// Scheduled, not started.
    Pending,
    /// Started, not finished.
    Running,
    /// Buildbot merged this request into a build of a newer revision: it did
    /// not run on its own push and must not be counted there.
    Coalesced,
    /// The CI system lost track of it (Buildbot: no status but an end time).
    Unknown,
    /// Finished with this result.
    Completed(JobResult),
}

impl JobState {
    /// It will not change any more (completed, coalesced or lost).
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            JobState::Completed(_) | JobState::Coalesced | JobState::Unknown
        )
    }
}

/// Identifiers a job can carry; which ones are set depends on the CI system and source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobIds {
    /// Treeherder job id.
    pub job_id: Option<u64>,
    /// Treeherder job guid.
    pub guid: Option<String>,
    /// Buildbot scheduler request ids (a build may carry several once coalesced).
    pub request_ids: Vec<u64>,
    /// Buildbot build id.
    pub build_id: Option<u64>,
    /// Taskcluster task id.
    pub task_id: Option<String>,
    /// Taskcluster run (retry) id.
    pub run_id: Option<u32>,
}

/// One run of a job type on a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Build or test.
    pub kind: JobKind,
    /// The CI system that ran it.
    pub ci: CiSystem,
    /// Buildbot buildername or Taskcluster label: the job type's identity.
    pub name: String,
    /// Treeherder's platform name, e.g. `linux64` or `windows11-64`.
    pub platform: String,
    /// Treeherder's symbol, e.g. `bc3` or `B`.
    pub symbol: String,
    /// The push's revision.
    pub revision: Revision,
    /// The push's pushlog id, when the source gives it.
    pub push_id: Option<u64>,
    /// Its identifiers in Treeherder and in its CI system.
    pub ids: JobIds,
    /// Where it is in its life.
    pub state: JobState,
    /// Machine time of a finished run in seconds, where the source says
    /// (Treeherder's start and end, or its whole-minute `duration`);
    /// `None` while unfinished or unknown. Stored jobs without it load.
    #[serde(default)]
    pub run_seconds: Option<u64>,
}

mod history;
pub use history::{JobCounts, JobReading, PushHistory, RunReading, UpstreamBuild};

/// What makes two runs "the same job" across pushes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct JobType {
    /// Buildbot buildername or Taskcluster label.
    pub name: String,
    /// The CI system that runs it.
    pub ci: CiSystem,
    /// Build or test.
    pub kind: JobKind,
    /// Treeherder's platform name.
    pub platform: String,
    /// Treeherder's symbol.
    pub symbol: String,
}

impl JobType {
    /// The type of `job`.
    pub fn of(job: &Job) -> JobType {
        JobType {
            name: job.name.clone(),
            ci: job.ci,
            kind: job.kind,
            platform: job.platform.clone(),
            symbol: job.symbol.clone(),
        }
    }
}

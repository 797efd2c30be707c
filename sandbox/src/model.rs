//! The sandbox's world state: pushes, jobs (Buildbot requests/builds and
//! Taskcluster tasks alike, as Treeherder sees them), Self-Serve job records,
//! the request log and fault settings. Plain data, persisted by `store`.

use serde::{Deserialize, Serialize};

use crate::scenario::{Changeset, CiSystem};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Push {
    /// Treeherder push id (global across repositories).
    pub id: u64,
    pub repo: String,
    pub pushlog_id: u64,
    /// Position in the repository's history, oldest first.
    pub index: usize,
    pub user: String,
    pub date: i64,
    pub changesets: Vec<Changeset>,
    pub decision_task_id: Option<String>,
    /// Indices of scenario regressions present in this push's tree.
    pub regressions: Vec<usize>,
}

impl Push {
    /// A push's revision is its last changeset's node.
    pub fn revision(&self) -> &str {
        self.changesets
            .last()
            .map(|c| c.node.as_str())
            .unwrap_or("")
    }

    pub fn contains(&self, rev: &str) -> bool {
        rev.len() >= 12 && self.changesets.iter().any(|c| c.node.starts_with(rev))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    Decision,
    Action,
    Build,
    Test,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Pending,
    Running,
    Completed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Completed => "completed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestFailure {
    pub test: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    /// Treeherder job id.
    pub id: u64,
    pub repo: String,
    /// Treeherder push id.
    pub push_id: u64,
    /// The revision the job was requested for (40 hex).
    pub revision: String,
    pub system: CiSystem,
    pub kind: JobKind,
    pub platform: String,
    pub option: String,
    /// Scenario test type for test jobs.
    pub test_type: Option<String>,
    /// Buildbot buildername or Taskcluster label (Treeherder `ref_data_name`).
    pub label: String,
    pub state: JobState,
    /// Treeherder result: `unknown` until completed.
    pub result: String,
    pub submit: i64,
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub last_modified: i64,
    /// Earliest simulated time the job may start; None while it waits for dependencies.
    pub ready_at: Option<i64>,
    /// Run time once started.
    pub duration: i64,
    pub reason: String,
    pub who: String,
    pub failures: Vec<TestFailure>,
    /// The scenario's `job_failures` entry that failed this run (its logs
    /// then say how: infrastructure, crash, assertion, …).
    #[serde(default)]
    pub forced_failure: Option<usize>,
    pub buildbot: Option<BuildbotPart>,
    pub taskcluster: Option<TaskclusterPart>,
    /// Set on the tasks of Taskcluster's `confirm-failures` action.
    #[serde(default)]
    pub confirm: Option<ConfirmPart>,
}

/// A `confirm-failures` task (`<label>-cf`): one failing test of the task
/// it confirms, run `repeats` times in one task (gecko_taskgraph
/// actions/confirm_failure.py: `--repeat=4`, so 5 runs of the test).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfirmPart {
    /// The failed task whose failure it confirms.
    pub of_task: String,
    /// The test's path, as its errorsummary named it.
    pub test: String,
    pub repeats: u32,
    /// Once completed: whether each repeat failed, in order.
    pub outcomes: Vec<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildbotPart {
    pub request_id: u64,
    pub priority: i64,
    /// Set when the request was claimed as the primary request of a build.
    pub build_id: Option<u64>,
    pub buildnumber: Option<u64>,
    /// Job id of the build this request was merged into (coalesced).
    pub coalesced_into: Option<u64>,
    /// `[packageUrl, testsUrl]` given to a test request.
    pub files: Vec<String>,
    pub cancelled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskclusterPart {
    pub task_id: String,
    pub retry_id: u32,
    pub task_group_id: String,
    pub dependencies: Vec<String>,
}

impl Job {
    pub fn task_id(&self) -> Option<&str> {
        self.taskcluster.as_ref().map(|t| t.task_id.as_str())
    }

    pub fn request_id(&self) -> Option<u64> {
        self.buildbot.as_ref().map(|b| b.request_id)
    }

    pub fn is_failure(&self) -> bool {
        matches!(self.result.as_str(), "testfailed" | "busted" | "exception")
    }

    /// Treeherder's `job_guid`: `<uuid>/<retry>` for tasks, a hex guid for Buildbot.
    pub fn guid(&self) -> String {
        match &self.taskcluster {
            Some(tc) => format!(
                "{}/{}",
                crate::ids::slugid_to_uuid(&tc.task_id),
                tc.retry_id
            ),
            None => crate::ids::revision(&["job-guid", &self.id.to_string()]),
        }
    }

    /// Buildbot result code (0 success … 6 cancelled) for a completed job.
    pub fn buildbot_status(&self) -> Option<i64> {
        if self.state != JobState::Completed {
            return None;
        }
        Some(match self.result.as_str() {
            "success" | "superseded" => 0,
            "testfailed" => 1,
            "busted" => 2,
            "exception" => 4,
            "retry" => 5,
            "usercancel" => 6,
            _ => 3,
        })
    }
}

/// A Self-Serve job record (`GET /jobs/{id}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SelfServeJob {
    pub id: u64,
    pub action: String,
    pub who: String,
    pub when: i64,
    pub what: String,
    pub request_ids: Vec<u64>,
}

/// One mutating request as received by any origin.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoggedRequest {
    pub id: u64,
    pub origin: String,
    pub method: String,
    pub path: String,
    pub query: String,
    pub body: String,
    pub user: Option<String>,
    pub status: u16,
    /// Simulated clock when received.
    pub time: i64,
}

/// Fault settings of one origin.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct OriginFaults {
    pub error_500: f64,
    pub error_503: f64,
    pub delay_ms: u64,
    pub drop: f64,
    pub malformed: f64,
    pub expired_credentials: bool,
    /// What happens to the answer of every mutating request after its
    /// handler ran (the request was carried out): "applied, but the answer
    /// was lost". `None`: answered as usual.
    pub after_applied: Option<LostAnswer>,
}

/// How the answer to a request that was carried out gets lost.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LostAnswer {
    /// The connection is cut before the body: no readable answer.
    Drop,
    /// The answer is held back `ms` milliseconds (past a client's timeout).
    Delay { ms: u64 },
    /// The body is cut in half (a 2xx whose JSON cannot be read).
    Garble,
    /// A 500 Internal Server Error instead of the handler's answer.
    Error500,
}

/// Faults per origin (`treeherder`, `hg`, `buildapi`, `taskcluster`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Faults {
    pub treeherder: OriginFaults,
    pub hg: OriginFaults,
    pub buildapi: OriginFaults,
    pub taskcluster: OriginFaults,
}

impl Faults {
    pub fn for_origin(&self, origin: &str) -> &OriginFaults {
        match origin {
            "treeherder" => &self.treeherder,
            "hg" => &self.hg,
            "buildapi" => &self.buildapi,
            _ => &self.taskcluster,
        }
    }
}

/// A pulse-shaped event for the live stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PulseEvent {
    pub exchange: String,
    pub routing_key: String,
    /// The message body as the production exchange carries it.
    pub payload: serde_json::Value,
    /// The sandbox's own summary of the job (Treeherder ids and state) for
    /// its event stream's readers; never part of a published message.
    pub treeherder: serde_json::Value,
}

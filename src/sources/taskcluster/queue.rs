//! Taskcluster Queue reads: task definitions, task status, task-group
//! listings and artifacts (`<root>/api/queue/v1/…`), and how a task's queue
//! status reads as a [`JobState`].

#![warn(missing_docs)]

use super::timestamp::parse_iso8601_ms;
use super::RootUrl;
use crate::error::{Error, Result};
use crate::model::{JobResult, JobState};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

fn queue_url<'s>(root: &RootUrl, segments: impl IntoIterator<Item = &'s str>) -> url::Url {
    root.endpoint(["api", "queue", "v1"].into_iter().chain(segments))
}

fn with_continuation(
    mut url: url::Url,
    continuation_token: Option<&str>,
    limit: Option<u32>,
) -> String {
    if continuation_token.is_some() || limit.is_some() {
        let mut query = url.query_pairs_mut();
        if let Some(token) = continuation_token {
            query.append_pair("continuationToken", token);
        }
        if let Some(limit) = limit {
            query.append_pair("limit", &limit.to_string());
        }
    }
    url.to_string()
}

/// `GET <root>/api/queue/v1/task/<taskId>`: the task definition.
pub(crate) fn task_url(root: &RootUrl, task_id: &str) -> String {
    queue_url(root, ["task", task_id]).to_string()
}

/// `GET <root>/api/queue/v1/task/<taskId>/status`.
pub(crate) fn task_status_url(root: &RootUrl, task_id: &str) -> String {
    queue_url(root, ["task", task_id, "status"]).to_string()
}

/// `GET <root>/api/queue/v1/task-group/<taskGroupId>/list`, one page; pass the
/// previous page's `continuationToken` to get the next.
pub fn task_group_list_url(
    root: &RootUrl,
    task_group_id: &str,
    continuation_token: Option<&str>,
    limit: Option<u32>,
) -> String {
    with_continuation(
        queue_url(root, ["task-group", task_group_id, "list"]),
        continuation_token,
        limit,
    )
}

/// `GET <root>/api/queue/v1/task/<taskId>/artifacts` (the latest run's artifacts).
pub fn task_artifacts_url(
    root: &RootUrl,
    task_id: &str,
    continuation_token: Option<&str>,
) -> String {
    with_continuation(
        queue_url(root, ["task", task_id, "artifacts"]),
        continuation_token,
        None,
    )
}

/// `GET <root>/api/queue/v1/task/<taskId>/runs/<runId>/artifacts` (what
/// Treeherder requests to learn whether a task has expired).
pub fn run_artifacts_url(root: &RootUrl, task_id: &str, run_id: u32) -> String {
    let run = run_id.to_string();
    queue_url(root, ["task", task_id, "runs", &run, "artifacts"]).to_string()
}

/// `GET <root>/api/queue/v1/task/<taskId>/artifacts/<name>` (latest run);
/// the `/`s of the name stay path separators (`public/actions.json`).
pub(crate) fn artifact_url(root: &RootUrl, task_id: &str, name: &str) -> String {
    queue_url(
        root,
        ["task", task_id, "artifacts"]
            .into_iter()
            .chain(name.split('/')),
    )
    .to_string()
}

/// `GET <root>/api/queue/v1/task/<taskId>/runs/<runId>/artifacts/<name>`.
pub fn run_artifact_url(root: &RootUrl, task_id: &str, run_id: u32, name: &str) -> String {
    let run = run_id.to_string();
    queue_url(
        root,
        ["task", task_id, "runs", &run, "artifacts"]
            .into_iter()
            .chain(name.split('/')),
    )
    .to_string()
}

/// Treeherder's view of a task, from `extra.treeherder`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct TreeherderInfo {
    /// `extra.treeherder.symbol`: the job's symbol on Treeherder (`B`, `bc3`).
    pub symbol: Option<String>,
    /// `extra.treeherder.groupSymbol`: the symbol of the group shown around it (`M`).
    pub group_symbol: Option<String>,
    /// `extra["treeherder-platform"]`, e.g. `linux64-shippable-qr/opt`.
    pub platform: Option<String>,
    /// `build`, `test`, or another job kind.
    pub job_kind: Option<String>,
    /// `extra.treeherder.tier` (1 to 3; Treeherder hides tier 3 by default).
    pub tier: Option<u64>,
}

/// The parts of a task definition this project reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskDefinition {
    /// `taskGroupId` (required): the task group it belongs to.
    pub task_group_id: String,
    /// `schedulerId` (`gecko-level-3`, …); empty when absent.
    pub scheduler_id: String,
    /// `provisionerId`; empty when absent.
    pub provisioner_id: String,
    /// `workerType`; empty when absent.
    pub worker_type: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.description`; empty when absent.
    pub description: String,
    /// `metadata.owner`, an email address; empty when absent.
    pub owner: String,
    /// `metadata.source`, a URL; empty when absent.
    pub source: String,
    /// `tags`: string values only (taskgraph sets `kind`, `label`, `retrigger`, …).
    pub tags: BTreeMap<String, String>,
    /// `dependencies`: the task ids it waits for.
    pub dependencies: Vec<String>,
    /// `payload.env`: the string-valued environment variables.
    pub env: BTreeMap<String, String>,
    /// What `extra` tells Treeherder about the task.
    pub treeherder: TreeherderInfo,
    /// `created`, milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// `deadline` (ms since the epoch): the task is resolved as an exception if
    /// not done by then.
    pub deadline_ms: i64,
    /// `expires` (ms since the epoch): when the queue forgets the task.
    pub expires_ms: i64,
}

impl TaskDefinition {
    /// The taskgraph label: the `label` tag, else `metadata.name` (the same
    /// string for taskgraph tasks).
    pub fn label(&self) -> &str {
        self.tags
            .get("label")
            .map_or(self.name.as_str(), String::as_str)
    }

    /// The taskgraph kind (`test`, `build`, `decision-task`, …).
    pub fn kind(&self) -> Option<&str> {
        self.tags.get("kind").map(String::as_str)
    }

    /// Whether the queue has forgotten (or is about to forget) the task at
    /// `now_ms`: Treeherder disables Retrigger and Backfill for such tasks.
    pub fn is_expired(&self, now_ms: i64) -> bool {
        self.expires_ms <= now_ms
    }
}

/// Parse the answer of `GET <root>/api/queue/v1/task/<taskId>`.
pub fn parse_task(body: &[u8]) -> Result<TaskDefinition> {
    const SOURCE: &str = "Taskcluster task definition";
    let task: Value = serde_json::from_slice(body).map_err(|e| Error::json(SOURCE, &e))?;
    task_definition_from(&task, SOURCE, "")
}

fn field_name(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn required_text(value: &Value, name: &str, source: &str, prefix: &str) -> Result<String> {
    value
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| Error::parse_field(source, field_name(prefix, name), "expected a string"))
}

fn required_time(value: &Value, name: &str, source: &str, prefix: &str) -> Result<i64> {
    value
        .get(name)
        .and_then(Value::as_str)
        .and_then(parse_iso8601_ms)
        .ok_or_else(|| {
            Error::parse_field(
                source,
                field_name(prefix, name),
                "expected an ISO 8601 date-time",
            )
        })
}

fn optional_time(value: &Value, name: &str) -> Option<i64> {
    value
        .get(name)
        .and_then(Value::as_str)
        .and_then(parse_iso8601_ms)
}

fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|object| {
            BTreeMap::from_iter(
                object
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))),
            )
        })
        .unwrap_or_default()
}

fn optional_text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::to_string)
}

fn task_definition_from(task: &Value, source: &str, prefix: &str) -> Result<TaskDefinition> {
    if !task.is_object() {
        return Err(if prefix.is_empty() {
            Error::parse(source, "expected a JSON object")
        } else {
            Error::parse_field(source, prefix, "expected an object")
        });
    }
    let metadata = task.get("metadata").cloned().unwrap_or(Value::Null);
    let metadata_text = |name: &str| optional_text(metadata.get(name)).unwrap_or_default();
    let extra = task.get("extra");
    let treeherder = extra.and_then(|e| e.get("treeherder"));
    Ok(TaskDefinition {
        task_group_id: required_text(task, "taskGroupId", source, prefix)?,
        scheduler_id: optional_text(task.get("schedulerId")).unwrap_or_default(),
        provisioner_id: optional_text(task.get("provisionerId")).unwrap_or_default(),
        worker_type: optional_text(task.get("workerType")).unwrap_or_default(),
        name: required_text(&metadata, "name", source, &field_name(prefix, "metadata"))?,
        description: metadata_text("description"),
        owner: metadata_text("owner"),
        source: metadata_text("source"),
        tags: string_map(task.get("tags")),
        dependencies: task
            .get("dependencies")
            .and_then(Value::as_array)
            .map(|deps| {
                deps.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        env: string_map(task.get("payload").and_then(|p| p.get("env"))),
        treeherder: TreeherderInfo {
            symbol: optional_text(treeherder.and_then(|t| t.get("symbol"))),
            group_symbol: optional_text(treeherder.and_then(|t| t.get("groupSymbol"))),
            platform: optional_text(extra.and_then(|e| e.get("treeherder-platform"))),
            job_kind: optional_text(treeherder.and_then(|t| t.get("jobKind"))),
            tier: treeherder
                .and_then(|t| t.get("tier"))
                .and_then(Value::as_u64),
        },
        created_ms: required_time(task, "created", source, prefix)?,
        deadline_ms: required_time(task, "deadline", source, prefix)?,
        expires_ms: required_time(task, "expires", source, prefix)?,
    })
}

/// A task's or a run's state in the queue, as the queue's API, its Pulse
/// exchanges and its GraphQL subscriptions all report it, ordered as a run
/// goes through them: unscheduled < pending < running < one of the three
/// resolutions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueState {
    /// Waiting for its dependencies.
    Unscheduled,
    /// Scheduled, waiting for a worker to claim it.
    Pending,
    /// Claimed by a worker.
    Running,
    /// Resolved: the worker reported success.
    Completed,
    /// Resolved: the worker reported failure.
    Failed,
    /// Resolved some other way (cancelled, deadline exceeded, worker lost, …):
    /// the run's `reasonResolved` says which.
    Exception,
}

impl QueueState {
    /// The state from its wire name (`pending`, `completed`, …); `None` for
    /// anything else.
    pub fn parse(text: &str) -> Option<QueueState> {
        Some(match text {
            "unscheduled" => QueueState::Unscheduled,
            "pending" => QueueState::Pending,
            "running" => QueueState::Running,
            "completed" => QueueState::Completed,
            "failed" => QueueState::Failed,
            "exception" => QueueState::Exception,
            _ => return None,
        })
    }

    /// Rank in a run's life: a message of lower rank than what is known
    /// about the run is stale. The three resolutions are final and equal.
    pub fn rank(self) -> u8 {
        match self {
            QueueState::Unscheduled => 0,
            QueueState::Pending => 1,
            QueueState::Running => 2,
            QueueState::Completed | QueueState::Failed | QueueState::Exception => 3,
        }
    }

    /// Completed, failed or exception.
    pub(crate) fn is_resolved(self) -> bool {
        self.rank() == 3
    }
}

impl PartialOrd for QueueState {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for QueueState {
    /// By rank, then by name among the resolutions (a total order for maps).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.rank(), *self as u8).cmp(&(other.rank(), *other as u8))
    }
}

/// One run (attempt) of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskRun {
    /// `runId`: 0 for the first run, counting up.
    pub run_id: u32,
    /// The run's `state`.
    pub state: QueueState,
    /// `scheduled`, `retry`, `task-retry`, `rerun`, `exception`.
    pub reason_created: String,
    /// `completed`, `failed`, `deadline-exceeded`, `canceled`, `superseded`,
    /// `claim-expired`, `worker-shutdown`, `malformed-payload`,
    /// `resource-unavailable`, `internal-error`, `intermittent-task`.
    pub reason_resolved: Option<String>,
    /// `scheduled`, ms since the epoch.
    pub scheduled_ms: Option<i64>,
    /// `started`, ms since the epoch; absent until a worker claims the run.
    pub started_ms: Option<i64>,
    /// `resolved`, ms since the epoch; absent until the run is resolved.
    pub resolved_ms: Option<i64>,
}

/// A task's status (`/task/<id>/status`, and each entry of a task-group list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskStatus {
    /// `taskId`.
    pub task_id: String,
    /// `taskGroupId`; empty when absent.
    pub task_group_id: String,
    /// The task's state: its last run's, or `unscheduled` before any run.
    pub state: QueueState,
    /// `runs`, oldest first; empty before the first run.
    pub runs: Vec<TaskRun>,
    /// `retriesLeft`: automatic reruns the queue may still make.
    pub retries_left: Option<u64>,
    /// `deadline`, ms since the epoch.
    pub deadline_ms: Option<i64>,
    /// `expires`, ms since the epoch.
    pub expires_ms: Option<i64>,
}

/// Reasons for which the queue itself creates another run when retries are left.
const AUTOMATIC_RETRY_REASONS: &[&str] = &["claim-expired", "worker-shutdown", "intermittent-task"];

/// How one run reads as a job state. Choices, following what Treeherder shows:
/// - `failed` is `testfailed`: the queue cannot tell a failing test from a
///   broken build (Treeherder's log parsing does), and both are failures;
/// - `exception` follows `reasonResolved`: `superseded` and `canceled` are
///   Superseded and UserCancel; `claim-expired`, `worker-shutdown` and
///   `intermittent-task` are Retry when a later run exists (the queue retried
///   on its own) and Exception on the last run (retries exhausted); every
///   other reason (`deadline-exceeded`, `malformed-payload`, …) is Exception.
pub fn run_job_state(run: &TaskRun, is_last_run: bool) -> JobState {
    match run.state {
        QueueState::Unscheduled | QueueState::Pending => JobState::Pending,
        QueueState::Running => JobState::Running,
        QueueState::Completed => JobState::Completed(JobResult::Success),
        QueueState::Failed => JobState::Completed(JobResult::TestFailed),
        QueueState::Exception => JobState::Completed(exception_result(
            run.reason_resolved.as_deref(),
            is_last_run,
        )),
    }
}

fn exception_result(reason_resolved: Option<&str>, is_last_run: bool) -> JobResult {
    match reason_resolved {
        Some("superseded") => JobResult::Superseded,
        Some("canceled") => JobResult::UserCancel,
        Some(reason) if AUTOMATIC_RETRY_REASONS.contains(&reason) && !is_last_run => {
            JobResult::Retry
        }
        _ => JobResult::Exception,
    }
}

impl TaskStatus {
    /// The task as a job: its state, and for a resolved task the result of its
    /// last run (see [`run_job_state`]). A task the queue is retrying is pending.
    pub fn job_state(&self) -> JobState {
        match self.state {
            QueueState::Unscheduled | QueueState::Pending => JobState::Pending,
            QueueState::Running => JobState::Running,
            QueueState::Completed => JobState::Completed(JobResult::Success),
            QueueState::Failed => JobState::Completed(JobResult::TestFailed),
            QueueState::Exception => JobState::Completed(exception_result(
                self.runs.last().and_then(|r| r.reason_resolved.as_deref()),
                true,
            )),
        }
    }

    /// Whether the queue has dropped the task at `now_ms` (unknown: not expired).
    pub fn is_expired(&self, now_ms: i64) -> bool {
        self.expires_ms.is_some_and(|expires| expires <= now_ms)
    }
}

/// Parse the answer of `GET <root>/api/queue/v1/task/<taskId>/status` (`{"status": {…}}`).
pub fn parse_task_status(body: &[u8]) -> Result<TaskStatus> {
    const SOURCE: &str = "Taskcluster task status";
    let answer: Value = serde_json::from_slice(body).map_err(|e| Error::json(SOURCE, &e))?;
    let status = answer
        .get("status")
        .ok_or_else(|| Error::parse_field(SOURCE, "status", "missing"))?;
    task_status_from(status, SOURCE, "status")
}

fn task_status_from(status: &Value, source: &str, prefix: &str) -> Result<TaskStatus> {
    let state_text = required_text(status, "state", source, prefix)?;
    let state = QueueState::parse(&state_text).ok_or_else(|| {
        Error::parse_field(
            source,
            field_name(prefix, "state"),
            format!("unknown state {state_text:?}"),
        )
    })?;
    let runs = match status.get("runs") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(runs)) => runs
            .iter()
            .enumerate()
            .map(|(i, run)| run_from(run, source, &field_name(prefix, &format!("runs[{i}]"))))
            .collect::<Result<Vec<_>>>()?,
        Some(_) => {
            return Err(Error::parse_field(
                source,
                field_name(prefix, "runs"),
                "expected a list",
            ))
        }
    };
    Ok(TaskStatus {
        task_id: required_text(status, "taskId", source, prefix)?,
        task_group_id: optional_text(status.get("taskGroupId")).unwrap_or_default(),
        state,
        runs,
        retries_left: status.get("retriesLeft").and_then(Value::as_u64),
        deadline_ms: optional_time(status, "deadline"),
        expires_ms: optional_time(status, "expires"),
    })
}

fn run_from(run: &Value, source: &str, prefix: &str) -> Result<TaskRun> {
    let state_text = required_text(run, "state", source, prefix)?;
    Ok(TaskRun {
        run_id: run
            .get("runId")
            .and_then(Value::as_u64)
            .and_then(|id| u32::try_from(id).ok())
            .ok_or_else(|| {
                Error::parse_field(source, field_name(prefix, "runId"), "expected a run number")
            })?,
        state: QueueState::parse(&state_text).ok_or_else(|| {
            Error::parse_field(
                source,
                field_name(prefix, "state"),
                format!("unknown state {state_text:?}"),
            )
        })?,
        reason_created: optional_text(run.get("reasonCreated")).unwrap_or_default(),
        reason_resolved: optional_text(run.get("reasonResolved")),
        scheduled_ms: optional_time(run, "scheduled"),
        started_ms: optional_time(run, "started"),
        resolved_ms: optional_time(run, "resolved"),
    })
}

/// One task of a task-group listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskGroupEntry {
    /// The entry's `status`.
    pub status: TaskStatus,
    /// The entry's `task` definition.
    pub task: TaskDefinition,
}

/// One page of a task-group listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskGroupPage {
    /// `taskGroupId`; empty when absent.
    pub task_group_id: String,
    /// The page's tasks.
    pub tasks: Vec<TaskGroupEntry>,
    /// Present while more pages follow.
    pub continuation_token: Option<String>,
}

/// Parse the answer of [`task_group_list_url`]
/// (`{taskGroupId, tasks: [{status, task}], continuationToken?}`).
pub fn parse_task_group_list(body: &[u8]) -> Result<TaskGroupPage> {
    const SOURCE: &str = "Taskcluster task-group list";
    let answer: Value = serde_json::from_slice(body).map_err(|e| Error::json(SOURCE, &e))?;
    let tasks = answer
        .get("tasks")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::parse_field(SOURCE, "tasks", "expected a list"))?
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let at = format!("tasks[{i}]");
            let status = entry
                .get("status")
                .ok_or_else(|| Error::parse_field(SOURCE, format!("{at}.status"), "missing"))?;
            let task = entry
                .get("task")
                .ok_or_else(|| Error::parse_field(SOURCE, format!("{at}.task"), "missing"))?;
            Ok(TaskGroupEntry {
                status: task_status_from(status, SOURCE, &format!("{at}.status"))?,
                task: task_definition_from(task, SOURCE, &format!("{at}.task"))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(TaskGroupPage {
        task_group_id: optional_text(answer.get("taskGroupId")).unwrap_or_default(),
        tasks,
        continuation_token: continuation_token(&answer),
    })
}

fn continuation_token(answer: &Value) -> Option<String> {
    optional_text(answer.get("continuationToken")).filter(|t| !t.is_empty())
}

/// One artifact of a task run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Artifact {
    /// `public/logs/live_backing.log`, `public/actions.json`, …
    pub name: String,
    /// `s3`, `object`, `reference`, `link`, `error`.
    pub storage_type: String,
    /// `contentType` (`text/plain; charset=utf-8`, …); empty when absent.
    pub content_type: String,
    /// `expires`, ms since the epoch.
    pub expires_ms: Option<i64>,
}

/// One page of an artifact listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactsPage {
    /// The page's artifacts.
    pub artifacts: Vec<Artifact>,
    /// `continuationToken`: present while more pages follow.
    pub continuation_token: Option<String>,
}

/// Parse the answer of [`task_artifacts_url`] or [`run_artifacts_url`]
/// (`{artifacts: [{storageType, name, expires, contentType}], continuationToken?}`).
pub fn parse_artifacts(body: &[u8]) -> Result<ArtifactsPage> {
    const SOURCE: &str = "Taskcluster artifact list";
    let answer: Value = serde_json::from_slice(body).map_err(|e| Error::json(SOURCE, &e))?;
    let empty = Map::new();
    let artifacts = answer
        .get("artifacts")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::parse_field(SOURCE, "artifacts", "expected a list"))?
        .iter()
        .enumerate()
        .map(|(i, artifact)| {
            let fields = artifact.as_object().unwrap_or(&empty);
            let text = |name: &str| optional_text(fields.get(name)).unwrap_or_default();
            let name = optional_text(fields.get("name")).ok_or_else(|| {
                Error::parse_field(SOURCE, format!("artifacts[{i}].name"), "expected a string")
            })?;
            Ok(Artifact {
                name,
                storage_type: text("storageType"),
                content_type: text("contentType"),
                expires_ms: optional_time(artifact, "expires"),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ArtifactsPage {
        artifacts,
        continuation_token: continuation_token(&answer),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn root() -> RootUrl {
        RootUrl::parse("https://firefox-ci-tc.services.mozilla.com").unwrap()
    }

    #[test]
    fn urls_follow_the_queue_api() {
        let r = root();
        let base = "https://firefox-ci-tc.services.mozilla.com/api/queue/v1";
        assert_eq!(task_url(&r, "abc"), format!("{base}/task/abc"));
        assert_eq!(
            task_status_url(&r, "abc"),
            format!("{base}/task/abc/status")
        );
        assert_eq!(
            task_group_list_url(&r, "G", None, None),
            format!("{base}/task-group/G/list")
        );
        assert_eq!(
            task_group_list_url(&r, "G", Some("a+b/c"), Some(500)),
            format!("{base}/task-group/G/list?continuationToken=a%2Bb%2Fc&limit=500")
        );
        assert_eq!(
            task_artifacts_url(&r, "T", None),
            format!("{base}/task/T/artifacts")
        );
        assert_eq!(
            run_artifacts_url(&r, "T", 2),
            format!("{base}/task/T/runs/2/artifacts")
        );
        assert_eq!(
            artifact_url(&r, "T", "public/actions.json"),
            format!("{base}/task/T/artifacts/public/actions.json")
        );
        assert_eq!(
            run_artifact_url(&r, "T", 0, "public/logs/live backing.log"),
            format!("{base}/task/T/runs/0/artifacts/public/logs/live%20backing.log")
        );
        assert_eq!(
            task_url(&r, "../x?y"),
            format!("{base}/task/..%2Fx%3Fy"),
            "ids cannot escape their path segment"
        );
    }

    #[test]
    fn queue_states_keep_the_queue_spelling() {
        for name in [
            "unscheduled",
            "pending",
            "running",
            "completed",
            "failed",
            "exception",
        ] {
            let state = QueueState::parse(name).unwrap();
            assert_eq!(serde_json::to_value(state).unwrap(), json!(name));
        }
        assert_eq!(QueueState::parse("Completed"), None);
    }

    fn run(state: QueueState, reason: Option<&str>) -> TaskRun {
        TaskRun {
            run_id: 0,
            state,
            reason_created: "scheduled".into(),
            reason_resolved: reason.map(str::to_string),
            scheduled_ms: None,
            started_ms: None,
            resolved_ms: None,
        }
    }

    #[test]
    fn run_states_map_to_job_states() {
        use JobResult::*;
        let done = |r| JobState::Completed(r);
        let cases = [
            (run(QueueState::Pending, None), true, JobState::Pending),
            (run(QueueState::Running, None), true, JobState::Running),
            (
                run(QueueState::Completed, Some("completed")),
                true,
                done(Success),
            ),
            (
                run(QueueState::Failed, Some("failed")),
                true,
                done(TestFailed),
            ),
            (
                run(QueueState::Exception, Some("superseded")),
                true,
                done(Superseded),
            ),
            (
                run(QueueState::Exception, Some("canceled")),
                true,
                done(UserCancel),
            ),
            (
                run(QueueState::Exception, Some("deadline-exceeded")),
                false,
                done(Exception),
            ),
            (
                run(QueueState::Exception, Some("claim-expired")),
                false,
                done(Retry),
            ),
            (
                run(QueueState::Exception, Some("worker-shutdown")),
                true,
                done(Exception),
            ),
            (
                run(QueueState::Exception, Some("intermittent-task")),
                false,
                done(Retry),
            ),
            (
                run(QueueState::Exception, Some("malformed-payload")),
                false,
                done(Exception),
            ),
        ];
        for (r, last, expected) in cases {
            assert_eq!(run_job_state(&r, last), expected, "{r:?} last={last}");
        }
    }

    fn status_body(state: &str, runs: Value) -> Vec<u8> {
        json!({"status": {"taskId": "T", "taskGroupId": "G", "state": state, "runs": runs,
                          "retriesLeft": 4, "deadline": "2020-03-11T04:40:43.718Z",
                          "expires": "2021-03-10T04:40:43.718Z"}})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn task_status_uses_the_last_run() {
        let retried = parse_task_status(&status_body(
            "exception",
            json!([
                {"runId": 0, "state": "exception", "reasonCreated": "scheduled", "reasonResolved": "worker-shutdown"},
                {"runId": 1, "state": "exception", "reasonCreated": "retry", "reasonResolved": "canceled",
                 "scheduled": "2020-03-10T05:00:00.000Z", "resolved": "2020-03-10T05:01:00.000Z"}
            ]),
        ))
        .unwrap();
        assert_eq!(retried.task_id, "T");
        assert_eq!(retried.runs.len(), 2);
        assert_eq!(retried.runs[1].reason_created, "retry");
        assert_eq!(
            run_job_state(&retried.runs[0], false),
            JobState::Completed(JobResult::Retry)
        );
        assert_eq!(
            retried.job_state(),
            JobState::Completed(JobResult::UserCancel)
        );
        assert_eq!(retried.retries_left, Some(4));
        assert!(!retried.is_expired(0));
        assert!(retried.is_expired(retried.expires_ms.unwrap()));

        let pending_again = parse_task_status(&status_body(
            "pending",
            json!([{"runId": 0, "state": "exception", "reasonCreated": "scheduled", "reasonResolved": "claim-expired"},
                   {"runId": 1, "state": "pending", "reasonCreated": "retry"}]),
        ))
        .unwrap();
        assert_eq!(pending_again.job_state(), JobState::Pending);

        let never_ran = parse_task_status(&status_body("exception", json!([]))).unwrap();
        assert_eq!(
            never_ran.job_state(),
            JobState::Completed(JobResult::Exception)
        );
        let failed = parse_task_status(&status_body(
            "failed",
            json!([{"runId": 0, "state": "failed"}]),
        ))
        .unwrap();
        assert_eq!(
            failed.job_state(),
            JobState::Completed(JobResult::TestFailed)
        );
    }

    #[test]
    fn malformed_statuses_name_the_field() {
        for (body, field) in [
            (json!({}), "status"),
            (json!({"status": {"taskId": "T"}}), "status.state"),
            (
                json!({"status": {"taskId": "T", "state": "weird"}}),
                "status.state",
            ),
            (
                json!({"status": {"taskId": "T", "state": "pending", "runs": [{"state": "pending"}]}}),
                "status.runs[0].runId",
            ),
            (
                json!({"status": {"taskId": "T", "state": "pending", "runs": {}}}),
                "status.runs",
            ),
        ] {
            match parse_task_status(body.to_string().as_bytes()) {
                Err(Error::Parse {
                    field: Some(got), ..
                }) => assert_eq!(got, field, "{body}"),
                other => panic!("{body} gave {other:?}"),
            }
        }
    }

    #[test]
    fn artifacts_pages_carry_their_continuation() {
        let page = parse_artifacts(
            br#"{"artifacts": [{"storageType": "s3", "name": "public/logs/live_backing.log",
                 "expires": "2021-03-10T04:40:43.718Z", "contentType": "text/plain; charset=utf-8"}],
                 "continuationToken": "next"}"#,
        )
        .unwrap();
        assert_eq!(page.artifacts[0].name, "public/logs/live_backing.log");
        assert_eq!(page.artifacts[0].storage_type, "s3");
        assert_eq!(page.artifacts[0].expires_ms, Some(1_615_351_243_718));
        assert_eq!(page.continuation_token.as_deref(), Some("next"));
        let last = parse_artifacts(br#"{"artifacts": []}"#).unwrap();
        assert_eq!(last.continuation_token, None);
        assert!(parse_artifacts(br#"{"artifacts": [{}]}"#).is_err());
        assert!(parse_artifacts(br#"{"artifacts": [1]}"#).is_err());
    }
}

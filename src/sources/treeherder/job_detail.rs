//! One job's details and logs: `/api/project/{repo}/jobs/{id}/` and
//! `/api/project/{repo}/job-log-url/?job_id=N`.

#![warn(missing_docs)]

use super::fields::{expect_array, parse_body, Record};
use super::jobs::{job_from_record, TreeherderJob};
use crate::error::Result;

/// `job-log-url` names of the raw structured log (the 2015 Buildbot name,
/// and what the sandbox and some harnesses still publish).
pub const RAW_LOG_NAMES: &[&str] = &["mozlog_json"];
/// `job-log-url` names of the error summary.
pub const ERRORSUMMARY_LOG_NAMES: &[&str] = &["errorsummary_json"];
/// `job-log-url` names of a job's text log, best first: Taskcluster's task
/// log, then Buildbot's.
pub const TEXT_LOG_NAMES: &[&str] = &["live_backing_log", "buildbot_text"];

const JOB_DETAIL: &str = "Treeherder job detail";
const JOB_LOG_URLS: &str = "Treeherder job log URLs";

/// The job detail endpoint: the job's fields plus its logs and task run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobDetail {
    /// The job's own fields (as in a jobs list).
    pub job: TreeherderJob,
    /// `logs`: the job's logs by name.
    pub logs: Vec<JobLog>,
    /// `taskcluster_metadata`, for Taskcluster jobs.
    pub taskcluster: Option<TaskRun>,
    /// Who pushed or requested the job (`who`).
    pub who: Option<String>,
    /// Why it ran (`reason`: `scheduled`, a retrigger, …).
    pub reason: Option<String>,
}

/// A log named in the job detail (`live_backing_log`, `errorsummary_json`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobLog {
    /// The log's name (`live_backing_log`, `errorsummary_json`, …).
    pub name: String,
    /// Where to download it (a Taskcluster artifact URL for Taskcluster jobs).
    pub url: String,
}

/// A Taskcluster task and run (Treeherder's `retry_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRun {
    /// `task_id`: the Taskcluster task id.
    pub task_id: String,
    /// `retry_id`: the Taskcluster run id, 0 for the first run.
    pub retry_id: u32,
}

/// One entry of `job-log-url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobLogUrl {
    /// Treeherder's id of the log entry.
    pub id: u64,
    /// The Treeherder job id.
    pub job_id: u64,
    /// `live_backing_log`, `errorsummary_json`; 2015 `buildbot_text`, `mozlog_json`.
    pub name: String,
    /// Where to download the log.
    pub url: String,
    /// `pending`, `parsed`, `failed`, … when given.
    pub parse_status: Option<String>,
}

impl JobDetail {
    /// The first log called `name`.
    pub fn log_url(&self, name: &str) -> Option<&str> {
        self.logs
            .iter()
            .find(|log| log.name == name)
            .map(|log| log.url.as_str())
    }
}

/// Parse `/api/project/{repo}/jobs/{id}/`.
pub fn parse_job_detail(body: &[u8]) -> Result<JobDetail> {
    let root = parse_body(body, JOB_DETAIL)?;
    let detail = Record::object(&root, JOB_DETAIL, "")?;
    let logs = detail
        .opt_array("logs")?
        .iter()
        .enumerate()
        .map(|(i, log)| {
            let path = format!("logs.{i}");
            let log = Record::object(log, JOB_DETAIL, &path)?;
            Ok(JobLog {
                name: log.str("name")?.to_string(),
                url: log.str("url")?.to_string(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let taskcluster = match detail.get("taskcluster_metadata") {
        Some(meta) => {
            let meta = Record::object(meta, JOB_DETAIL, "taskcluster_metadata")?;
            Some(TaskRun {
                task_id: meta.str("task_id")?.to_string(),
                retry_id: meta.lenient_u32("retry_id")?,
            })
        }
        None => None,
    };
    Ok(JobDetail {
        job: job_from_record(&detail)?,
        logs,
        taskcluster,
        who: detail.opt_string("who")?,
        reason: detail.opt_string("reason")?,
    })
}

/// Parse `/api/project/{repo}/job-log-url/?job_id=N`.
pub fn parse_job_log_urls(body: &[u8]) -> Result<Vec<JobLogUrl>> {
    let root = parse_body(body, JOB_LOG_URLS)?;
    expect_array(&root, JOB_LOG_URLS, "")?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = i.to_string();
            let log = Record::object(item, JOB_LOG_URLS, &path)?;
            Ok(JobLogUrl {
                id: log.u64("id")?,
                job_id: log.u64("job_id")?,
                name: log.str("name")?.to_string(),
                url: log.str("url")?.to_string(),
                parse_status: log.opt_string("parse_status")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn buildbot_detail_without_taskcluster_metadata() {
        let body = br#"{"id": 2123474, "job_type_name": "Build", "job_type_symbol": "B",
            "platform": "linux32", "state": "completed", "result": "success",
            "build_system_type": "buildbot", "ref_data_name": "Linux mozilla-inbound build",
            "logs": [{"name": "buildbot_text", "url": "http://ftp/log.txt.gz"}]}"#;
        let detail = parse_job_detail(body).unwrap();
        assert_eq!(detail.taskcluster, None);
        assert_eq!(
            detail.log_url("buildbot_text"),
            Some("http://ftp/log.txt.gz")
        );
        assert_eq!(detail.log_url("live_backing_log"), None);
        assert_eq!(detail.job.job_name(), "Linux mozilla-inbound build");
    }

    #[test]
    fn log_errors_name_the_field() {
        for (body, field) in [
            (&br#"[{"id": 1, "job_id": 2, "name": "n"}]"#[..], "0.url"),
            (
                br#"[{"id": 1, "job_id": -2, "name": "n", "url": "u"}]"#,
                "0.job_id",
            ),
        ] {
            match parse_job_log_urls(body) {
                Err(Error::Parse { field: got, .. }) => assert_eq!(got.as_deref(), Some(field)),
                other => panic!("expected a parse error, got {other:?}"),
            }
        }
        let bad_log = br#"{"id": 1, "job_type_name": "n", "job_type_symbol": "s", "platform": "p",
            "state": "running", "result": "unknown", "logs": [{"name": 5, "url": "u"}]}"#;
        match parse_job_detail(bad_log) {
            Err(Error::Parse { field, .. }) => assert_eq!(field.as_deref(), Some("logs.0.name")),
            other => panic!("expected a parse error, got {other:?}"),
        }
    }
}

//! Treeherder jobs in both wire forms, normalised into one [`TreeherderJob`]
//! and converted to [`crate::model::Job`].
//!
//! List form (`/api/jobs/`, and 2015's `/api/project/{repo}/jobs/`): each
//! result is an array read through `job_property_names`, always by name.
//! Dict form (`/api/project/{repo}/jobs/` today): each result is an object.

#![warn(missing_docs)]

use super::fields::{expect_array, parse_body, Columns, Record};
use crate::error::{Error, Result};
use crate::model::{CiSystem, Job, JobIds, JobKind, JobResult, JobState, Revision};

const JOBS_LIST: &str = "Treeherder jobs list (/api/jobs/)";
const PROJECT_JOBS: &str = "Treeherder project jobs (/api/project/{repo}/jobs/)";

/// Treeherder's `state` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TreeherderState {
    /// Known to Taskcluster but not yet schedulable (pulse only).
    Unscheduled,
    /// Scheduled, not started.
    Pending,
    /// Started, not finished.
    Running,
    /// Finished; `result` says how.
    Completed,
}

impl TreeherderState {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "unscheduled" => TreeherderState::Unscheduled,
            "pending" => TreeherderState::Pending,
            "running" => TreeherderState::Running,
            "completed" => TreeherderState::Completed,
            _ => return None,
        })
    }
}

/// One job, whichever form it came in. Unknown extra fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeherderJob {
    /// Treeherder's job id: the key of `/api/project/{repo}/jobs/{id}/`.
    pub id: u64,
    /// The job's guid, unique across Treeherder (set by the CI system that reported it).
    pub job_guid: Option<String>,
    /// `push_id`, or its 2015 alias `result_set_id`.
    pub push_id: Option<u64>,
    /// Only the current list form carries it.
    pub push_revision: Option<Revision>,
    /// The job type's name: the Taskcluster label, or the Buildbot job name.
    pub job_type_name: String,
    /// The symbol shown on Treeherder (`B`, `bc3`, `D`).
    pub job_type_symbol: String,
    /// The group shown around the symbol; `unknown` when ungrouped.
    pub job_group_name: Option<String>,
    /// The group's symbol; `?` when ungrouped.
    pub job_group_symbol: Option<String>,
    /// Buildbot buildername or Taskcluster label; today often the signature hash.
    pub ref_data_name: Option<String>,
    /// The job signature: a hash of the job type's identifying fields.
    pub signature: Option<String>,
    /// Treeherder's platform name (`linux64`, `gecko-decision`).
    pub platform: String,
    /// The build option (`opt`, `debug`, `asan`, …).
    pub platform_option: Option<String>,
    /// `build_system_type`; `None` when the payload does not say.
    pub build_system_type: Option<CiSystem>,
    /// The job's `state`.
    pub state: TreeherderState,
    /// `None` for Treeherder's `unknown` (the job has not finished).
    pub result: Option<JobResult>,
    /// 1 to 3; Treeherder hides tier 3 by default.
    pub tier: Option<u32>,
    /// The Taskcluster task id; absent for Buildbot jobs.
    pub task_id: Option<String>,
    /// The Taskcluster run id (0 for the first run).
    pub retry_id: Option<u32>,
    /// 2015: the guid of the job this one was coalesced into.
    pub job_coalesced_to_guid: Option<String>,
    /// The sheriffs' classification (1 is "not classified").
    pub failure_classification_id: Option<u64>,
    /// When Treeherder last changed the job: ISO 8601 without zone, UTC.
    pub last_modified: Option<String>,
    /// When the job was submitted: Unix seconds (dict form only).
    pub submit_timestamp: Option<i64>,
    /// When it started: Unix seconds (dict form only; 0 until it started).
    pub start_timestamp: Option<i64>,
    /// When it ended: Unix seconds (dict form only; 0 until it ended).
    pub end_timestamp: Option<i64>,
    /// The jobs list's `duration`: whole minutes (at least 1) from the start
    /// (the submission while pending) to the end (now while unfinished), as
    /// Treeherder's `Job.get_duration` computes it (treeherder/model/models.py).
    /// Not seconds: a 35-minute job says 35.
    pub duration_minutes: Option<i64>,
}

/// One page of jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobsPage {
    /// The server's `count` (top level, or `meta.count` in the dict form).
    pub count: Option<u64>,
    /// The next page's link, as sent (resolve it with
    /// [`super::TreeherderApi::resolve_next_url`]); `None` on the last page.
    pub next: Option<String>,
    /// The previous page's link, as sent; `None` on the first page.
    pub previous: Option<String>,
    /// The page's jobs, in the server's order.
    pub jobs: Vec<TreeherderJob>,
}

/// Parse a page of the list-form `/api/jobs/?push_id=…`.
pub fn parse_jobs_list(body: &[u8]) -> Result<JobsPage> {
    parse_jobs_page(body, JOBS_LIST)
}

/// Parse a page of `/api/project/{repo}/jobs/?push_id=&offset=&count=`
/// (objects today; arrays with `job_property_names` in 2015).
pub fn parse_project_jobs(body: &[u8]) -> Result<JobsPage> {
    parse_jobs_page(body, PROJECT_JOBS)
}

fn parse_jobs_page(body: &[u8], source: &'static str) -> Result<JobsPage> {
    let root = parse_body(body, source)?;
    let page = Record::object(&root, source, "")?;
    let rows = expect_array(
        page.get("results")
            .ok_or_else(|| page.error("results", "missing"))?,
        source,
        "results",
    )?;
    let columns = match page.get("job_property_names") {
        Some(names) => Some(Columns::from_names(
            expect_array(names, source, "job_property_names")?,
            source,
            "job_property_names",
        )?),
        None => None,
    };
    let count = match page.opt_u64("count")? {
        Some(n) => Some(n),
        None => match page.get("meta") {
            Some(meta) => Record::object(meta, source, "meta")?.opt_u64("count")?,
            None => None,
        },
    };
    let mut jobs = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let path = format!("results.{i}");
        let record = match (row, &columns) {
            (serde_json::Value::Array(_), Some(columns)) => {
                Record::row(row, columns, source, &path)?
            }
            (serde_json::Value::Array(_), None) => {
                return Err(Error::parse_field(
                    source,
                    "job_property_names",
                    "missing, but results are arrays",
                ))
            }
            _ => Record::object(row, source, &path)?,
        };
        jobs.push(job_from_record(&record)?);
    }
    Ok(JobsPage {
        count,
        next: page.opt_string("next")?,
        previous: page.opt_string("previous")?,
        jobs,
    })
}

/// Read the job fields of one record (shared with the job detail endpoint).
pub(super) fn job_from_record(job: &Record<'_>) -> Result<TreeherderJob> {
    let state_text = job.str("state")?;
    let state = TreeherderState::parse(state_text)
        .ok_or_else(|| job.error("state", format!("unrecognised state `{state_text}`")))?;
    let result_text = job.str("result")?;
    let result = match result_text {
        "unknown" => None,
        other => Some(
            JobResult::from_treeherder(other)
                .ok_or_else(|| job.error("result", format!("unrecognised result `{other}`")))?,
        ),
    };
    let build_system_type = match job.opt_str("build_system_type")? {
        None => None,
        Some("buildbot") => Some(CiSystem::Buildbot),
        Some("taskcluster") => Some(CiSystem::Taskcluster),
        Some(other) => {
            return Err(job.error(
                "build_system_type",
                format!("unrecognised build system `{other}`"),
            ))
        }
    };
    let push_id = match job.opt_u64("push_id")? {
        Some(id) => Some(id),
        None => job.opt_u64("result_set_id")?,
    };
    Ok(TreeherderJob {
        id: job.u64("id")?,
        job_guid: job.opt_string("job_guid")?,
        push_id,
        push_revision: job.opt_str("push_revision")?.map(Revision::from),
        job_type_name: job.str("job_type_name")?.to_string(),
        job_type_symbol: job.str("job_type_symbol")?.to_string(),
        job_group_name: job.opt_string("job_group_name")?,
        job_group_symbol: job.opt_string("job_group_symbol")?,
        ref_data_name: job.opt_string("ref_data_name")?,
        signature: job.opt_string("signature")?,
        platform: job.str("platform")?.to_string(),
        platform_option: job.opt_string("platform_option")?,
        build_system_type,
        state,
        result,
        tier: job.opt_u32("tier")?,
        task_id: job.opt_string("task_id")?,
        retry_id: job.opt_u32("retry_id")?,
        job_coalesced_to_guid: job.opt_string("job_coalesced_to_guid")?,
        failure_classification_id: job.opt_u64("failure_classification_id")?,
        last_modified: job.opt_string("last_modified")?,
        submit_timestamp: job.opt_i64("submit_timestamp")?,
        start_timestamp: job.opt_i64("start_timestamp")?,
        end_timestamp: job.opt_i64("end_timestamp")?,
        duration_minutes: job.opt_i64("duration")?,
    })
}

impl TreeherderJob {
    /// Coalescing wins over everything (the job did not run on its own push);
    /// then pending/unscheduled, running, and completed with its result, where
    /// a completed job still saying `unknown` is [`JobState::Unknown`].
    pub fn job_state(&self) -> JobState {
        if self
            .job_coalesced_to_guid
            .as_deref()
            .is_some_and(|guid| !guid.is_empty())
        {
            return JobState::Coalesced;
        }
        match self.state {
            TreeherderState::Unscheduled | TreeherderState::Pending => JobState::Pending,
            TreeherderState::Running => JobState::Running,
            TreeherderState::Completed => match self.result {
                Some(result) => JobState::Completed(result),
                None => JobState::Unknown,
            },
        }
    }

    /// `build_system_type`, Taskcluster when the payload does not say (set
    /// the field to Buildbot first when reading a Buildbot-era server).
    pub fn ci_system(&self) -> CiSystem {
        self.build_system_type.unwrap_or(CiSystem::Taskcluster)
    }

    /// The job type's identity: `ref_data_name` (Buildbot buildername) unless
    /// it is absent or just the signature hash, as Treeherder sends for
    /// Taskcluster jobs; then `job_type_name` (the Taskcluster label).
    pub fn job_name(&self) -> &str {
        match self.ref_data_name.as_deref() {
            Some(name) if !name.is_empty() && !is_signature_like(name, &self.signature) => name,
            _ => &self.job_type_name,
        }
    }

    /// Build or test, by Treeherder's naming conventions: the symbol `B`, or
    /// a job type name / buildername that is `build`, starts with `build-`
    /// (Taskcluster labels) or contains ` build` (Buildbot names such as
    /// `Linux mozilla-inbound leak test build`). Everything else is a test.
    pub fn job_kind(&self) -> JobKind {
        let names_a_build = |name: &str| {
            let name = name.to_ascii_lowercase();
            name == "build" || name.starts_with("build-") || name.contains(" build")
        };
        let is_build = self.job_type_symbol == "B"
            || names_a_build(&self.job_type_name)
            || self.ref_data_name.as_deref().is_some_and(names_a_build);
        if is_build {
            JobKind::Build
        } else {
            JobKind::Test
        }
    }

    /// Machine time of a finished run in seconds: its end less its start
    /// where both are set (dict form; 0 means not yet), else the jobs
    /// list's whole-minute `duration` (which counts from the start, or the
    /// submission when the job never started). `None` while unfinished and
    /// where no time is positive.
    pub fn run_seconds(&self) -> Option<u64> {
        if self.state != TreeherderState::Completed {
            return None;
        }
        let measured = match (self.start_timestamp, self.end_timestamp) {
            (Some(start), Some(end)) if start > 0 && end > start => Some(end - start),
            _ => self
                .duration_minutes
                .filter(|&m| m > 0)
                .map(|m| m.saturating_mul(60)),
        };
        measured.and_then(|s| u64::try_from(s).ok())
    }

    /// The model job. `push_revision` is used when the payload does not carry
    /// one (dict form, detail, older list pages): pass the push's revision.
    pub fn to_model_job(&self, push_revision: Option<&Revision>) -> Result<Job> {
        let revision = self
            .push_revision
            .as_ref()
            .or(push_revision)
            .cloned()
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "Treeherder job {} carries no push revision and none was given",
                    self.id
                ))
            })?;
        Ok(Job {
            kind: self.job_kind(),
            ci: self.ci_system(),
            name: self.job_name().to_string(),
            platform: self.platform.clone(),
            symbol: self.job_type_symbol.clone(),
            revision,
            push_id: self.push_id,
            ids: JobIds {
                job_id: Some(self.id),
                guid: self.job_guid.clone(),
                request_ids: Vec::new(),
                build_id: None,
                task_id: self.task_id.clone(),
                run_id: self.retry_id,
            },
            state: self.job_state(),
            run_seconds: self.run_seconds(),
        })
    }
}

/// Whether `name` is a signature hash rather than a readable name.
fn is_signature_like(name: &str, signature: &Option<String>) -> bool {
    signature.as_deref() == Some(name)
        || (name.len() == 40 && name.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(extra: serde_json::Value) -> TreeherderJob {
        let mut base = json!({
            "id": 1, "job_type_name": "test-linux64/opt-xpcshell-1", "job_type_symbol": "X1",
            "platform": "linux64", "state": "completed", "result": "success",
            "push_revision": "abcdefabcdef"
        });
        if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
            base.extend(extra.clone());
        }
        let body = json!({"results": [base]}).to_string();
        parse_project_jobs(body.as_bytes()).unwrap().jobs.remove(0)
    }

    #[test]
    fn states_from_state_result_and_coalescing() {
        assert_eq!(
            job(json!({"state": "pending", "result": "unknown"})).job_state(),
            JobState::Pending
        );
        assert_eq!(
            job(json!({"state": "unscheduled", "result": "unknown"})).job_state(),
            JobState::Pending
        );
        assert_eq!(
            job(json!({"state": "running", "result": "unknown"})).job_state(),
            JobState::Running
        );
        assert_eq!(
            job(json!({"result": "busted"})).job_state(),
            JobState::Completed(JobResult::Busted)
        );
        assert_eq!(
            job(json!({"result": "unknown"})).job_state(),
            JobState::Unknown
        );
        assert_eq!(
            job(json!({"job_coalesced_to_guid": "f00"})).job_state(),
            JobState::Coalesced
        );
        assert_eq!(
            job(json!({"job_coalesced_to_guid": null})).job_state(),
            JobState::Completed(JobResult::Success)
        );
    }

    #[test]
    fn kinds_names_and_systems() {
        let tc_build = job(json!({"job_type_name": "build-linux64/opt", "job_type_symbol": "Bo"}));
        assert_eq!(tc_build.job_kind(), JobKind::Build);
        assert_eq!(tc_build.ci_system(), CiSystem::Taskcluster);
        let bb_build = job(json!({
            "job_type_name": "Linux x86-64 mozilla-inbound build", "job_type_symbol": "X",
            "build_system_type": "buildbot", "ref_data_name": "Linux x86-64 mozilla-inbound build"
        }));
        assert_eq!(bb_build.job_kind(), JobKind::Build);
        assert_eq!(bb_build.ci_system(), CiSystem::Buildbot);
        assert_eq!(bb_build.job_name(), "Linux x86-64 mozilla-inbound build");
        let test = job(json!({"ref_data_name": "6fa22307f1f7d626d29a1adc4b49ea470569702c"}));
        assert_eq!(test.job_kind(), JobKind::Test);
        assert_eq!(test.job_name(), "test-linux64/opt-xpcshell-1");
        let rebuilt = job(json!({"job_type_name": "test-linux64/opt-rebuild-check"}));
        assert_eq!(rebuilt.job_kind(), JobKind::Test);
    }

    #[test]
    fn run_seconds_from_start_and_end_or_the_minutes() {
        let both = job(json!({"start_timestamp": 1000, "end_timestamp": 3100, "duration": 35}));
        assert_eq!(both.run_seconds(), Some(2100));
        assert_eq!(both.to_model_job(None).unwrap().run_seconds, Some(2100));
        // The list form carries only the minutes.
        assert_eq!(job(json!({"duration": 35})).run_seconds(), Some(2100));
        // Not started (0), or an end before the start: the minutes, if any.
        let unstarted = job(json!({"start_timestamp": 0, "end_timestamp": 500, "duration": 2}));
        assert_eq!(unstarted.run_seconds(), Some(120));
        let backwards = job(json!({"start_timestamp": 900, "end_timestamp": 800}));
        assert_eq!(backwards.run_seconds(), None);
        assert_eq!(job(json!({"duration": 0})).run_seconds(), None);
        assert_eq!(job(json!({"duration": -3})).run_seconds(), None);
        assert_eq!(job(json!({})).run_seconds(), None);
        // Unfinished: its duration runs on, it is no machine time yet.
        let running = job(json!({"state": "running", "result": "unknown", "duration": 9}));
        assert_eq!(running.run_seconds(), None);
    }

    #[test]
    fn model_job_needs_a_revision_from_somewhere() {
        let without = job(json!({"push_revision": null, "result_set_id": 4}));
        assert_eq!(without.push_id, Some(4));
        assert!(matches!(without.to_model_job(None), Err(Error::Invalid(_))));
        let given = Revision::from("0123456789ab");
        let model = without.to_model_job(Some(&given)).unwrap();
        assert_eq!(model.revision, given);
        let own = job(json!({})).to_model_job(Some(&given)).unwrap();
        assert_eq!(own.revision.0, "abcdefabcdef");
        assert_eq!(own.ids.job_id, Some(1));
    }

    #[test]
    fn field_errors_carry_the_row_path() {
        for (body, field) in [
            (
                &br#"{"results": [{"id": 1, "job_type_name": "n", "job_type_symbol": "s", "platform": "p", "state": "done", "result": "success"}]}"#[..],
                "results.0.state",
            ),
            (
                br#"{"results": [{"id": 1, "job_type_name": "n", "job_type_symbol": "s", "platform": "p", "state": "completed", "result": "great"}]}"#,
                "results.0.result",
            ),
            (
                br#"{"results": [{"id": 1, "job_type_name": "n", "job_type_symbol": "s", "platform": "p", "state": "completed", "result": "success", "build_system_type": "jenkins"}]}"#,
                "results.0.build_system_type",
            ),
            (
                br#"{"results": [{"id": "1", "job_type_name": "n", "job_type_symbol": "s", "platform": "p", "state": "completed", "result": "success"}]}"#,
                "results.0.id",
            ),
            (br#"{"results": [[1, 2]]}"#, "job_property_names"),
            (br#"{"results": {}}"#, "results"),
            (br#"{"count": 1}"#, "results"),
            (br#"{"results": [], "job_property_names": [1]}"#, "job_property_names.0"),
        ] {
            match parse_jobs_list(body) {
                Err(Error::Parse { field: got, .. }) => assert_eq!(got.as_deref(), Some(field)),
                other => panic!("expected a parse error, got {other:?}"),
            }
        }
    }
}

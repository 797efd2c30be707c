//! Treeherder's REST API: URL builders and parsers for the endpoints the
//! add-on reads (repositories, pushes, jobs in list and dict form, a job's
//! detail, logs, failure lines and artifacts), from 2015's API to today's.

#![warn(missing_docs)]

mod artifacts;
mod failure_lines;
mod fields;
mod job_detail;
mod jobs;
mod pushes;
mod repositories;
mod urls;

pub use artifacts::{
    buildapi_request_ids, parse_job_artifacts, parse_text_log_summary, JobArtifact, SummaryError,
    TextLogSummary,
};
pub use failure_lines::{
    parse_bug_suggestions, parse_text_log_errors, BugSuggestion, SuggestedBug, TextLogError,
};
pub use job_detail::{
    parse_job_detail, parse_job_log_urls, JobDetail, JobLog, JobLogUrl, TaskRun,
    ERRORSUMMARY_LOG_NAMES, RAW_LOG_NAMES, TEXT_LOG_NAMES,
};
pub use jobs::{parse_jobs_list, parse_project_jobs, JobsPage, TreeherderJob, TreeherderState};
pub use pushes::{parse_decision_tasks, parse_push_list, DecisionTask, PushList, TreeherderPush};
pub use repositories::{parse_repositories, Repository};
pub use urls::{
    JobsListFilter, PushFilter, TreeherderApi, TreeherderProject, MAX_JOBS_COUNT, MAX_PUSH_COUNT,
    PRODUCTION_ROOT,
};

//! Treeherder's REST API bodies: every parser of `sources::treeherder` on the
//! same input (each fixture is a seed for all of them), and the conversions
//! to model types the add-on applies to what they return.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mozci::model::Revision;
use mozci::sources::treeherder::{
    buildapi_request_ids, parse_bug_suggestions, parse_decision_tasks, parse_job_artifacts,
    parse_job_detail, parse_job_log_urls, parse_jobs_list, parse_project_jobs, parse_push_list,
    parse_repositories, parse_text_log_errors, parse_text_log_summary,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(repositories) = parse_repositories(data) {
        for repo in &repositories {
            let _ = (repo.repo_path(), repo.hg_origin());
        }
    }
    if let Ok(list) = parse_push_list(data) {
        let pushes = list.to_model_pushes("try");
        assert_eq!(pushes.len(), list.pushes.len());
        for push in &list.pushes {
            let _ = push.has_all_revisions();
        }
    }
    let revision = Revision("a".repeat(40));
    for page in [parse_jobs_list(data), parse_project_jobs(data)]
        .into_iter()
        .flatten()
    {
        for job in &page.jobs {
            let _ = (
                job.job_state(),
                job.ci_system(),
                job.job_name(),
                job.job_kind(),
            );
            let _ = job.to_model_job(Some(&revision));
            let _ = job.to_model_job(None);
        }
    }
    if let Ok(detail) = parse_job_detail(data) {
        let _ = detail.log_url("live_backing_log");
    }
    let _ = parse_job_log_urls(data);
    let _ = parse_text_log_errors(data);
    let _ = parse_bug_suggestions(data);
    let _ = parse_decision_tasks(data);
    if let Ok(artifacts) = parse_job_artifacts(data) {
        for artifact in &artifacts {
            let _ = (artifact.buildapi_request_id(), artifact.text_log_summary());
        }
        let _ = buildapi_request_ids(&artifacts);
    }
    let _ = parse_text_log_summary(data);
});

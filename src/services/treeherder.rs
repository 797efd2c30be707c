//! Reading Treeherder: the selected job, the pushes before it and the runs
//! of a job type on them, in as few round trips as the API allows (one
//! request for a range of pushes, one paged query for all their jobs).
//! Treeherder shows every CI system's runs but is none of them: `ci/`'s
//! backends and the engine both read it through here.

#![warn(missing_docs)]

use crate::error::{Error, Result};
use crate::http::{send_checked, HttpClient, HttpRequest, RetryPolicy};
use crate::model::{Job, Push, Revision};
use crate::sources::treeherder::{
    parse_decision_tasks, parse_job_detail, parse_jobs_list, parse_push_list, parse_repositories,
    JobsListFilter, PushFilter, Repository, TreeherderApi, TreeherderJob,
};
use std::collections::HashMap;

/// What reading Treeherder needs: an HTTP client and Treeherder's origin
/// (`ci::CiContext` has both).
pub trait TreeherderAccess {
    /// The client to read with.
    fn http(&self) -> &dyn HttpClient;
    /// Treeherder's origin, `https://treeherder.mozilla.org`.
    fn treeherder_origin(&self) -> &str;
}

/// Pages of jobs followed at most, so a misbehaving `next` chain cannot loop forever.
const MAX_PAGES: usize = 50;

async fn get(ctx: &(impl TreeherderAccess + ?Sized), url: &str) -> Result<Vec<u8>> {
    let request = HttpRequest::get(url).header("Accept", "application/json");
    Ok(send_checked(ctx.http(), request, RetryPolicy::default())
        .await?
        .body)
}

fn api(ctx: &(impl TreeherderAccess + ?Sized)) -> Result<TreeherderApi> {
    TreeherderApi::new(ctx.treeherder_origin())
}

/// `/api/repository/`.
pub async fn repositories(ctx: &(impl TreeherderAccess + ?Sized)) -> Result<Vec<Repository>> {
    parse_repositories(&get(ctx, &api(ctx)?.repositories_url()).await?)
}

/// One repository's description (try or not, its Taskcluster root URL).
pub async fn repository(ctx: &(impl TreeherderAccess + ?Sized), repo: &str) -> Result<Repository> {
    repositories(ctx)
        .await?
        .into_iter()
        .find(|r| r.name == repo)
        .ok_or_else(|| Error::Invalid(format!("Treeherder knows no repository `{repo}`")))
}

/// The push with `revision` and up to `earlier` pushes before it, newest
/// first, in one request (`tochange` is inclusive).
pub async fn pushes_ending_at(
    ctx: &(impl TreeherderAccess + ?Sized),
    repo: &str,
    revision: &Revision,
    earlier: u32,
) -> Result<Vec<Push>> {
    let project = api(ctx)?.project(repo)?;
    let filter = PushFilter {
        tochange: Some(revision.0.clone()),
        count: Some(earlier + 1),
        full: true,
        ..PushFilter::default()
    };
    let list = parse_push_list(&get(ctx, &project.push_list_url(&filter)).await?)?;
    let mut pushes = list.to_model_pushes(repo);
    pushes.reverse();
    match pushes.first() {
        Some(first) if first.revision.matches(revision) => Ok(pushes),
        _ => Err(Error::Invalid(format!(
            "revision {revision} is not a push of {repo} on Treeherder"
        ))),
    }
}

/// Pushes by Treeherder id range (inclusive), newest first.
pub async fn pushes_between_ids(
    ctx: &(impl TreeherderAccess + ?Sized),
    repo: &str,
    first_id: u64,
    last_id: u64,
) -> Result<Vec<Push>> {
    let project = api(ctx)?.project(repo)?;
    let count = (last_id.saturating_sub(first_id) + 1).min(1000) as u32;
    let filter = PushFilter {
        id_gte: Some(first_id),
        id_lte: Some(last_id),
        count: Some(count),
        full: true,
        ..PushFilter::default()
    };
    let list = parse_push_list(&get(ctx, &project.push_list_url(&filter)).await?)?;
    let mut pushes = list.to_model_pushes(repo);
    pushes.reverse();
    Ok(pushes)
}

/// Every job of the given pushes, optionally of one job type name, following
/// `next` links: one paged query for the whole range.
pub async fn jobs_of_pushes(
    ctx: &(impl TreeherderAccess + ?Sized),
    pushes: &[Push],
    job_type_name: Option<&str>,
) -> Result<Vec<TreeherderJob>> {
    if pushes.is_empty() {
        return Ok(Vec::new());
    }
    let api = api(ctx)?;
    let filter = JobsListFilter {
        push_id_in: pushes.iter().map(|p| p.id).collect(),
        job_type_name: job_type_name.map(str::to_string),
        count: Some(2000),
        ..JobsListFilter::default()
    };
    let mut url = api.jobs_list_url(&filter);
    let mut jobs = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = parse_jobs_list(&get(ctx, &url).await?)?;
        jobs.extend(page.jobs);
        match page.next {
            Some(next) => url = api.resolve_next_url(&next)?,
            None => return Ok(jobs),
        }
    }
    Err(Error::parse(
        "Treeherder jobs list",
        format!("more than {MAX_PAGES} pages of jobs: refusing to follow `next` further"),
    ))
}

/// Model jobs grouped by push id, each given its push's revision.
pub fn group_by_push(jobs: &[TreeherderJob], pushes: &[Push]) -> Result<HashMap<u64, Vec<Job>>> {
    let revisions: HashMap<u64, &Revision> = pushes.iter().map(|p| (p.id, &p.revision)).collect();
    let mut grouped: HashMap<u64, Vec<Job>> = HashMap::new();
    for job in jobs {
        let Some(push_id) = job.push_id else { continue };
        let Some(revision) = revisions.get(&push_id) else {
            continue;
        };
        grouped
            .entry(push_id)
            .or_default()
            .push(job.to_model_job(Some(revision))?);
    }
    Ok(grouped)
}

/// A job by Treeherder id, with its push.
pub async fn job_by_id(
    ctx: &(impl TreeherderAccess + ?Sized),
    repo: &str,
    job_id: u64,
) -> Result<(Job, Push)> {
    let project = api(ctx)?.project(repo)?;
    let detail = parse_job_detail(&get(ctx, &project.job_detail_url(job_id)).await?)?;
    let push_id = detail
        .job
        .push_id
        .ok_or_else(|| Error::parse_field("Treeherder job detail", "push_id", "missing"))?;
    let push = push_by_id(ctx, repo, push_id).await?;
    let job = detail.job.to_model_job(Some(&push.revision))?;
    Ok((job, push))
}

/// A job by Taskcluster task id and run, with its push.
pub async fn job_by_task(
    ctx: &(impl TreeherderAccess + ?Sized),
    repo: &str,
    task_id: &str,
    run: u32,
) -> Result<(Job, Push)> {
    let api = api(ctx)?;
    let filter = JobsListFilter {
        task_id: Some(task_id.to_string()),
        retry_id: Some(run),
        ..JobsListFilter::default()
    };
    let page = parse_jobs_list(&get(ctx, &api.jobs_list_url(&filter)).await?)?;
    let found = page.jobs.into_iter().next().ok_or_else(|| {
        Error::Invalid(format!(
            "Treeherder knows no job for task {task_id} run {run}"
        ))
    })?;
    let push_id = found
        .push_id
        .ok_or_else(|| Error::parse_field("Treeherder jobs list", "push_id", "missing"))?;
    let push = push_by_id(ctx, repo, push_id).await?;
    let job = found.to_model_job(Some(&push.revision))?;
    Ok((job, push))
}

/// One push by Treeherder id.
pub async fn push_by_id(
    ctx: &(impl TreeherderAccess + ?Sized),
    repo: &str,
    push_id: u64,
) -> Result<Push> {
    let project = api(ctx)?.project(repo)?;
    let filter = PushFilter {
        id: Some(push_id),
        full: true,
        ..PushFilter::default()
    };
    let list = parse_push_list(&get(ctx, &project.push_list_url(&filter)).await?)?;
    list.to_model_pushes(repo)
        .into_iter()
        .find(|p| p.id == push_id)
        .ok_or_else(|| Error::Invalid(format!("Treeherder knows no push {push_id} on {repo}")))
}

/// The decision task of each push (`push/decisiontask/`), by push id.
pub async fn decision_tasks(
    ctx: &(impl TreeherderAccess + ?Sized),
    repo: &str,
    push_ids: &[u64],
) -> Result<HashMap<u64, String>> {
    let project = api(ctx)?.project(repo)?;
    let tasks = parse_decision_tasks(&get(ctx, &project.decision_tasks_url(push_ids)).await?)?;
    Ok(tasks.into_iter().map(|t| (t.push_id, t.task_id)).collect())
}

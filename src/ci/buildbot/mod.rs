//! Buildbot as a CI system: Self-Serve BuildAPI for triggers and job lists,
//! buildjson for what actually ran, allthethings for which build a test needs.
//!
//! `state` holds the pure rules that turn those records into job states;
//! [`BuildbotCi`] fetches the records (concurrently, with conditional GETs
//! for the dumps) and implements the Job abstraction with them.

pub mod state;

use super::{CiBackend, CiContext, Refusal, TriggerReceipt};
use crate::error::{Error, Result};
use crate::http::{send_checked, send_mutation, BodyKind, HttpRequest, HttpResponse, RetryPolicy};
use crate::model::JobType;
use crate::model::{
    CiSystem, Job, JobIds, JobKind, JobResult, JobState, Push, PushHistory, UpstreamBuild,
};
use crate::sources::allthethings::{parse_allthethings, upstream_builder_from_name, AllTheThings};
use crate::sources::buildapi::QueuedRequest;
use crate::sources::buildapi::{
    parse_self_serve_response, parse_self_serve_rev, BasicCredentials, RevItem, SelfServeApi,
    TriggerOptions,
};
use crate::sources::buildjson::{
    builds_4hr_url, builds_pending_url, builds_running_url, parse_builds_pending,
    parse_builds_running, parse_finished_builds_bytes, BuildFilter, BuildjsonDump, ConditionalDump,
    FinishedBuild, RunningBuild,
};
use crate::sources::buildjson::{UtcDate, FOUR_HOURS_SECS};
use async_trait::async_trait;
use futures::future::try_join_all;
use state::{dump_to_consult, job_state_on_push, request_ids_on_push, BuildjsonView};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

/// Buildbot for one session: BuildAPI with the user's LDAP credentials,
/// buildjson and allthethings read anonymously and cached.
pub struct BuildbotCi {
    ctx: CiContext,
    api: SelfServeApi,
    dumps: RefCell<HashMap<String, ConditionalDump<Rc<Vec<FinishedBuild>>>>>,
    allthethings: RefCell<Option<Rc<AllTheThings>>>,
}

impl BuildbotCi {
    /// `credentials`: LDAP user and password, sent as HTTP Basic on every
    /// BuildAPI call. Without them BuildAPI answers 401.
    pub fn new(ctx: CiContext, credentials: Option<&BasicCredentials>) -> Result<Self> {
        let mut api = SelfServeApi::new(&ctx.endpoints.buildapi)?;
        if let Some(c) = credentials {
            api = api.with_credentials(c);
        }
        Ok(BuildbotCi {
            ctx,
            api,
            dumps: RefCell::new(HashMap::new()),
            allthethings: RefCell::new(None),
        })
    }

    async fn send(&self, request: HttpRequest, retry: RetryPolicy) -> Result<HttpResponse> {
        send_checked(self.ctx.http.as_ref(), request, retry).await
    }

    /// The builds and pending requests of one revision on `branch`.
    async fn rev_items(&self, branch: &str, push: &Push) -> Result<Vec<RevItem>> {
        let response = self
            .send(
                self.api.rev(branch, &push.revision)?,
                RetryPolicy::default(),
            )
            .await?;
        parse_self_serve_rev(&response.body)
    }

    /// A finished-builds dump, refreshed with a conditional GET.
    async fn finished_dump(&self, url: String, branch: &str) -> Result<Rc<Vec<FinishedBuild>>> {
        let request = {
            let dumps = self.dumps.borrow();
            dumps
                .get(&url)
                .map(ConditionalDump::request)
                .unwrap_or_else(|| HttpRequest::get(url.clone()).body_kind(BodyKind::BuildbotDump))
        };
        // Conditional answers (304) are not errors: read the raw response.
        let response = self.ctx.http.send(request).await?;
        let mut dumps = self.dumps.borrow_mut();
        let entry = dumps
            .entry(url.clone())
            .or_insert_with(|| ConditionalDump::new(url.clone()));
        let filter = BuildFilter::branch(branch);
        entry.apply(&response, |body| {
            parse_finished_builds_bytes(body, &filter).map(Rc::new)
        })?;
        entry
            .data
            .clone()
            .ok_or_else(|| Error::parse(&url, "no data after a refresh"))
    }

    async fn running_and_pending(&self) -> Result<(Vec<RunningBuild>, Vec<QueuedRequest>)> {
        let base = &self.ctx.endpoints.buildjson;
        let (running, pending) = futures::try_join!(
            self.send(
                HttpRequest::get(builds_running_url(base)).body_kind(BodyKind::BuildbotDump),
                RetryPolicy::default()
            ),
            self.send(
                HttpRequest::get(builds_pending_url(base)).body_kind(BodyKind::BuildbotDump),
                RetryPolicy::default()
            ),
        )?;
        Ok((
            parse_builds_running(&running.body)?,
            parse_builds_pending(&pending.body)?,
        ))
    }

    /// allthethings.json, fetched once per session (it changes with reconfigs, not pushes).
    async fn allthethings(&self) -> Result<Rc<AllTheThings>> {
        if let Some(cached) = self.allthethings.borrow().clone() {
            return Ok(cached);
        }
        let response = self
            .send(
                HttpRequest::get(self.ctx.endpoints.allthethings.clone())
                    .body_kind(BodyKind::BuildbotDump),
                RetryPolicy::default(),
            )
            .await?;
        let parsed = Rc::new(parse_allthethings(&response.body)?);
        *self.allthethings.borrow_mut() = Some(parsed.clone());
        Ok(parsed)
    }

    /// The build builder a test builder needs: allthethings' scheduler
    /// rules, else the name-based rule that holds for every 2015 pair.
    pub async fn upstream_builder(&self, test_builder: &str) -> Result<Option<String>> {
        let from_schedulers = match self.allthethings().await {
            Ok(att) => att
                .upstream_index()
                .upstream_builder(test_builder)
                .map(str::to_string),
            Err(_) => None,
        };
        Ok(from_schedulers.or_else(|| upstream_builder_from_name(test_builder)))
    }

    /// Send `request` once (never retried: it triggers work) and read the
    /// answer. Only a 4xx or BuildAPI's own `FAILED` proves nothing was
    /// queued; a lost, 5xx or unreadable answer is `Error::Uncertain`.
    async fn mutate(&self, request: HttpRequest) -> Result<String> {
        let response = send_mutation(self.ctx.http.as_ref(), request).await?;
        parse_self_serve_response(&response)
            .map(|accepted| accepted.request_id.to_string())
            .map_err(Error::after_sending)
    }
}

/// Builds of these pushes finished on or after the oldest push's day: the
/// day files from then to today, when the oldest push is older than the
/// 4-hour dump reaches (at most a week of files; older ones on demand).
fn likely_day_files(pushes: &[Push], now: i64, base: &str) -> BTreeSet<String> {
    const DAY: i64 = 86_400;
    const MAX_DAYS: i64 = 7;
    let Some(oldest) = pushes.iter().map(|p| p.date).min() else {
        return BTreeSet::new();
    };
    if now - oldest <= FOUR_HOURS_SECS {
        return BTreeSet::new();
    }
    let first_day = oldest.max(now - MAX_DAYS * DAY);
    (0..=MAX_DAYS)
        .map(|d| first_day + d * DAY)
        .take_while(|t| *t <= now + DAY)
        .map(|t| BuildjsonDump::Day(UtcDate::from_unix(t.min(now))).url(base))
        .collect()
}

fn to_job(item: &RevItem, job_type: &JobType, push: &Push, view: &BuildjsonView<'_>) -> Job {
    let build_id = match item {
        RevItem::Build(b) => Some(b.build_id),
        RevItem::Pending(_) => None,
    };
    Job {
        kind: job_type.kind,
        ci: CiSystem::Buildbot,
        name: item.buildername().to_string(),
        platform: job_type.platform.clone(),
        symbol: job_type.symbol.clone(),
        revision: push.revision.clone(),
        push_id: Some(push.id),
        ids: JobIds {
            request_ids: request_ids_on_push(item, &push.revision),
            build_id,
            ..JobIds::default()
        },
        state: job_state_on_push(item, &push.revision, view),
        // Buildbot offers no confirm tasks: nothing weighs a run's time.
        run_seconds: None,
    }
}

/// The upstream build's situation on a push, from its `/rev/` items.
fn upstream_build(
    build_name: &str,
    items: &[RevItem],
    push: &Push,
    view: &BuildjsonView<'_>,
) -> UpstreamBuild {
    let build_type = JobType {
        name: build_name.to_string(),
        ci: CiSystem::Buildbot,
        kind: JobKind::Build,
        platform: String::new(),
        symbol: "B".into(),
    };
    let builds: Vec<(Job, Option<&FinishedBuild>)> = items
        .iter()
        .filter(|i| i.buildername() == build_name)
        .map(|i| {
            (
                to_job(i, &build_type, push, view),
                i.request_ids()
                    .iter()
                    .find_map(|r| view.finished_build_of(*r)),
            )
        })
        .collect();
    let ready = builds.iter().find_map(|(job, finished)| {
        let finished = (*finished)?;
        let files = [finished.package_url.clone()?, finished.tests_url.clone()?];
        (job.state == JobState::Completed(JobResult::Success))
            .then(|| (job.clone(), files.to_vec()))
    });
    if let Some((build, files)) = ready {
        return UpstreamBuild::Ready { build, files };
    }
    if let Some((build, _)) = builds
        .iter()
        .find(|(j, _)| matches!(j.state, JobState::Pending | JobState::Running))
    {
        return UpstreamBuild::InProgress {
            build: build.clone(),
        };
    }
    // A successful build whose artifacts buildjson does not list yet is
    // still on its way, as far as tests are concerned.
    if let Some((build, _)) = builds
        .iter()
        .find(|(j, _)| j.state == JobState::Completed(JobResult::Success))
    {
        return UpstreamBuild::InProgress {
            build: build.clone(),
        };
    }
    match builds.into_iter().next() {
        Some((build, _)) => UpstreamBuild::Failed { build },
        None => UpstreamBuild::Missing {
            build_name: build_name.to_string(),
        },
    }
}

#[async_trait(?Send)]
impl CiBackend for BuildbotCi {
    fn system(&self) -> CiSystem {
        CiSystem::Buildbot
    }

    async fn push_histories(
        &self,
        repo: &str,
        pushes: &[Push],
        job_type: &JobType,
    ) -> Result<Vec<PushHistory>> {
        let branch = repo;
        let now = super::clock::now_secs() as i64;
        // One round: every push's /rev/, the 4-hour dump, running and pending
        // dumps, (for tests) allthethings, and the day files a build of these
        // pushes can have finished in (from the oldest push's day to today),
        // all at once, so that triggers can start after a third round trip.
        let likely_days = likely_day_files(pushes, now, &self.ctx.endpoints.buildjson);
        // A guessed day with no file yet (404) is just empty.
        let prefetched_days = try_join_all(likely_days.iter().map(|url| async move {
            match self.finished_dump(url.clone(), branch).await {
                Err(Error::NotFound { .. }) => Ok(Rc::new(Vec::new())),
                other => other,
            }
        }));
        let revs = try_join_all(pushes.iter().map(|p| self.rev_items(branch, p)));
        let four_hours = self.finished_dump(builds_4hr_url(&self.ctx.endpoints.buildjson), branch);
        let upstream = async {
            match job_type.kind {
                JobKind::Test => self.upstream_builder(&job_type.name).await,
                JobKind::Build => Ok(None),
            }
        };
        let (revs, four_hours, (running, pending), upstream, mut days) = futures::try_join!(
            revs,
            four_hours,
            self.running_and_pending(),
            upstream,
            prefetched_days
        )?;

        // Builds that finished more than 4 hours ago are only in day files;
        // fetch any the first round did not guess (a build finishing days later).
        let day_files: BTreeSet<String> = revs
            .iter()
            .flatten()
            .filter_map(|item| match dump_to_consult(item, now) {
                Some(dump @ BuildjsonDump::Day(_)) => Some(dump.url(&self.ctx.endpoints.buildjson)),
                _ => None,
            })
            .filter(|url| !likely_days.contains(url))
            .collect();
        days.extend(
            try_join_all(
                day_files
                    .into_iter()
                    .map(|url| self.finished_dump(url, branch)),
            )
            .await?,
        );
        let mut finished: Vec<FinishedBuild> = four_hours.as_ref().clone();
        for day in &days {
            finished.extend(day.iter().cloned());
        }
        let view = BuildjsonView::new(&finished, &running, &pending);

        Ok(pushes
            .iter()
            .zip(&revs)
            .map(|(push, items)| {
                let runs = items
                    .iter()
                    .filter(|i| i.buildername() == job_type.name)
                    .map(|i| to_job(i, job_type, push, &view))
                    .collect();
                let mut history = PushHistory::new(push.clone(), runs);
                if let Some(build_name) = &upstream {
                    history.upstream_build = upstream_build(build_name, items, push, &view);
                }
                history
            })
            .collect())
    }

    async fn job_state(&self, repo: &str, job: &Job) -> Result<JobState> {
        let push = Push {
            id: job.push_id.unwrap_or(0),
            revision: job.revision.clone(),
            changesets: vec![],
            author: String::new(),
            date: 0,
            repository: repo.into(),
        };
        let job_type = JobType::of(job);
        let histories = self
            .push_histories(repo, std::slice::from_ref(&push), &job_type)
            .await?;
        let runs = histories.into_iter().flat_map(|h| h.jobs);
        runs.into_iter()
            .find(|j| {
                j.ids
                    .request_ids
                    .iter()
                    .any(|r| job.ids.request_ids.contains(r))
            })
            .map(|j| j.state)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "BuildAPI no longer lists request(s) {:?} of {}",
                    job.ids.request_ids, job.name
                ))
            })
    }

    async fn trigger(
        &self,
        repo: &str,
        push: &Push,
        job_type: &JobType,
        count: u32,
        files: &[String],
    ) -> Result<TriggerReceipt> {
        let options = TriggerOptions {
            files: files.to_vec(),
            ..TriggerOptions::default()
        };
        let mut receipt = TriggerReceipt::default();
        // BuildAPI schedules one request per call; stop at the first refusal
        // so that what was accepted is known exactly.
        for _ in 0..count {
            match self
                .mutate(
                    self.api
                        .trigger_builder(repo, &job_type.name, &push.revision, &options)?,
                )
                .await
            {
                Ok(id) => {
                    receipt.ids.push(id);
                    receipt.runs += 1;
                }
                Err(e) if receipt.runs == 0 => return Err(e),
                Err(e) => {
                    receipt.stopped_by = Some(format!(
                        "{} of {count} run(s) accepted, then: {e}",
                        receipt.runs
                    ));
                    if e.is_uncertain() {
                        receipt.unknown_runs = 1;
                    } else {
                        receipt.refusal = Refusal::of(&e);
                    }
                    break;
                }
            }
        }
        Ok(receipt)
    }

    async fn retrigger(&self, repo: &str, job: &Job, count: u32) -> Result<TriggerReceipt> {
        let id = match (job.ids.request_ids.first(), job.ids.build_id) {
            (Some(request_id), _) => {
                self.mutate(self.api.retrigger_request(repo, *request_id, count, None)?)
                    .await?
            }
            (None, Some(build_id)) => {
                self.mutate(self.api.rebuild_build(repo, build_id, count, None)?)
                    .await?
            }
            (None, None) => {
                return Err(Error::Invalid(format!(
                    "job {} has no build request or build id to retrigger",
                    job.name
                )))
            }
        };
        Ok(TriggerReceipt::accepted(id, count))
    }

    async fn trigger_build(
        &self,
        repo: &str,
        push: &Push,
        build_name: &str,
    ) -> Result<TriggerReceipt> {
        let id = self
            .mutate(self.api.trigger_builder(
                repo,
                build_name,
                &push.revision,
                &TriggerOptions::default(),
            )?)
            .await?;
        Ok(TriggerReceipt::accepted(id, 1))
    }
}

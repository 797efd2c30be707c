//! "Confirm the failures of this failed run" through the CI system (where
//! `ci::CiBackend::confirm_failures` offers it; its confirm tasks): asking
//! for it, `times` tasks per failing test, on a push whose earlier requests
//! are all answered, written ahead in the ledger like every trigger,
//! and reading the confirm tasks' repeats of the test in question as
//! test-level runs, judged by the search's [`FailureScope`]; and the
//! "confirm first, then backfill" start read from the job's runs (the one
//! step the CLI and the add-on both take: the range to search, or why
//! there is none).

use super::execute::send_recorded;
use super::ledger::{Ledger, TriggerKind, TriggerRecord, TriggerRequest};
use super::Session;
use crate::ci::clock;
use crate::error::{Error, Result};
use crate::http::{send_checked, BodyKind, HttpRequest, RetryPolicy};
use crate::model::{Job, JobResult, JobState, JobType, Push, PushHistory};
use crate::plan::culprit::confirm_first::{plan_confirm_first, ConfirmFirstPlan, MAX_RANGE};
use crate::plan::culprit::observed::RunVerdicts;
use crate::plan::culprit::range::CulpritRange;
use crate::plan::failure_rate::PushRuns;
use crate::plan::failure_scope::FailureScope;
use crate::sources::test_repeats::test_repeats;
use crate::sources::treeherder::{parse_job_log_urls, TreeherderApi, ERRORSUMMARY_LOG_NAMES};
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

/// What the confirm tasks on one push say about the test in question.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmReading {
    /// The push's pushlog id.
    pub push_id: u64,
    /// Repeats read from finished confirm tasks (test-level runs).
    pub repeats: u32,
    /// Of those, the repeats where the test failed.
    pub failures: u32,
    /// Each finished confirm task that counts.
    pub results: Vec<ConfirmTaskResult>,
    /// Confirm tasks still pending or running, or asked for and not yet
    /// visible: their repeats are on their way.
    pub in_flight: u32,
    /// Finished confirm tasks whose repeats count (each costs its measured
    /// machine time, or the confirm action's estimate where not measured).
    pub tasks: u32,
    /// Finished confirm tasks whose repeats could not be read (left out).
    pub unread: Vec<String>,
}

/// One finished confirm task's repeats of the test in question.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmTaskResult {
    /// Repeats that failed the way the search counts.
    pub failures: u32,
    /// Repeats read.
    pub repeats: u32,
    /// Its machine time in seconds, as the CI's job list says (`None`:
    /// not said; the search then counts the confirm action's estimate).
    pub run_seconds: Option<u64>,
}

/// The repeats of the tests `scope` accepts in one finished confirm task.
async fn repeats_of_task(
    session: &Session,
    repo: &str,
    job: &Job,
    scope: &FailureScope,
) -> Result<(u32, u32)> {
    let job_id = job
        .ids
        .job_id
        .ok_or_else(|| Error::Invalid(format!("confirm task {} has no Treeherder id", job.name)))?;
    let fetch = |url: String| async move {
        let request = HttpRequest::get(&url).body_kind(BodyKind::Log);
        send_checked(session.ctx.http.as_ref(), request, RetryPolicy::default())
            .await
            .map(|r| r.body)
    };
    let project = TreeherderApi::new(&session.ctx.endpoints.treeherder)?.project(repo)?;
    let logs = parse_job_log_urls(&fetch(project.job_log_listing_url(job_id)).await?)?;
    let summary = ERRORSUMMARY_LOG_NAMES
        .iter()
        .find_map(|name| logs.iter().find(|log| log.name == *name))
        .ok_or_else(|| Error::Invalid(format!("confirm task {job_id} has no error summary")))?;
    let repeats = test_repeats(&fetch(summary.url.clone()).await?);
    Ok(repeats
        .iter()
        .filter(|t| scope.confirms_test(&t.test))
        .fold((0, 0), |(runs, failures), t| {
            (runs + t.runs, failures + t.failures)
        }))
}

impl Session {
    /// The confirm job type of `job_type` where its CI system offers
    /// confirm tasks (`None`: the search uses job runs only).
    pub fn confirm_job_type(&self, job_type: &JobType) -> Option<JobType> {
        self.backends
            .for_system(job_type.ci)
            .ok()?
            .confirm_job_type(job_type)
    }

    /// What the confirm tasks of `job_type` on each of `pushes` say, judged
    /// by `scope`, with the ledger's confirm requests not yet visible
    /// counted in flight. `None` where the CI system offers no confirm
    /// tasks. The finished tasks' error summaries are read concurrently.
    pub async fn confirm_readings(
        &self,
        repo: &str,
        pushes: &[Push],
        job_type: &JobType,
        scope: &FailureScope,
        ledger: &Ledger,
        now_ms: u64,
    ) -> Result<Option<Vec<ConfirmReading>>> {
        let Some(confirm_type) = self.confirm_job_type(job_type) else {
            return Ok(None);
        };
        let histories = self
            .histories(repo, pushes, &confirm_type, ledger, now_ms)
            .await?;
        let finished: Vec<(u64, &Job)> = histories
            .iter()
            .flat_map(|h| h.jobs.iter().map(move |j| (h.push.id, j)))
            .filter(|(_, j)| matches!(j.state, JobState::Completed(_)))
            .collect();
        let reads: Vec<_> = stream::iter(finished.into_iter().map(|(push_id, job)| async move {
            (push_id, job, repeats_of_task(self, repo, job, scope).await)
        }))
        .buffer_unordered(self.ctx.concurrency.max(1))
        .collect()
        .await;
        let mut readings: Vec<ConfirmReading> = histories
            .iter()
            .map(|h| ConfirmReading {
                push_id: h.push.id,
                in_flight: in_flight(h),
                ..ConfirmReading::default()
            })
            .collect();
        for (push_id, job, read) in reads {
            let Some(reading) = readings.iter_mut().find(|r| r.push_id == push_id) else {
                continue;
            };
            match read {
                Ok((0, _)) => {}
                Ok((runs, failures)) => {
                    reading.repeats += runs;
                    reading.failures += failures;
                    reading.results.push(ConfirmTaskResult {
                        failures,
                        repeats: runs,
                        run_seconds: job.run_seconds,
                    });
                    reading.tasks += 1;
                }
                Err(e) => reading.unread.push(format!("{}: {e}", job.name)),
            }
        }
        Ok(Some(readings))
    }

    /// Ask the CI system to confirm the failures of the failed run `failed`
    /// on its push (`history`: that push's runs of `job_type`), as `ask`
    /// says: the first request, or more tasks per failing test (at most
    /// [`MAX_CONFIRM_TIMES`]). Written
    /// ahead in the session's journal and recorded in `ledger`. `None` when
    /// nothing was sent: the CI system offers no confirm tasks; an earlier
    /// request on this push is not answered yet (its tasks are not all
    /// visible and finished, or its answer was lost: a request that may
    /// have been carried out is never sent again); or, for
    /// [`ConfirmAsk::First`], confirm tasks are already on the push.
    pub async fn request_confirm(
        &self,
        repo: &str,
        job_type: &JobType,
        history: &PushHistory,
        failed: &Job,
        ask: ConfirmAsk,
        ledger: &mut Ledger,
    ) -> Result<Option<TriggerRecord>> {
        let Some(confirm_type) = self.confirm_job_type(job_type) else {
            return Ok(None);
        };
        let push = &history.push;
        let now = clock::now_ms();
        let backend = self.backends.for_system(job_type.ci)?;
        let confirm_tasks = self
            .histories(repo, std::slice::from_ref(push), &confirm_type, ledger, now)
            .await?
            .into_iter()
            .next()
            .map(|h| h.jobs)
            .unwrap_or_default();
        let visible = confirm_tasks.len() as u32;
        // More is asked only once the answer before is in: every confirm
        // task there finished, every request before seen.
        let unfinished = confirm_tasks
            .iter()
            .any(|j| matches!(j.state, JobState::Pending | JobState::Running));
        if unfinished
            || ledger
                .confirm_pending(
                    self.origin(),
                    repo,
                    push.id,
                    &confirm_type.name,
                    visible,
                    now,
                )
                .is_some()
        {
            return Ok(None);
        }
        // Confirm tasks already there (asked by an earlier run whose record
        // is gone, or by hand) answer the first question.
        let times = match ask {
            ConfirmAsk::First if visible > 0 => return Ok(None),
            ConfirmAsk::First => 1,
            ConfirmAsk::More { times } => times.clamp(1, MAX_CONFIRM_TIMES),
        };
        let request = TriggerRequest {
            kind: TriggerKind::ConfirmFailures,
            job_name: confirm_type.name.clone(),
            runs_asked: times,
            visible_before: visible,
        };
        let record = send_recorded(
            self,
            repo,
            push,
            request,
            backend.confirm_failures(repo, push, failed, times),
        )
        .await?;
        ledger.record(record.clone());
        Ok(Some(record))
    }
}

/// Which confirm request is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmAsk {
    /// The first on a push ("confirm first"): one task per failing test,
    /// not sent when confirm tasks are already there.
    First,
    /// More repeats on a push the search wants to know better, `times`
    /// tasks per failing test: sent once the earlier requests' tasks are
    /// visible and finished.
    More {
        /// Tasks per failing test (the action's `times`).
        times: u32,
    },
}

/// The most confirm tasks per failing test one request asks for: the
/// action's input schema allows `times` up to 100.
pub const MAX_CONFIRM_TIMES: u32 = 100;

/// Confirm tasks on their way on one push: pending or running, plus those
/// asked for and not yet visible.
fn in_flight(history: &PushHistory) -> u32 {
    let running = history
        .jobs
        .iter()
        .filter(|j| matches!(j.state, JobState::Pending | JobState::Running))
        .count() as u32;
    running.saturating_add(history.requested_not_yet_visible)
}

impl Session {
    /// "Confirm first, then backfill" (mozci issue 1189) decided from the
    /// job's runs on the push of `revision` and the [`MAX_RANGE`] + `older`
    /// pushes before it, failed runs judged by `verdicts` (their logs read
    /// now, remembered there): the failing push, the last good push, an
    /// older push already failing the same way, or the range to search.
    /// Returns why some failed runs' logs could not be read (left out).
    pub async fn confirm_first_plan(
        &self,
        repo: &str,
        job_type: &JobType,
        revision: &crate::model::Revision,
        older: u32,
        verdicts: &mut RunVerdicts,
        ledger: &Ledger,
    ) -> Result<(ConfirmFirstPlan, Vec<String>)> {
        let earlier = (MAX_RANGE as u32).saturating_add(older);
        let pushes = self.pushes_ending_at(repo, revision, earlier).await?;
        let histories = self
            .histories(repo, &pushes, job_type, ledger, clock::now_ms())
            .await?;
        let unread = self.learn_verdicts(verdicts, repo, &histories).await;
        let runs: Vec<PushRuns> = histories
            .iter()
            .map(|h| {
                let (mut runs, mut failures) = (0, 0);
                for job in &h.jobs {
                    let failed = match job.state {
                        JobState::Completed(JobResult::Success) => Some(false),
                        JobState::Completed(JobResult::TestFailed | JobResult::Busted) => {
                            verdicts.failed_as_asked(job)
                        }
                        _ => None,
                    };
                    if let Some(failed) = failed {
                        runs += 1;
                        failures += u32::from(failed);
                    }
                }
                PushRuns {
                    push_id: h.push.id,
                    revision: h.push.revision.0.clone(),
                    runs,
                    failures,
                }
            })
            .collect();
        Ok((plan_confirm_first(&runs)?, unread))
    }
}

/// Where a confirm-first culprit search starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfirmFirstStart {
    /// What the job's runs show (mozci issue 1189's steps).
    pub plan: ConfirmFirstPlan,
    /// The pushes to search, ending at the failing push (the plan's range,
    /// cut to the caller's cap), with the older pushes read with them;
    /// `None` when there is nothing to search.
    pub range: Option<CulpritRange>,
    /// What was found, in one sentence: the answer when nothing is searched.
    pub sentence: String,
    /// Failed runs whose logs could not be read (left out of the plan).
    pub unread: Vec<String>,
}

impl ConfirmFirstStart {
    /// Whether the search is skipped: no failure to confirm, or the same
    /// failure already showed before the last good push.
    pub fn ends_the_search(&self) -> bool {
        self.range.is_none()
    }
}

impl Session {
    /// "Confirm first, then backfill" for a failure of `job_type` seen on
    /// the push of `revision`: [`Self::confirm_first_plan`], then the range
    /// to search, (last good, failing], at most [`MAX_RANGE`] pushes and at
    /// most `cap` when given, with `older` pushes before it for the flake
    /// rate. An older push already failing the same way, or no failure at
    /// all, ends it with the sentence saying so.
    #[allow(clippy::too_many_arguments)]
    pub async fn confirm_first_start(
        &self,
        repo: &str,
        job_type: &JobType,
        revision: &crate::model::Revision,
        older: u32,
        cap: Option<u32>,
        verdicts: &mut RunVerdicts,
        ledger: &Ledger,
    ) -> Result<ConfirmFirstStart> {
        let (plan, unread) = self
            .confirm_first_plan(repo, job_type, revision, older, verdicts, ledger)
            .await?;
        let range = match &plan {
            ConfirmFirstPlan::Search { failing, range, .. } => {
                let planned = range.len() as u32;
                let suspects = cap.map_or(planned, |cap| cap.min(planned)).max(1);
                let failing = crate::model::Revision::from(failing.revision.as_str());
                Some(
                    self.culprit_range(repo, job_type, &failing, suspects, older)
                        .await?,
                )
            }
            ConfirmFirstPlan::NoFailure | ConfirmFirstPlan::AlreadyFailing { .. } => None,
        };
        let sentence = confirm_first_sentence(&plan, range.as_ref().map(CulpritRange::n));
        Ok(ConfirmFirstStart {
            plan,
            range,
            sentence,
            unread,
        })
    }
}

/// What a confirm-first plan found, in a sentence; `searched`: the pushes
/// the search covers (fewer than the plan's range when capped).
pub fn confirm_first_sentence(plan: &ConfirmFirstPlan, searched: Option<u32>) -> String {
    let short = |revision: &str| revision.get(..12).unwrap_or(revision).to_string();
    match plan {
        ConfirmFirstPlan::NoFailure => {
            "Confirm first: no run of this job on these pushes failed that way: nothing to search."
                .to_string()
        }
        ConfirmFirstPlan::AlreadyFailing {
            last_good,
            older_failing,
            ..
        } => format!(
            "Confirm first: the same failure already showed on push {} (before {}, the last push where the job passed): it is not new here, no search.",
            short(&older_failing.revision),
            short(&last_good.revision)
        ),
        ConfirmFirstPlan::Search {
            failing,
            last_good,
            range,
            capped,
        } => {
            let searched = searched.map_or(range.len(), |n| n as usize);
            let cut = if searched < range.len() {
                format!(", cut to the newest {searched}")
            } else if *capped {
                format!(", cut to the newest {MAX_RANGE}")
            } else {
                String::new()
            };
            format!(
                "Confirm first: confirm the failure on {}, then search the {searched} push(es) {}{cut}.",
                short(&failing.revision),
                match last_good {
                    Some(good) => format!(
                        "after {}, the last push where the job passed",
                        short(&good.revision)
                    ),
                    None => "before it (no push where the job passed was found)".to_string(),
                },
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::culprit::confirm_first::PlannedPush;

    fn planned(id: u64) -> PlannedPush {
        PlannedPush {
            push_id: id,
            revision: format!("{id:02}").repeat(20),
        }
    }

    #[test]
    fn the_sentence_says_what_is_searched_or_why_not() {
        let search = ConfirmFirstPlan::Search {
            failing: planned(30),
            last_good: Some(planned(17)),
            range: (18..=30).rev().map(planned).collect(),
            capped: false,
        };
        let text = confirm_first_sentence(&search, Some(13));
        assert!(
            text.contains("search the 13 push(es) after 171717171717") && !text.contains("cut"),
            "{text}"
        );
        let cut = confirm_first_sentence(&search, Some(5));
        assert!(
            cut.contains("search the 5 push(es)") && cut.ends_with(", cut to the newest 5."),
            "{cut}"
        );
        let skipped = confirm_first_sentence(
            &ConfirmFirstPlan::AlreadyFailing {
                failing: planned(30),
                last_good: planned(25),
                older_failing: planned(22),
            },
            None,
        );
        assert!(
            skipped.contains("already showed on push 222222222222")
                && skipped.contains("no search"),
            "{skipped}"
        );
        assert!(confirm_first_sentence(&ConfirmFirstPlan::NoFailure, None)
            .contains("nothing to search"));
    }
}

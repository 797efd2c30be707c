//! The flake-aware culprit search of `plan::culprit` driven through real
//! triggers: each step reads the runs on the pushes, rebuilds the search
//! from every finished run, and sends the runs it asks for that are not
//! already on their way. Waiting between steps is the caller's business.

use super::confirm::ConfirmAsk;
use super::execute::execute_plans;
use super::failures::failures_of_runs;
use super::ledger::{Ledger, TriggerRecord};
use super::Session;
use crate::error::{Error, Result};
use crate::model::{Job, JobResult, JobState};
use crate::model::{JobType, Push, PushHistory, Revision};
use crate::plan::culprit::history::FlakeHistory;
use crate::plan::culprit::machine_time::{measured_cost, planning_cost, typical_run_seconds};
use crate::plan::culprit::observed::{runs_to_request, ObservedRuns, RunVerdicts};
use crate::plan::culprit::range::{CulpritRange, PlannedRuns};
use crate::plan::culprit::{
    Answer, ConfirmResult, CulpritConfig, CulpritSearch, Decision, Hypothesis,
};
use crate::plan::failure_scope::FailureScope;
use crate::plan::trigger::push_plan;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

impl Session {
    /// The range of a search for a failure of `job_type` seen on the push of
    /// `revision`: that push and the `suspects - 1` before it, then `older`
    /// earlier pushes (fewer when the repository has fewer), in one request.
    pub async fn culprit_range(
        &self,
        repo: &str,
        job_type: &JobType,
        revision: &Revision,
        suspects: u32,
        older: u32,
    ) -> Result<CulpritRange> {
        let earlier = suspects.saturating_sub(1).saturating_add(older);
        let pushes = self.pushes_ending_at(repo, revision, earlier).await?;
        CulpritRange::from_newest_first(repo, job_type, pushes, suspects)
    }
}

impl Session {
    /// The runs of the range's job on the `pushes` pushes before the oldest
    /// push of `range`, failed runs counted as `scope` judges them; the
    /// second list names the failed runs whose logs could not be read (left
    /// out).
    pub async fn flake_history(
        &self,
        range: &CulpritRange,
        pushes: u32,
        scope: &FailureScope,
    ) -> Result<(FlakeHistory, Vec<String>)> {
        let Some(oldest) = range.oldest_push() else {
            return Ok((FlakeHistory::default(), Vec::new()));
        };
        if pushes == 0 {
            return Ok((FlakeHistory::default(), Vec::new()));
        }
        let mut before = self
            .pushes_ending_at(&range.repo, &oldest.revision, pushes)
            .await?;
        before.retain(|p| range.index_of(p.id).is_none());
        let (per_push, unread) = self
            .job_runs(&range.repo, &range.job_type, &before, scope)
            .await?;
        Ok((FlakeHistory::from_runs(&per_push), unread))
    }
}

impl Session {
    /// Read the logs of the failed runs `verdicts` has not read yet
    /// (concurrently) and remember what they say; returns why some could
    /// not be read (those runs stay unknown).
    pub async fn learn_verdicts(
        &self,
        verdicts: &mut RunVerdicts,
        repo: &str,
        histories: &[PushHistory],
    ) -> Vec<String> {
        let unread = verdicts.unread_failed_runs(histories);
        let (read, notes) = failures_of_runs(&self.ctx, repo, unread).await;
        for (id, busted, report) in read {
            verdicts.remember(id, &report.failures, busted);
        }
        notes
    }
}

/// The outcome of one step of the search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CulpritProgress {
    /// `Done` with the answer, or the runs the search wants next.
    pub decision: Decision,
    /// The current best answer (final once `decision` is `Done`).
    pub answer: Answer,
    /// The culprit's push when the answer names one.
    pub culprit: Option<Push>,
    /// New runs of this step (sent, unless it was a dry run).
    pub planned: Vec<PlannedRuns>,
    /// What the CI system answered to each request sent (also in the ledger).
    pub triggered: Vec<TriggerRecord>,
    /// Runs already on their way before this step.
    pub in_flight: u32,
    /// Failed runs whose logs could not be read (a search about one test
    /// leaves them out until they can).
    pub unread_logs: Vec<String>,
    /// Confirm tasks asked for in this step (one per listed push; `runs`
    /// is the number of tasks), sent unless it was a dry run; their
    /// requests' records are in `triggered` too.
    #[serde(default)]
    pub confirms_planned: Vec<PlannedRuns>,
    /// Confirm tasks on their way before this step.
    #[serde(default)]
    pub confirms_in_flight: u32,
    /// Confirm tasks on the failing push (push n), finished, unreadable or
    /// on their way: "confirm first" asks none there when there are some.
    #[serde(default)]
    pub confirms_on_failing_push: u32,
    /// The answer so far, one line per push (`Answer::explanation`).
    pub explanation: String,
}

impl CulpritProgress {
    /// The search has its answer: nothing more to run.
    pub fn is_done(&self) -> bool {
        matches!(self.decision, Decision::Done(_))
    }
}

/// One step: read the runs, rebuild the search from all finished ones, and
/// (when `send`) trigger the new runs it asks for, recording them in
/// `ledger`. Call again after some runs have finished; the state is the CI
/// system's runs plus the ledger, so a step after a restart continues the
/// same search.
///
/// With `verdicts`, the search is about one test of the job: a run counts
/// as failed only if that test failed in it (read from the run's logs,
/// remembered in `verdicts`), so other tests' intermittent failures do not
/// blur the search.
pub async fn culprit_step(
    session: &Session,
    range: &CulpritRange,
    config: &CulpritConfig,
    ledger: &mut Ledger,
    now_ms: u64,
    send: bool,
    verdicts: Option<&mut RunVerdicts>,
) -> Result<CulpritProgress> {
    if config.n != range.n() {
        return Err(Error::Invalid(format!(
            "the search is configured for {} pushes but the range has {}",
            config.n,
            range.n()
        )));
    }
    let (repo, job_type) = (range.repo.as_str(), &range.job_type);
    let pushes = range.pushes_newest_first();
    let histories = session
        .histories(repo, &pushes, job_type, ledger, now_ms)
        .await?;
    let mut verdicts_ref = verdicts;
    let (observed, unread_logs) = match verdicts_ref.as_deref_mut() {
        None => (ObservedRuns::from_histories(range, &histories)?, Vec::new()),
        Some(verdicts) => {
            let notes = session.learn_verdicts(verdicts, repo, &histories).await;
            (ObservedRuns::judged_by(range, &histories, verdicts)?, notes)
        }
    };
    let scope = verdicts_ref
        .as_deref()
        .map(|v| v.scope.clone())
        .unwrap_or_default();
    // The confirm tasks' repeats, where the search may use them and the CI
    // system offers them.
    let confirms = match config.confirm {
        Some(_) => {
            session
                .confirm_readings(repo, &pushes, job_type, &scope, ledger, now_ms)
                .await?
        }
        None => None,
    };
    // The job's typical run time on the range: what a confirm task's own
    // time is weighed against.
    let typical_seconds = typical_run_seconds(
        histories
            .iter()
            .flat_map(|h| h.jobs.iter())
            .filter(|j| {
                matches!(
                    j.state,
                    JobState::Completed(JobResult::Success | JobResult::TestFailed)
                )
            })
            .filter_map(|j| j.run_seconds),
    );
    let mut confirm_results = Vec::new();
    let mut confirm_busy = BTreeSet::new();
    let mut confirms_in_flight = 0u32;
    let mut confirms_on_failing_push = 0u32;
    let mut unread_logs = unread_logs;
    for reading in confirms.iter().flatten() {
        let Some(index) = range.index_of(reading.push_id) else {
            continue;
        };
        for task in &reading.results {
            confirm_results.push(ConfirmResult {
                push: index,
                failures: task.failures,
                repeats: task.repeats,
                // Its machine time over the job's typical run, measured
                // where both times are known.
                cost: measured_cost(task.run_seconds, typical_seconds),
            });
        }
        confirms_in_flight = confirms_in_flight.saturating_add(reading.in_flight);
        if index == i64::from(range.n()) {
            confirms_on_failing_push = reading
                .tasks
                .saturating_add(reading.in_flight)
                .saturating_add(reading.unread.len() as u32);
        }
        unread_logs.extend(reading.unread.iter().cloned());
        // A push whose confirm tasks are on their way (or may be), or whose
        // results could not all be read, gets no more until they are in.
        if reading.in_flight > 0 || !reading.unread.is_empty() {
            confirm_busy.insert(index);
        }
    }
    // Rounds are planned at what confirm tasks were measured to cost here.
    let mut config = config.clone();
    if let Some(action) = config.confirm.as_mut() {
        action.cost = planning_cost(action.cost, confirm_results.iter().filter_map(|r| r.cost));
    }
    let evidence = observed.clone().without_the_failure_seen(range.n());
    let search =
        CulpritSearch::resume_with_confirms(config.clone(), &evidence.finished, &confirm_results)?;
    let decision = search.next_round();
    let answer = match &decision {
        Decision::Done(answer) => answer.clone(),
        Decision::Run(_) => search.answer(),
    };
    let in_flight = observed.in_flight_total();
    let confirm_cost = config.confirm.map(|c| c.cost).unwrap_or(0.0);
    let (planned, confirms_planned) = match &decision {
        Decision::Done(_) => (Vec::new(), Vec::new()),
        Decision::Run(round) => {
            // Machine time already spent or on its way, in run units.
            let committed = search.cost_used()
                + f64::from(in_flight)
                + f64::from(confirms_in_flight) * confirm_cost;
            let left = (f64::from(config.budget) - committed).max(0.0);
            // None where confirm tasks are on their way, as many as the
            // machine time left pays for; several on one push are one
            // request (`times`).
            let affordable = if confirm_cost > 0.0 {
                ((left + 1e-9) / confirm_cost).floor() as usize
            } else {
                0
            };
            let mut confirm_request: BTreeMap<i64, u32> = BTreeMap::new();
            for index in round
                .confirms
                .iter()
                .filter(|index| !confirm_busy.contains(index))
                .take(affordable)
            {
                *confirm_request.entry(*index).or_insert(0) += 1;
            }
            let spent = f64::from(confirm_request.values().sum::<u32>()) * confirm_cost;
            let room_by_budget = (left - spent).max(0.0).floor() as u32;
            let room = config
                .runs_per_round
                .saturating_sub(in_flight)
                .min(room_by_budget);
            let runs =
                range.planned_runs(&runs_to_request(&round.runs, &observed.in_flight, room))?;
            (runs, range.planned_runs(&confirm_request)?)
        }
    };
    let mut triggered = Vec::new();
    if send && !planned.is_empty() {
        let plans: Vec<_> = planned
            .iter()
            .filter_map(|p| {
                let history = histories.iter().find(|h| h.push.id == p.push_id)?;
                Some(push_plan(history, history.counts().potential() + p.runs))
            })
            .collect();
        let executions =
            execute_plans(session, repo, job_type, &plans, &histories, ledger, |_| {}).await?;
        triggered = executions.into_iter().flat_map(|e| e.records).collect();
    }
    if send {
        for confirm in &confirms_planned {
            let Some(failed) = failed_run_for(range, &histories, confirm, verdicts_ref.as_deref())
            else {
                continue;
            };
            if let Some(record) = session
                .request_confirm(
                    repo,
                    job_type,
                    &failed.0,
                    &failed.1,
                    ConfirmAsk::More {
                        times: confirm.runs,
                    },
                    ledger,
                )
                .await?
            {
                triggered.push(record);
            }
        }
    }
    let culprit = match answer.hypothesis {
        Hypothesis::Culprit(index) => range.push_at(i64::from(index)).cloned(),
        Hypothesis::NoCulprit => None,
    };
    let explanation = range.explain(&answer, in_flight);
    Ok(CulpritProgress {
        decision,
        answer,
        culprit,
        planned,
        triggered,
        in_flight,
        unread_logs,
        confirms_planned,
        confirms_in_flight,
        confirms_on_failing_push,
        explanation,
    })
}

/// "Confirm first": ask, once, for confirm tasks on the range's newest push
/// (where the failure was seen) from a failed run there that failed the
/// way `verdicts` asks, before the search weighs the pushes. `None` when
/// nothing was sent: no confirm tasks on this CI system, no such failed
/// run, or one was already asked for (or may have been).
pub async fn confirm_newest(
    session: &Session,
    range: &CulpritRange,
    ledger: &mut Ledger,
    now_ms: u64,
    verdicts: Option<&RunVerdicts>,
) -> Result<Option<TriggerRecord>> {
    let (repo, job_type) = (range.repo.as_str(), &range.job_type);
    let Some(newest) = range.push_at(i64::from(range.n())).cloned() else {
        return Ok(None);
    };
    let histories = session
        .histories(
            repo,
            std::slice::from_ref(&newest),
            job_type,
            ledger,
            now_ms,
        )
        .await?;
    let target = PlannedRuns {
        index: i64::from(range.n()),
        push_id: newest.id,
        revision: newest.revision.clone(),
        runs: 1,
    };
    let Some((history, failed)) = failed_run_for(range, &histories, &target, verdicts) else {
        return Ok(None);
    };
    session
        .request_confirm(repo, job_type, &history, &failed, ConfirmAsk::First, ledger)
        .await
}

/// The failed run a confirm task on `confirm`'s push is asked from (the
/// action's input is a failed task), with that push's history: the newest
/// run there that failed the way the search asks (or, unread, any failed
/// run). "An older push" (index ≤ 0) is any push before the range with one.
fn failed_run_for(
    range: &CulpritRange,
    histories: &[PushHistory],
    confirm: &PlannedRuns,
    verdicts: Option<&RunVerdicts>,
) -> Option<(PushHistory, Job)> {
    let candidates: Vec<&PushHistory> = if confirm.index >= 1 {
        histories
            .iter()
            .filter(|h| h.push.id == confirm.push_id)
            .collect()
    } else {
        histories
            .iter()
            .filter(|h| range.index_of(h.push.id).is_some_and(|i| i <= 0))
            .collect()
    };
    candidates.into_iter().find_map(|history| {
        let failed = history.jobs.iter().rev().find(|job| {
            job.state == JobState::Completed(JobResult::TestFailed)
                && verdicts.is_none_or(|v| v.failed_as_asked(job) != Some(false))
        })?;
        Some((history.clone(), failed.clone()))
    })
}

// Native only: these tests run on tokio (wasm-pack builds every test target).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::ci::{Backends, CiBackend, CiContext, Endpoints, TriggerReceipt};
    use crate::http::{HttpClient, HttpRequest, HttpResponse};
    use crate::model::fixtures::ANY_CI;
    use crate::model::{CiSystem, Job, JobIds, JobKind, JobResult, JobState};
    use crate::plan::test_support::{job_type, newest_first, push};
    use async_trait::async_trait;
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;
    use std::rc::Rc;

    const LABEL: &str = "test-linux64/opt-mochitest-browser-chrome-1";

    /// No HTTP in these tests: the fake backend answers everything.
    struct NoHttp;

    #[async_trait(?Send)]
    impl HttpClient for NoHttp {
        async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
            Err(Error::Invalid(format!(
                "unexpected request {}",
                request.url
            )))
        }
    }

    /// A CI system in memory: triggered runs show up pending (or not at all
    /// while `hide_new_runs` is set) and finish when the test says so.
    #[derive(Default)]
    struct FakeCi {
        jobs: RefCell<HashMap<u64, Vec<Job>>>,
        hide_new_runs: Cell<bool>,
        runs_asked: Cell<u32>,
        next_task: Cell<u32>,
    }

    impl FakeCi {
        fn add(&self, push: &Push, state: JobState) {
            let task = self.next_task.get() + 1;
            self.next_task.set(task);
            let job = Job {
                kind: JobKind::Test,
                ci: ANY_CI,
                name: LABEL.into(),
                platform: "linux64".into(),
                symbol: "bc1".into(),
                revision: push.revision.clone(),
                push_id: Some(push.id),
                ids: JobIds {
                    task_id: Some(format!("task{task}")),
                    ..JobIds::default()
                },
                state,
                run_seconds: None,
            };
            self.jobs.borrow_mut().entry(push.id).or_default().push(job);
        }

        fn schedule(&self, push_id: u64, count: u32) -> Result<TriggerReceipt> {
            self.runs_asked.set(self.runs_asked.get() + count);
            if !self.hide_new_runs.get() {
                for _ in 0..count {
                    self.add(&push(push_id), JobState::Pending);
                }
            }
            Ok(TriggerReceipt::accepted(format!("action{push_id}"), count))
        }

        /// Finish every pending run: failing from push id `culprit_id` on.
        fn finish_all(&self, culprit_id: u64) {
            for (push_id, jobs) in self.jobs.borrow_mut().iter_mut() {
                for job in jobs.iter_mut().filter(|j| j.state == JobState::Pending) {
                    job.state = JobState::Completed(if *push_id >= culprit_id {
                        JobResult::TestFailed
                    } else {
                        JobResult::Success
                    });
                }
            }
        }
    }

    #[async_trait(?Send)]
    impl CiBackend for FakeCi {
        fn system(&self) -> CiSystem {
            ANY_CI
        }
        async fn push_histories(
            &self,
            _repo: &str,
            pushes: &[Push],
            _job_type: &JobType,
        ) -> Result<Vec<PushHistory>> {
            let jobs = self.jobs.borrow();
            Ok(pushes
                .iter()
                .map(|p| PushHistory::new(p.clone(), jobs.get(&p.id).cloned().unwrap_or_default()))
                .collect())
        }
        async fn job_state(&self, _repo: &str, job: &Job) -> Result<JobState> {
            Ok(job.state)
        }
        async fn trigger(
            &self,
            _repo: &str,
            push: &Push,
            _job_type: &JobType,
            count: u32,
            _files: &[String],
        ) -> Result<TriggerReceipt> {
            self.schedule(push.id, count)
        }
        async fn retrigger(&self, _repo: &str, job: &Job, count: u32) -> Result<TriggerReceipt> {
            self.schedule(job.push_id.unwrap_or_default(), count)
        }
        async fn trigger_build(
            &self,
            _repo: &str,
            _push: &Push,
            build: &str,
        ) -> Result<TriggerReceipt> {
            Err(Error::Invalid(format!("no build {build} needed here")))
        }
    }

    fn session(ci: &Rc<FakeCi>) -> Session {
        let backend: Rc<dyn CiBackend> = ci.clone();
        Session::new(
            CiContext::new(Rc::new(NoHttp), Endpoints::default()),
            Backends::only(backend),
        )
    }

    /// Suspects: push ids 13..=20 (push 1..=8); the failure was seen on 20.
    fn setup() -> (Rc<FakeCi>, Session, CulpritRange, CulpritConfig) {
        let ci = Rc::new(FakeCi::default());
        ci.add(&push(20), JobState::Completed(JobResult::TestFailed));
        let session = session(&ci);
        let range =
            CulpritRange::from_newest_first("autoland", &job_type(), newest_first(), 8).unwrap();
        let mut config = CulpritConfig::new(8);
        config.runs_per_round = 4;
        (ci, session, range, config)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn drives_to_the_culprit_without_asking_twice() {
        let (ci, session, range, config) = setup();
        let mut ledger = Ledger::default();
        let first = culprit_step(&session, &range, &config, &mut ledger, 0, true, None)
            .await
            .unwrap();
        let asked: u32 = first.planned.iter().map(|p| p.runs).sum();
        assert_eq!(asked, 4, "{first:?}");
        assert_eq!(ci.runs_asked.get(), 4);
        assert_eq!(first.triggered.len(), first.planned.len());
        assert_eq!(ledger.records.len(), first.planned.len());

        // Nothing finished yet: the runs on their way fill the round.
        let again = culprit_step(&session, &range, &config, &mut ledger, 1, true, None)
            .await
            .unwrap();
        assert!(again.planned.is_empty(), "{again:?}");
        assert_eq!(again.in_flight, 4);
        assert_eq!(ci.runs_asked.get(), 4);

        // Culprit: push id 16 = push 4.
        let mut progress = again;
        for round in 0..40 {
            ci.finish_all(16);
            progress = culprit_step(
                &session,
                &range,
                &config,
                &mut ledger,
                2 + round,
                true,
                None,
            )
            .await
            .unwrap();
            if progress.is_done() {
                break;
            }
        }
        assert!(progress.is_done(), "{}", progress.explanation);
        assert_eq!(progress.answer.hypothesis, Hypothesis::Culprit(4));
        assert_eq!(progress.culprit.as_ref().map(|p| p.id), Some(16));
        assert!(progress.answer.confidence >= 0.99);
        assert!(
            progress.explanation.contains(&push(16).revision.0),
            "{}",
            progress.explanation
        );
        // Push 8's line says its first failure is not counted, and only it.
        let not_counted = crate::plan::culprit::range::SEEN_FAILURE_NOT_COUNTED;
        let lines: Vec<&str> = progress
            .explanation
            .lines()
            .filter(|l| l.contains(not_counted))
            .collect();
        assert_eq!(lines.len(), 1, "{}", progress.explanation);
        assert!(lines[0].contains("push   8"), "{}", progress.explanation);
        // Every run asked was used once; the failure that started the
        // search is not evidence.
        assert_eq!(
            progress.answer.runs_used,
            ci.runs_asked.get(),
            "every run asked was used once"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn runs_not_yet_visible_count_through_the_ledger_and_restarts_resume() {
        let (ci, session, range, config) = setup();
        ci.hide_new_runs.set(true);
        let mut ledger = Ledger::default();
        let first = culprit_step(&session, &range, &config, &mut ledger, 0, true, None)
            .await
            .unwrap();
        assert_eq!(ci.runs_asked.get(), 4);
        let again = culprit_step(&session, &range, &config, &mut ledger, 10, true, None)
            .await
            .unwrap();
        assert!(
            again.planned.is_empty(),
            "the ledger's runs count: {again:?}"
        );
        assert_eq!(ci.runs_asked.get(), 4);

        // A dry run with a fresh ledger sees what the CI system shows and
        // would ask for the same first round: the state is the observed runs.
        let mut fresh = Ledger::default();
        let restarted = culprit_step(&session, &range, &config, &mut fresh, 10, false, None)
            .await
            .unwrap();
        assert_eq!(restarted.planned, first.planned);
        assert!(restarted.triggered.is_empty() && fresh.records.is_empty());

        // Once runs are visible and finished, a restarted driver and the
        // running one agree on the next round.
        ci.hide_new_runs.set(false);
        for p in &first.planned {
            for _ in 0..p.runs {
                ci.add(&push(p.push_id), JobState::Pending);
            }
        }
        ci.finish_all(16);
        let running = culprit_step(&session, &range, &config, &mut ledger, 20, false, None)
            .await
            .unwrap();
        let restarted = culprit_step(&session, &range, &config, &mut fresh, 20, false, None)
            .await
            .unwrap();
        assert_eq!(running.planned, restarted.planned);
        assert_eq!(running.answer, restarted.answer);
        // The 4 runs asked; the failure seen on push 8 is not counted.
        assert_eq!(running.answer.runs_used, 4);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_mismatched_configuration_is_refused() {
        let (_ci, session, range, _) = setup();
        let err = culprit_step(
            &session,
            &range,
            &CulpritConfig::new(3),
            &mut Ledger::default(),
            0,
            false,
            None,
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("3 pushes"), "{err}");
    }
}

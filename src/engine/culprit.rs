//! The flake-aware culprit search of `plan::culprit` driven through real
//! triggers: each step reads the runs on the pushes, rebuilds the search
//! from every finished run, and sends the runs it asks for that are not
//! already on their way. Waiting between steps is the caller's business.

use super::execute::execute_plans;
use super::failures::failures_of_job;
use super::ledger::{Ledger, TriggerRecord};
use super::rates::PushRuns;
use super::Session;
use crate::ci::JobType;
use crate::error::{Error, Result};
use crate::model::{Job, JobResult, JobState, Push, PushHistory, Revision};
use crate::plan::broken_streaks::{broken_streaks, PushCount};
use crate::plan::culprit::{
    Answer, CulpritConfig, CulpritSearch, Decision, Hypothesis, Outcome, RateModel,
};
use crate::plan::trigger::push_plan;
use crate::sources::test_failures::{FailureKind, JobFailures};
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// The pushes of one search and the search's numbering of them: suspects
/// are 1 (oldest) ..= n (where the failure was seen); older pushes, used
/// to learn the flake rate, are 0 (the one just before the range), -1, …
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CulpritRange {
    pub repo: String,
    pub job_type: JobType,
    /// Oldest first: `suspects[i]` is push `i + 1`.
    suspects: Vec<Push>,
    /// Newest first: `older[k]` is push `-k`.
    older: Vec<Push>,
}

impl CulpritRange {
    /// From pushes given newest first (as Treeherder lists them): the first
    /// `suspects` are the suspects, the rest are older pushes.
    pub fn from_newest_first(
        repo: &str,
        job_type: &JobType,
        pushes: Vec<Push>,
        suspects: u32,
    ) -> Result<Self> {
        let n = suspects as usize;
        if n == 0 {
            return Err(Error::Invalid(
                "a culprit search needs at least 1 suspect push".into(),
            ));
        }
        if pushes.len() < n {
            return Err(Error::Invalid(format!(
                "{suspects} suspect pushes asked for, but {repo} has only {} up to that revision",
                pushes.len()
            )));
        }
        let mut pushes = pushes;
        let older = pushes.split_off(n);
        pushes.reverse();
        Ok(CulpritRange {
            repo: repo.to_string(),
            job_type: job_type.clone(),
            suspects: pushes,
            older,
        })
    }

    /// The oldest push read with the range: the oldest older push, or the
    /// oldest suspect when there is none.
    pub fn oldest_push(&self) -> Option<&Push> {
        self.older.last().or_else(|| self.suspects.first())
    }

    /// The number of suspects, `n`.
    pub fn n(&self) -> u32 {
        self.suspects.len() as u32
    }

    /// The push the search calls `index`.
    pub fn push_at(&self, index: i64) -> Option<&Push> {
        if index >= 1 {
            self.suspects.get(usize::try_from(index - 1).ok()?)
        } else {
            self.older.get(usize::try_from(index.checked_neg()?).ok()?)
        }
    }

    /// The search's index of the push with Treeherder id `push_id`.
    pub fn index_of(&self, push_id: u64) -> Option<i64> {
        if let Some(i) = self.suspects.iter().position(|p| p.id == push_id) {
            return Some(i as i64 + 1);
        }
        self.older
            .iter()
            .position(|p| p.id == push_id)
            .map(|k| -(k as i64))
    }

    /// Every push of the range, newest first.
    pub fn pushes_newest_first(&self) -> Vec<Push> {
        self.suspects
            .iter()
            .rev()
            .chain(self.older.iter())
            .cloned()
            .collect()
    }
}

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

/// The job's finished runs on pushes before a search's range (and before
/// its older pushes), read once when the search starts. They tell the flake
/// rate before the search makes a single run, and not knowing it is what
/// costs a search most runs (see the culprit benchmark). They are not the
/// search's own runs: they update its prior and do not count in its budget.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlakeHistory {
    /// Pushes read.
    pub pushes: u32,
    /// Every finished run read, and the failed ones among them.
    pub runs: u32,
    pub failures: u32,
    /// Stretches of consecutive pushes on which every run failed, too long
    /// to be flakes (see `plan::broken_streaks`): the job was broken there.
    /// Their runs are left out of the flake rate.
    #[serde(default)]
    pub left_out: Vec<BrokenStretch>,
}

/// A stretch of the history where the job failed on every push: most
/// likely a regression that was backed out or fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokenStretch {
    /// Pushes with runs in the stretch, and their runs (all failed).
    pub pushes: u32,
    pub runs: u32,
    pub oldest_revision: String,
    pub newest_revision: String,
}

impl FlakeHistory {
    /// Sums the runs of `per_push` (one entry per push read, any order)
    /// and finds the stretches where the job was broken.
    pub fn from_runs(per_push: &[PushRuns]) -> Self {
        let mut oldest_first: Vec<&PushRuns> = per_push.iter().collect();
        oldest_first.sort_by_key(|p| p.push_id);
        let counts: Vec<PushCount> = oldest_first
            .iter()
            .map(|p| PushCount {
                runs: p.runs,
                failures: p.failures,
            })
            .collect();
        let revision = |index: usize| {
            oldest_first
                .get(index)
                .map(|p| p.revision.clone())
                .unwrap_or_default()
        };
        let left_out = broken_streaks(&counts)
            .into_iter()
            .map(|streak| BrokenStretch {
                pushes: streak.pushes,
                runs: streak.runs,
                oldest_revision: revision(streak.first),
                newest_revision: revision(streak.last),
            })
            .collect();
        FlakeHistory {
            pushes: per_push.len() as u32,
            runs: per_push.iter().map(|p| p.runs).sum(),
            failures: per_push.iter().map(|p| p.failures).sum(),
            left_out,
        }
    }

    /// (failures, runs) that estimate the flake rate: every run read but
    /// those of the broken stretches.
    pub fn counted(&self) -> (u32, u32) {
        let left_out: u32 = self.left_out.iter().map(|s| s.runs).sum();
        (
            self.failures.saturating_sub(left_out),
            self.runs.saturating_sub(left_out),
        )
    }

    /// The search's rate model: the default prior with its flake rate
    /// updated by the counted runs.
    pub fn rate_model(&self) -> Result<RateModel> {
        let (failures, runs) = self.counted();
        RateModel::with_flake_history(failures, runs)
    }

    /// One line for the plan and the CLI.
    pub fn describe(&self) -> String {
        let (failures, runs) = self.counted();
        let mut text = if runs == 0 {
            format!(
                "No finished run of the job on the {} push(es) before the range: \
                 the flake rate is learnt from the search's own runs.",
                self.pushes
            )
        } else {
            format!(
                "Flake rate first estimated from the job's history: {failures} of {runs} run(s) \
                 failed on the {} push(es) before the range (not counted in the budget).",
                self.pushes
            )
        };
        for stretch in &self.left_out {
            let _ = write!(
                text,
                " Left out: all {} run(s) failed on the {} push(es) {}..{}, too many in a row \
                 for flakes: the job was likely broken there, then fixed.",
                stretch.runs, stretch.pushes, stretch.oldest_revision, stretch.newest_revision
            );
        }
        text
    }
}

impl Session {
    /// The runs of the range's job (or of `test` in it) on the `pushes`
    /// pushes before the oldest push of `range`; the second list names the
    /// failed runs whose logs could not be read (left out).
    pub async fn flake_history(
        &self,
        range: &CulpritRange,
        pushes: u32,
        test: Option<&str>,
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
            .job_runs(&range.repo, &range.job_type, &before, test)
            .await?;
        Ok((FlakeHistory::from_runs(&per_push), unread))
    }
}

/// What the runs on the range show: finished runs with a verdict on the
/// code, and runs on their way, by search index (older pushes together as 0).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedRuns {
    /// (push index, failed), newest push first.
    pub finished: Vec<(i64, bool)>,
    /// Pending, running or asked for and not visible yet.
    pub in_flight: BTreeMap<i64, u32>,
}

impl ObservedRuns {
    /// Read `histories` (any order) of the pushes of `range`. Runs that say
    /// nothing about the code (infrastructure failures, cancelled,
    /// coalesced) are left out.
    pub fn from_histories(range: &CulpritRange, histories: &[PushHistory]) -> Result<Self> {
        Self::read(range, histories, None)
    }

    /// As [`ObservedRuns::from_histories`], but a failed run counts as a
    /// failure only if `verdicts` says the test failed in it, as a pass if
    /// the test did not, and not at all while its logs are unknown.
    pub fn for_test(
        range: &CulpritRange,
        histories: &[PushHistory],
        verdicts: &TestVerdicts,
    ) -> Result<Self> {
        Self::read(range, histories, Some(verdicts))
    }

    fn read(
        range: &CulpritRange,
        histories: &[PushHistory],
        verdicts: Option<&TestVerdicts>,
    ) -> Result<Self> {
        let mut observed = ObservedRuns::default();
        for history in histories {
            let index = range.index_of(history.push.id).ok_or_else(|| {
                Error::Invalid(format!(
                    "push {} is not in the culprit search's range",
                    history.push.id
                ))
            })?;
            for job in &history.jobs {
                match job.state {
                    JobState::Completed(JobResult::Success) => {
                        observed.finished.push((index, false))
                    }
                    JobState::Completed(JobResult::TestFailed | JobResult::Busted) => {
                        let failed = match verdicts {
                            None => Some(true),
                            Some(v) => v.test_failed_in(job),
                        };
                        if let Some(failed) = failed {
                            observed.finished.push((index, failed));
                        }
                    }
                    _ => {}
                }
            }
            let in_flight = history.counts().in_progress();
            if in_flight > 0 {
                *observed.in_flight.entry(index.max(0)).or_default() += in_flight;
            }
        }
        Ok(observed)
    }

    pub fn in_flight_total(&self) -> u32 {
        self.in_flight.values().sum()
    }
}

/// Whether one test failed in the failed runs, by Treeherder job id, for a
/// search about that test rather than the whole job. Each failed run's logs
/// are read once and remembered across steps; the memory is only a saving,
/// a new `TestVerdicts` reads them again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestVerdicts {
    /// The test's path, or its end (`browser_foo.js`); empty with `any_test`.
    pub test: String,
    /// About any failure of the job rather than one test: a failed run
    /// counts unless its logs show only infrastructure trouble.
    #[serde(default)]
    pub any_test: bool,
    /// `None`: the run broke before the test could tell (busted without
    /// naming it), so it says nothing about the test.
    failed_by_job: HashMap<u64, Option<bool>>,
}

impl TestVerdicts {
    pub fn new(test: &str) -> Self {
        TestVerdicts {
            test: test.to_string(),
            any_test: false,
            failed_by_job: HashMap::new(),
        }
    }

    /// About any failure of the job: a failed run is a failure unless its
    /// logs show only infrastructure trouble (max run time, a download, a
    /// bare exit status), which is no evidence against its push.
    pub fn any_failure() -> Self {
        TestVerdicts {
            any_test: true,
            ..TestVerdicts::default()
        }
    }

    /// The test this is about, `None` for any failure of the job.
    pub fn about_test(&self) -> Option<&str> {
        (!self.any_test).then_some(self.test.as_str())
    }

    fn names_the_test(&self, name: &str) -> bool {
        name == self.test || name.ends_with(&format!("/{}", self.test.trim_start_matches('/')))
    }

    /// What one failed run's logs say about the test: `Some(true)` it
    /// failed, `Some(false)` the run failed otherwise, `None` when the run
    /// tells nothing: it was busted (it may have stopped before the test) or
    /// its only failure is infrastructure (a download failure, an aborted
    /// task, a bare exit status), which is no evidence against a push.
    fn verdict_of(&self, failures: &JobFailures, busted: bool) -> Option<bool> {
        let infrastructure_only = failures.kind == Some(FailureKind::Infrastructure);
        if self.any_test {
            return (!infrastructure_only).then_some(true);
        }
        let failed = failures
            .failed_tests()
            .iter()
            .any(|name| self.names_the_test(name));
        match (failed, busted || infrastructure_only) {
            (true, _) => Some(true),
            (false, false) => Some(false),
            (false, true) => None,
        }
    }

    /// Whether the test failed in this failed run; `None` while its logs
    /// are unread or when they do not tell.
    pub fn test_failed_in(&self, job: &Job) -> Option<bool> {
        self.failed_by_job.get(&job.ids.job_id?).copied().flatten()
    }

    /// Read the logs of the failed runs not read yet (concurrently);
    /// returns why some could not be read (those runs stay unknown).
    pub async fn learn(
        &mut self,
        session: &Session,
        repo: &str,
        histories: &[PushHistory],
    ) -> Vec<String> {
        // (job id, busted): a busted run may have stopped before the test.
        let unread: Vec<(u64, bool)> = histories
            .iter()
            .flat_map(|h| &h.jobs)
            .filter_map(|j| match j.state {
                JobState::Completed(JobResult::TestFailed) => Some((j.ids.job_id?, false)),
                JobState::Completed(JobResult::Busted) => Some((j.ids.job_id?, true)),
                _ => None,
            })
            .filter(|(id, _)| !self.failed_by_job.contains_key(id))
            .collect();
        let ctx = &session.ctx;
        let reports: Vec<_> =
            stream::iter(unread.into_iter().map(|(id, busted)| async move {
                (id, busted, failures_of_job(ctx, repo, id).await)
            }))
            .buffer_unordered(ctx.concurrency.max(1))
            .collect()
            .await;
        let mut notes = Vec::new();
        for (id, busted, report) in reports {
            match report {
                Ok(report) => {
                    let verdict = self.verdict_of(&report.failures, busted);
                    self.failed_by_job.insert(id, verdict);
                }
                Err(e) => notes.push(format!("job {id}: {e}")),
            }
        }
        notes
    }
}

/// The new runs to ask for: the search's wish list (`wanted`, one entry
/// per run, 0 for "an older push") less what is already on its way to the
/// same push, at most `room` in all. A run in flight elsewhere still takes
/// room, so a round never has more than the allowed runs out at once.
pub fn runs_to_request(
    wanted: &[i64],
    in_flight: &BTreeMap<i64, u32>,
    room: u32,
) -> BTreeMap<i64, u32> {
    let mut covered = in_flight.clone();
    let mut request: BTreeMap<i64, u32> = BTreeMap::new();
    let mut granted = 0;
    for &index in wanted {
        let bucket = index.max(0);
        match covered.get_mut(&bucket) {
            Some(count) if *count > 0 => *count -= 1,
            _ if granted < room => {
                *request.entry(bucket).or_default() += 1;
                granted += 1;
            }
            _ => {}
        }
    }
    request
}

/// New runs asked for on one push in a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRuns {
    pub index: i64,
    pub push_id: u64,
    pub revision: Revision,
    pub runs: u32,
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
    pub explanation: String,
}

impl CulpritProgress {
    pub fn is_done(&self) -> bool {
        matches!(self.decision, Decision::Done(_))
    }
}

/// One step: read the runs, rebuild the search from all finished ones, and
/// (when `send`) trigger the new runs it asks for, recording them in
/// `ledger`. Call again after some runs have finished; the state is the CI
/// system's runs plus the ledger, so a step after a restart continues the
/// same search.
pub async fn culprit_step(
    session: &Session,
    range: &CulpritRange,
    config: &CulpritConfig,
    ledger: &mut Ledger,
    now_ms: u64,
    send: bool,
) -> Result<CulpritProgress> {
    step(session, range, config, ledger, (now_ms, send), None).await
}

/// As [`culprit_step`] for one test of the job: a run counts as failed
/// only if that test failed in it (read from the run's logs, remembered in
/// `verdicts`), so other tests' intermittent failures do not blur the search.
pub async fn culprit_step_for_test(
    session: &Session,
    range: &CulpritRange,
    config: &CulpritConfig,
    ledger: &mut Ledger,
    now_ms: u64,
    send: bool,
    verdicts: &mut TestVerdicts,
) -> Result<CulpritProgress> {
    step(
        session,
        range,
        config,
        ledger,
        (now_ms, send),
        Some(verdicts),
    )
    .await
}

async fn step(
    session: &Session,
    range: &CulpritRange,
    config: &CulpritConfig,
    ledger: &mut Ledger,
    (now_ms, send): (u64, bool),
    verdicts: Option<&mut TestVerdicts>,
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
    let (observed, unread_logs) = match verdicts {
        None => (ObservedRuns::from_histories(range, &histories)?, Vec::new()),
        Some(verdicts) => {
            let notes = verdicts.learn(session, repo, &histories).await;
            (ObservedRuns::for_test(range, &histories, verdicts)?, notes)
        }
    };
    let search = CulpritSearch::resume(config.clone(), &observed.finished)?;
    let decision = search.next_round();
    let answer = match &decision {
        Decision::Done(answer) => answer.clone(),
        Decision::Run(_) => search.answer(),
    };
    let in_flight = observed.in_flight_total();
    let planned = match &decision {
        Decision::Done(_) => Vec::new(),
        Decision::Run(wanted) => {
            let room = config.runs_per_round.saturating_sub(in_flight).min(
                config
                    .budget
                    .saturating_sub(search.runs_used().saturating_add(in_flight)),
            );
            plan_runs(range, &runs_to_request(wanted, &observed.in_flight, room))?
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
    let culprit = match answer.hypothesis {
        Hypothesis::Culprit(index) => range.push_at(i64::from(index)).cloned(),
        Hypothesis::NoCulprit => None,
    };
    let explanation = explain(range, &answer, in_flight);
    Ok(CulpritProgress {
        decision,
        answer,
        culprit,
        planned,
        triggered,
        in_flight,
        unread_logs,
        explanation,
    })
}

/// Pushes for the requested runs; "an older push" is the one just before
/// the range. Fails when the search needs an older push and there is none.
fn plan_runs(range: &CulpritRange, request: &BTreeMap<i64, u32>) -> Result<Vec<PlannedRuns>> {
    request
        .iter()
        .filter(|(_, runs)| **runs > 0)
        .map(|(&index, &runs)| {
            let push = range.push_at(index).ok_or_else(|| {
                Error::Invalid(format!(
                    "the search wants runs on push {index}, which the range does not have \
                     (older pushes are needed to learn the flake rate)"
                ))
            })?;
            Ok(PlannedRuns {
                index,
                push_id: push.id,
                revision: push.revision.clone(),
                runs,
            })
        })
        .collect()
}

/// The answer's account: its verdict, then one line per push with the
/// push's revision, runs, failures and posterior.
fn explain(range: &CulpritRange, answer: &Answer, in_flight: u32) -> String {
    let full = answer.explanation();
    let mut text = full.lines().next().unwrap_or_default().to_string();
    if let Hypothesis::Culprit(index) = answer.hypothesis {
        if let Some(push) = range.push_at(i64::from(index)) {
            let label = match answer.outcome {
                Outcome::Decided => "Culprit",
                Outcome::Undecided => "Best guess (undecided)",
                Outcome::Searching => "Most probable so far",
            };
            let _ = write!(
                text,
                "\n{label}: push {index} = {} (Treeherder push {}) by {}",
                push.revision, push.id, push.author
            );
        }
    }
    if in_flight > 0 {
        let _ = write!(text, "\n{in_flight} run(s) still on their way.");
    }
    for summary in answer.pushes.iter().rev() {
        let name = match range.push_at(summary.push) {
            Some(push) if summary.push >= 1 => {
                format!("push {:>3} {}", summary.push, push.revision.short())
            }
            _ => format!("older pushes ({} examined)", range.older.len()),
        };
        let _ = write!(
            text,
            "\n  {name}: {} failed of {} run(s), P(culprit) = {:.3}",
            summary.failures, summary.runs, summary.posterior
        );
    }
    text
}

// Native only: these tests run on tokio (wasm-pack builds every test target).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn an_infrastructure_only_run_is_no_evidence_about_the_test() {
        use crate::sources::unstructured_log::parse_text_log;
        let verdicts = TestVerdicts::new("a.html");
        let failed = parse_text_log(b"TEST-UNEXPECTED-FAIL | dom/a.html | boom\n");
        let other = parse_text_log(b"TEST-UNEXPECTED-FAIL | dom/b.html | boom\n");
        let infra = parse_text_log(
            b"[taskcluster:error] Error downloading \"public/build/target.tar.gz\"\n",
        );
        assert_eq!(infra.kind, Some(FailureKind::Infrastructure));
        assert_eq!(verdicts.verdict_of(&failed, false), Some(true));
        assert_eq!(verdicts.verdict_of(&other, false), Some(false));
        assert_eq!(verdicts.verdict_of(&infra, false), None);
        assert_eq!(verdicts.verdict_of(&other, true), None);
        assert_eq!(verdicts.verdict_of(&failed, true), Some(true));
        // About any failure of the job: every failure but infrastructure.
        let any = TestVerdicts::any_failure();
        assert_eq!(any.about_test(), None);
        assert_eq!(verdicts.about_test(), Some("a.html"));
        assert_eq!(any.verdict_of(&other, false), Some(true));
        assert_eq!(any.verdict_of(&other, true), Some(true));
        assert_eq!(any.verdict_of(&infra, false), None);
        let max_run_time =
            parse_text_log(b"[taskcluster:error] Task aborted - max run time exceeded\n");
        assert_eq!(any.verdict_of(&max_run_time, false), None);
    }
    use crate::ci::{Backends, CiBackend, CiContext, Endpoints, TriggerReceipt};
    use crate::http::{HttpClient, HttpRequest, HttpResponse};
    use crate::model::{CiSystem, Job, JobIds, JobKind};
    use crate::plan::test_support::push;
    use async_trait::async_trait;
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;
    use std::rc::Rc;

    const LABEL: &str = "test-linux64/opt-mochitest-browser-chrome-1";

    /// Push ids 20 (newest) down to 11.
    fn newest_first() -> Vec<Push> {
        (11..=20).rev().map(push).collect()
    }

    fn job_type() -> JobType {
        JobType::from_name(LABEL)
    }

    #[test]
    fn indices_map_to_pushes_both_ways() {
        let range =
            CulpritRange::from_newest_first("autoland", &job_type(), newest_first(), 4).unwrap();
        assert_eq!(range.n(), 4);
        let ids = |indices: &[i64]| -> Vec<Option<u64>> {
            indices
                .iter()
                .map(|&i| range.push_at(i).map(|p| p.id))
                .collect()
        };
        assert_eq!(
            ids(&[1, 2, 3, 4]),
            vec![Some(17), Some(18), Some(19), Some(20)]
        );
        assert_eq!(ids(&[0, -1, -5]), vec![Some(16), Some(15), Some(11)]);
        assert_eq!(ids(&[5, -6, i64::MIN]), vec![None, None, None]);
        for p in newest_first() {
            let index = range.index_of(p.id).unwrap();
            assert_eq!(range.push_at(index).map(|q| q.id), Some(p.id));
        }
        assert_eq!(range.index_of(99), None);
        let all: Vec<u64> = range.pushes_newest_first().iter().map(|p| p.id).collect();
        assert_eq!(all, (11..=20).rev().collect::<Vec<_>>());
        assert!(
            CulpritRange::from_newest_first("autoland", &job_type(), newest_first(), 11).is_err()
        );
        assert!(
            CulpritRange::from_newest_first("autoland", &job_type(), newest_first(), 0).is_err()
        );
    }

    #[test]
    fn runs_in_flight_are_not_asked_again_and_room_is_respected() {
        let in_flight = BTreeMap::from([(3, 1), (0, 1)]);
        let wanted = [3, 3, -2, 0, 5, 5];
        let got = runs_to_request(&wanted, &in_flight, 10);
        assert_eq!(got, BTreeMap::from([(0, 1), (3, 1), (5, 2)]));
        let got = runs_to_request(&wanted, &in_flight, 2);
        assert_eq!(got, BTreeMap::from([(0, 1), (3, 1)]));
        assert!(runs_to_request(&wanted, &in_flight, 0).is_empty());
    }

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
                ci: CiSystem::Taskcluster,
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
            CiSystem::Taskcluster
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
            Backends {
                buildbot: None,
                taskcluster: Some(backend),
            },
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
        let first = culprit_step(&session, &range, &config, &mut ledger, 0, true)
            .await
            .unwrap();
        let asked: u32 = first.planned.iter().map(|p| p.runs).sum();
        assert_eq!(asked, 4, "{first:?}");
        assert_eq!(ci.runs_asked.get(), 4);
        assert_eq!(first.triggered.len(), first.planned.len());
        assert_eq!(ledger.records.len(), first.planned.len());

        // Nothing finished yet: the runs on their way fill the round.
        let again = culprit_step(&session, &range, &config, &mut ledger, 1, true)
            .await
            .unwrap();
        assert!(again.planned.is_empty(), "{again:?}");
        assert_eq!(again.in_flight, 4);
        assert_eq!(ci.runs_asked.get(), 4);

        // Culprit: push id 16 = push 4.
        let mut progress = again;
        for round in 0..40 {
            ci.finish_all(16);
            progress = culprit_step(&session, &range, &config, &mut ledger, 2 + round, true)
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
        assert_eq!(
            progress.answer.runs_used,
            ci.runs_asked.get() + 1,
            "every run asked was used once"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn runs_not_yet_visible_count_through_the_ledger_and_restarts_resume() {
        let (ci, session, range, config) = setup();
        ci.hide_new_runs.set(true);
        let mut ledger = Ledger::default();
        let first = culprit_step(&session, &range, &config, &mut ledger, 0, true)
            .await
            .unwrap();
        assert_eq!(ci.runs_asked.get(), 4);
        let again = culprit_step(&session, &range, &config, &mut ledger, 10, true)
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
        let restarted = culprit_step(&session, &range, &config, &mut fresh, 10, false)
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
        let running = culprit_step(&session, &range, &config, &mut ledger, 20, false)
            .await
            .unwrap();
        let restarted = culprit_step(&session, &range, &config, &mut fresh, 20, false)
            .await
            .unwrap();
        assert_eq!(running.planned, restarted.planned);
        assert_eq!(running.answer, restarted.answer);
        assert_eq!(running.answer.runs_used, 5);
    }

    #[test]
    fn a_search_about_one_test_counts_only_that_test_s_failures() {
        let ci = FakeCi::default();
        for _ in 0..3 {
            ci.add(&push(20), JobState::Completed(JobResult::TestFailed));
        }
        ci.add(&push(19), JobState::Completed(JobResult::Success));
        let mut jobs = ci.jobs.borrow().clone();
        for (n, job) in jobs.values_mut().flatten().enumerate() {
            job.ids.job_id = Some(100 + n as u64);
        }
        let range =
            CulpritRange::from_newest_first("autoland", &job_type(), newest_first(), 2).unwrap();
        let histories: Vec<PushHistory> = range
            .pushes_newest_first()
            .into_iter()
            .map(|p| PushHistory::new(p.clone(), jobs.get(&p.id).cloned().unwrap_or_default()))
            .collect();
        let failed_ids: Vec<u64> = jobs[&20].iter().filter_map(|j| j.ids.job_id).collect();
        let mut verdicts = TestVerdicts::new("general/browser_x.js");
        // The first failed run broke the test, the second failed elsewhere,
        // the third's logs are not read yet.
        verdicts.failed_by_job.insert(failed_ids[0], Some(true));
        verdicts.failed_by_job.insert(failed_ids[1], Some(false));
        let observed = ObservedRuns::for_test(&range, &histories, &verdicts).unwrap();
        assert_eq!(observed.finished, vec![(2, true), (2, false), (1, false)]);
        let whole_job = ObservedRuns::from_histories(&range, &histories).unwrap();
        assert_eq!(
            whole_job.finished,
            vec![(2, true), (2, true), (2, true), (1, false)]
        );
        assert!(verdicts.names_the_test("browser/base/general/browser_x.js"));
        assert!(verdicts.names_the_test("general/browser_x.js"));
        assert!(!verdicts.names_the_test("browser/base/general/other_browser_x.js"));
    }

    #[test]
    fn the_oldest_push_is_the_oldest_older_one_else_the_oldest_suspect() {
        let with_older =
            CulpritRange::from_newest_first("autoland", &job_type(), newest_first(), 4).unwrap();
        assert_eq!(with_older.oldest_push().map(|p| p.id), Some(11));
        let only_suspects =
            CulpritRange::from_newest_first("autoland", &job_type(), newest_first(), 10).unwrap();
        assert_eq!(only_suspects.oldest_push().map(|p| p.id), Some(11));
        let fewer = CulpritRange::from_newest_first(
            "autoland",
            &job_type(),
            (18..=20).rev().map(push).collect(),
            3,
        )
        .unwrap();
        assert_eq!(fewer.oldest_push().map(|p| p.id), Some(18));
    }

    #[test]
    fn a_flake_history_sums_its_pushes_and_moves_the_prior() {
        let runs = |push_id, runs, failures| PushRuns {
            push_id,
            revision: format!("{push_id:012}"),
            runs,
            failures,
        };
        let history = FlakeHistory::from_runs(&[runs(1, 2, 1), runs(2, 0, 0), runs(3, 1, 0)]);
        assert_eq!(
            history,
            FlakeHistory {
                pushes: 3,
                runs: 3,
                failures: 1,
                left_out: Vec::new(),
            }
        );
        assert!(
            history
                .describe()
                .contains("1 of 3 run(s) failed on the 3 push(es)"),
            "{}",
            history.describe()
        );
        assert_eq!(
            history.rate_model().unwrap(),
            RateModel::with_flake_history(1, 3).unwrap()
        );
        let empty = FlakeHistory::from_runs(&[runs(1, 0, 0)]);
        assert!(
            empty.describe().starts_with("No finished run"),
            "{}",
            empty.describe()
        );
        assert_eq!(empty.rate_model().unwrap(), RateModel::default_grid());
    }

    #[test]
    fn a_broken_stretch_of_the_history_is_left_out_of_the_flake_rate() {
        // 60 pushes, listed newest first as Treeherder gives them: one
        // flake, and pushes 31..=36 where every run failed (a regression,
        // then its backout).
        let per_push: Vec<PushRuns> = (1..=60u64)
            .rev()
            .map(|push_id| PushRuns {
                push_id,
                revision: format!("{push_id:012}"),
                runs: 1,
                failures: u32::from((31..=36).contains(&push_id) || push_id == 10),
            })
            .collect();
        let history = FlakeHistory::from_runs(&per_push);
        assert_eq!((history.runs, history.failures), (60, 7), "every run read");
        assert_eq!(
            history.left_out,
            vec![BrokenStretch {
                pushes: 6,
                runs: 6,
                oldest_revision: "000000000031".into(),
                newest_revision: "000000000036".into(),
            }]
        );
        assert_eq!(history.counted(), (1, 54));
        assert_eq!(
            history.rate_model().unwrap(),
            RateModel::with_flake_history(1, 54).unwrap()
        );
        let text = history.describe();
        assert!(
            text.contains("1 of 54 run(s) failed on the 60 push(es)"),
            "{text}"
        );
        assert!(
            text.contains(
                "Left out: all 6 run(s) failed on the 6 push(es) 000000000031..000000000036"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_history_stored_before_broken_stretches_still_loads() {
        let stored = r#"{"pushes":100,"runs":90,"failures":4}"#;
        let history: FlakeHistory = serde_json::from_str(stored).unwrap();
        assert!(history.left_out.is_empty());
        assert_eq!(history.counted(), (4, 90));
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
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("3 pushes"), "{err}");
    }
}

//! The add-on's "Find culprit" mode: the flake-aware culprit search of
//! [`crate::engine::culprit`] for the job selected on a Treeherder page, one step per
//! monitoring poll. Between steps the background stores only a
//! [`CulpritRun`] (the range, the search's configuration and the test
//! verdicts read so far); the runs themselves are read again each step.
//! Confirm first (the default where the CI offers confirm tasks) starts
//! as the CLI does, from [`Session::confirm_first_start`]: the range is
//! (last good, failing], at most 40 pushes, and an older push already
//! failing the same way ends the run at once with that answer.

use super::{
    refusal_problem, AddonPlan, AuthProblem, ExecuteAnswer, PlanRow, Problem, ProgressRow,
    WatchAnswer, WatchState,
};
use crate::ci::clock;
use crate::engine::culprit::{confirm_newest, culprit_step, CulpritProgress};
use crate::engine::ledger::Ledger;
use crate::engine::Session;
use crate::error::{Error, Result};
use crate::model::JobType;
use crate::model::Push;
use crate::plan::culprit::confirm_first::ConfirmFirstPlan;
use crate::plan::culprit::history::FlakeHistory;
use crate::plan::culprit::observed::RunVerdicts;
use crate::plan::culprit::range::{CulpritRange, PlannedRuns, SEEN_FAILURE_NOT_COUNTED};
use crate::plan::culprit::{ConfirmAction, CulpritConfig, Outcome};
use crate::plan::failure_scope::FailureScope;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Pushes older than the range read with it: the search runs the job on
/// the one just before the range to learn the flake rate, and finished runs
/// on the others count too (for free: not knowing the flake rate is what
/// costs the search most, see the culprit benchmark).
pub const OLDER_PUSHES: u32 = 10;

/// Pushes before those whose runs are read once, when the search starts,
/// as the job's history: they set the flake rate's prior (a job running
/// once per push gives about as many runs; see [`FlakeHistory`]).
pub const HISTORY_PUSHES: u32 = 100;

/// One column of the per-push chart: runs, failures and the posterior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartBar {
    /// The search's index: 1 (oldest suspect) ..= n; 0 for the older pushes together.
    pub index: i64,
    /// Treeherder push id (`None` for the older pushes together).
    pub push_id: Option<u64>,
    /// Short revision, or "older" for the pushes before the range.
    pub label: String,
    /// Finished runs with a verdict (confirm repeats included).
    pub runs: u32,
    /// Of which failed the way the search counts.
    pub failures: u32,
    /// Probability that this push is the culprit.
    pub posterior: f64,
    /// Runs asked for on this push by the latest step.
    pub planned: u32,
}

/// A culprit search of the add-on between two steps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CulpritRun {
    /// The suspect pushes.
    pub range: CulpritRange,
    /// The search's parameters.
    pub config: CulpritConfig,
    /// When set, only this test's failures count (read from each failed run's logs).
    pub verdicts: Option<RunVerdicts>,
    /// Oldest suspect first, the older pushes (when run) before them.
    pub chart: Vec<ChartBar>,
    /// The answer so far, one line ("Push 7 is the culprit with probability 99.2%").
    pub answer_text: String,
    /// The culprit's push once one is named (possibly not final yet).
    pub culprit: Option<Push>,
    /// The probability of the answer so far.
    pub confidence: f64,
    /// The probability that no suspect is the culprit.
    pub posterior_no_culprit: f64,
    /// Job runs the search has used.
    pub runs_used: u32,
    /// Runs on their way, including the ones the latest step asked for.
    pub in_flight: u32,
    /// Runs the latest step asked for.
    pub planned_now: u32,
    /// The search has its answer (decided or undecided).
    pub done: bool,
    /// Done because the run budget ran out, not because an answer became
    /// sure: the culprit (if any) is a best guess, never a finding.
    #[serde(default)]
    pub undecided: bool,
    /// The full account: verdict, then one line per push.
    pub explanation: String,
    /// The job's history read when the search started (`None`: not read).
    #[serde(default)]
    pub history: Option<FlakeHistory>,
    /// What the history gave the search, or why it could not be read.
    #[serde(default)]
    pub history_note: String,
    /// Confirm first (the mode, where the CI offers confirm tasks): the
    /// failure is re-run on the selected push by a confirm task first.
    #[serde(default)]
    pub confirm_first: bool,
    /// The confirm task on the selected push was asked for (or found there).
    #[serde(default)]
    pub confirm_asked: bool,
    /// Confirm tasks whose repeats the search used, and the machine time
    /// spent in whole-job-run units (a run 1, a confirm task its share).
    #[serde(default)]
    pub confirms_used: u32,
    /// The machine time, in whole-job runs.
    #[serde(default)]
    pub cost_used: f64,
    /// Confirm first: what the job's runs showed (the last good push, an
    /// older push already failing, the range), and that in a sentence.
    #[serde(default)]
    pub confirm_plan: Option<ConfirmFirstPlan>,
    /// That plan in a sentence, for the panel.
    #[serde(default)]
    pub confirm_note: String,
}

impl CulpritRun {
    /// A search that has not read any run yet.
    pub fn new(range: CulpritRange, config: CulpritConfig, verdicts: Option<RunVerdicts>) -> Self {
        CulpritRun {
            range,
            config,
            verdicts,
            chart: Vec::new(),
            answer_text: String::new(),
            culprit: None,
            confidence: 0.0,
            posterior_no_culprit: 0.0,
            runs_used: 0,
            in_flight: 0,
            planned_now: 0,
            done: false,
            undecided: false,
            explanation: String::new(),
            history: None,
            history_note: String::new(),
            confirm_first: false,
            confirm_asked: false,
            confirms_used: 0,
            cost_used: 0.0,
            confirm_plan: None,
            confirm_note: String::new(),
        }
    }

    /// Confirm first found nothing to search (no failure to confirm, or
    /// the same failure already before the last good push): the run is
    /// over before it starts, its answer the plan's sentence.
    pub fn ended_by_confirm_first(&self) -> bool {
        self.confirm_plan
            .as_ref()
            .is_some_and(|plan| !matches!(plan, ConfirmFirstPlan::Search { .. }))
    }

    /// Let the job's `history` set the flake rate's prior.
    pub fn with_history(mut self, history: FlakeHistory) -> Result<Self> {
        self.config.rates = history.rate_model()?;
        self.history_note = history.describe();
        self.history = Some(history);
        Ok(self)
    }
}

/// The key of a culprit search: apart from a backfill of the same job.
pub fn culprit_run_key(backfill_key: &str) -> String {
    format!("{backfill_key}/culprit")
}

/// The range and configuration of a new search about any failure of the
/// job or about `test` only. `confirm_first` (where the CI offers confirm
/// tasks): the range is the one [`Session::confirm_first_start`] reads from
/// the job's runs, (last good, failing], at most 40 pushes, and a run with
/// nothing to search comes back done with the reason as its answer;
/// otherwise the `suspects` pushes ending at `push`.
pub async fn new_culprit_run(
    session: &Session,
    repo: &str,
    job_type: &JobType,
    push: &Push,
    suspects: u32,
    scope: FailureScope,
    confirm_first: bool,
) -> Result<CulpritRun> {
    let confirm_first = confirm_first && session.confirm_job_type(job_type).is_some();
    // The failed runs' logs are read whatever the scope: a run failed only
    // by the infrastructure is no evidence.
    let mut verdicts = RunVerdicts::new(scope.clone());
    let mut start = None;
    let range = if confirm_first {
        // The plan reads finished runs only; the ledger would add runs not
        // yet visible, which it does not count.
        let found = session
            .confirm_first_start(
                repo,
                job_type,
                &push.revision,
                OLDER_PUSHES,
                None,
                &mut verdicts,
                &Ledger::default(),
            )
            .await?;
        let range = match &found.range {
            Some(range) => range.clone(),
            None => return ended_run(repo, job_type, push, verdicts, found),
        };
        start = Some(found);
        range
    } else {
        session
            .culprit_range(repo, job_type, &push.revision, suspects, OLDER_PUSHES)
            .await?
    };
    let mut config = CulpritConfig::new(range.n());
    if confirm_first {
        config.confirm = Some(ConfirmAction::default());
    }
    // The history only saves runs: when it cannot be read the search
    // learns the flake rate from its own runs, and the plan says why.
    let history = session.flake_history(&range, HISTORY_PUSHES, &scope).await;
    let mut run = CulpritRun {
        confirm_first,
        ..CulpritRun::new(range, config, Some(verdicts))
    };
    if let Some(start) = start {
        run.confirm_plan = Some(start.plan);
        run.confirm_note = start.sentence;
        if !start.unread.is_empty() {
            let _ = write!(
                run.confirm_note,
                " {} failed run(s) left out: their logs could not be read.",
                start.unread.len()
            );
        }
    }
    match history {
        Ok((history, unread)) => {
            let mut run = run.with_history(history)?;
            if !unread.is_empty() {
                let _ = write!(
                    run.history_note,
                    " {} failed run(s) of it left out: their logs could not be read.",
                    unread.len()
                );
            }
            Ok(run)
        }
        Err(e) => Ok(CulpritRun {
            history_note: format!(
                "The job's history could not be read ({e}): the flake rate is learnt from the search's own runs."
            ),
            ..run
        }),
    }
}

/// A run confirm first ended before it started: done, about the selected
/// push alone, its answer the plan's sentence; nothing to trigger.
fn ended_run(
    repo: &str,
    job_type: &JobType,
    push: &Push,
    verdicts: RunVerdicts,
    start: crate::engine::confirm::ConfirmFirstStart,
) -> Result<CulpritRun> {
    let range = CulpritRange::from_newest_first(repo, job_type, vec![push.clone()], 1)?;
    let config = CulpritConfig {
        confirm: Some(ConfirmAction::default()),
        ..CulpritConfig::new(1)
    };
    Ok(CulpritRun {
        answer_text: start.sentence.clone(),
        explanation: start.sentence.clone(),
        done: true,
        confirm_first: true,
        confirm_plan: Some(start.plan),
        confirm_note: start.sentence,
        ..CulpritRun::new(range, config, Some(verdicts))
    })
}

/// `text` with its first letter in capitals.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The plan of a new search: its first round worked out (a dry step on a
/// copy of the ledger), the summary, notes, and one row per push to run.
pub async fn plan_culprit(
    session: &Session,
    run: &CulpritRun,
    job_type: &JobType,
    ledger: &Ledger,
) -> Result<(CulpritRun, String, Vec<String>, Vec<PlanRow>)> {
    if run.ended_by_confirm_first() {
        // The answer is in already: nothing to plan, nothing to send.
        let summary = format!("Find the culprit: {}", run.confirm_note);
        let mut notes = Vec::new();
        if let Some(verdicts) = &run.verdicts {
            notes.push(format!(
                "{}; runs failed only by the infrastructure are no evidence.",
                capitalised(&verdicts.scope.describe())
            ));
        }
        return Ok((run.clone(), summary, notes, Vec::new()));
    }
    let mut scratch = ledger.clone();
    let (run, progress) = step_culprit_run(session, run, &mut scratch, false).await?;
    let what = match run.verdicts.as_ref().map(|v| &v.scope) {
        Some(FailureScope::Test { test }) => format!("{test} fail in {}", job_type.name),
        _ => format!("{} fail", job_type.name),
    };
    let confirm = if run.confirm_first {
        " The failure is re-run first by the CI's confirm-failures task (one test, 5 repeats), and confirm tasks are used where they tell the most per machine time; each counts its measured machine time against the job's typical run."
    } else {
        " Whole-job runs only (no confirm tasks)."
    };
    let first = if run.confirm_note.is_empty() {
        String::new()
    } else {
        format!("{} ", run.confirm_note)
    };
    let summary = format!(
        "Find the culprit: {first}which of the {} push(es) up to {} made {what}, or none (an intermittent failure). \
         Up to {} run(s) at a time, at most {} runs of machine time in all; stops at {:.0}% confidence.{confirm}",
        run.range.n(),
        run.range
            .push_at(i64::from(run.range.n()))
            .map_or_else(|| "this one".to_string(), |p| p.revision.short().to_string()),
        run.config.runs_per_round,
        run.config.budget,
        run.config.threshold * 100.0
    );
    let mut notes = vec![run.answer_text.clone()];
    if let Some(verdicts) = &run.verdicts {
        notes.push(format!(
            "{}; runs failed only by the infrastructure are no evidence.",
            capitalised(&verdicts.scope.describe())
        ));
    }
    if !run.history_note.is_empty() {
        notes.push(run.history_note.clone());
    }
    notes.extend(progress.unread_logs.iter().cloned());
    let mut rows = plan_rows(&run, &progress.planned);
    if run.confirm_first && !run.confirm_asked {
        // Confirm first: the failure is re-run on the failing push first,
        // unless confirm tasks are there already (then none is asked).
        if let Some(failing) = run.range.push_at(i64::from(run.range.n())) {
            let there = progress.confirms_on_failing_push;
            let action = if there > 0 {
                format!(
                    "confirm the failure: already asked ({there} confirm task(s) there; none asked again)"
                )
            } else {
                "confirm the failure: 1 confirm-failures task (the test 5 times)".to_string()
            };
            rows.insert(
                0,
                PlanRow {
                    push_id: failing.id,
                    revision: failing.revision.short().to_string(),
                    action,
                    runs: plan_row_counts(&run, failing.id, i64::from(run.range.n())),
                },
            );
        }
    }
    Ok((run, summary, notes, rows))
}

/// One step of `run`: read the runs, decide, and (when `send`) trigger the
/// runs asked for, recording them in `ledger`. Returns the run updated for
/// storage and what the step did.
pub async fn step_culprit_run(
    session: &Session,
    run: &CulpritRun,
    ledger: &mut Ledger,
    send: bool,
) -> Result<(CulpritRun, CulpritProgress)> {
    if run.ended_by_confirm_first() {
        return Err(Error::Invalid(format!(
            "nothing to search: {}",
            run.confirm_note
        )));
    }
    let now = clock::now_ms();
    let mut next = run.clone();
    // Confirm first: the confirm task on the selected push goes out with
    // the first round (once: the ledger and the push's tasks guard it).
    let confirm_pending = run.confirm_first && !run.confirm_asked;
    let mut confirmed = None;
    if send && confirm_pending {
        confirmed = confirm_newest(session, &run.range, ledger, now, run.verdicts.as_ref()).await?;
        next.confirm_asked = true;
    }
    let mut progress = culprit_step(
        session,
        &run.range,
        &run.config,
        ledger,
        now,
        send,
        next.verdicts.as_mut(),
    )
    .await?;
    if let Some(record) = confirmed {
        progress.triggered.insert(0, record);
    }
    next.chart = chart(&run.range, &progress);
    next.answer_text = progress
        .explanation
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    next.culprit = progress.culprit.clone();
    next.confidence = progress.answer.confidence;
    next.posterior_no_culprit = progress.answer.posterior_no_culprit;
    next.runs_used = progress.answer.runs_used;
    // A dry step (the plan) counts the confirm task the first sending step
    // asks on the failing push: one more job to start, and no answer is
    // taken before it is read; none when confirm tasks are there already.
    let confirm_ahead =
        u32::from(confirm_pending && !send && progress.confirms_on_failing_push == 0);
    next.planned_now = progress.planned.iter().map(|p| p.runs).sum::<u32>() + confirm_ahead;
    next.in_flight = progress.in_flight + next.planned_now;
    next.confirms_used = progress.answer.confirms_used;
    next.cost_used = progress.answer.cost_used;
    // An answer is taken once the confirm tasks on their way are read.
    next.done = progress.is_done() && progress.confirms_in_flight == 0 && confirm_ahead == 0;
    next.undecided = progress.answer.outcome == Outcome::Undecided;
    next.explanation = progress.explanation.clone();
    Ok((next, progress))
}

/// The chart's columns: every suspect push (and the older pushes when the
/// search ran them), with this step's planned runs.
fn chart(range: &CulpritRange, progress: &CulpritProgress) -> Vec<ChartBar> {
    let planned_on = |index: i64| -> u32 {
        progress
            .planned
            .iter()
            .filter(|p| p.index.max(0) == index)
            .map(|p| p.runs)
            .sum()
    };
    progress
        .answer
        .pushes
        .iter()
        .filter(|s| s.push >= 1 || s.runs > 0 || planned_on(0) > 0)
        .map(|s| {
            let push = (s.push >= 1).then(|| range.push_at(s.push)).flatten();
            ChartBar {
                index: s.push,
                push_id: push.map(|p| p.id),
                label: push
                    .map(|p| p.revision.short().to_string())
                    .unwrap_or_else(|| "older".to_string()),
                runs: s.runs,
                failures: s.failures,
                posterior: s.posterior,
                planned: planned_on(s.push),
            }
        })
        .collect()
}

/// One plan row per push a step asks runs of, newest push first: "add 2
/// run(s) (suspect 7)" and the runs the push has so far.
fn plan_rows(run: &CulpritRun, planned: &[PlannedRuns]) -> Vec<PlanRow> {
    planned
        .iter()
        .rev()
        .map(|p| {
            let place = if p.index >= 1 {
                format!("suspect {}", p.index)
            } else {
                "before the range".to_string()
            };
            PlanRow {
                push_id: p.push_id,
                revision: p.revision.short().to_string(),
                action: format!("add {} run(s) ({place})", p.runs),
                runs: plan_row_counts(run, p.push_id, p.index),
            }
        })
        .collect()
}

/// A plan row's account of the runs a push has so far ("1 failed of 3
/// run(s)"). The failing push's failure is on the page but not in its
/// counts: its row says why, as the progress rows do.
fn plan_row_counts(run: &CulpritRun, push_id: u64, index: i64) -> String {
    let mut text = run
        .chart
        .iter()
        .find(|b| b.push_id == Some(push_id))
        .map(|b| format!("{} failed of {} run(s)", b.failures, b.runs))
        .unwrap_or_default();
    if index == i64::from(run.range.n()) {
        text.push_str(SEEN_FAILURE_NOT_COUNTED);
    }
    text.trim_start().to_string()
}

/// One progress row per chart column, newest first; the older pushes
/// together go under the push just before the range.
fn progress_rows(run: &CulpritRun) -> Vec<ProgressRow> {
    let before_range = run.range.push_at(0).map(|p| p.id).unwrap_or_default();
    run.chart
        .iter()
        .rev()
        .map(|bar| {
            let mut text = format!(
                "{} failed of {} run(s), P(culprit) = {:.2}",
                bar.failures, bar.runs, bar.posterior
            );
            if bar.planned > 0 {
                let _ = write!(text, ", {} more asked for", bar.planned);
            }
            if bar.index == i64::from(run.range.n()) {
                text.push_str(SEEN_FAILURE_NOT_COUNTED);
            }
            if run.done && run.culprit.as_ref().map(|p| p.id) == bar.push_id {
                text.push_str(if run.undecided {
                    " — best guess (undecided)"
                } else {
                    " — culprit"
                });
            }
            ProgressRow {
                push_id: bar.push_id.unwrap_or(before_range),
                revision: bar.label.clone(),
                text,
                done: run.done,
            }
        })
        .collect()
}

/// Start a planned search: its first round sent (each run recorded in
/// `ledger`), and the state the background polls from now on.
pub async fn execute_culprit(
    session: &Session,
    plan: &AddonPlan,
    ledger: &mut Ledger,
) -> Result<ExecuteAnswer> {
    let run = plan.culprit.as_ref().ok_or_else(|| {
        Error::Invalid("this plan carries no culprit search: click Backfill again".into())
    })?;
    let state = WatchState {
        key: plan.key.clone(),
        repo: plan.repo.clone(),
        job_type: plan.job_type.clone(),
        endpoints: plan.endpoints.clone(),
        tc_root: plan.tc_root.clone(),
        pushes: run.range.pushes_newest_first(),
        items: Vec::new(),
        rows: Vec::new(),
        settled: false,
        verdict: None,
        verdict_text: None,
        range_url: plan.range_url.clone(),
        problem: None,
        polls: 0,
        title: plan.title.clone(),
        culprit: None,
        notice: None,
        live: super::LiveTargets::default(),
    };
    if run.ended_by_confirm_first() {
        // Nothing to send: the run is over, its answer the plan's.
        return Ok(ExecuteAnswer {
            executions: Vec::new(),
            ledger: ledger.clone(),
            watch: ended_watch(&state, run.clone()),
        });
    }
    let (run, progress) = step_culprit_run(session, run, ledger, true).await?;
    Ok(ExecuteAnswer {
        executions: Vec::new(),
        ledger: ledger.clone(),
        watch: culprit_watch(&state, run, &progress, true),
    })
}

/// One monitoring poll of a search: a step, sending its runs only when
/// `send` (the CI system's credentials are at hand).
pub async fn watch_culprit(
    session: &Session,
    state: &WatchState,
    run: &CulpritRun,
    ledger: &mut Ledger,
    send: bool,
) -> Result<WatchAnswer> {
    if run.ended_by_confirm_first() {
        return Ok(WatchAnswer {
            watch: ended_watch(state, run.clone()),
            ledger: ledger.clone(),
            events: Vec::new(),
        });
    }
    let (run, progress) = step_culprit_run(session, run, ledger, send).await?;
    let mut watch = culprit_watch(state, run, &progress, send);
    watch.polls = state.polls.saturating_add(1);
    Ok(WatchAnswer {
        watch,
        ledger: ledger.clone(),
        events: Vec::new(),
    })
}

/// The watch state after a step: rows from the chart, the verdict once
/// done, and who must act when a trigger was refused or could not be sent.
fn culprit_watch(
    state: &WatchState,
    run: CulpritRun,
    progress: &CulpritProgress,
    sent: bool,
) -> WatchState {
    let ci = state.job_type.ci;
    let refusal = progress
        .triggered
        .iter()
        .find_map(|r| refusal_problem(&r.outcome, ci));
    let waiting_for_login = (!sent && !progress.planned.is_empty()).then(|| Problem {
        message: "the next runs wait for your Treeherder login: open the job, click Backfill, \
                  then Continue"
            .to_string(),
        auth: Some(AuthProblem::LogInToTreeherder),
    });
    let rows = progress_rows(&run);
    let verdict_text = if run.done {
        Some(verdict_sentence(&run))
    } else {
        refusal.as_ref().map(|p| p.message.clone())
    };
    let mut next = state.clone();
    next.settled = run.done || refusal.is_some();
    next.problem = refusal.or(waiting_for_login);
    next.notice = super::unknown_notice(progress.triggered.iter()).or(next.notice);
    next.verdict_text = verdict_text;
    next.rows = rows;
    next.culprit = Some(run);
    next
}

/// The watch state of a run confirm first ended: settled, its answer the
/// plan's sentence, no rows.
fn ended_watch(state: &WatchState, run: CulpritRun) -> WatchState {
    let mut next = state.clone();
    next.settled = true;
    next.problem = None;
    next.verdict_text = Some(verdict_sentence(&run));
    next.rows = Vec::new();
    next.culprit = Some(run);
    next
}

/// The sentence the notification and the panel give once the search is done.
pub fn verdict_sentence(run: &CulpritRun) -> String {
    if run.ended_by_confirm_first() {
        return run.confirm_note.clone();
    }
    if run.done && run.undecided {
        let guess = match &run.culprit {
            Some(push) => format!("push {} by {}", push.revision.short(), push.author),
            None => "no culprit (intermittent)".to_string(),
        };
        return format!(
            "Undecided after {}: best guess {guess} ({:.1}%), not sure enough to name",
            spent(run),
            run.confidence * 100.0
        );
    }
    match (&run.culprit, run.done) {
        (Some(push), true) => format!(
            "Culprit: push {} by {} ({:.1}% after {})",
            push.revision.short(),
            push.author,
            run.confidence * 100.0,
            spent(run)
        ),
        (None, true) => format!(
            "No culprit: the failure is intermittent ({:.1}% after {})",
            run.posterior_no_culprit * 100.0,
            spent(run)
        ),
        (_, false) => run.answer_text.clone(),
    }
}

/// What the search spent: its runs, and its confirm tasks with the
/// machine time in all when it used any.
fn spent(run: &CulpritRun) -> String {
    if run.confirms_used == 0 {
        return format!("{} run(s)", run.runs_used);
    }
    format!(
        "{} run(s) and {} confirm task(s), {:.2} runs of machine time",
        run.runs_used, run.confirms_used, run.cost_used
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::culprit::{Answer, Decision, Hypothesis, PushSummary, Round};
    use crate::plan::test_support::push;

    fn range() -> CulpritRange {
        let pushes = (11..=20).rev().map(push).collect();
        CulpritRange::from_newest_first(
            "autoland",
            &JobType::from_name("test-linux64/opt-mochitest-1"),
            pushes,
            4,
        )
        .unwrap()
    }

    fn progress(hypothesis: Hypothesis, done: bool, planned: Vec<PlannedRuns>) -> CulpritProgress {
        let answer = Answer {
            hypothesis,
            confidence: 0.995,
            posterior_no_culprit: 0.001,
            stopped: None,
            outcome: Outcome::Searching,
            runs_used: 12,
            confirms_used: 0,
            cost_used: 12.0,
            pushes: vec![
                PushSummary {
                    push: 0,
                    runs: 0,
                    failures: 0,
                    posterior: 0.0,
                    confirms: 0,
                    confirm_repeats: 0,
                    confirm_failures: 0,
                },
                PushSummary {
                    push: 1,
                    runs: 3,
                    failures: 0,
                    posterior: 0.001,
                    confirms: 0,
                    confirm_repeats: 0,
                    confirm_failures: 0,
                },
                PushSummary {
                    push: 2,
                    runs: 3,
                    failures: 0,
                    posterior: 0.003,
                    confirms: 0,
                    confirm_repeats: 0,
                    confirm_failures: 0,
                },
                PushSummary {
                    push: 3,
                    runs: 3,
                    failures: 3,
                    posterior: 0.995,
                    confirms: 0,
                    confirm_repeats: 0,
                    confirm_failures: 0,
                },
                PushSummary {
                    push: 4,
                    runs: 3,
                    failures: 3,
                    posterior: 0.0,
                    confirms: 0,
                    confirm_repeats: 0,
                    confirm_failures: 0,
                },
            ],
            flake_rate: 0.0,
            strength: 1.0,
        };
        CulpritProgress {
            decision: if done {
                Decision::Done(answer.clone())
            } else {
                Decision::Run(Round {
                    runs: vec![1, 1],
                    confirms: Vec::new(),
                })
            },
            culprit: match hypothesis {
                Hypothesis::Culprit(i) => range().push_at(i64::from(i)).cloned(),
                Hypothesis::NoCulprit => None,
            },
            answer,
            planned,
            triggered: Vec::new(),
            in_flight: 0,
            unread_logs: Vec::new(),
            confirms_planned: Vec::new(),
            confirms_on_failing_push: 0,
            confirms_in_flight: 0,
            explanation: "Push 3 is the culprit with probability 99.5%\nmore".into(),
        }
    }

    #[test]
    fn the_chart_has_every_suspect_and_older_pushes_only_when_run() {
        let bars = chart(
            &range(),
            &progress(Hypothesis::Culprit(3), true, Vec::new()),
        );
        let indices: Vec<i64> = bars.iter().map(|b| b.index).collect();
        assert_eq!(indices, vec![1, 2, 3, 4]);
        assert_eq!(bars[2].push_id, Some(19));
        assert_eq!(bars[2].failures, 3);
        assert_eq!(bars[2].label, push(19).revision.short());

        let planned = vec![PlannedRuns {
            index: 0,
            push_id: 16,
            revision: push(16).revision,
            runs: 2,
        }];
        let bars = chart(&range(), &progress(Hypothesis::Culprit(3), false, planned));
        assert_eq!(bars[0].index, 0);
        assert_eq!(bars[0].label, "older");
        assert_eq!(bars[0].push_id, None);
        assert_eq!(bars[0].planned, 2);
    }

    #[test]
    fn the_verdict_names_the_culprit_or_says_intermittent() {
        let mut run = CulpritRun {
            chart: chart(
                &range(),
                &progress(Hypothesis::Culprit(3), true, Vec::new()),
            ),
            answer_text: "Push 3 is the culprit with probability 99.5%".into(),
            culprit: Some(push(19)),
            confidence: 0.995,
            posterior_no_culprit: 0.001,
            runs_used: 12,
            done: true,
            ..CulpritRun::new(range(), CulpritConfig::new(4), None)
        };
        let sentence = verdict_sentence(&run);
        assert!(
            sentence.starts_with("Culprit: push 0000000000"),
            "{sentence}"
        );
        assert!(sentence.contains("99.5%") && sentence.contains("12 run(s)"));
        let rows = progress_rows(&run);
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[1].push_id, 19);
        assert!(rows[1].text.ends_with("— culprit"), "{:?}", rows[1]);
        assert!(!rows[0].text.contains("— culprit"), "{:?}", rows[0]);

        run.culprit = None;
        run.posterior_no_culprit = 0.991;
        assert!(
            verdict_sentence(&run).starts_with("No culprit: the failure is intermittent (99.1%")
        );
        run.done = false;
        assert_eq!(verdict_sentence(&run), run.answer_text);
    }

    #[test]
    fn an_undecided_search_gives_its_guess_as_a_guess() {
        let mut run = CulpritRun {
            chart: chart(
                &range(),
                &progress(Hypothesis::Culprit(3), true, Vec::new()),
            ),
            culprit: Some(push(19)),
            confidence: 0.62,
            runs_used: 300,
            done: true,
            undecided: true,
            ..CulpritRun::new(range(), CulpritConfig::new(4), None)
        };
        let sentence = verdict_sentence(&run);
        assert!(
            sentence.starts_with("Undecided after 300 run(s): best guess push 0000000000")
                && sentence.contains("62.0%")
                && !sentence.contains("Culprit:"),
            "{sentence}"
        );
        let rows = progress_rows(&run);
        assert!(
            rows[1].text.ends_with("— best guess (undecided)"),
            "{:?}",
            rows[1]
        );
        run.culprit = None;
        assert!(verdict_sentence(&run).contains("best guess no culprit (intermittent) (62.0%)"));
    }

    #[test]
    fn planned_runs_read_newest_first() {
        let planned = vec![
            PlannedRuns {
                index: 0,
                push_id: 16,
                revision: push(16).revision,
                runs: 1,
            },
            PlannedRuns {
                index: 2,
                push_id: 18,
                revision: push(18).revision,
                runs: 3,
            },
        ];
        let run = CulpritRun::new(range(), CulpritConfig::new(4), None);
        let rows = plan_rows(&run, &planned);
        assert_eq!(rows[0].push_id, 18);
        assert_eq!(rows[0].action, "add 3 run(s) (suspect 2)");
        assert_eq!(rows[1].action, "add 1 run(s) (before the range)");
        assert!(rows.iter().all(|r| !r.runs.contains("not counted")));
    }

    #[test]
    fn the_preview_row_of_the_failing_push_says_its_failure_is_not_counted() {
        let failing = PlannedRuns {
            index: 4,
            push_id: 20,
            revision: push(20).revision,
            runs: 2,
        };
        let mut run = CulpritRun::new(range(), CulpritConfig::new(4), None);
        let rows = plan_rows(&run, std::slice::from_ref(&failing));
        assert_eq!(rows[0].action, "add 2 run(s) (suspect 4)");
        assert_eq!(
            rows[0].runs,
            "(the failure that started the search is not counted)"
        );
        run.chart = vec![ChartBar {
            index: 4,
            push_id: Some(20),
            label: push(20).revision.short().to_string(),
            runs: 3,
            failures: 1,
            posterior: 0.2,
            planned: 2,
        }];
        let rows = plan_rows(&run, &[failing]);
        assert_eq!(
            rows[0].runs,
            "1 failed of 3 run(s) (the failure that started the search is not counted)"
        );
    }

    #[test]
    fn runs_are_stored_and_read_back() {
        let run = CulpritRun::new(
            range(),
            CulpritConfig::new(4),
            Some(RunVerdicts::new(FailureScope::choose(
                false,
                Some("browser_foo.js"),
                None,
            ))),
        );
        let text = serde_json::to_string(&run).unwrap();
        let back: CulpritRun = serde_json::from_str(&text).unwrap();
        assert_eq!(back.range, run.range);
        assert_eq!(back.verdicts, run.verdicts);
        assert_eq!(culprit_run_key("autoland/5/x"), "autoland/5/x/culprit");
    }
}

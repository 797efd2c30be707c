//! One planning call for both drivers: what a backfill, a trigger on a
//! range of pushes or the CI system's own backfill action would do, decided
//! the same way for the command line and the add-on. The range rules, the
//! times count (from the job's failure rate when nobody chose one), which
//! failures count, the notes and whether the plan waits for confirmation
//! are all worked out here; the drivers only render [`PlannedBackfill`].

#![warn(missing_docs)]

use super::failures::{failures_of_job, JobFailureReport};
use super::ledger::{Ledger, TriggerRecord, VISIBILITY_WINDOW_MS};
use super::Session;
use crate::error::{Error, Result};
use crate::model::{Job, JobState, JobType, Push, PushHistory, Revision};
use crate::plan::backfill::{backfill_plan, BackfillOutcome, BackfillPlan, BackfillRequest};
use crate::plan::backfill_button::is_try_repository;
use crate::plan::choices::{MAX_DEPTH, MAX_TIMES};
use crate::plan::confirmation::{needs_confirmation, PlanSize};
use crate::plan::default_times::{suggest_times, TimesSuggestion};
use crate::plan::failure_scope::{judging_note, FailureScope};
use crate::plan::trigger::{trigger_range_plan, PushPlan};

/// Which pushes a plan covers.
#[derive(Debug, Clone)]
pub enum PlanRange {
    /// From the push of `revision` back to the last push where the job
    /// passed, examining at most `depth` earlier pushes.
    ToLastGood {
        /// The selected push's revision.
        revision: Revision,
        /// Earlier pushes examined at most.
        depth: u32,
    },
    /// Exactly these pushes, newest first; `selected` names the one the
    /// user started from (a prefix of its revision will do).
    Pushes {
        /// The pushes, newest first.
        pushes: Vec<Push>,
        /// The one the user started from.
        selected: Revision,
    },
    /// The CI system's own backfill action sent on `push`: `times` runs on
    /// each of the `depth` pushes before it, in one request.
    CiBackfill {
        /// The selected push.
        push: Push,
        /// Earlier pushes the action fills.
        depth: u32,
    },
}

/// What a driver asks the engine to plan.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// The repository's short name.
    pub repo: String,
    /// The job type to run.
    pub job_type: JobType,
    /// Which pushes.
    pub range: PlanRange,
    /// Runs wanted per push in total; `None`: chosen from the job's failure
    /// rate on the pushes read (`plan::default_times`).
    pub times: Option<u32>,
    /// The run the user selected, when the driver knows it (the add-on's
    /// page); otherwise the selected push's first failed run stands for it.
    pub selected_job: Option<Job>,
    /// Count any failure of the job rather than runs failing like the
    /// selected one.
    pub any_failure: bool,
    /// Count only this test's failures.
    pub test: Option<String>,
    /// Extra runs per push the watch may spend on re-runs (named in the notes).
    pub rerun_budget: u32,
    /// Plans starting more jobs than this wait for confirmation (see
    /// `plan::confirmation`).
    pub confirm_above: u32,
}

/// A plan worked out, for a driver to show and, once confirmed, carry out.
#[derive(Debug, Clone)]
pub struct PlannedBackfill {
    /// The selected push and the others read, newest first.
    pub histories: Vec<PushHistory>,
    /// What to do on each push (empty for the CI system's backfill action,
    /// which is one request).
    pub plans: Vec<PushPlan>,
    /// The backfill to the last good push, when that is the range: where
    /// the walk stopped, with `notes` below as its notes.
    pub backfill: Option<BackfillPlan>,
    /// Runs per push.
    pub times: u32,
    /// Set when nobody chose the times count: the count the failure rate
    /// calls for, and why.
    pub times_suggestion: Option<TimesSuggestion>,
    /// One line: what the plan does.
    pub summary: String,
    /// Things the user should know before confirming, in order.
    pub notes: Vec<String>,
    /// CI jobs carrying it out starts now (builds included).
    pub jobs_started_now: u32,
    /// The user must confirm before anything is sent.
    pub needs_confirmation: bool,
    /// Which failures count while the runs are watched.
    pub scope: FailureScope,
    /// The selected run's failures, when it failed and its logs could be read.
    pub selected_failures: Option<JobFailureReport>,
    /// The CI system's backfill action already sent for this job (only
    /// with [`PlanRange::CiBackfill`]): nothing is sent again.
    pub backfill_action_sent: Option<TriggerRecord>,
    /// Triggers of this job whose answer was lost (or never recorded),
    /// counted as asked in the plan and never resent.
    pub unknown: Vec<TriggerRecord>,
}

/// The range rules every driver applies before anything is read: no try
/// repository (each try push stands alone), times within
/// `1..=MAX_TIMES`, depth within `1..=MAX_DEPTH`, and the CI system's own
/// backfill only for a system that has one.
pub fn check_request(request: &PlanRequest) -> Result<()> {
    let depth = match &request.range {
        PlanRange::ToLastGood { depth, .. } | PlanRange::CiBackfill { depth, .. } => Some(*depth),
        PlanRange::Pushes { .. } => None,
    };
    check_choices(&request.repo, request.times, depth)?;
    let system = request.job_type.ci;
    if matches!(request.range, PlanRange::CiBackfill { .. }) && !system.has_backfill_action() {
        return Err(Error::Invalid(format!(
            "{} has no backfill action of its own: choose \"to the last good push\" for its jobs",
            system.name()
        )));
    }
    Ok(())
}

/// The user's choices checked before anything is read (a driver may call
/// this first, [`plan`] does again): not a try repository, `times` (when
/// chosen) within `1..=MAX_TIMES`, `depth` (when the range has one) within
/// `1..=MAX_DEPTH`.
pub fn check_choices(repo: &str, times: Option<u32>, depth: Option<u32>) -> Result<()> {
    if is_try_repository(repo) {
        return Err(Error::Invalid(
            "backfill does not apply to try pushes".into(),
        ));
    }
    let times_in_range = times.is_none_or(|t| (1..=MAX_TIMES).contains(&t));
    if !times_in_range || depth.is_some_and(|d| !(1..=MAX_DEPTH).contains(&d)) {
        return Err(Error::Invalid(format!(
            "times must be 1-{MAX_TIMES} and depth 1-{MAX_DEPTH}"
        )));
    }
    Ok(())
}

/// Plan what `request` asks for. The ledger's pending triggers count as
/// runs already asked for, so nothing is doubled.
pub async fn plan(
    session: &Session,
    request: &PlanRequest,
    ledger: &Ledger,
    now_ms: u64,
) -> Result<PlannedBackfill> {
    check_request(request)?;
    let (repo, job_type) = (request.repo.as_str(), &request.job_type);
    let pushes = match &request.range {
        PlanRange::ToLastGood { revision, depth } => {
            session.pushes_ending_at(repo, revision, *depth).await?
        }
        PlanRange::Pushes { pushes, .. } => pushes.clone(),
        PlanRange::CiBackfill { push, depth } => {
            session
                .pushes_ending_at(repo, &push.revision, *depth)
                .await?
        }
    };
    let histories = session
        .histories(repo, &pushes, job_type, ledger, now_ms)
        .await?;
    // Without a times choice, the count follows from the job's failure rate
    // on the pushes just read (no extra request: the plans are pure).
    let times_suggestion = match request.times {
        Some(_) => None,
        None => Some(suggest_times(&histories, MAX_TIMES)),
    };
    let times = request
        .times
        .or(times_suggestion.as_ref().map(|s| s.times))
        .unwrap_or(1);

    let mut notes: Vec<String> = times_suggestion
        .iter()
        .map(|s| {
            format!(
                "times {} chosen from the failure rate: {}",
                s.times, s.reason
            )
        })
        .collect();
    let mut backfill = None;
    let mut backfill_action_sent = None;
    let mut bounded = true;
    let (plans, summary, jobs_started_now) = match &request.range {
        PlanRange::ToLastGood { depth, .. } => {
            let plan = backfill_plan(
                &histories,
                BackfillRequest {
                    depth: *depth,
                    times,
                },
            );
            bounded = matches!(plan.outcome, BackfillOutcome::LastGoodFound { .. });
            notes.extend(plan.notes.iter().cloned());
            let started = plan.jobs_started_now();
            let summary = plan.summary();
            let plans = plan.pushes.clone();
            backfill = Some(plan);
            (plans, summary, started)
        }
        PlanRange::Pushes { .. } => {
            let plans = trigger_range_plan(&histories, times);
            let started: u32 = plans.iter().map(|p| p.action.jobs_started_now()).sum();
            let summary = match plans.len() {
                1 => format!("{started} job(s) to start on this push"),
                n => format!("{started} job(s) to start on {n} push(es)"),
            };
            (plans, summary, started)
        }
        PlanRange::CiBackfill { push, depth } => {
            let system = job_type.ci.name();
            // A second action would double every run the first asked for.
            match ledger.backfill_action_sent(session.origin(), repo, push.id, &job_type.name, now_ms)
            {
                Some(sent) => {
                    notes.push(format!(
                        "the backfill action sent earlier: {}",
                        sent.outcome.describe()
                    ));
                    backfill_action_sent = Some(sent.clone());
                    (
                        Vec::new(),
                        format!("a {system} backfill action was already sent for this job: nothing to send"),
                        0,
                    )
                }
                None => (
                    Vec::new(),
                    format!(
                        "{system} backfill action: {times} run(s) on each of the {depth} earlier push(es)"
                    ),
                    depth.saturating_mul(times),
                ),
            }
        }
    };

    let selected_push = match &request.range {
        PlanRange::Pushes { selected, .. } => histories.iter().find(|h| {
            h.push.revision.0.starts_with(&selected.0) || selected.0.starts_with(&h.push.revision.0)
        }),
        _ => histories.first(),
    };
    let choice = choose_scope_of_selected(
        session,
        repo,
        request.selected_job.as_ref(),
        selected_push,
        request.any_failure,
        request.test.as_deref(),
    )
    .await;
    notes.extend(choice.note);
    notes.push(judging_note(&choice.scope, request.rerun_budget));

    let needs_confirmation = needs_confirmation(
        PlanSize {
            jobs_started_now,
            bounded,
            times_chosen_by_tool: times_suggestion.is_some(),
        },
        request.confirm_above,
    );
    if let Some(plan) = &mut backfill {
        plan.notes = notes.clone();
    }
    Ok(PlannedBackfill {
        unknown: unknown_triggers(session, repo, job_type, ledger, now_ms),
        histories,
        plans,
        backfill,
        times,
        times_suggestion,
        summary,
        notes,
        jobs_started_now,
        needs_confirmation,
        scope: choice.scope,
        selected_failures: choice.failures,
        backfill_action_sent,
    })
}

/// Triggers of `job_type` on `repo` (this session's Treeherder) whose
/// answer was lost, or whose intent was kept but never answered (a driver
/// stopped mid-send), within the window where they count as asked.
pub fn unknown_triggers(
    session: &Session,
    repo: &str,
    job_type: &JobType,
    ledger: &Ledger,
    now_ms: u64,
) -> Vec<TriggerRecord> {
    ledger
        .unknown()
        .filter(|r| r.is_on(session.origin()) && r.repo == repo && r.job_name == job_type.name)
        .filter(|r| now_ms.saturating_sub(r.at_ms) < VISIBILITY_WINDOW_MS)
        .cloned()
        .collect()
}

/// Which failures count for a plan, and what the selected run showed.
#[derive(Debug, Clone)]
pub struct ScopeChoice {
    /// The failures that count.
    pub scope: FailureScope,
    /// Why the scope is wider than asked (the selected run's logs could not
    /// be read).
    pub note: Option<String>,
    /// The selected run's failures, when it failed and its logs were read.
    pub failures: Option<JobFailureReport>,
}

/// The scope a plan judges runs by: `test` or any failure when the user
/// said so, else the signature of the selected run, read from its logs.
/// The selected run is `selected_job` when given (read only when it
/// failed), else the first failed run on `selected_push`. Its failures are
/// read whatever the scope, for the driver to show; logs that cannot be
/// read give "any failure", with why.
pub async fn choose_scope_of_selected(
    session: &Session,
    repo: &str,
    selected_job: Option<&Job>,
    selected_push: Option<&PushHistory>,
    any_failure: bool,
    test: Option<&str>,
) -> ScopeChoice {
    let failed = |job: &Job| matches!(job.state, JobState::Completed(r) if r.is_failure() && !r.is_infrastructure());
    let failed_run = match selected_job {
        Some(job) => job.ids.job_id.filter(|_| failed(job)),
        None => selected_push.and_then(|h| {
            h.jobs
                .iter()
                .filter(|j| failed(j))
                .find_map(|j| j.ids.job_id)
        }),
    };
    let user_chose = any_failure || test.is_some_and(|t| !t.trim().is_empty());
    let Some(job_id) = failed_run else {
        return ScopeChoice {
            scope: FailureScope::choose(any_failure, test, None),
            note: None,
            failures: None,
        };
    };
    match failures_of_job(&session.ctx, repo, job_id).await {
        Ok(report) => ScopeChoice {
            scope: FailureScope::choose(any_failure, test, Some(&report.failures)),
            note: None,
            failures: Some(report),
        },
        Err(e) => ScopeChoice {
            scope: FailureScope::choose(any_failure, test, None),
            note: Some(if user_chose {
                format!("the selected run's logs could not be read ({e})")
            } else {
                format!(
                    "the selected run's logs could not be read ({e}): any failure of this job counts"
                )
            }),
            failures: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::ANY_CI;
    use crate::model::JobKind;

    fn request(repo: &str, times: Option<u32>, range: PlanRange) -> PlanRequest {
        PlanRequest {
            repo: repo.into(),
            job_type: JobType {
                name: "test-linux64/opt-xpcshell".into(),
                ci: ANY_CI,
                kind: JobKind::Test,
                platform: "linux64".into(),
                symbol: "X".into(),
            },
            range,
            times,
            selected_job: None,
            any_failure: false,
            test: None,
            rerun_budget: 2,
            confirm_above: 20,
        }
    }

    fn to_last_good(depth: u32) -> PlanRange {
        PlanRange::ToLastGood {
            revision: Revision("a".repeat(40)),
            depth,
        }
    }

    #[test]
    fn both_drivers_get_the_same_range_rules() {
        assert!(check_request(&request("autoland", None, to_last_good(20))).is_ok());
        assert!(check_request(&request(
            "autoland",
            Some(MAX_TIMES),
            to_last_good(MAX_DEPTH)
        ))
        .is_ok());
        for refused in [
            request("try", Some(1), to_last_good(20)),
            request("autoland", Some(0), to_last_good(20)),
            request("autoland", Some(MAX_TIMES + 1), to_last_good(20)),
            request("autoland", None, to_last_good(0)),
            request("autoland", None, to_last_good(MAX_DEPTH + 1)),
        ] {
            let answer = check_request(&refused);
            assert!(
                matches!(answer, Err(Error::Invalid(_))),
                "{refused:?}: {answer:?}"
            );
        }
        // A range of pushes the user named has no depth to bound.
        let named = PlanRange::Pushes {
            pushes: Vec::new(),
            selected: Revision("a".repeat(40)),
        };
        assert!(check_request(&request("autoland", Some(3), named)).is_ok());
    }
}

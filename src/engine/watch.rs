//! Watching triggered work: poll the runs of the watched pushes, ask
//! `plan::monitor` what to do, and do it (trigger tests once a build is in,
//! re-run coalesced or infrastructure-failed jobs within a budget). When
//! runs are judged by a failure signature, each failed run's logs are read
//! once (see `plan::failure_scope`): a run whose logs show only
//! infrastructure trouble is re-run like an exception.

#![warn(missing_docs)]

use super::execute::send_recorded;
use super::execute::PushExecution;
use super::failures::failures_of_runs;
use super::ledger::{Ledger, TriggerKind, TriggerRecord, TriggerRequest};
use super::planning::choose_scope_of_selected;
use super::Session;
use crate::ci::clock;
use crate::error::Result;
use crate::model::{JobReading, JobResult, JobState, JobType, Push, PushHistory};
use crate::plan::failure_scope::FailureScope;
use crate::plan::monitor::{react, Reaction, Stage, WatchItem};
use crate::plan::trigger::PushAction;
use serde::{Deserialize, Serialize};

/// Extra runs allowed per push for re-runs and rebuilds, unless told otherwise.
pub const DEFAULT_RERUN_BUDGET: u32 = 2;

/// The watch list for what was just executed.
pub fn watch_items(
    executions: &[PushExecution],
    job_name: &str,
    rerun_budget: u32,
    scope: &FailureScope,
) -> Vec<WatchItem> {
    executions
        .iter()
        .map(|e| WatchItem {
            push_id: e.plan.push_id,
            job_name: job_name.to_string(),
            wanted: e.plan.wanted,
            stage: match e.plan.action {
                PushAction::BuildFirst { .. } | PushAction::WaitForBuild { .. } => {
                    Stage::WaitingForBuild
                }
                _ => Stage::Running,
            },
            rerun_budget,
            scope: scope.clone(),
            readings: Vec::new(),
        })
        .collect()
}

/// The scope a backfill judges runs by: `test` or any failure when the
/// user said so (no log is read), else the signature of the selected push's
/// failed run (`selected_job_id` when given and a run of `selected`, else
/// its first failed run), read from its logs
/// ([`choose_scope_of_selected`]). Logs that cannot be read give "any
/// failure", with why.
pub async fn choose_scope(
    session: &Session,
    repo: &str,
    selected: Option<&PushHistory>,
    selected_job_id: Option<u64>,
    any_failure: bool,
    test: Option<&str>,
) -> (FailureScope, Option<String>) {
    if any_failure || test.is_some_and(|t| !t.trim().is_empty()) {
        return (FailureScope::choose(any_failure, test, None), None);
    }
    let job =
        selected_job_id.and_then(|id| selected?.jobs.iter().find(|j| j.ids.job_id == Some(id)));
    let choice = choose_scope_of_selected(session, repo, job, selected, false, None).await;
    (choice.scope, choice.note)
}

/// Read the logs of `history`'s failed runs that `item` has not read yet
/// (concurrently) and judge each by the item's scope; the readings are kept
/// in `item` and copied into `history`. A run whose logs cannot be read
/// stays unread (it counts by its result) and is tried again next poll;
/// returns why.
pub async fn read_failed_runs(
    session: &Session,
    repo: &str,
    item: &mut WatchItem,
    history: &mut PushHistory,
) -> Vec<String> {
    if item.scope.reads_logs() {
        let unread: Vec<(u64, bool)> = history
            .jobs
            .iter()
            .filter_map(|j| match j.state {
                JobState::Completed(JobResult::TestFailed) => Some((j.ids.job_id?, false)),
                JobState::Completed(JobResult::Busted) => Some((j.ids.job_id?, true)),
                _ => None,
            })
            .filter(|(id, _)| !item.readings.iter().any(|r| r.job_id == *id))
            .collect();
        let (read, problems) = failures_of_runs(&session.ctx, repo, unread).await;
        for (job_id, busted, report) in read {
            item.readings.push(JobReading {
                job_id,
                reading: item.scope.reading(&report.failures, busted),
            });
        }
        item.readings.sort_by_key(|r| r.job_id);
        history.readings = item.readings.clone();
        return problems;
    }
    Vec::new()
}

/// What one poll saw and did on one push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchEvent {
    /// The push's pushlog id.
    pub push_id: u64,
    /// What the watch decided there.
    pub reaction: Reaction,
    /// The trigger it sent, if it sent one.
    pub record: Option<TriggerRecord>,
}

/// One poll: fetch the watched pushes' runs, react, carry the reactions out.
/// Returns the fresh histories (newest first) and what happened.
pub async fn watch_step(
    session: &Session,
    repo: &str,
    job_type: &JobType,
    pushes: &[Push],
    items: &mut [WatchItem],
    ledger: &mut Ledger,
) -> Result<(Vec<PushHistory>, Vec<WatchEvent>)> {
    let now = clock::now_ms();
    let mut histories = session
        .histories(repo, pushes, job_type, ledger, now)
        .await?;
    let backend = session.backends.for_system(job_type.ci)?;
    let mut events = Vec::new();
    for item in items.iter_mut() {
        let Some(history) = histories.iter_mut().find(|h| h.push.id == item.push_id) else {
            continue;
        };
        // Unreadable logs leave a run counted by its result; the next poll
        // tries them again.
        read_failed_runs(session, repo, item, history).await;
        let history = &*history;
        let (reaction, next) = react(item, history);
        let visible = history.jobs.len() as u32;
        let request = |kind, job_name: &str, runs_asked| TriggerRequest {
            kind,
            job_name: job_name.to_string(),
            runs_asked,
            visible_before: visible,
        };
        let push = &history.push;
        let record = match &reaction {
            Reaction::TriggerTests { count, files } => Some(
                send_recorded(
                    session,
                    repo,
                    push,
                    request(TriggerKind::Trigger, &job_type.name, *count),
                    backend.trigger(repo, push, job_type, *count, files),
                )
                .await?,
            ),
            Reaction::Rebuild { build_name } => Some(
                send_recorded(
                    session,
                    repo,
                    push,
                    request(TriggerKind::Build, build_name, 1),
                    backend.trigger_build(repo, push, build_name),
                )
                .await?,
            ),
            Reaction::Rerun { job, count, .. } => Some(
                send_recorded(
                    session,
                    repo,
                    push,
                    request(TriggerKind::Retrigger, &job_type.name, *count),
                    backend.retrigger(repo, job, *count),
                )
                .await?,
            ),
            Reaction::Wait | Reaction::Done | Reaction::GiveUp { .. } => None,
        };
        if let Some(r) = &record {
            ledger.record(r.clone());
        }
        *item = next;
        if reaction != Reaction::Wait || record.is_some() {
            events.push(WatchEvent {
                push_id: item.push_id,
                reaction,
                record,
            });
        }
    }
    Ok((histories, events))
}

/// Whether every item is finished one way or the other.
pub fn all_settled(items: &[WatchItem]) -> bool {
    items
        .iter()
        .all(|i| matches!(i.stage, Stage::Done | Stage::GaveUp))
}

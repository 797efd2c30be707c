//! Watching triggered work: poll the runs of the watched pushes, ask
//! `plan::monitor` what to do, and do it (trigger tests once a build is in,
//! re-run coalesced or infrastructure-failed jobs within a budget).

use super::execute::send_recorded;
use super::execute::PushExecution;
use super::ledger::{Ledger, TriggerKind, TriggerRecord, TriggerRequest};
use super::Session;
use crate::ci::clock;
use crate::error::Result;
use crate::model::JobType;
use crate::model::{Push, PushHistory};
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
        })
        .collect()
}

/// What one poll saw and did on one push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchEvent {
    pub push_id: u64,
    pub reaction: Reaction,
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
    let histories = session
        .histories(repo, pushes, job_type, ledger, now)
        .await?;
    let backend = session.backends.for_system(job_type.ci)?;
    let mut events = Vec::new();
    for item in items.iter_mut() {
        let Some(history) = histories.iter().find(|h| h.push.id == item.push_id) else {
            continue;
        };
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

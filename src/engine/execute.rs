//! Carrying out a plan: every push's action sent concurrently (bounded),
//! results reported newest push first, each trigger written ahead to the
//! session's journal (an intent before it is sent, its outcome after) and
//! recorded in the ledger. Triggers are sent once; a lost answer is recorded
//! as unknown, never resent here.

#![warn(missing_docs)]

use super::ledger::{Ledger, TriggerKind, TriggerOutcome, TriggerRecord, TriggerRequest};
use super::Session;
use crate::ci::{clock, TriggerReceipt};
use crate::error::{Error, Result};
use crate::model::JobType;
use crate::model::{Push, PushHistory};
use crate::plan::trigger::{PushAction, PushPlan};
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use std::future::Future;

/// What was done on one push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushExecution {
    /// What was planned there.
    pub plan: PushPlan,
    /// Empty when the plan needed nothing sent now.
    pub records: Vec<TriggerRecord>,
}

impl PushExecution {
    /// Every request sent for this push was accepted in full.
    pub fn all_accepted(&self) -> bool {
        self.records
            .iter()
            .all(|r| matches!(r.outcome, TriggerOutcome::Accepted { .. }))
    }
}

/// Send one trigger request, written ahead: its intent is kept by the
/// session's journal before `send` runs (if it cannot be kept, nothing is
/// sent), then its outcome replaces the intent. `send` is not polled before
/// the intent is written (futures do nothing until awaited).
pub async fn send_recorded(
    session: &Session,
    repo: &str,
    push: &Push,
    request: TriggerRequest,
    send: impl Future<Output = Result<TriggerReceipt>>,
) -> Result<TriggerRecord> {
    let intent = TriggerRecord::intent(
        session.origin(),
        repo,
        push,
        request,
        clock::nonce(),
        clock::now_ms(),
    );
    session.journal.write(&intent).await?;
    let record = intent.answered(send.await);
    session.journal.write(&record).await?;
    Ok(record)
}

/// Send what `plan` says for its push. `history` is the push's history the
/// plan was made from.
async fn execute_push(
    session: &Session,
    repo: &str,
    job_type: &JobType,
    plan: &PushPlan,
    history: &PushHistory,
    ledger: &Ledger,
) -> Result<PushExecution> {
    let backend = session.backends.for_system(job_type.ci)?;
    let push = &history.push;
    let visible_before = history.jobs.len() as u32;
    let nothing = || PushExecution {
        plan: plan.clone(),
        records: Vec::new(),
    };
    let request = |kind, job_name: &str, runs_asked| TriggerRequest {
        kind,
        job_name: job_name.to_string(),
        runs_asked,
        visible_before,
    };
    let record = match &plan.action {
        PushAction::Nothing | PushAction::WaitForBuild { .. } => return Ok(nothing()),
        PushAction::Retrigger { job, count } => {
            send_recorded(
                session,
                repo,
                push,
                request(TriggerKind::Retrigger, &job_type.name, *count),
                backend.retrigger(repo, job, *count),
            )
            .await?
        }
        PushAction::Trigger { count, files } => {
            send_recorded(
                session,
                repo,
                push,
                request(TriggerKind::Trigger, &job_type.name, *count),
                backend.trigger(repo, push, job_type, *count, files),
            )
            .await?
        }
        PushAction::BuildFirst { build_name, .. } => {
            // A build asked for earlier (and not yet visible) is not asked for again.
            if ledger.build_requested(session.origin(), repo, push.id, build_name, clock::now_ms())
            {
                return Ok(nothing());
            }
            send_recorded(
                session,
                repo,
                push,
                request(TriggerKind::Build, build_name, 1),
                backend.trigger_build(repo, push, build_name),
            )
            .await?
        }
    };
    Ok(PushExecution {
        plan: plan.clone(),
        records: vec![record],
    })
}

/// Carry out `plans` (newest first, with the `histories` they came from),
/// at most `session.ctx.concurrency` pushes at a time. `on_push` sees each
/// push's execution in plan order, only once it and every newer push are
/// done. Every record is also added to `ledger`.
pub async fn execute_plans(
    session: &Session,
    repo: &str,
    job_type: &JobType,
    plans: &[PushPlan],
    histories: &[PushHistory],
    ledger: &mut Ledger,
    mut on_push: impl FnMut(&PushExecution),
) -> Result<Vec<PushExecution>> {
    let mut work = Vec::new();
    for plan in plans {
        let history = histories
            .iter()
            .find(|h| h.push.id == plan.push_id)
            .ok_or_else(|| {
                Error::Invalid(format!("no history for push {} of the plan", plan.push_id))
            })?;
        work.push((plan, history));
    }
    let snapshot = ledger.clone();
    let concurrency = session.ctx.concurrency.max(1);
    // `buffered` keeps plan order while running up to `concurrency` at once.
    let mut results =
        stream::iter(work.into_iter().map(|(plan, history)| {
            execute_push(session, repo, job_type, plan, history, &snapshot)
        }))
        .buffered(concurrency);
    // Every push's request runs to its end, even after another's record
    // could not be written: dropping one mid-send would lose its answer.
    let mut done = Vec::new();
    let mut first_error = None;
    while let Some(result) = results.next().await {
        match result {
            Ok(execution) => {
                for record in &execution.records {
                    ledger.record(record.clone());
                }
                on_push(&execution);
                done.push(execution);
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(done),
    }
}

//! The engine drives the pure decisions of `plan/` through the Job
//! abstraction of `ci/`: fetch what is needed in as few round trips as the
//! services allow, decide, trigger (concurrently, each trigger recorded in
//! the [`ledger`]), and watch until the answer is in.
//!
//! It is the one driver shared by the command line (natively) and the
//! add-on's background page (in WebAssembly); both only add storage and
//! presentation. [`planning::plan`] is the planning call both make.

#![warn(missing_docs)]

pub mod confirm;
pub mod culprit;
pub mod execute;
pub mod failures;
pub mod ledger;
pub mod merges;
pub mod planning;
pub mod ranges;
pub mod rates;
pub mod watch;

use crate::ci::{Backends, CiContext};
use crate::error::{Error, Result};
use crate::model::JobType;
use crate::model::{Push, PushHistory, Revision};
use crate::plan::backfill::{backfill_plan, BackfillPlan, BackfillRequest};
use crate::plan::trigger::{trigger_range_plan, PushPlan};
use crate::services::treeherder;
use ledger::{InMemoryOnly, Ledger, TriggerJournal};
use serde::{Deserialize, Serialize};
use std::rc::Rc;

/// The services of one session, the backends that talk to them, and where
/// trigger records are written ahead (see [`ledger::TriggerJournal`]).
#[derive(Clone)]
pub struct Session {
    /// The services and the client that reads them.
    pub ctx: CiContext,
    /// The CI systems this session can trigger on.
    pub backends: Backends,
    /// Where each trigger's intent is kept before it is sent.
    pub journal: Rc<dyn TriggerJournal>,
}

/// A backfill worked out: what exists and what the plan would do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackfillAnalysis {
    /// The repository's short name.
    pub repo: String,
    /// The job type backfilled.
    pub job_type: JobType,
    /// The selected push and the earlier ones examined, newest first.
    pub histories: Vec<PushHistory>,
    /// What to do on each of them.
    pub plan: BackfillPlan,
}

/// A range trigger worked out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RangeAnalysis {
    /// The repository's short name.
    pub repo: String,
    /// The job type triggered.
    pub job_type: JobType,
    /// The range's pushes, newest first.
    pub histories: Vec<PushHistory>,
    /// Newest first.
    pub plans: Vec<PushPlan>,
}

impl Session {
    /// A session whose trigger records live only in the caller's [`Ledger`].
    pub fn new(ctx: CiContext, backends: Backends) -> Session {
        Session {
            ctx,
            backends,
            journal: Rc::new(InMemoryOnly),
        }
    }

    /// This session writing its trigger records ahead to `journal`.
    pub fn with_journal(mut self, journal: Rc<dyn TriggerJournal>) -> Session {
        self.journal = journal;
        self
    }

    /// The Treeherder origin this session's runs and records are keyed by.
    pub fn origin(&self) -> &str {
        self.ctx.endpoints.treeherder.trim_end_matches('/')
    }

    /// Runs of `job_type` on `pushes` with the ledger's pending requests applied.
    pub async fn histories(
        &self,
        repo: &str,
        pushes: &[Push],
        job_type: &JobType,
        ledger: &Ledger,
        now_ms: u64,
    ) -> Result<Vec<PushHistory>> {
        let backend = self.backends.for_system(job_type.ci)?;
        let mut histories = backend.push_histories(repo, pushes, job_type).await?;
        ledger.apply(self.origin(), repo, &job_type.name, &mut histories, now_ms);
        Ok(histories)
    }

    /// Plan a backfill of `job_type` from the push of `revision`: one request
    /// for the pushes, one batched fetch of their runs, then the pure decision.
    pub async fn analyse_backfill(
        &self,
        repo: &str,
        job_type: &JobType,
        revision: &Revision,
        request: BackfillRequest,
        ledger: &Ledger,
        now_ms: u64,
    ) -> Result<BackfillAnalysis> {
        if request.times == 0 || request.depth == 0 {
            return Err(Error::Invalid("depth and times must be at least 1".into()));
        }
        let pushes = treeherder::pushes_ending_at(&self.ctx, repo, revision, request.depth).await?;
        let histories = self
            .histories(repo, &pushes, job_type, ledger, now_ms)
            .await?;
        let plan = backfill_plan(&histories, request);
        Ok(BackfillAnalysis {
            repo: repo.to_string(),
            job_type: job_type.clone(),
            histories,
            plan,
        })
    }

    /// Plan `times` runs of `job_type` on every push of `pushes` (newest first).
    pub async fn analyse_range(
        &self,
        repo: &str,
        job_type: &JobType,
        pushes: &[Push],
        times: u32,
        ledger: &Ledger,
        now_ms: u64,
    ) -> Result<RangeAnalysis> {
        if times == 0 {
            return Err(Error::Invalid("times must be at least 1".into()));
        }
        let histories = self
            .histories(repo, pushes, job_type, ledger, now_ms)
            .await?;
        let plans = trigger_range_plan(&histories, times);
        Ok(RangeAnalysis {
            repo: repo.to_string(),
            job_type: job_type.clone(),
            histories,
            plans,
        })
    }

    /// The push with `revision` and the `earlier` pushes before it, newest first.
    pub async fn pushes_ending_at(
        &self,
        repo: &str,
        revision: &Revision,
        earlier: u32,
    ) -> Result<Vec<Push>> {
        treeherder::pushes_ending_at(&self.ctx, repo, revision, earlier).await
    }
}

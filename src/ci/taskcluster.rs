//! Taskcluster behind the Job abstraction: runs read from Treeherder, states
//! from the queue, and triggers through the push's `actions.json` hooks
//! (`add-new-jobs` for new runs, `retrigger-multiple` for more runs of an
//! existing job, `backfill` for Treeherder-style fixed-depth backfills,
//! `confirm-failures` to re-run a failed task's failing tests in `-cf`
//! tasks), signed with the user's Taskcluster credentials.

use super::clock;
use super::{CiBackend, CiContext, TriggerReceipt};
use crate::error::{Error, Result};
use crate::http::{send_checked, send_trigger, HttpRequest, RetryPolicy};
use crate::model::JobType;
use crate::model::{CiSystem, Job, JobState, Push, PushHistory};
use crate::services::treeherder::{decision_tasks, group_by_push, jobs_of_pushes};
use crate::sources::taskcluster::actions::{parse_actions_json, ActionsJson};
use crate::sources::taskcluster::credentials::TaskclusterCredentials;
use crate::sources::taskcluster::hooks::{
    parse_trigger_hook_response, trigger_action_request, ActionCall,
};
use crate::sources::taskcluster::queue::{
    artifact_url, parse_task, parse_task_status, run_job_state, task_status_url, task_url,
};
use crate::sources::taskcluster::RootUrl;
use async_trait::async_trait;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;

/// What confirm_failure.py appends to a task's label for its `-cf` tasks.
pub const CONFIRM_SUFFIX: &str = "-cf";

/// Taskcluster for one Treeherder repository.
pub struct TaskclusterCi {
    ctx: CiContext,
    root: RootUrl,
    credentials: Option<TaskclusterCredentials>,
    /// Decision task ids by push id, learnt while reading runs, so that a
    /// trigger right after planning costs no extra round trip.
    decision_tasks: RefCell<HashMap<u64, String>>,
}

/// The task of `job`, which every action on it needs.
fn task_id_of(job: &Job) -> Result<&str> {
    job.ids
        .task_id
        .as_deref()
        .ok_or_else(|| Error::Invalid(format!("job {} has no Taskcluster task", job.name)))
}

impl TaskclusterCi {
    /// `root`: the repository's Taskcluster root URL (Treeherder's `tc_root_url`).
    pub fn new(ctx: CiContext, root: RootUrl, credentials: Option<TaskclusterCredentials>) -> Self {
        TaskclusterCi {
            ctx,
            root,
            credentials,
            decision_tasks: RefCell::new(HashMap::new()),
        }
    }

    async fn get(&self, url: &str) -> Result<Vec<u8>> {
        let request = HttpRequest::get(url).header("Accept", "application/json");
        Ok(
            send_checked(self.ctx.http.as_ref(), request, RetryPolicy::default())
                .await?
                .body,
        )
    }

    /// The push's decision task id.
    async fn decision_task(&self, repo: &str, push: &Push) -> Result<String> {
        if let Some(known) = self.decision_tasks.borrow().get(&push.id) {
            return Ok(known.clone());
        }
        let found = decision_tasks(&self.ctx, repo, &[push.id]).await?;
        self.decision_tasks.borrow_mut().extend(found.clone());
        found.get(&push.id).cloned().ok_or_else(|| {
            Error::Invalid(format!(
                "push {} of {repo} has no decision task on Treeherder",
                push.revision.short()
            ))
        })
    }

    /// The decision task's `public/actions.json`.
    pub async fn actions(&self, decision_task_id: &str) -> Result<ActionsJson> {
        parse_actions_json(
            &self
                .get(&artifact_url(
                    &self.root,
                    decision_task_id,
                    "public/actions.json",
                ))
                .await?,
        )
    }

    fn credentials(&self) -> Result<&TaskclusterCredentials> {
        self.credentials.as_ref().ok_or_else(|| {
            Error::Config(
                "Taskcluster credentials are needed to trigger jobs: log in to Treeherder".into(),
            )
        })
    }

    /// Trigger action `name` of the push's decision task with `input`;
    /// `task` is the task acted on (with its tags) or `None` for a push-level action.
    async fn trigger_action(
        &self,
        repo: &str,
        push: &Push,
        name: &str,
        task_id: Option<&str>,
        input: Value,
    ) -> Result<String> {
        let credentials = self.credentials()?;
        let decision = self.decision_task(repo, push).await?;
        let actions = self.actions(&decision).await?;
        let tags = match task_id {
            Some(id) => Some(parse_task(&self.get(&task_url(&self.root, id)).await?)?.tags),
            None => None,
        };
        let action = actions.require(name, tags.as_ref())?;
        let call = ActionCall {
            action,
            variables: &actions.variables,
            decision_task_id: &decision,
            task_id,
        };
        let request = trigger_action_request(
            &self.root,
            &call,
            Some(input),
            credentials,
            clock::now_secs(),
            &clock::nonce(),
        )?;
        // A trigger is sent once: a lost, 5xx or unreadable answer is
        // `Error::Uncertain` (it may have been carried out), never resent.
        let response = send_trigger(self.ctx.http.as_ref(), request).await?;
        parse_trigger_hook_response(&response.body)
            .map(|hook| hook.task_id)
            .map_err(Error::after_sending)
    }
}

#[async_trait(?Send)]
impl CiBackend for TaskclusterCi {
    fn system(&self) -> CiSystem {
        CiSystem::Taskcluster
    }

    async fn push_histories(
        &self,
        repo: &str,
        pushes: &[Push],
        job_type: &JobType,
    ) -> Result<Vec<PushHistory>> {
        // The runs and (for the triggers that may follow) the decision tasks, at once.
        let push_ids: Vec<u64> = pushes.iter().map(|p| p.id).collect();
        let (jobs, decisions) = futures::join!(
            jobs_of_pushes(&self.ctx, pushes, Some(&job_type.name)),
            decision_tasks(&self.ctx, repo, &push_ids)
        );
        let jobs = jobs?;
        // Not knowing the decision tasks yet only costs a request later.
        if let Ok(decisions) = decisions {
            self.decision_tasks.borrow_mut().extend(decisions);
        }
        let mut by_push = group_by_push(&jobs, pushes)?;
        Ok(pushes
            .iter()
            .map(|push| {
                let runs: Vec<Job> = by_push
                    .remove(&push.id)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|j| j.name == job_type.name)
                    .collect();
                // add-new-jobs schedules a test's build itself: no build step here.
                PushHistory::new(push.clone(), runs)
            })
            .collect())
    }

    async fn job_state(&self, _repo: &str, job: &Job) -> Result<JobState> {
        let task_id = task_id_of(job)?;
        let status = parse_task_status(&self.get(&task_status_url(&self.root, task_id)).await?)?;
        let last_run = status.runs.last().map(|r| r.run_id);
        let run = job
            .ids
            .run_id
            .and_then(|id| status.runs.iter().find(|r| r.run_id == id));
        Ok(match run {
            Some(run) => run_job_state(run, Some(run.run_id) == last_run),
            None => status.job_state(),
        })
    }

    async fn trigger(
        &self,
        repo: &str,
        push: &Push,
        job_type: &JobType,
        count: u32,
        _files: &[String],
    ) -> Result<TriggerReceipt> {
        let input = json!({ "tasks": [job_type.name], "times": count });
        let id = self
            .trigger_action(repo, push, "add-new-jobs", None, input)
            .await?;
        Ok(TriggerReceipt::accepted(id, count))
    }

    async fn retrigger(&self, repo: &str, job: &Job, count: u32) -> Result<TriggerReceipt> {
        let push = Push {
            id: job
                .push_id
                .ok_or_else(|| Error::Invalid(format!("job {} has no push", job.name)))?,
            revision: job.revision.clone(),
            changesets: Vec::new(),
            author: String::new(),
            date: 0,
            repository: repo.to_string(),
        };
        let input = json!({ "requests": [{ "tasks": [job.name], "times": count }] });
        let id = self
            .trigger_action(repo, &push, "retrigger-multiple", None, input)
            .await?;
        Ok(TriggerReceipt::accepted(id, count))
    }

    async fn trigger_build(
        &self,
        repo: &str,
        push: &Push,
        build_name: &str,
    ) -> Result<TriggerReceipt> {
        let input = json!({ "tasks": [build_name], "times": 1 });
        let id = self
            .trigger_action(repo, push, "add-new-jobs", None, input)
            .await?;
        Ok(TriggerReceipt::accepted(id, 1))
    }

    /// `<label>-cf`: the label gecko_taskgraph's confirm_failure.py gives
    /// the tasks it creates (tier 3, group symbol `<group>-cf`).
    fn confirm_job_type(&self, job_type: &JobType) -> Option<JobType> {
        let mut confirm = job_type.clone();
        confirm.name = format!("{}{CONFIRM_SUFFIX}", job_type.name);
        Some(confirm)
    }

    /// The `confirm-failures` action on `job`'s task (context `kind: test`,
    /// input schema `{times: 1..=100}`): per failing test of the task's
    /// errorsummary (at most ten), `times` `-cf` tasks running that test
    /// five times; with no test failure to confirm, it retriggers the task.
    async fn confirm_failures(
        &self,
        repo: &str,
        push: &Push,
        job: &Job,
        times: u32,
    ) -> Result<TriggerReceipt> {
        let task_id = task_id_of(job)?;
        if !(1..=100).contains(&times) {
            return Err(Error::Invalid(format!(
                "confirm-failures takes 1 to 100 times, not {times}"
            )));
        }
        let input = json!({ "times": times });
        let id = self
            .trigger_action(repo, push, "confirm-failures", Some(task_id), input)
            .await?;
        Ok(TriggerReceipt::accepted(id, times))
    }

    /// Treeherder's own backfill: the `backfill` action on `job`'s task, for
    /// `depth` earlier pushes and `times` runs each.
    async fn backfill_action(
        &self,
        repo: &str,
        push: &Push,
        job: &Job,
        depth: u32,
        times: u32,
    ) -> Result<TriggerReceipt> {
        let task_id = task_id_of(job)?;
        let input = json!({ "depth": depth, "times": times });
        let id = self
            .trigger_action(repo, push, "backfill", Some(task_id), input)
            .await?;
        Ok(TriggerReceipt::accepted(id, depth.saturating_mul(times)))
    }
}

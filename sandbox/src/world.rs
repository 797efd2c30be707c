//! The world: everything the sandbox knows (pushes, jobs, Self-Serve records,
//! request log, faults, clock), built from a scenario, with its lookups and
//! the primitive changes (add a job, change its state, cancel, fail).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ids;
use crate::model::{
    BuildbotPart, ConfirmPart, Faults, Job, JobKind, JobState, LoggedRequest, PulseEvent, Push,
    SelfServeJob, TaskclusterPart, TestFailure,
};
use crate::scenario::{CiSystem, Scenario};

const FIRST_JOB_ID: u64 = 12_400_000;
const FIRST_PUSH_ID: u64 = 41_000;
const FIRST_REQUEST_ID: u64 = 86_100_000;
const FIRST_BUILD_ID: u64 = 75_300_000;
const FIRST_SELFSERVE_ID: u64 = 1_000;

/// Everything the sandbox knows; persisted as a whole by `store`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct World {
    pub scenario: Scenario,
    pub seed: u64,
    /// Simulated clock, unix seconds.
    pub clock: i64,
    pub pushes: Vec<Push>,
    pub jobs: Vec<Job>,
    pub selfserve: Vec<SelfServeJob>,
    pub request_log: Vec<LoggedRequest>,
    pub faults: Faults,
    pub next_request_id: u64,
    pub next_build_id: u64,
    /// Bumped on every change so that buildjson can answer `Last-Modified`.
    pub last_change: i64,
    #[serde(skip)]
    pub events: Vec<PulseEvent>,
    #[serde(skip)]
    pub dirty_jobs: BTreeSet<u64>,
}

/// What a caller asks the simulator to schedule.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub push_id: u64,
    pub revision: String,
    pub kind: JobKind,
    pub platform: String,
    pub option: String,
    pub test_type: Option<String>,
    pub reason: String,
    pub who: String,
    pub priority: i64,
    pub files: Vec<String>,
    pub task_group_id: Option<String>,
    pub dependencies: Vec<String>,
}

impl World {
    /// A fresh world: the scenario's history replayed up to its start time.
    pub fn new(scenario: Scenario, seed: u64) -> World {
        let mut specs = scenario.generate_pushes();
        specs.sort_by_key(|p| (p.date, p.repo.clone()));
        let start = specs.first().map(|p| p.date).unwrap_or(scenario.start_time);
        let mut world = World {
            seed,
            clock: start,
            pushes: Vec::new(),
            jobs: Vec::new(),
            selfserve: Vec::new(),
            request_log: Vec::new(),
            faults: Faults::default(),
            next_request_id: FIRST_REQUEST_ID,
            next_build_id: FIRST_BUILD_ID,
            last_change: start,
            events: Vec::new(),
            dirty_jobs: BTreeSet::new(),
            scenario,
        };
        for (n, spec) in specs.into_iter().enumerate() {
            world.advance_to(spec.date);
            let push = Push {
                id: FIRST_PUSH_ID + n as u64,
                repo: spec.repo,
                pushlog_id: spec.pushlog_id,
                index: spec.index,
                user: spec.user,
                date: spec.date,
                changesets: spec.changesets,
                decision_task_id: None,
                regressions: Vec::new(),
            };
            world.pushes.push(push);
            world.mark_regressions();
            world.schedule_push(FIRST_PUSH_ID + n as u64);
        }
        let start_time = world.scenario.start_time;
        world.advance_to(start_time);
        world.events.clear();
        world
    }

    /// Recomputes which regressions each push carries (a regression is carried
    /// by every push, in any repository, at or after the first one containing
    /// the introducing changeset).
    fn mark_regressions(&mut self) {
        let introducing: Vec<Option<String>> = self
            .scenario
            .regressions
            .iter()
            .map(|reg| {
                self.pushes
                    .iter()
                    .find(|p| p.repo == reg.repo && p.index == reg.push_index)
                    .map(|p| p.revision().to_string())
            })
            .collect();
        let repos: Vec<String> = self.scenario.repos.iter().map(|r| r.name.clone()).collect();
        for repo in repos {
            for (reg_index, node) in introducing.iter().enumerate() {
                let Some(node) = node else { continue };
                let first = self
                    .pushes
                    .iter()
                    .filter(|p| p.repo == repo && p.changesets.iter().any(|c| &c.node == node))
                    .map(|p| p.index)
                    .min();
                let Some(first) = first else { continue };
                for push in self
                    .pushes
                    .iter_mut()
                    .filter(|p| p.repo == repo && p.index >= first)
                {
                    if !push.regressions.contains(&reg_index) {
                        push.regressions.push(reg_index);
                    }
                }
            }
        }
    }

    pub fn push(&self, id: u64) -> Option<&Push> {
        self.pushes.iter().find(|p| p.id == id)
    }

    pub fn push_by_revision(&self, repo: &str, rev: &str) -> Option<&Push> {
        self.pushes
            .iter()
            .find(|p| p.repo == repo && p.revision().starts_with(rev) && rev.len() >= 12)
    }

    /// The push whose changesets include `rev` (prefix of at least 12 hex).
    pub fn push_containing(&self, repo: &str, rev: &str) -> Option<&Push> {
        self.pushes
            .iter()
            .find(|p| p.repo == repo && p.contains(rev))
    }

    pub fn repo_pushes(&self, repo: &str) -> Vec<&Push> {
        let mut pushes: Vec<&Push> = self.pushes.iter().filter(|p| p.repo == repo).collect();
        pushes.sort_by_key(|p| p.pushlog_id);
        pushes
    }

    pub fn job(&self, id: u64) -> Option<&Job> {
        id.checked_sub(FIRST_JOB_ID)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.jobs.get(i))
    }

    pub(crate) fn job_mut(&mut self, id: u64) -> Option<&mut Job> {
        self.dirty_jobs.insert(id);
        id.checked_sub(FIRST_JOB_ID)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.jobs.get_mut(i))
    }

    pub fn job_by_task(&self, task_id: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.task_id() == Some(task_id))
    }

    pub fn job_by_request(&self, request_id: u64) -> Option<&Job> {
        self.jobs
            .iter()
            .find(|j| j.request_id() == Some(request_id))
    }

    pub fn job_by_build(&self, build_id: u64) -> Option<&Job> {
        self.jobs
            .iter()
            .find(|j| j.buildbot.as_ref().and_then(|b| b.build_id) == Some(build_id))
    }

    pub(crate) fn system_of(&self, repo: &str) -> CiSystem {
        self.scenario
            .repo(repo)
            .map(|r| r.system)
            .unwrap_or(CiSystem::Taskcluster)
    }

    /// Buildbot buildername or Taskcluster label of a job.
    pub fn label_for(
        &self,
        repo: &str,
        kind: JobKind,
        platform: &str,
        option: &str,
        test: Option<&str>,
    ) -> String {
        let test = test.unwrap_or("unknown");
        let spec = self.scenario.platform(platform);
        match (self.system_of(repo), kind, spec) {
            (_, JobKind::Decision, _) => "Gecko Decision Task".into(),
            (_, JobKind::Action, _) => "Action Task".into(),
            (CiSystem::Buildbot, JobKind::Build, Some(spec)) => {
                let template = if option == "debug" {
                    &spec.debug_build_builder
                } else {
                    &spec.build_builder
                };
                template.replace("{branch}", repo)
            }
            (CiSystem::Buildbot, JobKind::Test, Some(spec)) => {
                format!("{} {repo} {option} test {test}", spec.test_builder_prefix)
            }
            (CiSystem::Buildbot, _, None) => format!("{platform} {repo} {option} {test}"),
            (CiSystem::Taskcluster, JobKind::Build, _) => format!("build-{platform}/{option}"),
            (CiSystem::Taskcluster, JobKind::Test, _) => format!("test-{platform}/{option}-{test}"),
        }
    }

    /// Parses a buildername or label back into (kind, platform, option, test type).
    pub fn parse_label(
        &self,
        repo: &str,
        label: &str,
    ) -> Option<(JobKind, String, String, Option<String>)> {
        for platform in &self.scenario.platforms {
            for option in &platform.options {
                if self.label_for(repo, JobKind::Build, &platform.name, option, None) == label {
                    return Some((JobKind::Build, platform.name.clone(), option.clone(), None));
                }
                for test in &self.scenario.test_types {
                    if self.label_for(
                        repo,
                        JobKind::Test,
                        &platform.name,
                        option,
                        Some(&test.name),
                    ) == label
                    {
                        return Some((
                            JobKind::Test,
                            platform.name.clone(),
                            option.clone(),
                            Some(test.name.clone()),
                        ));
                    }
                }
            }
        }
        None
    }

    /// Adds a job in the pending state and returns its id.
    pub fn add_job(&mut self, new: NewJob) -> u64 {
        self.add_job_with(new, None)
    }

    /// [`Self::add_job`], for a confirm-failures task when `confirm` is set
    /// (labelled `<label>-cf`, running its one test `repeats` times).
    pub(crate) fn add_job_with(&mut self, new: NewJob, confirm: Option<ConfirmPart>) -> u64 {
        let id = FIRST_JOB_ID + self.jobs.len() as u64;
        let repo = self
            .push(new.push_id)
            .map(|p| p.repo.clone())
            .unwrap_or_default();
        let system = self.system_of(&repo);
        let label = self.label_for(
            &repo,
            new.kind,
            &new.platform,
            &new.option,
            new.test_type.as_deref(),
        );
        let label = match &confirm {
            Some(_) => format!("{label}-cf"),
            None => label,
        };
        let (seed, idstr) = (self.seed.to_string(), id.to_string());
        let spread = ids::unit(&[&seed, &idstr, "duration"]);
        let mut duration = (self.base_duration(&new) as f64 * (0.85 + 0.3 * spread)) as i64;
        if let Some(confirm) = &confirm {
            // Machine time: the one test's share of its suite, per repeat.
            let tests = new
                .test_type
                .as_deref()
                .and_then(|t| self.scenario.test_type(t))
                .map(|t| t.tests.len().max(1))
                .unwrap_or(1) as i64;
            duration = (duration * i64::from(confirm.repeats) / tests).max(60);
        }
        // Buildbot waited longer for a free slave than Taskcluster for a worker.
        let claim = ids::unit(&[&seed, &idstr, "claim"]);
        let delay = match system {
            CiSystem::Buildbot => 30 + (claim * 270.0) as i64,
            CiSystem::Taskcluster => 15 + (claim * 105.0) as i64,
        };
        let (buildbot, taskcluster) = match system {
            CiSystem::Buildbot => (Some(self.new_request(&new)), None),
            CiSystem::Taskcluster => (None, Some(self.new_task(&new, &idstr))),
        };
        let mut job = Job {
            id,
            repo,
            push_id: new.push_id,
            revision: new.revision,
            system,
            kind: new.kind,
            platform: new.platform,
            option: new.option,
            test_type: new.test_type,
            label,
            state: JobState::Pending,
            result: "unknown".into(),
            submit: self.clock,
            start: None,
            end: None,
            last_modified: self.clock,
            ready_at: Some(self.clock + delay),
            duration,
            reason: new.reason,
            who: new.who,
            failures: Vec::new(),
            forced_failure: None,
            confirm,
            buildbot,
            taskcluster,
        };
        if !self.dependencies_done(&job) {
            job.ready_at = None;
        }
        self.jobs.push(job);
        self.dirty_jobs.insert(id);
        self.last_change = self.clock;
        self.emit(id);
        id
    }

    /// Typical run time of a job before the seeded spread.
    fn base_duration(&self, new: &NewJob) -> i64 {
        match new.kind {
            JobKind::Decision => 300,
            JobKind::Action => 120,
            JobKind::Build => self.scenario.build_duration,
            JobKind::Test => new
                .test_type
                .as_deref()
                .and_then(|t| self.scenario.test_type(t))
                .map(|t| t.duration)
                .unwrap_or(1200),
        }
    }

    /// A new Buildbot build request (ids are sequential, as in the scheduler db).
    fn new_request(&mut self, new: &NewJob) -> BuildbotPart {
        let request_id = self.next_request_id;
        self.next_request_id += 1;
        BuildbotPart {
            request_id,
            priority: new.priority,
            build_id: None,
            buildnumber: None,
            coalesced_into: None,
            files: new.files.clone(),
            cancelled: false,
        }
    }

    /// A new task; a task without a group (a decision task) is its own group.
    fn new_task(&self, new: &NewJob, idstr: &str) -> TaskclusterPart {
        let task_id = ids::slugid(&[&self.scenario.name, &self.seed.to_string(), "task", idstr]);
        let group = new.task_group_id.clone().unwrap_or_else(|| task_id.clone());
        TaskclusterPart {
            task_id,
            retry_id: 0,
            task_group_id: group,
            dependencies: new.dependencies.clone(),
        }
    }

    pub(crate) fn dependencies_done(&self, job: &Job) -> bool {
        let Some(tc) = &job.taskcluster else {
            return true;
        };
        tc.dependencies.iter().all(|dep| {
            self.job_by_task(dep)
                .map(|d| d.state == JobState::Completed)
                .unwrap_or(true)
        })
    }

    pub fn platform_options(&self) -> Vec<(String, String)> {
        self.scenario
            .platforms
            .iter()
            .flat_map(|p| p.options.iter().map(move |o| (p.name.clone(), o.clone())))
            .collect()
    }

    pub(crate) fn set_state(&mut self, id: u64, state: JobState) {
        let now = self.clock;
        if let Some(job) = self.job_mut(id) {
            job.state = state;
            job.last_modified = now;
            match state {
                JobState::Running => job.start = Some(now),
                JobState::Completed => job.end = Some(now),
                JobState::Pending => {}
            }
        }
        self.last_change = now;
        self.emit(id);
    }

    /// Cancels a pending or running job (usercancel).
    pub fn cancel(&mut self, id: u64) -> bool {
        let Some(job) = self.job(id) else {
            return false;
        };
        if job.state == JobState::Completed {
            return false;
        }
        if let Some(j) = self.job_mut(id) {
            j.result = "usercancel".into();
            if let Some(bb) = j.buildbot.as_mut() {
                bb.cancelled = true;
            }
        }
        self.set_state(id, JobState::Completed);
        // Requests merged into a cancelled build are cancelled with it.
        let merged: Vec<u64> = self
            .jobs
            .iter()
            .filter(|j| j.state != JobState::Completed)
            .filter(|j| j.buildbot.as_ref().and_then(|b| b.coalesced_into) == Some(id))
            .map(|j| j.id)
            .collect();
        for m in merged {
            self.cancel(m);
        }
        true
    }

    /// Renames a job (action tasks are named after their action).
    pub fn set_label(&mut self, id: u64, label: &str) {
        if let Some(job) = self.job_mut(id) {
            job.label = label.to_string();
        }
    }

    /// Fails a job at once with the given reason (an action that cannot run).
    pub fn fail_job(&mut self, id: u64, failure: TestFailure) {
        let Some(job) = self.job_mut(id) else { return };
        job.failures.push(failure);
        job.result = "exception".into();
        if job.state != JobState::Completed {
            self.set_state(id, JobState::Completed);
        }
    }

    /// Queues a pulse-shaped event for a job's current state.
    pub(crate) fn emit(&mut self, id: u64) {
        if let Some(job) = self.job(id) {
            let event = crate::events::job_event(self, job);
            self.events.push(event);
        }
    }

    pub fn log_request(&mut self, mut entry: LoggedRequest) {
        entry.id = self.request_log.len() as u64 + 1;
        entry.time = self.clock;
        self.request_log.push(entry);
    }

    pub fn add_selfserve(
        &mut self,
        action: &str,
        who: &str,
        what: String,
        request_ids: Vec<u64>,
    ) -> u64 {
        let id = FIRST_SELFSERVE_ID + self.selfserve.len() as u64;
        self.selfserve.push(SelfServeJob {
            id,
            action: action.into(),
            who: who.into(),
            when: self.clock,
            what,
            request_ids,
        });
        id
    }
}

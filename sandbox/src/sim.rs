//! The job simulator: moves jobs through pending → running → completed on the
//! simulated clock, with Buildbot coalescing and slave capacity, build → test
//! dependencies, SETA gaps, decision task graphs and the seeded failure model.

use std::collections::HashMap;

use crate::ids;
use crate::model::{ConfirmPart, Job, JobKind, JobState, TestFailure};
use crate::scenario::CiSystem;
use crate::world::{NewJob, World};

impl World {
    /// Schedules what a new push gets: Buildbot builds, or a decision task.
    pub(crate) fn schedule_push(&mut self, push_id: u64) {
        let Some(push) = self.push(push_id) else {
            return;
        };
        let repo = push.repo.clone();
        let revision = push.revision().to_string();
        let who = push.user.clone();
        match self.system_of(&repo) {
            CiSystem::Buildbot => {
                for (platform, option) in self.platform_options() {
                    self.add_job(NewJob {
                        push_id,
                        revision: revision.clone(),
                        kind: JobKind::Build,
                        platform,
                        option,
                        test_type: None,
                        reason: "scheduler".into(),
                        who: who.clone(),
                        priority: 0,
                        files: Vec::new(),
                        task_group_id: None,
                        dependencies: Vec::new(),
                    });
                }
            }
            CiSystem::Taskcluster => {
                let id = self.add_job(NewJob {
                    push_id,
                    revision,
                    kind: JobKind::Decision,
                    platform: "gecko-decision".into(),
                    option: "opt".into(),
                    test_type: None,
                    reason: "scheduled".into(),
                    who,
                    priority: 0,
                    files: Vec::new(),
                    task_group_id: None,
                    dependencies: Vec::new(),
                });
                let task_id = self.job(id).and_then(|j| j.task_id().map(str::to_string));
                if let Some(p) = self.pushes.iter_mut().find(|p| p.id == push_id) {
                    p.decision_task_id = task_id;
                }
            }
        }
    }

    /// Whether a test type runs on a push by default (SETA-style gaps).
    pub(crate) fn seta_runs(&self, push_id: u64, test_type: &str) -> bool {
        let every = self
            .scenario
            .test_type(test_type)
            .map(|t| t.seta_every.max(1))
            .unwrap_or(1);
        self.push(push_id)
            .map(|p| p.index % every == 0)
            .unwrap_or(true)
    }

    /// Advances the simulated clock to `target`, processing every event due.
    pub fn advance_to(&mut self, target: i64) {
        while let Some((time, id, completes)) = self.next_event(target) {
            self.clock = self.clock.max(time);
            if completes {
                self.complete(id);
            } else {
                self.start(id);
            }
        }
        if target > self.clock {
            self.clock = target;
        }
    }

    /// Running Buildbot builds per (repo, builder): slaves in use.
    fn busy_slaves(&self) -> HashMap<(&str, &str), usize> {
        let mut busy = HashMap::new();
        for job in self.jobs.iter().filter(|j| j.state == JobState::Running) {
            if job
                .buildbot
                .as_ref()
                .is_some_and(|b| b.coalesced_into.is_none())
            {
                *busy
                    .entry((job.repo.as_str(), job.label.as_str()))
                    .or_insert(0) += 1;
            }
        }
        busy
    }

    /// The earliest due event: (time, job id, is completion).
    fn next_event(&self, target: i64) -> Option<(i64, u64, bool)> {
        let busy = self.busy_slaves();
        let mut best: Option<(i64, u64, bool)> = None;
        let mut consider = |candidate: (i64, u64, bool)| {
            let better = match best {
                None => true,
                // Completions first at equal times: they free slaves.
                Some(b) => (candidate.0, !candidate.2, candidate.1) < (b.0, !b.2, b.1),
            };
            if candidate.0 <= target && better {
                best = Some(candidate);
            }
        };
        for job in self.jobs.iter().filter(|j| j.state != JobState::Completed) {
            match job.state {
                JobState::Running => {
                    let coalesced = job
                        .buildbot
                        .as_ref()
                        .is_some_and(|b| b.coalesced_into.is_some());
                    if let (false, Some(start)) = (coalesced, job.start) {
                        consider((start + job.duration, job.id, true));
                    }
                }
                JobState::Pending => {
                    let Some(ready) = job.ready_at else { continue };
                    if job.buildbot.as_ref().is_some_and(|b| b.cancelled) {
                        continue;
                    }
                    if job.system == CiSystem::Buildbot {
                        let slaves = self.scenario.repo(&job.repo).map(|r| r.slaves).unwrap_or(1);
                        let in_use = busy
                            .get(&(job.repo.as_str(), job.label.as_str()))
                            .copied()
                            .unwrap_or(0);
                        if in_use >= slaves {
                            continue;
                        }
                    }
                    consider((ready.max(self.clock), job.id, false));
                }
                JobState::Completed => {}
            }
        }
        best
    }

    /// Starts a job; a Buildbot request claims every other ready request of its
    /// builder too (coalescing), running the newest revision among them.
    fn start(&mut self, id: u64) {
        let now = self.clock;
        let Some(job) = self.job(id).cloned() else {
            return;
        };
        if job.system == CiSystem::Taskcluster {
            self.set_state(id, JobState::Running);
            return;
        }
        let coalesce = self
            .scenario
            .repo(&job.repo)
            .map(|r| r.coalesce)
            .unwrap_or(false);
        let mut group: Vec<(u64, u64)> = self
            .jobs
            .iter()
            .filter(|j| j.state == JobState::Pending && j.repo == job.repo && j.label == job.label)
            .filter(|j| j.ready_at.is_some_and(|r| r <= now))
            .filter(|j| j.buildbot.as_ref().is_some_and(|b| !b.cancelled))
            .filter(|j| coalesce || j.id == id)
            .map(|j| (j.push_id, j.id))
            .collect();
        group.sort();
        let Some(&(_, primary)) = group.last() else {
            return;
        };
        let build_id = self.next_build_id;
        self.next_build_id += 1;
        let buildnumber = self
            .jobs
            .iter()
            .filter(|j| j.repo == job.repo && j.label == job.label)
            .filter(|j| j.buildbot.as_ref().is_some_and(|b| b.build_id.is_some()))
            .count() as u64;
        if let Some(bb) = self.job_mut(primary).and_then(|j| j.buildbot.as_mut()) {
            bb.build_id = Some(build_id);
            bb.buildnumber = Some(buildnumber);
        }
        self.set_state(primary, JobState::Running);
        for &(_, merged) in group.iter().filter(|(_, m)| *m != primary) {
            if let Some(bb) = self.job_mut(merged).and_then(|j| j.buildbot.as_mut()) {
                bb.coalesced_into = Some(primary);
            }
            self.set_state(merged, JobState::Running);
        }
    }

    /// Completes a job: decides its result, then its follow-ups (tests after a
    /// build, the task graph after a decision task, dependents of a task).
    fn complete(&mut self, id: u64) {
        let Some(job) = self.job(id).cloned() else {
            return;
        };
        let (result, failures) = self.outcome(&job);
        let forced = self.forced_failure(&job);
        let result = match forced.and_then(|i| self.scenario.job_failures.get(i)) {
            Some(spec) if spec.kind == crate::scenario::JobFailureKind::Build => {
                "busted".to_string()
            }
            Some(_) => "testfailed".to_string(),
            None => result,
        };
        // The infrastructure stopped the run before any test could report.
        let failures = match forced.and_then(|i| self.scenario.job_failures.get(i)) {
            Some(spec) if spec.kind.is_infrastructure() => Vec::new(),
            _ => failures,
        };
        if let Some(j) = self.job_mut(id) {
            j.result = result.clone();
            j.failures = failures;
            j.forced_failure = forced;
        }
        self.set_state(id, JobState::Completed);
        let merged: Vec<u64> = self
            .jobs
            .iter()
            .filter(|j| j.buildbot.as_ref().and_then(|b| b.coalesced_into) == Some(id))
            .map(|j| j.id)
            .collect();
        for m in merged {
            if let Some(j) = self.job_mut(m) {
                j.result = "superseded".into();
            }
            self.set_state(m, JobState::Completed);
        }
        match (job.system, job.kind) {
            (CiSystem::Buildbot, JobKind::Build) if result == "success" => {
                self.schedule_buildbot_tests(&job)
            }
            (CiSystem::Taskcluster, JobKind::Decision) => self.schedule_task_graph(&job),
            _ => {}
        }
        if job.system == CiSystem::Taskcluster {
            if let Some(done) = self.job(id).cloned() {
                self.release_dependents(&done);
            }
        }
    }

    fn outcome(&mut self, job: &Job) -> (String, Vec<TestFailure>) {
        if job.kind != JobKind::Test {
            return ("success".into(), Vec::new());
        }
        if job.system == CiSystem::Buildbot && !self.has_build_files(job) {
            return ("exception".into(), Vec::new());
        }
        let failures = match &job.confirm {
            Some(confirm) => self.confirm_failures(job, confirm),
            None => self.failures_for(job),
        };
        let result = if failures.is_empty() {
            "success"
        } else {
            "testfailed"
        };
        (result.into(), failures)
    }

    /// The scenario's `job_failures` entry that fails this run, if any: by
    /// its order among the runs of its label on its push, or by chance.
    /// A build failure applies to builds, the others to tests.
    fn forced_failure(&self, job: &Job) -> Option<usize> {
        if !matches!(job.kind, JobKind::Test | JobKind::Build) {
            return None;
        }
        let seed = self.seed.to_string();
        let idstr = job.id.to_string();
        self.scenario
            .job_failures
            .iter()
            .enumerate()
            .find(|(_, spec)| {
                let fits_kind = (spec.kind == crate::scenario::JobFailureKind::Build)
                    == (job.kind == JobKind::Build);
                let fits = fits_kind
                    && job.label.contains(&spec.label)
                    && spec.repo.as_ref().is_none_or(|r| *r == job.repo);
                if !fits {
                    return false;
                }
                let order = self
                    .jobs
                    .iter()
                    .filter(|j| j.push_id == job.push_id && j.label == job.label && j.id < job.id)
                    .count();
                spec.runs.contains(&order)
                    || ids::unit(&[&seed, &idstr, &spec.label, "job_failure"]) < spec.p
            })
            .map(|(index, _)| index)
    }

    /// A Buildbot test needs `files` pointing at a finished build of its revision.
    fn has_build_files(&self, job: &Job) -> bool {
        let Some(bb) = &job.buildbot else {
            return false;
        };
        let Some(package) = bb.files.first() else {
            return false;
        };
        self.jobs.iter().any(|b| {
            b.kind == JobKind::Build
                && b.repo == job.repo
                && b.result == "success"
                && b.buildbot.as_ref().and_then(|x| x.build_id).is_some()
                && crate::buildjson::package_url(self, b).as_deref() == Some(package.as_str())
        })
    }

    /// The seeded failure model: regressions with probability q, flaky tests with f.
    fn failures_for(&self, job: &Job) -> Vec<TestFailure> {
        let Some(test_type) = job.test_type.as_deref() else {
            return Vec::new();
        };
        let regressions = self
            .push(job.push_id)
            .map(|p| p.regressions.clone())
            .unwrap_or_default();
        let seed = self.seed.to_string();
        let idstr = job.id.to_string();
        let mut failures = Vec::new();
        for index in regressions {
            let Some(reg) = self.scenario.regressions.get(index) else {
                continue;
            };
            if reg.test_type == test_type
                && reg.platform == job.platform
                && ids::unit(&[&seed, &idstr, &reg.test, "regression"]) < reg.q
            {
                failures.push(TestFailure {
                    test: reg.test.clone(),
                    message: reg.message.clone(),
                });
            }
        }
        for flaky in self
            .scenario
            .flaky
            .iter()
            .filter(|f| f.test_type == test_type)
        {
            if ids::unit(&[&seed, &idstr, &flaky.test, "flaky"]) < flaky.f {
                failures.push(TestFailure {
                    test: flaky.test.clone(),
                    message: flaky.message.clone(),
                });
            }
        }
        failures
    }

    /// The chance that `test` fails in one run of `job`'s test type on its
    /// push: the push's regressions of that test on the job's platform and
    /// the test's flake rate, drawn independently as in [`Self::failures_for`]
    /// (so a flaky test with a regression from push k fails at
    /// `1 - (1 - f)(1 - q)` from k on: a rate change).
    pub fn failure_probability(&self, job: &Job, test: &str) -> f64 {
        let Some(test_type) = job.test_type.as_deref() else {
            return 0.0;
        };
        let regressions = self
            .push(job.push_id)
            .map(|p| p.regressions.clone())
            .unwrap_or_default();
        let mut passes = 1.0;
        for reg in regressions
            .iter()
            .filter_map(|i| self.scenario.regressions.get(*i))
            .filter(|r| r.test_type == test_type && r.platform == job.platform && r.test == test)
        {
            passes *= 1.0 - reg.q;
        }
        for flaky in self
            .scenario
            .flaky
            .iter()
            .filter(|f| f.test_type == test_type && f.test == test)
        {
            passes *= 1.0 - flaky.f;
        }
        1.0 - passes
    }

    /// A confirm-failures task's repeats of its one test, each failing with
    /// the test's failure probability on the push; one failure per failed
    /// repeat (the task's logs show one result per repeat).
    fn confirm_failures(&mut self, job: &Job, confirm: &ConfirmPart) -> Vec<TestFailure> {
        let p = self.failure_probability(job, &confirm.test);
        let (seed, idstr) = (self.seed.to_string(), job.id.to_string());
        let outcomes: Vec<bool> = (0..confirm.repeats)
            .map(|i| ids::unit(&[&seed, &idstr, &confirm.test, "confirm", &i.to_string()]) < p)
            .collect();
        let message = self
            .scenario
            .regressions
            .iter()
            .find(|r| r.test == confirm.test)
            .map(|r| r.message.clone())
            .or_else(|| {
                let flaky = self.scenario.flaky.iter().find(|f| f.test == confirm.test);
                flaky.map(|f| f.message.clone())
            })
            .unwrap_or_else(|| "Test timed out".into());
        let failures = outcomes
            .iter()
            .filter(|failed| **failed)
            .map(|_| TestFailure {
                test: confirm.test.clone(),
                message: message.clone(),
            })
            .collect();
        if let Some(part) = self.job_mut(job.id).and_then(|j| j.confirm.as_mut()) {
            part.outcomes = outcomes;
        }
        failures
    }

    /// A finished Buildbot build triggers its test builders (not on try; SETA
    /// gaps apply to builds started by the push scheduler).
    fn schedule_buildbot_tests(&mut self, build: &Job) {
        let is_try = self
            .scenario
            .repo(&build.repo)
            .map(|r| r.is_try)
            .unwrap_or(false);
        if is_try {
            return;
        }
        let files = crate::buildjson::build_files(self, build);
        let tests: Vec<String> = self
            .scenario
            .test_types
            .iter()
            .map(|t| t.name.clone())
            .collect();
        for test in tests {
            if build.reason == "scheduler" && !self.seta_runs(build.push_id, &test) {
                continue;
            }
            self.add_job(NewJob {
                push_id: build.push_id,
                revision: build.revision.clone(),
                kind: JobKind::Test,
                platform: build.platform.clone(),
                option: build.option.clone(),
                test_type: Some(test),
                reason: "scheduler".into(),
                who: build.who.clone(),
                priority: 0,
                files: files.clone(),
                task_group_id: None,
                dependencies: Vec::new(),
            });
        }
    }

    /// The decision task creates the push's task graph (SETA-optimized tests skipped).
    fn schedule_task_graph(&mut self, decision: &Job) {
        let group = decision.task_id().map(str::to_string);
        let tests: Vec<String> = self
            .scenario
            .test_types
            .iter()
            .map(|t| t.name.clone())
            .collect();
        for (platform, option) in self.platform_options() {
            let build = self.add_task(
                decision,
                JobKind::Build,
                &platform,
                &option,
                None,
                group.clone(),
                Vec::new(),
            );
            let build_task = self
                .job(build)
                .and_then(|j| j.task_id().map(str::to_string));
            for test in &tests {
                if !self.seta_runs(decision.push_id, test) {
                    continue;
                }
                let deps: Vec<String> = build_task.iter().cloned().collect();
                self.add_task(
                    decision,
                    JobKind::Test,
                    &platform,
                    &option,
                    Some(test),
                    group.clone(),
                    deps,
                );
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add_task(
        &mut self,
        on: &Job,
        kind: JobKind,
        platform: &str,
        option: &str,
        test: Option<&str>,
        group: Option<String>,
        dependencies: Vec<String>,
    ) -> u64 {
        self.add_job(NewJob {
            push_id: on.push_id,
            revision: on.revision.clone(),
            kind,
            platform: platform.into(),
            option: option.into(),
            test_type: test.map(str::to_string),
            reason: on.reason.clone(),
            who: on.who.clone(),
            priority: 0,
            files: Vec::new(),
            task_group_id: group,
            dependencies,
        })
    }

    fn release_dependents(&mut self, done: &Job) {
        let Some(task_id) = done.task_id().map(str::to_string) else {
            return;
        };
        let now = self.clock;
        let waiting: Vec<u64> = self
            .jobs
            .iter()
            .filter(|j| j.state == JobState::Pending && j.ready_at.is_none())
            .filter(|j| {
                j.taskcluster
                    .as_ref()
                    .is_some_and(|t| t.dependencies.contains(&task_id))
            })
            .map(|j| j.id)
            .collect();
        let failed = done.result != "success";
        for id in waiting {
            if failed {
                if let Some(j) = self.job_mut(id) {
                    j.result = "exception".into();
                }
                self.set_state(id, JobState::Completed);
                continue;
            }
            let ready = self
                .job(id)
                .map(|j| self.dependencies_done(j))
                .unwrap_or(false);
            if ready {
                let delay = 15
                    + (ids::unit(&[&self.seed.to_string(), &id.to_string(), "queue"]) * 60.0)
                        as i64;
                if let Some(j) = self.job_mut(id) {
                    j.ready_at = Some(now + delay);
                }
            }
        }
    }

    /// Schedules a confirm-failures task for `test` of the failed task
    /// `of`: labelled `<label>-cf`, on the same push, after the same build,
    /// running that one test `repeats` times (machine time: the test's
    /// share of its suite's run time, per repeat).
    pub fn schedule_confirm(
        &mut self,
        of: &Job,
        test: &str,
        repeats: u32,
        group: &str,
        who: &str,
    ) -> Option<u64> {
        let tc = of.taskcluster.as_ref()?;
        let of_task = tc.task_id.clone();
        let dependencies: Vec<String> = tc
            .dependencies
            .iter()
            .filter(|d| **d != tc.task_group_id)
            .cloned()
            .collect();
        let confirm = ConfirmPart {
            of_task,
            test: test.to_string(),
            repeats,
            outcomes: Vec::new(),
        };
        let new = NewJob {
            push_id: of.push_id,
            revision: of.revision.clone(),
            kind: JobKind::Test,
            platform: of.platform.clone(),
            option: of.option.clone(),
            test_type: of.test_type.clone(),
            reason: "action confirm-failures".into(),
            who: who.into(),
            priority: 0,
            files: Vec::new(),
            task_group_id: Some(group.to_string()),
            dependencies,
        };
        Some(self.add_job_with(new, Some(confirm)))
    }

    /// Schedules a Taskcluster label on a push: reuses the push's build task for
    /// a test or schedules the build too (as an action's task graph would).
    pub fn schedule_label(
        &mut self,
        push_id: u64,
        label: &str,
        group: &str,
        reason: &str,
        who: &str,
    ) -> Option<u64> {
        let push = self.push(push_id)?;
        let repo = push.repo.clone();
        let revision = push.revision().to_string();
        let (kind, platform, option, test) = self.parse_label(&repo, label)?;
        let mut dependencies = Vec::new();
        if kind == JobKind::Test {
            let build_label = self.label_for(&repo, JobKind::Build, &platform, &option, None);
            let existing = self
                .jobs
                .iter()
                .filter(|j| j.push_id == push_id && j.label == build_label && !j.is_failure())
                .filter_map(|j| j.task_id().map(str::to_string))
                .next_back();
            let build_task = match existing {
                Some(t) => Some(t),
                None => {
                    let id = self.schedule_label(push_id, &build_label, group, reason, who)?;
                    self.job(id).and_then(|j| j.task_id().map(str::to_string))
                }
            };
            dependencies.extend(build_task);
        }
        Some(self.add_job(NewJob {
            push_id,
            revision,
            kind,
            platform,
            option,
            test_type: test,
            reason: reason.into(),
            who: who.into(),
            priority: 0,
            files: Vec::new(),
            task_group_id: Some(group.to_string()),
            dependencies,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use crate::world::NewJob;

    fn demo() -> World {
        World::new(Scenario::load("demo").unwrap(), 7)
    }

    #[test]
    fn history_is_mostly_completed_and_deterministic() {
        let a = demo();
        let b = demo();
        assert_eq!(a.jobs.len(), b.jobs.len());
        let results: Vec<_> = a.jobs.iter().map(|j| j.result.clone()).collect();
        let results_b: Vec<_> = b.jobs.iter().map(|j| j.result.clone()).collect();
        assert_eq!(results, results_b);
        let done = a
            .jobs
            .iter()
            .filter(|j| j.state == JobState::Completed)
            .count();
        assert!(
            done * 10 > a.jobs.len() * 8,
            "{done} of {} completed",
            a.jobs.len()
        );
        assert!(
            a.jobs.iter().any(|j| j.state != JobState::Completed),
            "the newest pushes still run"
        );
    }

    #[test]
    fn the_seed_changes_outcomes_not_history() {
        let a = demo();
        let b = World::new(Scenario::load("demo").unwrap(), 8);
        let revisions = |w: &World| {
            w.pushes
                .iter()
                .map(|p| p.revision().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            revisions(&a),
            revisions(&b),
            "pushes come from the scenario alone"
        );
        let failures = |w: &World| {
            w.jobs
                .iter()
                .map(|j| j.failures.clone())
                .collect::<Vec<_>>()
        };
        assert_ne!(
            failures(&a),
            failures(&b),
            "flaky failures depend on the seed"
        );
    }

    #[test]
    fn regression_fails_from_its_push_on() {
        let w = demo();
        let failing: Vec<&Job> = w
            .jobs
            .iter()
            .filter(|j| {
                j.repo == "mozilla-inbound"
                    && j.failures
                        .iter()
                        .any(|f| f.test.contains("test_transaction_lifetimes"))
            })
            .collect();
        assert!(!failing.is_empty());
        for job in failing {
            assert!(w.push(job.push_id).unwrap().index >= 20);
        }
    }

    /// Triggers one build request per push on one builder at the same moment.
    fn trigger_builds(w: &mut World, pushes: &[u64]) -> Vec<u64> {
        pushes
            .iter()
            .map(|&push_id| {
                let revision = w.push(push_id).unwrap().revision().to_string();
                w.add_job(NewJob {
                    push_id,
                    revision,
                    kind: JobKind::Build,
                    platform: "linux64".into(),
                    option: "opt".into(),
                    test_type: None,
                    reason: "test".into(),
                    who: "test".into(),
                    priority: 0,
                    files: Vec::new(),
                    task_group_id: None,
                    dependencies: Vec::new(),
                })
            })
            .collect()
    }

    #[test]
    fn coalesced_requests_follow_their_build_and_its_cancel() {
        let mut scenario = Scenario::load("demo").unwrap();
        scenario.repos[0].slaves = 1;
        let mut w = World::new(scenario, 7);
        let settled = w.clock + 6 * 3600;
        w.advance_to(settled);
        let pushes: Vec<u64> = w
            .repo_pushes("mozilla-inbound")
            .iter()
            .take(3)
            .map(|p| p.id)
            .collect();
        let ids = trigger_builds(&mut w, &pushes);
        // Claim delays are at most 300 s: after that one build runs, holding the slave.
        let claimed = w.clock + 301;
        w.advance_to(claimed);
        let running = ids
            .iter()
            .filter(|id| w.job(**id).unwrap().state == JobState::Running)
            .count();
        assert!(running >= 1);
        let primary = *ids
            .iter()
            .find(|id| {
                let bb = w.job(**id).unwrap().buildbot.as_ref().unwrap();
                bb.build_id.is_some() && w.job(**id).unwrap().state == JobState::Running
            })
            .unwrap();
        let waiting_or_merged: Vec<u64> = ids.iter().copied().filter(|id| *id != primary).collect();
        let finish = w.clock + 3 * 3600;
        w.advance_to(finish);
        let merged: Vec<&Job> = waiting_or_merged
            .iter()
            .map(|id| w.job(*id).unwrap())
            .filter(|j| j.result == "superseded")
            .collect();
        for job in &merged {
            let into = w
                .job(job.buildbot.as_ref().unwrap().coalesced_into.unwrap())
                .unwrap();
            assert!(
                into.push_id > job.push_id,
                "merged into the newest revision's build"
            );
            assert_eq!(job.end, into.end, "completes with its build");
        }
        assert!(
            !merged.is_empty(),
            "one slave: the two waiting requests were merged"
        );

        // Cancelling a build cancels the requests merged into it.
        let more = trigger_builds(&mut w, &pushes);
        let mut merged_build = None;
        for _ in 0..40 {
            let step = w.clock + 120;
            w.advance_to(step);
            merged_build = more.iter().copied().find(|id| {
                w.job(*id).unwrap().state == JobState::Running
                    && more.iter().any(|m| {
                        w.job(*m).unwrap().buildbot.as_ref().unwrap().coalesced_into == Some(*id)
                    })
            });
            if merged_build.is_some() {
                break;
            }
        }
        let build = merged_build.expect("a build with merged requests runs");
        assert!(w.cancel(build));
        for id in &more {
            let job = w.job(*id).unwrap();
            if job.buildbot.as_ref().unwrap().coalesced_into == Some(build) {
                assert_eq!(job.state, JobState::Completed);
                assert_eq!(job.result, "usercancel");
            }
        }
    }

    /// A rate change as a scenario seeds it: the test is flaky at 2%
    /// everywhere and a regression from push 18 on lifts it to 30%.
    #[test]
    fn a_flake_rate_plus_a_regression_is_a_rate_change() {
        let mut demo: serde_json::Value = serde_json::from_str(crate::scenario::DEMO_JSON).unwrap();
        let test = "browser/base/content/test/general/browser_tabs_close_beforeunload.js";
        demo["regressions"][1]["q"] = serde_json::json!(1.0 - 0.70 / 0.98);
        demo["flaky"] = serde_json::json!([{
            "test_type": "mochitest-browser-chrome-1", "test": test, "f": 0.02,
            "message": "Test timed out - expected PASS"
        }]);
        let w = World::new(Scenario::parse(&demo.to_string()).unwrap(), 7);
        let rate_at = |index: usize| {
            let push = w.repo_pushes("autoland")[index].id;
            let job = w
                .jobs
                .iter()
                .find(|j| {
                    j.push_id == push && j.label == "test-linux64/opt-mochitest-browser-chrome-1"
                })
                .unwrap();
            w.failure_probability(job, test)
        };
        assert!((rate_at(17) - 0.02).abs() < 1e-9);
        assert!((rate_at(18) - 0.30).abs() < 1e-9);
        assert!((rate_at(29) - 0.30).abs() < 1e-9);
    }

    #[test]
    fn buildbot_tests_carry_build_files() {
        let w = demo();
        let test = w
            .jobs
            .iter()
            .find(|j| j.repo == "mozilla-inbound" && j.kind == JobKind::Test)
            .unwrap();
        assert_eq!(test.buildbot.as_ref().unwrap().files.len(), 2);
    }
}

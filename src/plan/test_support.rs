//! Hand-made pushes and jobs for the decision tests.

use crate::model::fixtures::ANY_CI;
use crate::model::{Job, JobIds, JobKind, JobResult, JobState, Push, Revision};
use crate::model::{PushHistory, UpstreamBuild};

pub fn rev(n: u64) -> Revision {
    Revision(format!("{n:040x}"))
}

pub fn push(id: u64) -> Push {
    Push {
        id,
        revision: rev(id),
        changesets: vec![],
        author: "dev@example.com".into(),
        date: 1_700_000_000 + id as i64 * 600,
        repository: "autoland".into(),
    }
}

pub fn job(push_id: u64, state: JobState, n: u64) -> Job {
    Job {
        kind: JobKind::Test,
        ci: ANY_CI,
        name: "test-linux64/opt-mochitest-browser-chrome-1".into(),
        platform: "linux64".into(),
        symbol: "bc1".into(),
        revision: rev(push_id),
        push_id: Some(push_id),
        ids: JobIds {
            job_id: Some(push_id * 100 + n),
            task_id: Some(format!("task{push_id}x{n}")),
            ..JobIds::default()
        },
        state,
        run_seconds: None,
    }
}

pub const OK: JobState = JobState::Completed(JobResult::Success);
pub const FAIL: JobState = JobState::Completed(JobResult::TestFailed);
pub const BUSTED: JobState = JobState::Completed(JobResult::Busted);
pub const INFRA: JobState = JobState::Completed(JobResult::Exception);
pub const CANCELLED: JobState = JobState::Completed(JobResult::UserCancel);

/// A push whose runs of the job type are in `states`.
pub fn history(push_id: u64, states: &[JobState]) -> PushHistory {
    let jobs = states
        .iter()
        .enumerate()
        .map(|(i, s)| job(push_id, *s, i as u64))
        .collect();
    PushHistory::new(push(push_id), jobs)
}

pub fn with_build(mut h: PushHistory, build: UpstreamBuild) -> PushHistory {
    h.upstream_build = build;
    h
}

pub fn build_job(push_id: u64, state: JobState) -> Job {
    let mut j = job(push_id, state, 99);
    j.kind = JobKind::Build;
    j.name = "linux64 build".into();
    j
}

/// The job type of [`job`]'s runs.
pub fn job_type() -> crate::model::JobType {
    crate::model::JobType::of(&job(1, OK, 0))
}

/// Pushes with ids 20 (newest) down to 11, as Treeherder lists them.
pub fn newest_first() -> Vec<Push> {
    (11..=20).rev().map(push).collect()
}

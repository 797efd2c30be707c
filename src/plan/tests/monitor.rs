//! `plan::monitor` over hand-made histories: the reactions while triggered
//! work runs (tests after a build, re-runs within the budget, give-ups).

use crate::model::JobState;
use crate::model::UpstreamBuild;
use crate::plan::monitor::*;
use crate::plan::test_support::*;

fn item(stage: Stage, wanted: u32, budget: u32) -> WatchItem {
    WatchItem {
        push_id: 10,
        job_name: "bc1".into(),
        wanted,
        stage,
        rerun_budget: budget,
        scope: Default::default(),
        readings: Vec::new(),
    }
}

#[test]
fn tests_start_when_the_build_finishes() {
    let waiting = item(Stage::WaitingForBuild, 3, 2);
    let h = with_build(
        history(10, &[]),
        UpstreamBuild::InProgress {
            build: build_job(10, JobState::Running),
        },
    );
    assert_eq!(react(&waiting, &h).0, Reaction::Wait);
    let files = vec!["pkg".to_string(), "tests".to_string()];
    let h = with_build(
        history(10, &[]),
        UpstreamBuild::Ready {
            build: build_job(10, OK),
            files: files.clone(),
        },
    );
    let (reaction, next) = react(&waiting, &h);
    assert_eq!(reaction, Reaction::TriggerTests { count: 3, files });
    assert_eq!(next.stage, Stage::Running);
    // The build we triggered is not visible yet: keep waiting, do not rebuild.
    let h = with_build(
        history(10, &[]),
        UpstreamBuild::Missing {
            build_name: "b".into(),
        },
    );
    assert_eq!(react(&waiting, &h).0, Reaction::Wait);
}

#[test]
fn failed_build_is_rebuilt_within_budget_then_given_up() {
    let h = with_build(
        history(10, &[]),
        UpstreamBuild::Failed {
            build: build_job(10, BUSTED),
        },
    );
    let (reaction, next) = react(&item(Stage::WaitingForBuild, 1, 1), &h);
    assert_eq!(
        reaction,
        Reaction::Rebuild {
            build_name: "linux64 build".into()
        }
    );
    assert_eq!(next.rerun_budget, 0);
    let (reaction, next) = react(&next, &h);
    assert!(
        matches!(reaction, Reaction::GiveUp { ref reason } if reason.contains("build failed")),
        "{reaction:?}"
    );
    assert_eq!(next.stage, Stage::GaveUp);
}

#[test]
fn coalesced_runs_are_rerun_within_budget() {
    let h = history(10, &[OK, JobState::Coalesced, JobState::Coalesced]);
    let (reaction, next) = react(&item(Stage::Running, 3, 1), &h);
    match reaction {
        Reaction::Rerun { count, reason, .. } => {
            assert_eq!(
                (count, reason),
                (1, RerunReason::Coalesced),
                "budget caps the re-runs"
            );
        }
        other => panic!("expected a re-run, got {other:?}"),
    }
    let (reaction, _) = react(&next, &h);
    assert!(
        matches!(reaction, Reaction::GiveUp { ref reason } if reason.contains("coalesced 2")),
        "{reaction:?}"
    );
}

#[test]
fn infra_failures_are_rerun() {
    let (reaction, _) = react(&item(Stage::Running, 1, 3), &history(10, &[INFRA]));
    assert!(
        matches!(
            reaction,
            Reaction::Rerun {
                count: 1,
                reason: RerunReason::InfrastructureFailure,
                ..
            }
        ),
        "{reaction:?}"
    );
}

#[test]
fn done_when_every_wanted_run_finished() {
    let it = item(Stage::Running, 2, 0);
    assert_eq!(
        react(&it, &history(10, &[OK, JobState::Running])).0,
        Reaction::Wait
    );
    let (reaction, next) = react(&it, &history(10, &[OK, FAIL]));
    assert_eq!((reaction, next.stage), (Reaction::Done, Stage::Done));
    assert_eq!(
        react(&next, &history(10, &[OK, FAIL])).0,
        Reaction::Wait,
        "a finished item stays finished"
    );
}

/// A failed run whose logs show only infrastructure trouble is re-run like
/// an exception, within the budget; one that failed otherwise is a run.
#[test]
fn failed_runs_read_as_infrastructure_are_rerun_within_the_budget() {
    use crate::model::{JobReading, RunReading};
    let running = item(Stage::Running, 3, 2);
    let mut h = history(10, &[FAIL, FAIL, OK]);
    let (reaction, _) = react(&running, &h);
    assert_eq!(reaction, Reaction::Done, "by result alone, three runs");
    h.readings = vec![
        JobReading {
            job_id: 1000,
            reading: RunReading::NotEvidence,
        },
        JobReading {
            job_id: 1001,
            reading: RunReading::OtherFailure,
        },
    ];
    let (reaction, next) = react(&running, &h);
    match reaction {
        Reaction::Rerun { count, reason, .. } => {
            assert_eq!((count, reason), (1, RerunReason::InfrastructureFailure));
        }
        other => panic!("expected a re-run, got {other:?}"),
    }
    assert_eq!(next.rerun_budget, 1);
    let spent = item(Stage::Running, 3, 0);
    let (reaction, next) = react(&spent, &h);
    assert!(matches!(reaction, Reaction::GiveUp { .. }), "{reaction:?}");
    assert_eq!(next.stage, Stage::GaveUp);
}

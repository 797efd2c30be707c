//! `plan::trigger` over hand-made histories: retrigger, trigger or build
//! first, and what counts towards the runs wanted.

use crate::model::JobState;
use crate::model::UpstreamBuild;
use crate::plan::test_support::*;
use crate::plan::trigger::*;

#[test]
fn empty_push_gets_new_runs() {
    let p = push_plan(&history(10, &[]), 3);
    assert_eq!(
        p.action,
        PushAction::Trigger {
            count: 3,
            files: vec![]
        }
    );
    assert_eq!(p.wanted, 3);
    assert_eq!(p.reason, "0 of 3 wanted: 3 new run(s)");
}

#[test]
fn existing_runs_count_and_are_retriggered() {
    let p = push_plan(&history(10, &[FAIL, JobState::Pending]), 4);
    match p.action {
        PushAction::Retrigger { job, count } => {
            assert_eq!(count, 2);
            // A run that finished with a verdict is preferred to a pending one.
            assert_eq!(job.state, FAIL);
        }
        other => panic!("expected a retrigger, got {other:?}"),
    }
}

#[test]
fn times_already_satisfied_means_nothing_to_do() {
    let p = push_plan(&history(10, &[OK, FAIL, JobState::Running]), 3);
    assert_eq!(p.action, PushAction::Nothing);
    assert_eq!(p.counts.potential(), 3);
}

#[test]
fn coalesced_and_infra_runs_do_not_count() {
    let p = push_plan(
        &history(
            10,
            &[JobState::Coalesced, JobState::Coalesced, INFRA, CANCELLED],
        ),
        2,
    );
    match p.action {
        PushAction::Retrigger { job, count } => {
            assert_eq!(count, 2);
            assert_eq!(
                job.state, INFRA,
                "an infra-failed run is retriggered before a coalesced one"
            );
        }
        other => panic!("expected a retrigger, got {other:?}"),
    }
    assert_eq!(
        (p.counts.coalesced, p.counts.infra_failed, p.counts.other),
        (2, 1, 1)
    );
}

#[test]
fn all_coalesced_retriggers_a_coalesced_request() {
    let p = push_plan(&history(10, &[JobState::Coalesced]), 1);
    assert!(
        matches!(p.action, PushAction::Retrigger { ref job, count: 1 } if job.state == JobState::Coalesced),
        "{:?}",
        p.action
    );
}

#[test]
fn ledger_entries_prevent_duplicates() {
    let mut h = history(10, &[]);
    h.requested_not_yet_visible = 2;
    assert_eq!(push_plan(&h, 2).action, PushAction::Nothing);
    assert_eq!(
        push_plan(&h, 3).action,
        PushAction::Trigger {
            count: 1,
            files: vec![]
        }
    );
}

#[test]
fn missing_build_is_built_first_once() {
    let h = with_build(
        history(10, &[]),
        UpstreamBuild::Missing {
            build_name: "Linux x86-64 mozilla-inbound build".into(),
        },
    );
    let p = push_plan(&h, 3);
    assert_eq!(
        p.action,
        PushAction::BuildFirst {
            build_name: "Linux x86-64 mozilla-inbound build".into(),
            then_tests: 3
        }
    );
    assert_eq!(
        p.action.jobs_started_now(),
        1,
        "one build, not one per wanted test"
    );
    assert_eq!(p.action.runs_of_job_type(), 3);
}

#[test]
fn pending_build_is_waited_for_not_duplicated() {
    let h = with_build(
        history(10, &[]),
        UpstreamBuild::InProgress {
            build: build_job(10, JobState::Running),
        },
    );
    let p = push_plan(&h, 2);
    assert!(matches!(
        p.action,
        PushAction::WaitForBuild { then_tests: 2, .. }
    ));
    assert_eq!(p.action.jobs_started_now(), 0);
    assert!(p.reason.contains("is running"), "{}", p.reason);
}

#[test]
fn failed_build_is_rebuilt() {
    let h = with_build(
        history(10, &[]),
        UpstreamBuild::Failed {
            build: build_job(10, BUSTED),
        },
    );
    assert_eq!(
        push_plan(&h, 1).action,
        PushAction::BuildFirst {
            build_name: "linux64 build".into(),
            then_tests: 1
        }
    );
}

#[test]
fn finished_build_passes_its_files() {
    let files = vec![
        "https://x/firefox.tar.bz2".to_string(),
        "https://x/tests.zip".to_string(),
    ];
    let h = with_build(
        history(10, &[]),
        UpstreamBuild::Ready {
            build: build_job(10, OK),
            files: files.clone(),
        },
    );
    assert_eq!(
        push_plan(&h, 2).action,
        PushAction::Trigger { count: 2, files }
    );
}

#[test]
fn range_keeps_newest_first_order() {
    let plans = trigger_range_plan(
        &[history(12, &[OK]), history(11, &[]), history(10, &[OK, OK])],
        2,
    );
    assert_eq!(
        plans.iter().map(|p| p.push_id).collect::<Vec<_>>(),
        vec![12, 11, 10]
    );
    assert_eq!(
        plans
            .iter()
            .map(|p| p.action.jobs_started_now())
            .collect::<Vec<_>>(),
        vec![1, 2, 0]
    );
    assert!(trigger_range_plan(&[], 3).is_empty());
}

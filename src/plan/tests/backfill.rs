//! `plan::backfill` over hand-made histories: how far back a backfill walks
//! and what it plans on each push.

use crate::model::JobState;
use crate::plan::backfill::*;
use crate::plan::test_support::*;
use crate::plan::trigger::PushAction;

fn req(depth: u32, times: u32) -> BackfillRequest {
    BackfillRequest { depth, times }
}

#[test]
fn walks_back_to_the_last_good_push() {
    // Newest first: 20 selected (failed), 19 and 18 have no runs, 17 passed.
    let history = [
        history(20, &[FAIL]),
        history(19, &[]),
        history(18, &[FAIL]),
        history(17, &[OK]),
        history(16, &[]),
    ];
    let plan = backfill_plan(&history, req(10, 1));
    assert_eq!(
        plan.outcome,
        BackfillOutcome::LastGoodFound {
            push_id: 17,
            revision: rev(17)
        }
    );
    assert_eq!(
        plan.pushes.iter().map(|p| p.push_id).collect::<Vec<_>>(),
        vec![20, 19, 18]
    );
    assert_eq!(plan.jobs_started_now(), 1, "only push 19 lacks a run");
    assert!(!plan.needs_confirmation(10));
    assert_eq!(
        plan.summary(),
        format!(
            "last good push {}: 1 job(s) to start on 3 push(es)",
            &rev(17).0[..12]
        )
    );
}

#[test]
fn times_fills_every_push_including_the_selected_one() {
    let history = [history(20, &[FAIL]), history(19, &[]), history(18, &[OK])];
    let plan = backfill_plan(&history, req(5, 3));
    assert_eq!(plan.jobs_started_now(), 2 + 3);
    assert!(matches!(
        plan.pushes[0].action,
        PushAction::Retrigger { count: 2, .. }
    ));
    assert!(plan.needs_confirmation(4), "5 jobs is above a limit of 4");
}

#[test]
fn no_good_within_depth_offers_the_full_depth_plan() {
    let history = [
        history(20, &[FAIL]),
        history(19, &[FAIL]),
        history(18, &[]),
        history(17, &[OK]),
    ];
    let plan = backfill_plan(&history, req(2, 1));
    assert_eq!(
        plan.outcome,
        BackfillOutcome::NoGoodWithinDepth { depth: 2 }
    );
    assert_eq!(plan.pushes.len(), 3, "selected + 2 earlier pushes");
    assert!(
        plan.needs_confirmation(100),
        "an unbounded range always needs confirmation"
    );
    assert!(
        plan.summary()
            .starts_with("no successful run in the 2 earlier pushes"),
        "{}",
        plan.summary()
    );
}

#[test]
fn depth_one_examines_one_earlier_push() {
    let plan = backfill_plan(&[history(20, &[FAIL]), history(19, &[OK])], req(1, 1));
    assert_eq!(
        plan.outcome,
        BackfillOutcome::LastGoodFound {
            push_id: 19,
            revision: rev(19)
        }
    );
    assert_eq!(plan.pushes.len(), 1);
    let plan = backfill_plan(
        &[history(20, &[FAIL]), history(19, &[]), history(18, &[OK])],
        req(1, 1),
    );
    assert_eq!(
        plan.outcome,
        BackfillOutcome::NoGoodWithinDepth { depth: 1 }
    );
}

#[test]
fn a_good_run_on_the_selected_push_does_not_stop_the_walk() {
    let plan = backfill_plan(
        &[
            history(20, &[FAIL, OK]),
            history(19, &[]),
            history(18, &[OK]),
        ],
        req(5, 1),
    );
    assert_eq!(plan.pushes.len(), 2);
    assert!(
        plan.notes.iter().any(|n| n.contains("looks intermittent")),
        "{:?}",
        plan.notes
    );
}

#[test]
fn short_history_is_exhausted_not_unbounded() {
    let plan = backfill_plan(&[history(2, &[FAIL]), history(1, &[])], req(10, 1));
    assert_eq!(
        plan.outcome,
        BackfillOutcome::HistoryExhausted { examined: 1 }
    );
    let plan = backfill_plan(&[], req(10, 1));
    assert!(plan.pushes.is_empty());
    assert_eq!(plan.jobs_started_now(), 0);
}

#[test]
fn pending_runs_on_earlier_pushes_are_not_good_and_not_duplicated() {
    let plan = backfill_plan(
        &[
            history(20, &[FAIL]),
            history(19, &[JobState::Pending]),
            history(18, &[OK]),
        ],
        req(5, 1),
    );
    assert_eq!(plan.pushes[1].action, PushAction::Nothing);
    assert_eq!(plan.jobs_started_now(), 0);
}

#[test]
fn coalesced_runs_are_not_good_runs() {
    let plan = backfill_plan(
        &[
            history(20, &[FAIL]),
            history(19, &[JobState::Coalesced]),
            history(18, &[OK]),
        ],
        req(5, 1),
    );
    assert_eq!(plan.pushes.len(), 2);
    assert!(matches!(
        plan.pushes[1].action,
        PushAction::Retrigger { count: 1, .. }
    ));
}

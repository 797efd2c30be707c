use crate::model::JobState;
use crate::plan::test_support::*;
use crate::plan::verdict::*;

#[test]
fn clean_boundary_names_the_first_bad_push() {
    let range = [
        history(20, &[FAIL, FAIL]),
        history(19, &[FAIL]),
        history(18, &[OK]),
        history(17, &[OK]),
    ];
    assert_eq!(
        backfill_verdict(&range),
        Verdict::FirstBadPush {
            push_id: 19,
            revision: rev(19)
        }
    );
    assert_eq!(
        backfill_verdict(&range).describe(),
        format!("first bad push: {}", &rev(19).0[..12])
    );
}

#[test]
fn pushes_without_runs_do_not_break_the_boundary() {
    let range = [
        history(20, &[FAIL]),
        history(19, &[]),
        history(18, &[FAIL]),
        history(17, &[JobState::Coalesced]),
        history(16, &[OK]),
    ];
    assert_eq!(
        backfill_verdict(&range),
        Verdict::FirstBadPush {
            push_id: 18,
            revision: rev(18)
        }
    );
}

#[test]
fn selected_push_alone_failing_every_time_is_the_first_bad_push() {
    let range = [history(20, &[FAIL, FAIL, FAIL]), history(19, &[OK])];
    assert_eq!(
        backfill_verdict(&range),
        Verdict::FirstBadPush {
            push_id: 20,
            revision: rev(20)
        }
    );
}

#[test]
fn a_failure_that_never_comes_back_is_not_reproduced() {
    let range = [
        history(20, &[FAIL, OK, OK]),
        history(19, &[OK]),
        history(18, &[OK]),
    ];
    assert_eq!(
        backfill_verdict(&range),
        Verdict::NoFailureReproduced { runs: 4 }
    );
    assert_eq!(
        backfill_verdict(&range).describe(),
        "no failure reproduced in 4 run(s)"
    );
}

#[test]
fn mixed_results_are_intermittent() {
    let range = [
        history(20, &[FAIL, OK]),
        history(19, &[OK, FAIL]),
        history(18, &[OK]),
    ];
    let v = backfill_verdict(&range);
    assert_eq!(
        v,
        Verdict::Intermittent {
            failed: 2,
            total: 5
        }
    );
    assert_eq!(v.describe(), "intermittent: 2 of 5 runs failed");
}

#[test]
fn unfinished_or_empty_ranges_say_so() {
    assert_eq!(
        backfill_verdict(&[history(20, &[FAIL]), history(19, &[JobState::Pending])]),
        Verdict::Incomplete { in_progress: 1 }
    );
    assert_eq!(
        backfill_verdict(&[history(20, &[CANCELLED])]),
        Verdict::NoData
    );
    assert_eq!(backfill_verdict(&[]), Verdict::NoData);
}

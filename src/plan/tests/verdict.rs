//! `plan::verdict` over hand-made histories: first bad push, no failure
//! reproduced, intermittent, and runs judged by their logs.

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

/// Judged by their logs: a run failing otherwise is no failure of interest,
/// and an infrastructure-only run is no run at all.
#[test]
fn runs_are_judged_by_their_reading_when_their_logs_were_read() {
    use crate::model::{JobReading, RunReading};
    let read = |mut h: crate::model::PushHistory, readings: &[(u64, RunReading)]| {
        h.readings = readings
            .iter()
            .map(|&(job_id, reading)| JobReading { job_id, reading })
            .collect();
        h
    };
    // By result alone, 18 fails too: intermittent.
    let by_result = [
        history(20, &[FAIL, FAIL]),
        history(19, &[FAIL]),
        history(18, &[FAIL, OK]),
        history(17, &[OK]),
    ];
    assert!(matches!(
        backfill_verdict(&by_result),
        Verdict::Intermittent { .. }
    ));
    // 18's failure was another test, 19's second run an aborted task.
    let by_signature = [
        read(history(20, &[FAIL, FAIL]), &[]),
        read(
            history(19, &[FAIL, FAIL]),
            &[(1901, RunReading::NotEvidence)],
        ),
        read(
            history(18, &[FAIL, OK]),
            &[(1800, RunReading::OtherFailure)],
        ),
        history(17, &[OK]),
    ];
    assert_eq!(
        backfill_verdict(&by_signature),
        Verdict::FirstBadPush {
            push_id: 19,
            revision: rev(19)
        }
    );
    // Only infrastructure failures on a push: it says nothing.
    let infra_only = [
        history(20, &[FAIL]),
        read(history(19, &[FAIL]), &[(1900, RunReading::NotEvidence)]),
        history(18, &[OK]),
    ];
    assert_eq!(
        backfill_verdict(&infra_only),
        Verdict::FirstBadPush {
            push_id: 20,
            revision: rev(20)
        }
    );
}

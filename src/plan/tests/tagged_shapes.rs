//! The tagged enums (serde's internally and adjacently tagged derives) read
//! back exactly what they write, in the JSON shapes stored ledgers and the
//! add-on's messages use.

use crate::model::{JobResult, JobState, UpstreamBuild};
use crate::plan::test_support::{job, rev};
use crate::plan::trigger::PushAction;
use crate::plan::verdict::Verdict;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use std::fmt::Debug;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: T) {
    let text = serde_json::to_string(&value).unwrap();
    let back: T = serde_json::from_str(&text).unwrap();
    assert_eq!(back, value, "{text}");
}

#[test]
fn every_variant_reads_back_what_it_writes() {
    let build = job(3, JobState::Completed(JobResult::Success), 1);
    for state in [
        JobState::Pending,
        JobState::Running,
        JobState::Coalesced,
        JobState::Unknown,
        JobState::Completed(JobResult::TestFailed),
    ] {
        round_trip(state);
    }
    round_trip(UpstreamBuild::NotNeeded);
    round_trip(UpstreamBuild::Ready {
        build: build.clone(),
        files: vec!["https://example.com/a.zip".into()],
    });
    round_trip(UpstreamBuild::InProgress {
        build: build.clone(),
    });
    round_trip(UpstreamBuild::Failed {
        build: build.clone(),
    });
    round_trip(UpstreamBuild::Missing {
        build_name: "b".into(),
    });
    round_trip(PushAction::Nothing);
    round_trip(PushAction::Retrigger {
        job: Box::new(build.clone()),
        count: 2,
    });
    round_trip(PushAction::Trigger {
        count: 3,
        files: vec![],
    });
    round_trip(PushAction::BuildFirst {
        build_name: "b".into(),
        then_tests: 4,
    });
    round_trip(PushAction::WaitForBuild {
        build: Box::new(build),
        then_tests: 5,
    });
    round_trip(Verdict::Incomplete { in_progress: 1 });
    round_trip(Verdict::FirstBadPush {
        push_id: 7,
        revision: rev(7),
    });
    round_trip(Verdict::NoFailureReproduced { runs: 9 });
    round_trip(Verdict::Intermittent {
        failed: 2,
        total: 6,
    });
    round_trip(Verdict::NoData);
}

#[test]
fn shapes_are_the_tagged_objects_the_add_on_stores() {
    assert_eq!(
        serde_json::to_value(JobState::Completed(JobResult::Busted)).unwrap(),
        json!({"state": "completed", "result": "busted"})
    );
    let read: PushAction = serde_json::from_value(
        json!({"action": "build_first", "then_tests": 2, "build_name": "b", "extra": 1}),
    )
    .unwrap();
    assert_eq!(
        read,
        PushAction::BuildFirst {
            build_name: "b".into(),
            then_tests: 2
        }
    );
    let read: JobState =
        serde_json::from_value(json!({"result": null, "state": "running"})).unwrap();
    assert_eq!(read, JobState::Running);
}

#[test]
fn missing_variant_fields_and_unknown_tags_are_errors() {
    let err =
        serde_json::from_value::<PushAction>(json!({"action": "trigger", "count": 1})).unwrap_err();
    assert!(err.to_string().contains("missing field `files`"), "{err}");
    let err = serde_json::from_value::<JobState>(json!({"state": "completed"})).unwrap_err();
    assert!(err.to_string().contains("missing field `result`"), "{err}");
    assert!(serde_json::from_value::<Verdict>(json!({"verdict": "guess"})).is_err());
    assert!(serde_json::from_value::<UpstreamBuild>(json!({"build_name": "b"})).is_err());
}

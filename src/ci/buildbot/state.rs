//! The state of a Buildbot job, the mozci way: from a Self-Serve `/rev/`
//! item and the buildjson dumps, decide pending, running, unknown,
//! coalesced, or finished with a result. Pure: no I/O, no clock.
//!
//! Coalescing is the subtle part: Buildbot merges pending requests for one
//! builder into a single build of the NEWEST revision, and BuildAPI still
//! reports the older request as a success. Only buildjson, which records the
//! revision each build really ran, tells the two apart.

use crate::model::{JobResult, JobState, Revision};
use crate::sources::buildapi::{BuildStatus, QueuedRequest, RevItem};
use crate::sources::buildjson::{
    dump_for_completed_request, BuildjsonDump, FinishedBuild, RunningBuild,
};
use std::collections::{HashMap, HashSet};

/// Buildbot's SUCCESS result code.
const BUILDBOT_SUCCESS: i64 = 0;

/// The buildjson dumps at hand, indexed by build request id.
#[derive(Debug, Clone, Default)]
pub struct BuildjsonView<'a> {
    finished: HashMap<u64, &'a FinishedBuild>,
    running: HashSet<u64>,
    pending: HashSet<u64>,
}

impl<'a> BuildjsonView<'a> {
    /// Index finished builds (4hr and/or day files), running builds and pending requests.
    pub fn new(
        finished: &'a [FinishedBuild],
        running: &[RunningBuild],
        pending: &[QueuedRequest],
    ) -> Self {
        let mut by_request: HashMap<u64, &'a FinishedBuild> = HashMap::new();
        for build in finished {
            for &request_id in &build.request_ids {
                // A retried request has several builds: the latest one (highest id) tells.
                let slot = by_request.entry(request_id).or_insert(build);
                if build.id > slot.id {
                    *slot = build;
                }
            }
        }
        BuildjsonView {
            finished: by_request,
            running: running
                .iter()
                .flat_map(|b| b.request_ids.iter().copied())
                .collect(),
            pending: pending.iter().map(|r| r.request_id).collect(),
        }
    }

    /// Only finished builds (enough for the coalescing rule).
    pub fn finished_only(finished: &'a [FinishedBuild]) -> Self {
        Self::new(finished, &[], &[])
    }

    /// The finished build that served this request (`properties.request_ids` ∪ `request_ids`).
    pub fn finished_build_of(&self, request_id: u64) -> Option<&'a FinishedBuild> {
        self.finished.get(&request_id).copied()
    }
}

/// Same changeset, compared on the first 12 characters as Buildbot-era tools do.
fn same_short_revision(a: &str, b: &str) -> bool {
    Revision::from(a)
        .short()
        .eq_ignore_ascii_case(Revision::from(b).short())
}

/// The state of a `/rev/` item:
/// - a pending request (no `status` key): PENDING;
/// - `status` null: UNKNOWN if it has an `endtime`, else RUNNING;
/// - SUCCESS: COALESCED if the buildjson build holding one of its requests
///   ran another revision, RUNNING while no finished build holds them yet,
///   else success;
/// - any other result code: that result (UNKNOWN for codes Buildbot never uses).
pub fn job_state(item: &RevItem, dumps: &BuildjsonView<'_>) -> JobState {
    let build = match item {
        RevItem::Pending(_) => return JobState::Pending,
        RevItem::Build(build) => build,
    };
    match build.status {
        BuildStatus::Absent => JobState::Pending,
        BuildStatus::NoResult if build.endtime.is_some() => JobState::Unknown,
        BuildStatus::NoResult => JobState::Running,
        BuildStatus::Result(BUILDBOT_SUCCESS) => {
            let ran = build
                .requests
                .iter()
                .find_map(|r| dumps.finished_build_of(r.request_id));
            match ran {
                // BuildAPI says done, buildjson has not caught up yet.
                None => JobState::Running,
                Some(ran) => match ran.revision.as_deref() {
                    Some(ran_revision) if !same_short_revision(ran_revision, &build.revision) => {
                        JobState::Coalesced
                    }
                    _ => JobState::Completed(JobResult::Success),
                },
            }
        }
        BuildStatus::Result(code) => {
            JobResult::from_buildbot(code).map_or(JobState::Unknown, JobState::Completed)
        }
    }
}

/// The state, on the push of `push_revision`, of a `/rev/` item listed for
/// that push. Self-Serve lists a request that Buildbot merged into a build
/// of a newer revision inside that build: such an item names another
/// revision, and once the build has finished the request is COALESCED (it
/// never ran on its own push). Items of the push itself follow [`job_state`].
pub fn job_state_on_push(
    item: &RevItem,
    push_revision: &Revision,
    dumps: &BuildjsonView<'_>,
) -> JobState {
    if let RevItem::Build(build) = item {
        if !same_short_revision(&build.revision, &push_revision.0) {
            return match build.status {
                BuildStatus::Absent => JobState::Pending,
                BuildStatus::NoResult if build.endtime.is_some() => JobState::Unknown,
                BuildStatus::NoResult => JobState::Running,
                BuildStatus::Result(_) => JobState::Coalesced,
            };
        }
    }
    job_state(item, dumps)
}

/// The request ids of `item` that belong to the push of `push_revision`
/// (a build of another revision also lists the requests merged into it).
pub fn request_ids_on_push(item: &RevItem, push_revision: &Revision) -> Vec<u64> {
    match item {
        RevItem::Pending(r) => vec![r.request_id],
        RevItem::Build(b) => {
            let own: Vec<u64> = b
                .requests
                .iter()
                .filter(|r| same_short_revision(&r.revision, &push_revision.0))
                .map(|r| r.request_id)
                .collect();
            if own.is_empty() {
                b.requests.iter().map(|r| r.request_id).collect()
            } else {
                own
            }
        }
    }
}

/// The state of a build request from the dumps alone (no Self-Serve record),
/// `revision` being the push it was requested for. `None` if no dump mentions it.
pub fn request_state_in_dumps(
    request_id: u64,
    revision: &Revision,
    dumps: &BuildjsonView<'_>,
) -> Option<JobState> {
    if let Some(build) = dumps.finished_build_of(request_id) {
        let coalesced = build
            .revision
            .as_deref()
            .is_some_and(|ran| !same_short_revision(ran, &revision.0));
        if coalesced {
            return Some(JobState::Coalesced);
        }
        return Some(
            build
                .result
                .and_then(JobResult::from_buildbot)
                .map_or(JobState::Unknown, JobState::Completed),
        );
    }
    if dumps.running.contains(&request_id) {
        return Some(JobState::Running);
    }
    dumps
        .pending
        .contains(&request_id)
        .then_some(JobState::Pending)
}

/// Which finished-builds dump settles a `/rev/` item at time `now` (Unix
/// seconds): only successful builds need one (to rule out coalescing). The
/// time is the requests' latest `complete_at`, else the build's `endtime`.
pub fn dump_to_consult(item: &RevItem, now: i64) -> Option<BuildjsonDump> {
    let RevItem::Build(build) = item else {
        return None;
    };
    if build.status != BuildStatus::Result(BUILDBOT_SUCCESS) {
        return None;
    }
    let completed_at = build
        .requests
        .iter()
        .filter_map(|r| r.complete_at)
        .max()
        .or(build.endtime)?;
    Some(dump_for_completed_request(completed_at, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::buildapi::{SelfServeBuild, SelfServeRequest};
    use crate::sources::buildjson::UtcDate;

    const OLD: &str = "aaaaaaaaaaaa1111111111111111111111111111";
    const NEW: &str = "bbbbbbbbbbbb2222222222222222222222222222";

    fn request(id: u64, revision: &str, complete_at: Option<i64>) -> SelfServeRequest {
        SelfServeRequest {
            request_id: id,
            buildername: "Linux mozilla-inbound opt test mochitest-1".into(),
            branch: "mozilla-inbound".into(),
            revision: revision.into(),
            complete_at,
            ..Default::default()
        }
    }

    fn build(
        status: BuildStatus,
        endtime: Option<i64>,
        requests: Vec<SelfServeRequest>,
    ) -> RevItem {
        RevItem::Build(SelfServeBuild {
            build_id: 9,
            buildername: "Linux mozilla-inbound opt test mochitest-1".into(),
            branch: "mozilla-inbound".into(),
            revision: OLD[..12].into(),
            starttime: Some(1000),
            endtime,
            status,
            requests,
            ..Default::default()
        })
    }

    fn finished(
        id: u64,
        revision: &str,
        request_ids: Vec<u64>,
        result: Option<i64>,
    ) -> FinishedBuild {
        FinishedBuild {
            id,
            buildername: "Linux mozilla-inbound opt test mochitest-1".into(),
            revision: Some(revision.into()),
            request_ids,
            result,
            ..Default::default()
        }
    }

    fn success(requests: Vec<SelfServeRequest>) -> RevItem {
        build(BuildStatus::Result(0), Some(2000), requests)
    }

    #[test]
    fn pending_running_unknown() {
        let none = BuildjsonView::default();
        assert_eq!(
            job_state(&RevItem::Pending(request(1, OLD, None)), &none),
            JobState::Pending
        );
        assert_eq!(
            job_state(&build(BuildStatus::Absent, None, vec![]), &none),
            JobState::Pending
        );
        assert_eq!(
            job_state(&build(BuildStatus::NoResult, None, vec![]), &none),
            JobState::Running
        );
        assert_eq!(
            job_state(&build(BuildStatus::NoResult, Some(5), vec![]), &none),
            JobState::Unknown
        );
    }

    #[test]
    fn result_codes_map_to_results() {
        let none = BuildjsonView::default();
        let expected = [
            (1, JobResult::TestFailed),
            (2, JobResult::Busted),
            (3, JobResult::Skipped),
            (4, JobResult::Exception),
            (5, JobResult::Retry),
            (6, JobResult::UserCancel),
        ];
        for (code, result) in expected {
            let item = build(
                BuildStatus::Result(code),
                Some(2000),
                vec![request(1, OLD, Some(2000))],
            );
            assert_eq!(
                job_state(&item, &none),
                JobState::Completed(result),
                "code {code}"
            );
        }
        for code in [-1, 7, 99] {
            let item = build(BuildStatus::Result(code), Some(2000), vec![]);
            assert_eq!(job_state(&item, &none), JobState::Unknown, "code {code}");
        }
    }

    #[test]
    fn success_not_yet_in_buildjson_is_running() {
        let dumps = [finished(50, OLD, vec![999], Some(0))];
        let view = BuildjsonView::finished_only(&dumps);
        assert_eq!(
            job_state(&success(vec![request(1, OLD, Some(2000))]), &view),
            JobState::Running
        );
        assert_eq!(job_state(&success(vec![]), &view), JobState::Running);
    }

    #[test]
    fn success_on_own_revision_is_success() {
        // buildjson often has the 12-char form; the comparison is on 12 chars, case-insensitive.
        let dumps = [finished(50, &OLD[..12].to_uppercase(), vec![1], Some(0))];
        let view = BuildjsonView::finished_only(&dumps);
        assert_eq!(
            job_state(&success(vec![request(1, OLD, Some(2000))]), &view),
            JobState::Completed(JobResult::Success)
        );
    }

    #[test]
    fn a_build_of_another_revision_listed_for_a_push_is_coalesced_there() {
        let view = BuildjsonView::finished_only(&[]);
        let mut newer = success(vec![
            request(1, NEW, Some(2000)),
            request(2, OLD, Some(2000)),
        ]);
        if let RevItem::Build(b) = &mut newer {
            b.revision = NEW.to_string();
        }
        let old = Revision::from(OLD);
        assert_eq!(job_state_on_push(&newer, &old, &view), JobState::Coalesced);
        assert_eq!(request_ids_on_push(&newer, &old), vec![2]);
        if let RevItem::Build(b) = &mut newer {
            b.status = BuildStatus::NoResult;
            b.endtime = None;
        }
        assert_eq!(job_state_on_push(&newer, &old, &view), JobState::Running);
        // On its own push the same item reads as usual.
        assert_eq!(
            job_state_on_push(&newer, &Revision::from(NEW), &view),
            JobState::Running
        );
    }

    #[test]
    fn success_served_by_a_newer_revision_is_coalesced() {
        let dumps = [finished(50, NEW, vec![1, 2], Some(0))];
        let view = BuildjsonView::finished_only(&dumps);
        assert_eq!(
            job_state(&success(vec![request(1, OLD, Some(2000))]), &view),
            JobState::Coalesced
        );
        // Matching by a merged (non-first) request id works too.
        let item = success(vec![request(7, OLD, None), request(2, OLD, Some(2000))]);
        assert_eq!(job_state(&item, &view), JobState::Coalesced);
    }

    #[test]
    fn request_ids_in_properties_or_top_level_both_count() {
        // FinishedBuild.request_ids is already properties.request_ids ∪ request_ids;
        // check through the parser that either place is enough.
        let body = format!(
            r#"{{"builds": [
              {{"id": 1, "result": 0, "request_ids": [], "properties": {{"revision": "{NEW}", "request_ids": [11]}}}},
              {{"id": 2, "result": 0, "request_ids": [12], "properties": {{"revision": "{NEW}"}}}}
            ]}}"#
        );
        let builds =
            crate::sources::buildjson::parse_finished_builds(body.as_bytes(), &Default::default())
                .unwrap();
        let view = BuildjsonView::finished_only(&builds);
        for id in [11, 12] {
            assert_eq!(
                job_state(&success(vec![request(id, OLD, Some(2000))]), &view),
                JobState::Coalesced,
                "{id}"
            );
        }
    }

    #[test]
    fn success_without_recorded_revision_is_success() {
        let mut b = finished(50, NEW, vec![1], Some(0));
        b.revision = None;
        let dumps = [b];
        let view = BuildjsonView::finished_only(&dumps);
        assert_eq!(
            job_state(&success(vec![request(1, OLD, Some(2000))]), &view),
            JobState::Completed(JobResult::Success)
        );
    }

    #[test]
    fn retried_request_uses_its_latest_build() {
        let dumps = [
            finished(60, OLD, vec![1], Some(0)),
            finished(50, NEW, vec![1], Some(5)),
        ];
        let view = BuildjsonView::finished_only(&dumps);
        assert_eq!(view.finished_build_of(1).map(|b| b.id), Some(60));
        assert_eq!(
            job_state(&success(vec![request(1, OLD, Some(2000))]), &view),
            JobState::Completed(JobResult::Success)
        );
    }

    #[test]
    fn request_state_from_dumps_alone() {
        let finished_builds = [
            finished(50, OLD, vec![1], Some(2)),
            finished(51, NEW, vec![2], Some(0)),
            finished(52, OLD, vec![3], None),
        ];
        let running = [RunningBuild {
            id: 70,
            request_ids: vec![4],
            ..Default::default()
        }];
        let pending = [QueuedRequest {
            branch: "mozilla-inbound".into(),
            revision: OLD[..12].into(),
            request_id: 5,
            buildername: "b".into(),
            submitted_at: None,
        }];
        let view = BuildjsonView::new(&finished_builds, &running, &pending);
        let old = Revision::from(OLD);
        assert_eq!(
            request_state_in_dumps(1, &old, &view),
            Some(JobState::Completed(JobResult::Busted))
        );
        assert_eq!(
            request_state_in_dumps(2, &old, &view),
            Some(JobState::Coalesced)
        );
        assert_eq!(
            request_state_in_dumps(3, &old, &view),
            Some(JobState::Unknown)
        );
        assert_eq!(
            request_state_in_dumps(4, &old, &view),
            Some(JobState::Running)
        );
        assert_eq!(
            request_state_in_dumps(5, &old, &view),
            Some(JobState::Pending)
        );
        assert_eq!(request_state_in_dumps(6, &old, &view), None);
    }

    #[test]
    fn which_dump_settles_an_item() {
        let now = 1_376_510_970;
        let recent = success(vec![
            request(1, OLD, Some(now - 60)),
            request(2, OLD, Some(now - 7200)),
        ]);
        assert_eq!(
            dump_to_consult(&recent, now),
            Some(BuildjsonDump::FourHours)
        );
        let old = success(vec![request(1, OLD, Some(now - 5 * 3600))]);
        assert_eq!(
            dump_to_consult(&old, now),
            Some(BuildjsonDump::Day(UtcDate {
                year: 2013,
                month: 8,
                day: 14
            }))
        );
        // Without complete_at the build's endtime decides.
        let no_complete_at = success(vec![request(1, OLD, None)]);
        assert_eq!(
            dump_to_consult(&no_complete_at, now),
            Some(BuildjsonDump::Day(UtcDate {
                year: 1970,
                month: 1,
                day: 1
            }))
        );
        assert_eq!(
            dump_to_consult(&build(BuildStatus::Result(0), None, vec![]), now),
            None
        );
        assert_eq!(
            dump_to_consult(&build(BuildStatus::Result(2), Some(now), vec![]), now),
            None
        );
        assert_eq!(
            dump_to_consult(&build(BuildStatus::NoResult, None, vec![]), now),
            None
        );
        assert_eq!(
            dump_to_consult(&RevItem::Pending(request(1, OLD, None)), now),
            None
        );
    }
}

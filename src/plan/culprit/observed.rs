//! What the runs on a culprit search's range show: finished runs with a
//! verdict on the code (for the whole job, or for one test from the runs'
//! logs), runs still on their way, and which new runs to ask for.

use super::range::CulpritRange;
use crate::error::{Error, Result};
use crate::model::{Job, JobResult, JobState, PushHistory};
use crate::sources::test_failures::{FailureKind, JobFailures};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// What the runs on the range show: finished runs with a verdict on the
/// code, and runs on their way, by search index (older pushes together as 0).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedRuns {
    /// (push index, failed), newest push first.
    pub finished: Vec<(i64, bool)>,
    /// Pending, running or asked for and not visible yet.
    pub in_flight: BTreeMap<i64, u32>,
}

impl ObservedRuns {
    /// Read `histories` (any order) of the pushes of `range`. Runs that say
    /// nothing about the code (infrastructure failures, cancelled,
    /// coalesced) are left out.
    pub fn from_histories(range: &CulpritRange, histories: &[PushHistory]) -> Result<Self> {
        Self::read(range, histories, None)
    }

    /// As [`ObservedRuns::from_histories`], but a failed run counts as a
    /// failure only if `verdicts` says the test failed in it, as a pass if
    /// the test did not, and not at all while its logs are unknown.
    pub fn for_test(
        range: &CulpritRange,
        histories: &[PushHistory],
        verdicts: &TestVerdicts,
    ) -> Result<Self> {
        Self::read(range, histories, Some(verdicts))
    }

    fn read(
        range: &CulpritRange,
        histories: &[PushHistory],
        verdicts: Option<&TestVerdicts>,
    ) -> Result<Self> {
        let mut observed = ObservedRuns::default();
        for history in histories {
            let index = range.index_of(history.push.id).ok_or_else(|| {
                Error::Invalid(format!(
                    "push {} is not in the culprit search's range",
                    history.push.id
                ))
            })?;
            for job in &history.jobs {
                match job.state {
                    JobState::Completed(JobResult::Success) => {
                        observed.finished.push((index, false))
                    }
                    JobState::Completed(JobResult::TestFailed | JobResult::Busted) => {
                        let failed = match verdicts {
                            None => Some(true),
                            Some(v) => v.test_failed_in(job),
                        };
                        if let Some(failed) = failed {
                            observed.finished.push((index, failed));
                        }
                    }
                    _ => {}
                }
            }
            let in_flight = history.counts().in_progress();
            if in_flight > 0 {
                *observed.in_flight.entry(index.max(0)).or_default() += in_flight;
            }
        }
        Ok(observed)
    }

    pub fn in_flight_total(&self) -> u32 {
        self.in_flight.values().sum()
    }
}

/// Whether one test failed in the failed runs, by Treeherder job id, for a
/// search about that test rather than the whole job. Each failed run's logs
/// are read once (by the engine) and remembered across steps; the memory is
/// only a saving, a new `TestVerdicts` reads them again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestVerdicts {
    /// The test's path, or its end (`browser_foo.js`); empty with `any_test`.
    pub test: String,
    /// About any failure of the job rather than one test: a failed run
    /// counts unless its logs show only infrastructure trouble.
    #[serde(default)]
    pub any_test: bool,
    /// `None`: the run broke before the test could tell (busted without
    /// naming it), so it says nothing about the test.
    failed_by_job: HashMap<u64, Option<bool>>,
}

impl TestVerdicts {
    pub fn new(test: &str) -> Self {
        TestVerdicts {
            test: test.to_string(),
            any_test: false,
            failed_by_job: HashMap::new(),
        }
    }

    /// About any failure of the job: a failed run is a failure unless its
    /// logs show only infrastructure trouble (max run time, a download, a
    /// bare exit status), which is no evidence against its push.
    pub fn any_failure() -> Self {
        TestVerdicts {
            any_test: true,
            ..TestVerdicts::default()
        }
    }

    /// The test this is about, `None` for any failure of the job.
    pub fn about_test(&self) -> Option<&str> {
        (!self.any_test).then_some(self.test.as_str())
    }

    fn names_the_test(&self, name: &str) -> bool {
        name == self.test || name.ends_with(&format!("/{}", self.test.trim_start_matches('/')))
    }

    /// What one failed run's logs say about the test: `Some(true)` it
    /// failed, `Some(false)` the run failed otherwise, `None` when the run
    /// tells nothing: it was busted (it may have stopped before the test) or
    /// its only failure is infrastructure (a download failure, an aborted
    /// task, a bare exit status), which is no evidence against a push.
    fn verdict_of(&self, failures: &JobFailures, busted: bool) -> Option<bool> {
        let infrastructure_only = failures.kind == Some(FailureKind::Infrastructure);
        if self.any_test {
            return (!infrastructure_only).then_some(true);
        }
        let failed = failures
            .failed_tests()
            .iter()
            .any(|name| self.names_the_test(name));
        match (failed, busted || infrastructure_only) {
            (true, _) => Some(true),
            (false, false) => Some(false),
            (false, true) => None,
        }
    }

    /// Whether the test failed in this failed run; `None` while its logs
    /// are unread or when they do not tell.
    pub fn test_failed_in(&self, job: &Job) -> Option<bool> {
        self.failed_by_job.get(&job.ids.job_id?).copied().flatten()
    }

    /// The failed runs of `histories` whose logs are not read yet, as
    /// (Treeherder job id, busted): a busted run may have stopped before
    /// the test.
    pub fn unread_failed_runs(&self, histories: &[PushHistory]) -> Vec<(u64, bool)> {
        histories
            .iter()
            .flat_map(|h| &h.jobs)
            .filter_map(|j| match j.state {
                JobState::Completed(JobResult::TestFailed) => Some((j.ids.job_id?, false)),
                JobState::Completed(JobResult::Busted) => Some((j.ids.job_id?, true)),
                _ => None,
            })
            .filter(|(id, _)| !self.failed_by_job.contains_key(id))
            .collect()
    }

    /// Remember what the logs of the failed run `job_id` say about the test.
    pub fn remember(&mut self, job_id: u64, failures: &JobFailures, busted: bool) {
        let verdict = self.verdict_of(failures, busted);
        self.failed_by_job.insert(job_id, verdict);
    }
}

/// The new runs to ask for: the search's wish list (`wanted`, one entry
/// per run, 0 for "an older push") less what is already on its way to the
/// same push, at most `room` in all. A run in flight elsewhere still takes
/// room, so a round never has more than the allowed runs out at once.
pub fn runs_to_request(
    wanted: &[i64],
    in_flight: &BTreeMap<i64, u32>,
    room: u32,
) -> BTreeMap<i64, u32> {
    let mut covered = in_flight.clone();
    let mut request: BTreeMap<i64, u32> = BTreeMap::new();
    let mut granted = 0;
    for &index in wanted {
        let bucket = index.max(0);
        match covered.get_mut(&bucket) {
            Some(count) if *count > 0 => *count -= 1,
            _ if granted < room => {
                *request.entry(bucket).or_default() += 1;
                granted += 1;
            }
            _ => {}
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_support::{history, job_type, newest_first, FAIL, OK};
    use crate::sources::unstructured_log::parse_text_log;

    #[test]
    fn an_infrastructure_only_run_is_no_evidence_about_the_test() {
        let verdicts = TestVerdicts::new("a.html");
        let failed = parse_text_log(b"TEST-UNEXPECTED-FAIL | dom/a.html | boom\n");
        let other = parse_text_log(b"TEST-UNEXPECTED-FAIL | dom/b.html | boom\n");
        let infra = parse_text_log(
            b"[taskcluster:error] Error downloading \"public/build/target.tar.gz\"\n",
        );
        assert_eq!(infra.kind, Some(FailureKind::Infrastructure));
        assert_eq!(verdicts.verdict_of(&failed, false), Some(true));
        assert_eq!(verdicts.verdict_of(&other, false), Some(false));
        assert_eq!(verdicts.verdict_of(&infra, false), None);
        assert_eq!(verdicts.verdict_of(&other, true), None);
        assert_eq!(verdicts.verdict_of(&failed, true), Some(true));
        // About any failure of the job: every failure but infrastructure.
        let any = TestVerdicts::any_failure();
        assert_eq!(any.about_test(), None);
        assert_eq!(verdicts.about_test(), Some("a.html"));
        assert_eq!(any.verdict_of(&other, false), Some(true));
        assert_eq!(any.verdict_of(&other, true), Some(true));
        assert_eq!(any.verdict_of(&infra, false), None);
        let max_run_time =
            parse_text_log(b"[taskcluster:error] Task aborted - max run time exceeded\n");
        assert_eq!(any.verdict_of(&max_run_time, false), None);
    }
    #[test]
    fn runs_in_flight_are_not_asked_again_and_room_is_respected() {
        let in_flight = BTreeMap::from([(3, 1), (0, 1)]);
        let wanted = [3, 3, -2, 0, 5, 5];
        let got = runs_to_request(&wanted, &in_flight, 10);
        assert_eq!(got, BTreeMap::from([(0, 1), (3, 1), (5, 2)]));
        let got = runs_to_request(&wanted, &in_flight, 2);
        assert_eq!(got, BTreeMap::from([(0, 1), (3, 1)]));
        assert!(runs_to_request(&wanted, &in_flight, 0).is_empty());
    }

    #[test]
    fn a_search_about_one_test_counts_only_that_test_s_failures() {
        let range =
            CulpritRange::from_newest_first("autoland", &job_type(), newest_first(), 2).unwrap();
        let histories = vec![history(20, &[FAIL, FAIL, FAIL]), history(19, &[OK])];
        let failed_ids: Vec<u64> = histories[0]
            .jobs
            .iter()
            .filter_map(|j| j.ids.job_id)
            .collect();
        let mut verdicts = TestVerdicts::new("general/browser_x.js");
        assert_eq!(
            verdicts.unread_failed_runs(&histories),
            failed_ids.iter().map(|&id| (id, false)).collect::<Vec<_>>()
        );
        // The first failed run broke the test, the second failed elsewhere,
        // the third's logs are not read yet.
        let broke_it =
            parse_text_log(b"TEST-UNEXPECTED-FAIL | browser/base/general/browser_x.js | boom\n");
        let elsewhere = parse_text_log(b"TEST-UNEXPECTED-FAIL | dom/other.html | boom\n");
        verdicts.remember(failed_ids[0], &broke_it, false);
        verdicts.remember(failed_ids[1], &elsewhere, false);
        assert_eq!(
            verdicts.unread_failed_runs(&histories),
            vec![(failed_ids[2], false)]
        );
        let observed = ObservedRuns::for_test(&range, &histories, &verdicts).unwrap();
        assert_eq!(observed.finished, vec![(2, true), (2, false), (1, false)]);
        let whole_job = ObservedRuns::from_histories(&range, &histories).unwrap();
        assert_eq!(
            whole_job.finished,
            vec![(2, true), (2, true), (2, true), (1, false)]
        );
        assert!(verdicts.names_the_test("browser/base/general/browser_x.js"));
        assert!(verdicts.names_the_test("general/browser_x.js"));
        assert!(!verdicts.names_the_test("browser/base/general/other_browser_x.js"));
    }
}

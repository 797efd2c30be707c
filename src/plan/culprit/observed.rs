//! What the runs on a culprit search's range show: finished runs with a
//! verdict on the code (for the whole job, or for one test from the runs'
//! logs), runs still on their way, and which new runs to ask for.

use super::range::CulpritRange;
use crate::error::{Error, Result};
use crate::model::RunReading;
use crate::model::{Job, JobResult, JobState, PushHistory};
use crate::plan::failure_scope::FailureScope;
use crate::sources::test_failures::JobFailures;
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
    /// failure only if `verdicts` says it failed the way its scope asks, as
    /// a pass if it failed otherwise, and not at all while its logs are
    /// unknown or say nothing.
    pub fn judged_by(
        range: &CulpritRange,
        histories: &[PushHistory],
        verdicts: &RunVerdicts,
    ) -> Result<Self> {
        Self::read(range, histories, Some(verdicts))
    }

    fn read(
        range: &CulpritRange,
        histories: &[PushHistory],
        verdicts: Option<&RunVerdicts>,
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
                            Some(v) => v.failed_as_asked(job),
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

    /// Leave out one failed run on push `n`: the failure that started the
    /// search. The search's prior on "no culprit" (`CulpritConfig`) is the
    /// share of intermittents among the failures sheriffs chase, a share
    /// taken after a failure was seen; counting that failure again would
    /// weigh it twice and lean every answer towards a culprit (the
    /// benchmark's searches, whose answers are the calibrated ones, never
    /// see it either).
    pub fn without_the_failure_seen(mut self, n: u32) -> Self {
        let seen = (i64::from(n), true);
        if let Some(at) = self.finished.iter().position(|run| *run == seen) {
            self.finished.remove(at);
        }
        self
    }

    /// Runs on their way, over every push.
    pub fn in_flight_total(&self) -> u32 {
        self.in_flight.values().sum()
    }
}

/// What each failed run's logs say under a [`FailureScope`] (the selected
/// job's failure signature, one test, or any failure but infrastructure),
/// by Treeherder job id. Each failed run's logs are read once (by the
/// engine) and remembered across steps; the memory is only a saving, a new
/// `RunVerdicts` reads them again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredRunVerdicts")]
pub struct RunVerdicts {
    /// What a run must show to count as a failure of interest.
    pub scope: FailureScope,
    /// `Some(true)`: failed the way the scope asks; `Some(false)`: failed
    /// otherwise; `None`: says nothing (it broke before it could tell, or
    /// only the infrastructure failed).
    failed_by_job: HashMap<u64, Option<bool>>,
}

/// [`RunVerdicts`] as stored, including the shape written before scopes
/// (`test`, `any_test`), so a search in flight across an update goes on.
#[derive(Deserialize)]
struct StoredRunVerdicts {
    scope: Option<FailureScope>,
    #[serde(default)]
    test: String,
    #[serde(default)]
    any_test: bool,
    #[serde(default)]
    failed_by_job: HashMap<u64, Option<bool>>,
}

impl From<StoredRunVerdicts> for RunVerdicts {
    fn from(stored: StoredRunVerdicts) -> Self {
        let scope = stored.scope.unwrap_or_else(|| {
            let test = (!stored.any_test).then_some(stored.test.as_str());
            FailureScope::choose(true, test, None)
        });
        RunVerdicts {
            scope,
            failed_by_job: stored.failed_by_job,
        }
    }
}

impl RunVerdicts {
    /// No run read yet; failures counted by `scope`.
    pub fn new(scope: FailureScope) -> Self {
        RunVerdicts {
            scope,
            failed_by_job: HashMap::new(),
        }
    }

    /// What one failed run's logs say under the scope (see
    /// [`FailureScope::reading`]): `Some(true)` the failure of interest,
    /// `Some(false)` another failure, `None` no evidence either way.
    fn verdict_of(&self, failures: &JobFailures, busted: bool) -> Option<bool> {
        match self.scope.reading(failures, busted) {
            RunReading::SameFailure => Some(true),
            RunReading::OtherFailure => Some(false),
            RunReading::NotEvidence => None,
        }
    }

    /// Whether this failed run failed the way the scope asks; `None` while
    /// its logs are unread or when they do not tell.
    pub fn failed_as_asked(&self, job: &Job) -> Option<bool> {
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

    /// Remember what the logs of the failed run `job_id` say under the scope.
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
    use crate::sources::test_failures::FailureKind;
    use crate::sources::unstructured_log::parse_text_log;

    fn test_scope(test: &str) -> FailureScope {
        FailureScope::choose(false, Some(test), None)
    }

    #[test]
    fn an_infrastructure_only_run_is_no_evidence_about_the_test() {
        let verdicts = RunVerdicts::new(test_scope("a.html"));
        let failed = parse_text_log(b"TEST-UNEXPECTED-FAIL | dom/a.html | boom\n");
        let other = parse_text_log(b"TEST-UNEXPECTED-FAIL | dom/b.html | boom\n");
        let infra = parse_text_log(b"Automation Error: the build could not be downloaded\n");
        assert_eq!(infra.kind, Some(FailureKind::Infrastructure));
        assert_eq!(verdicts.verdict_of(&failed, false), Some(true));
        assert_eq!(verdicts.verdict_of(&other, false), Some(false));
        assert_eq!(verdicts.verdict_of(&infra, false), None);
        assert_eq!(verdicts.verdict_of(&other, true), None);
        assert_eq!(verdicts.verdict_of(&failed, true), Some(true));
        // About any failure of the job: every failure but infrastructure.
        let any = RunVerdicts::new(FailureScope::AnyFailure);
        assert_eq!(any.verdict_of(&other, false), Some(true));
        assert_eq!(any.verdict_of(&other, true), Some(true));
        assert_eq!(any.verdict_of(&infra, false), None);
        let lost_worker = parse_text_log(b"Automation Error: the worker was lost mid-task\n");
        assert_eq!(any.verdict_of(&lost_worker, false), None);
    }

    #[test]
    fn a_search_by_the_selected_job_s_signature_counts_only_failures_like_it() {
        let selected = parse_text_log(b"TEST-UNEXPECTED-FAIL | dom/a.html | boom\n");
        let scope = FailureScope::choose(false, None, Some(&selected));
        assert!(matches!(scope, FailureScope::Signature { .. }), "{scope:?}");
        let verdicts = RunVerdicts::new(scope);
        let same = parse_text_log(b"TEST-UNEXPECTED-FAIL | dom/a.html | boom again\n");
        let other = parse_text_log(b"TEST-UNEXPECTED-FAIL | dom/b.html | boom\n");
        let crash = parse_text_log(
            b"PROCESS-CRASH | dom/c.html | application crashed [@ mozalloc_abort]\n",
        );
        let infra = parse_text_log(b"Automation Error: the worker was lost mid-task\n");
        assert_eq!(verdicts.verdict_of(&same, false), Some(true));
        assert_eq!(verdicts.verdict_of(&other, false), Some(false));
        assert_eq!(verdicts.verdict_of(&crash, false), Some(false));
        assert_eq!(verdicts.verdict_of(&infra, false), None);
    }

    #[test]
    fn verdicts_stored_before_scopes_still_load() {
        let test: RunVerdicts = serde_json::from_str(
            r#"{"test":"a.html","any_test":false,"failed_by_job":{"7":true}}"#,
        )
        .unwrap();
        assert_eq!(test.scope, test_scope("a.html"));
        assert_eq!(test.failed_by_job.get(&7), Some(&Some(true)));
        let any: RunVerdicts =
            serde_json::from_str(r#"{"test":"","any_test":true,"failed_by_job":{}}"#).unwrap();
        assert_eq!(any.scope, FailureScope::AnyFailure);
        let round: RunVerdicts =
            serde_json::from_str(&serde_json::to_string(&test).unwrap()).unwrap();
        assert_eq!(round, test);
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
        let mut verdicts = RunVerdicts::new(test_scope("general/browser_x.js"));
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
        let observed = ObservedRuns::judged_by(&range, &histories, &verdicts).unwrap();
        assert_eq!(observed.finished, vec![(2, true), (2, false), (1, false)]);
        let whole_job = ObservedRuns::from_histories(&range, &histories).unwrap();
        assert_eq!(
            whole_job.finished,
            vec![(2, true), (2, true), (2, true), (1, false)]
        );
        // The test is named by its path or the path's end, never by a
        // longer file name that ends the same way.
        let look_alike = parse_text_log(
            b"TEST-UNEXPECTED-FAIL | browser/base/general/other_browser_x.js | boom\n",
        );
        assert_eq!(verdicts.verdict_of(&look_alike, false), Some(false));
        assert_eq!(verdicts.verdict_of(&broke_it, false), Some(true));
    }

    #[test]
    fn the_failure_that_started_the_search_is_not_evidence() {
        let range =
            CulpritRange::from_newest_first("autoland", &job_type(), newest_first(), 2).unwrap();
        let histories = vec![history(20, &[FAIL, OK, FAIL]), history(19, &[FAIL, OK])];
        let observed = ObservedRuns::from_histories(&range, &histories).unwrap();
        assert_eq!(
            observed.clone().without_the_failure_seen(2).finished,
            vec![(2, false), (2, true), (1, true), (1, false)],
            "one failure on push n goes, the rest stay"
        );
        // Nothing failed on push n (a range that does not end at a
        // failure): nothing to leave out.
        let passed = vec![history(20, &[OK]), history(19, &[FAIL])];
        let observed = ObservedRuns::from_histories(&range, &passed).unwrap();
        assert_eq!(
            observed.clone().without_the_failure_seen(2).finished,
            observed.finished
        );
    }
}

//! How often a job (or one of its tests) fails: the job type's runs on the
//! pushes up to a revision, read in one batched round (plus, for one test,
//! the failed runs' logs), summed up as a failure-rate posterior with a
//! credible interval and the runs it takes to see such a failure.

#![warn(missing_docs)]

use super::ledger::Ledger;
use super::Session;
use crate::error::{Error, Result};
use crate::model::JobType;
use crate::model::{JobResult, JobState, Push, PushHistory, Revision};
use crate::plan::culprit::observed::RunVerdicts;
use crate::plan::failure_rate::{runs_needed, FailureRate, PushRuns};
use crate::plan::failure_scope::FailureScope;
use serde::{Deserialize, Serialize};

/// The failure rate of a job type (or one test of it) across pushes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateReport {
    /// The repository's short name.
    pub repo: String,
    /// The job type's name.
    pub job_type: String,
    /// The test counted, if one was.
    pub test: Option<String>,
    /// Newest push first.
    pub pushes: Vec<PushRuns>,
    /// Finished runs with a verdict, over all pushes.
    pub runs: u32,
    /// Of which failed.
    pub failures: u32,
    /// Posterior mean (Jeffreys' prior).
    pub rate: f64,
    /// Equal-tailed credible interval at `level`.
    pub interval: (f64, f64),
    /// The interval's probability, e.g. 0.9.
    pub level: f64,
    /// Runs of a push that show a failure of this rate at least once with
    /// `confidence` (`None` when no run failed: nothing to look for).
    pub runs_needed: Option<u32>,
    /// The probability `runs_needed` is for.
    pub confidence: f64,
    /// Failed runs whose logs could not be read (left out of a test's count).
    pub unread_logs: Vec<String>,
}

/// Count the runs of `histories`: passed runs pass; failed runs fail, or
/// with `verdicts`, fail only if their logs show the failure its scope asks
/// for (pass if they show another, left out while unknown). Runs saying nothing about the code (infrastructure, cancelled,
/// coalesced, unfinished) are left out.
pub fn count_runs(histories: &[PushHistory], verdicts: Option<&RunVerdicts>) -> Vec<PushRuns> {
    histories
        .iter()
        .map(|h| {
            let mut counts = PushRuns {
                push_id: h.push.id,
                revision: h.push.revision.short().to_string(),
                runs: 0,
                failures: 0,
            };
            for job in &h.jobs {
                let failed = match job.state {
                    JobState::Completed(JobResult::Success) => Some(false),
                    JobState::Completed(JobResult::TestFailed | JobResult::Busted) => {
                        match verdicts {
                            None => Some(true),
                            Some(v) => v.failed_as_asked(job),
                        }
                    }
                    _ => None,
                };
                if let Some(failed) = failed {
                    counts.runs += 1;
                    counts.failures += u32::from(failed);
                }
            }
            counts
        })
        .collect()
}

impl Session {
    /// The finished runs of `job_type` on each of `pushes` (in their order),
    /// failed runs judged by `scope` from their logs: a run failed only by
    /// the infrastructure is left out (no evidence), and so are the runs
    /// whose logs could not be read, named in the second list.
    pub async fn job_runs(
        &self,
        repo: &str,
        job_type: &JobType,
        pushes: &[Push],
        scope: &FailureScope,
    ) -> Result<(Vec<PushRuns>, Vec<String>)> {
        let histories = self
            .histories(repo, pushes, job_type, &Ledger::default(), 0)
            .await?;
        let mut verdicts = RunVerdicts::new(scope.clone());
        let unread_logs = self.learn_verdicts(&mut verdicts, repo, &histories).await;
        Ok((count_runs(&histories, Some(&verdicts)), unread_logs))
    }

    /// The failure rate of `job_type` (or of `test` in it) on the push of
    /// `revision` and the `earlier` pushes before it.
    #[allow(clippy::too_many_arguments)]
    pub async fn failure_rate(
        &self,
        repo: &str,
        job_type: &JobType,
        revision: &Revision,
        earlier: u32,
        test: Option<&str>,
        level: f64,
        confidence: f64,
    ) -> Result<RateReport> {
        let pushes = self.pushes_ending_at(repo, revision, earlier).await?;
        let scope = FailureScope::choose(false, test, None);
        let (per_push, unread_logs) = self.job_runs(repo, job_type, &pushes, &scope).await?;
        let runs: u32 = per_push.iter().map(|p| p.runs).sum();
        let failures: u32 = per_push.iter().map(|p| p.failures).sum();
        if runs == 0 {
            return Err(Error::Invalid(format!(
                "{} has no finished run of {} on these {} push(es)",
                repo,
                job_type.name,
                pushes.len()
            )));
        }
        let estimate = FailureRate::from_runs(failures, runs - failures);
        let rate = estimate.mean();
        Ok(RateReport {
            repo: repo.to_string(),
            job_type: job_type.name.clone(),
            test: test.map(str::to_string),
            pushes: per_push,
            runs,
            failures,
            rate,
            interval: estimate.credible_interval(level)?,
            level,
            runs_needed: if failures > 0 {
                Some(runs_needed(rate, confidence)?)
            } else {
                None
            },
            confidence,
            unread_logs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::ANY_CI;
    use crate::model::{Job, JobIds, JobKind, Push};

    fn job(id: u64, state: JobState) -> Job {
        Job {
            kind: JobKind::Test,
            ci: ANY_CI,
            name: "test-linux64/opt-xpcshell".into(),
            platform: "linux64".into(),
            symbol: "X".into(),
            revision: Revision("a".repeat(40)),
            push_id: Some(1),
            ids: JobIds {
                job_id: Some(id),
                ..JobIds::default()
            },
            state,
            run_seconds: None,
        }
    }

    fn history(jobs: Vec<Job>) -> PushHistory {
        let push = Push {
            id: 1,
            revision: Revision("a".repeat(40)),
            changesets: Vec::new(),
            author: "dev@example.com".into(),
            date: 0,
            repository: "autoland".into(),
        };
        PushHistory::new(push, jobs)
    }

    #[test]
    fn runs_count_only_what_speaks_about_the_code() {
        let h = history(vec![
            job(1, JobState::Completed(JobResult::Success)),
            job(2, JobState::Completed(JobResult::TestFailed)),
            job(3, JobState::Completed(JobResult::Busted)),
            job(4, JobState::Completed(JobResult::Exception)),
            job(5, JobState::Running),
        ]);
        let counts = count_runs(&[h], None);
        assert_eq!((counts[0].runs, counts[0].failures), (3, 2));
    }

    #[test]
    fn a_test_counts_a_failed_run_only_when_its_logs_are_known() {
        let h = history(vec![
            job(1, JobState::Completed(JobResult::Success)),
            job(2, JobState::Completed(JobResult::TestFailed)),
        ]);
        // Logs of job 2 not read: the failed run is left out.
        let verdicts = RunVerdicts::new(FailureScope::choose(false, Some("test_http2.js"), None));
        let counts = count_runs(&[h], Some(&verdicts));
        assert_eq!((counts[0].runs, counts[0].failures), (1, 0));
    }
}

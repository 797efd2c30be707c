//! The trigger ledger: every trigger this tool sent, with its outcome, so
//! that nothing is lost and nothing is asked for twice.
//!
//! A CI system shows new runs only after a while (an action task may have
//! to run first), so a second backfill started before they appear would
//! ask again. Each record keeps how many runs were visible when it was sent;
//! until that many plus the requested ones are visible, the difference counts
//! as pending in the next plan. Outcomes that are not known (a timeout, a 5xx,
//! a garbled answer) count too: the safe mistake is one run too few, never
//! one too many.
//!
//! The ledger is written ahead: each request's record is kept durably, as an
//! intent ([`TriggerOutcome::Sending`]), through a [`TriggerJournal`] before
//! the request goes out, then replaced by its outcome (same [`TriggerRecord::id`]).
//! An intent left without an outcome (the tool was killed mid-send) is
//! "unknown, possibly scheduled": it counts as asked, and is never resent.
//! Records carry the Treeherder origin they were made on, so runs asked on
//! one instance never count on another.

#![warn(missing_docs)]

use crate::ci::{Refusal, TriggerReceipt};
use crate::error::{Error, Result};
use crate::model::{Push, PushHistory, Revision};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// How long a trigger is waited for before the ledger stops counting it:
/// past this, a run that never appeared is reported, not silently re-asked.
pub const VISIBILITY_WINDOW_MS: u64 = 2 * 60 * 60 * 1000;

/// What came of one trigger request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TriggerOutcome {
    /// Recorded before the request was sent; no answer recorded yet. Left
    /// so (the tool stopped mid-send), it means "unknown, possibly scheduled".
    Sending,
    /// The CI system accepted it; `ids` are what it created.
    Accepted {
        /// What the CI system created (task, request or action ids).
        ids: Vec<String>,
        /// Runs scheduled.
        runs: u32,
    },
    /// Some runs were accepted, then a request was refused or its answer lost.
    Partial {
        /// What the accepted requests created.
        ids: Vec<String>,
        /// Runs accepted.
        runs: u32,
        /// Why the rest did not go.
        reason: String,
        /// Runs of the last request, whose answer was lost.
        #[serde(default)]
        unknown_runs: u32,
        /// Who must act on the refusal, if one stopped it.
        #[serde(default)]
        refusal: Refusal,
    },
    /// Refused (a 4xx, or the service's own refusal), or stopped before
    /// anything was sent: nothing was scheduled.
    Refused {
        /// What the service said, or why nothing was sent.
        reason: String,
        /// Who must act on it.
        #[serde(default)]
        refusal: Refusal,
    },
    /// Sent, but what came back does not prove a refusal (a timeout, a
    /// dropped connection, a 5xx, a garbled answer): it may or may not have
    /// been scheduled. Counted as asked; never resent blindly.
    Unknown {
        /// What came back instead of an answer.
        reason: String,
    },
}

impl TriggerOutcome {
    /// Classify a backend's answer by the error's type: only an answer that
    /// proves nothing was scheduled (a 4xx, a parsed refusal, or a failure
    /// before sending) is a refusal; [`Error::Uncertain`] is unknown.
    pub fn from_result(result: Result<TriggerReceipt>) -> Self {
        match result {
            Ok(TriggerReceipt {
                ids,
                runs,
                stopped_by: Some(reason),
                unknown_runs,
                refusal,
            }) => TriggerOutcome::Partial {
                ids,
                runs,
                reason,
                unknown_runs,
                refusal,
            },
            Ok(TriggerReceipt {
                ids,
                runs,
                stopped_by: None,
                ..
            }) => TriggerOutcome::Accepted { ids, runs },
            Err(e @ Error::Uncertain { .. }) => TriggerOutcome::Unknown {
                reason: e.to_string(),
            },
            Err(e) => TriggerOutcome::Refused {
                refusal: Refusal::of(&e),
                reason: e.to_string(),
            },
        }
    }

    /// Runs that may exist because of this trigger.
    pub fn runs_possibly_scheduled(&self, asked: u32) -> u32 {
        match self {
            TriggerOutcome::Accepted { runs, .. } => *runs,
            TriggerOutcome::Partial {
                runs, unknown_runs, ..
            } => runs.saturating_add(*unknown_runs),
            TriggerOutcome::Refused { .. } => 0,
            TriggerOutcome::Unknown { .. } | TriggerOutcome::Sending => asked,
        }
    }

    /// Whether the request may have been carried out without the tool
    /// knowing (a lost answer, or an intent never answered).
    pub fn is_unknown(&self) -> bool {
        matches!(
            self,
            TriggerOutcome::Unknown { .. } | TriggerOutcome::Sending
        ) || matches!(self, TriggerOutcome::Partial { unknown_runs, .. } if *unknown_runs > 0)
    }

    /// One line for the user.
    pub fn describe(&self) -> String {
        match self {
            TriggerOutcome::Sending => {
                "unknown, possibly scheduled: sent, no answer recorded (not resent)".to_string()
            }
            TriggerOutcome::Accepted { ids, runs } => {
                format!("accepted: {runs} run(s) ({})", ids.join(", "))
            }
            TriggerOutcome::Partial {
                runs,
                reason,
                unknown_runs: 0,
                ..
            } => {
                format!("partly accepted: {runs} run(s); {reason}")
            }
            TriggerOutcome::Partial {
                runs,
                reason,
                unknown_runs,
                ..
            } => format!(
                "partly accepted: {runs} run(s), {unknown_runs} unknown, possibly scheduled (not resent); {reason}"
            ),
            TriggerOutcome::Refused { reason, .. } => format!("refused: {reason}"),
            TriggerOutcome::Unknown { reason } => {
                format!("unknown, possibly scheduled (not resent): {reason}")
            }
        }
    }
}

/// What was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// New runs of the job type.
    Trigger,
    /// More runs of an existing job.
    Retrigger,
    /// The build a test needs.
    Build,
    /// The CI system's own fixed-range backfill, sent on the selected push
    /// for runs on the pushes before it.
    BackfillAction,
    /// "Confirm the failures of this failed run" (the CI's confirm action,
    /// see `ci::CiBackend::confirm_failures`): its tasks land on the record's own push under
    /// the record's job name (the confirm job type, `<label>-cf`).
    ConfirmFailures,
}

impl TriggerKind {
    /// Whether the runs asked for land on the record's own push, as runs of
    /// its job type (and so count in [`Ledger::not_yet_visible`]).
    fn counts_on_its_push(self) -> bool {
        matches!(
            self,
            TriggerKind::Trigger | TriggerKind::Retrigger | TriggerKind::ConfirmFailures
        )
    }
}

/// One trigger request and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerRecord {
    /// The request's identity across its intent and its outcome (records of
    /// an older version have none).
    #[serde(default)]
    pub id: String,
    /// The Treeherder origin the push is on (records of an older version
    /// have none, and count on every origin: one run too few, never too many).
    #[serde(default)]
    pub origin: String,
    /// The repository's short name.
    pub repo: String,
    /// The push's pushlog id.
    pub push_id: u64,
    /// Its revision.
    pub revision: Revision,
    /// The job type (or, for `Build`, the build) the request was for.
    pub job_name: String,
    /// What was asked.
    pub kind: TriggerKind,
    /// Runs asked for.
    pub runs_asked: u32,
    /// Runs of `job_name` visible on the push (any state) when it was sent.
    pub visible_before: u32,
    /// What came of it.
    pub outcome: TriggerOutcome,
    /// When it was sent, in milliseconds since the Unix epoch.
    pub at_ms: u64,
}

/// What one trigger request asks for, before its answer is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerRequest {
    /// What is asked.
    pub kind: TriggerKind,
    /// The job type (or build) it is for.
    pub job_name: String,
    /// Runs asked for.
    pub runs_asked: u32,
    /// Runs of `job_name` visible on the push (any state) before sending.
    pub visible_before: u32,
}

impl TriggerRecord {
    /// The intent to send `request` on `push` (of the Treeherder at
    /// `origin`), made at `at_ms`, under the fresh identity `id`.
    pub fn intent(
        origin: &str,
        repo: &str,
        push: &Push,
        request: TriggerRequest,
        id: String,
        at_ms: u64,
    ) -> Self {
        TriggerRecord {
            id,
            origin: origin_key(origin),
            repo: repo.to_string(),
            push_id: push.id,
            revision: push.revision.clone(),
            // Builds and backfill actions are not runs of this job type on this push.
            visible_before: if request.kind.counts_on_its_push() {
                request.visible_before
            } else {
                0
            },
            job_name: request.job_name,
            kind: request.kind,
            runs_asked: request.runs_asked,
            outcome: TriggerOutcome::Sending,
            at_ms,
        }
    }

    /// This intent with its answer.
    pub fn answered(mut self, result: Result<TriggerReceipt>) -> Self {
        self.outcome = TriggerOutcome::from_result(result);
        self
    }

    /// Whether this record is about the Treeherder at `origin`.
    pub fn is_on(&self, origin: &str) -> bool {
        self.origin.is_empty() || self.origin == origin_key(origin)
    }
}

/// The form of a Treeherder origin records are compared in.
pub fn origin_key(origin: &str) -> String {
    origin.trim_end_matches('/').to_ascii_lowercase()
}

/// Where each trigger's record is kept durably as it is made: the intent
/// before its request is sent (a failure stops the request from being
/// sent), then its outcome. The command line writes to SQLite, the add-on to
/// its background's storage queue.
#[async_trait(?Send)]
pub trait TriggerJournal {
    /// Keep `record` (replacing one with the same id) before anything is
    /// sent on its behalf.
    async fn write(&self, record: &TriggerRecord) -> Result<()>;
}

/// For sessions whose ledger is only the caller's in-memory [`Ledger`]
/// (tests, benchmarks, read-only commands): nothing outlives the process.
pub struct InMemoryOnly;

#[async_trait(?Send)]
impl TriggerJournal for InMemoryOnly {
    async fn write(&self, _record: &TriggerRecord) -> Result<()> {
        Ok(())
    }
}

/// All trigger records of a session (persisted by the driver).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    /// Every record, in the order written.
    pub records: Vec<TriggerRecord>,
}

impl Ledger {
    /// Add `record`, or replace the record of the same request: an outcome
    /// replaces its intent, never the other way round.
    pub fn record(&mut self, record: TriggerRecord) {
        if !record.id.is_empty() {
            if let Some(existing) = self.records.iter_mut().find(|r| r.id == record.id) {
                let stale_intent = record.outcome == TriggerOutcome::Sending
                    && existing.outcome != TriggerOutcome::Sending;
                if !stale_intent {
                    *existing = record;
                }
                return;
            }
        } else if self.records.contains(&record) {
            return;
        }
        self.records.push(record);
    }

    /// Merge `other`'s records into this ledger (see [`Ledger::record`]):
    /// two writers' records both survive.
    pub fn merge(&mut self, other: &Ledger) {
        for record in &other.records {
            self.record(record.clone());
        }
    }

    /// Intents with no outcome.
    pub fn unanswered(&self) -> impl Iterator<Item = &TriggerRecord> {
        self.records
            .iter()
            .filter(|r| r.outcome == TriggerOutcome::Sending)
    }

    /// Records whose requests may have been carried out without the tool
    /// knowing: lost answers and unanswered intents.
    pub fn unknown(&self) -> impl Iterator<Item = &TriggerRecord> {
        self.records.iter().filter(|r| r.outcome.is_unknown())
    }

    /// Runs of `job_name` on the push that were asked for, within the
    /// window, and are not visible yet given `visible_now` runs (any state).
    pub fn not_yet_visible(
        &self,
        origin: &str,
        repo: &str,
        push_id: u64,
        job_name: &str,
        visible_now: u32,
        now_ms: u64,
    ) -> u32 {
        let recent = self.records.iter().filter(|r| {
            r.is_on(origin)
                && r.repo == repo
                && r.push_id == push_id
                && r.job_name == job_name
                && r.kind.counts_on_its_push()
                && now_ms.saturating_sub(r.at_ms) < VISIBILITY_WINDOW_MS
        });
        // The oldest recent record's baseline plus everything asked since is
        // what should be visible by now.
        let mut baseline = None;
        let mut asked = 0u32;
        for r in recent {
            baseline = Some(baseline.map_or(r.visible_before, |b: u32| b.min(r.visible_before)));
            asked = asked.saturating_add(r.outcome.runs_possibly_scheduled(r.runs_asked));
        }
        match baseline {
            Some(b) => b.saturating_add(asked).saturating_sub(visible_now),
            None => 0,
        }
    }

    /// Set each history's `requested_not_yet_visible` from the ledger.
    pub fn apply(
        &self,
        origin: &str,
        repo: &str,
        job_name: &str,
        histories: &mut [PushHistory],
        now_ms: u64,
    ) {
        for h in histories {
            h.requested_not_yet_visible = self.not_yet_visible(
                origin,
                repo,
                h.push.id,
                job_name,
                h.jobs.len() as u32,
                now_ms,
            );
        }
    }

    /// A build was asked for on this push within the window (so a test plan
    /// waits for it instead of asking again).
    pub fn build_requested(
        &self,
        origin: &str,
        repo: &str,
        push_id: u64,
        build_name: &str,
        now_ms: u64,
    ) -> bool {
        self.records.iter().any(|r| {
            r.is_on(origin)
                && r.repo == repo
                && r.push_id == push_id
                && r.kind == TriggerKind::Build
                && r.job_name == build_name
                && r.outcome.runs_possibly_scheduled(r.runs_asked) > 0
                && now_ms.saturating_sub(r.at_ms) < VISIBILITY_WINDOW_MS
        })
    }

    /// The backfill action sent (or maybe sent) for `job_name` on this push
    /// within the window: a second one would double every run it asked for.
    pub fn backfill_action_sent(
        &self,
        origin: &str,
        repo: &str,
        push_id: u64,
        job_name: &str,
        now_ms: u64,
    ) -> Option<&TriggerRecord> {
        self.action_sent(
            TriggerKind::BackfillAction,
            origin,
            repo,
            push_id,
            job_name,
            now_ms,
        )
    }

    /// A confirm request on this push for the confirm job type
    /// `confirm_name`, sent (or maybe sent) within the window, whose tasks
    /// are not all visible yet when `visible_now` confirm tasks are: asking
    /// again now would ask the same question twice. A request adds at least
    /// `times` tasks (one per failing test, `times` each), so it is seen
    /// once `times` tasks more than it found are visible; only then may
    /// the search ask that push for more repeats. A refused one does not
    /// count.
    pub fn confirm_pending(
        &self,
        origin: &str,
        repo: &str,
        push_id: u64,
        confirm_name: &str,
        visible_now: u32,
        now_ms: u64,
    ) -> Option<&TriggerRecord> {
        self.records.iter().find(|r| {
            let possibly = r.outcome.runs_possibly_scheduled(r.runs_asked);
            r.is_on(origin)
                && r.repo == repo
                && r.push_id == push_id
                && r.kind == TriggerKind::ConfirmFailures
                && r.job_name == confirm_name
                && possibly > 0
                && visible_now < r.visible_before.saturating_add(possibly)
                && now_ms.saturating_sub(r.at_ms) < VISIBILITY_WINDOW_MS
        })
    }

    /// A request of `kind` for `job_name` on this push that may have been
    /// carried out, within the visibility window.
    fn action_sent(
        &self,
        kind: TriggerKind,
        origin: &str,
        repo: &str,
        push_id: u64,
        job_name: &str,
        now_ms: u64,
    ) -> Option<&TriggerRecord> {
        self.records.iter().find(|r| {
            r.is_on(origin)
                && r.repo == repo
                && r.push_id == push_id
                && r.kind == kind
                && r.job_name == job_name
                && r.outcome.runs_possibly_scheduled(r.runs_asked) > 0
                && now_ms.saturating_sub(r.at_ms) < VISIBILITY_WINDOW_MS
        })
    }

    /// Forget records older than the window (they are settled one way or the other).
    pub fn prune(&mut self, now_ms: u64) {
        self.records
            .retain(|r| now_ms.saturating_sub(r.at_ms) < VISIBILITY_WINDOW_MS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_read_back_what_they_write() {
        for outcome in [
            TriggerOutcome::Accepted {
                ids: vec!["t1".into()],
                runs: 2,
            },
            TriggerOutcome::Partial {
                ids: vec![],
                runs: 1,
                reason: "403".into(),
                unknown_runs: 1,
                refusal: Refusal::Other,
            },
            TriggerOutcome::Refused {
                reason: "no scope".into(),
                refusal: Refusal::NoAccess,
            },
            TriggerOutcome::Sending,
            TriggerOutcome::Unknown {
                reason: "timeout".into(),
            },
        ] {
            let text = serde_json::to_string(&outcome).unwrap();
            assert_eq!(
                serde_json::from_str::<TriggerOutcome>(&text).unwrap(),
                outcome
            );
        }
        let err = serde_json::from_str::<TriggerOutcome>(r#"{"outcome":"accepted","ids":[]}"#)
            .unwrap_err();
        assert!(err.to_string().contains("missing field `runs`"), "{err}");
    }

    const ORIGIN: &str = "https://treeherder.mozilla.org";

    fn rec(
        push_id: u64,
        visible_before: u32,
        asked: u32,
        outcome: TriggerOutcome,
        at_ms: u64,
    ) -> TriggerRecord {
        TriggerRecord {
            id: format!("{push_id}-{at_ms}-{asked}"),
            origin: ORIGIN.into(),
            repo: "autoland".into(),
            push_id,
            revision: Revision("a".repeat(40)),
            job_name: "bc1".into(),
            kind: TriggerKind::Trigger,
            runs_asked: asked,
            visible_before,
            outcome,
            at_ms,
        }
    }

    fn accepted(runs: u32) -> TriggerOutcome {
        TriggerOutcome::Accepted {
            ids: vec!["t".into()],
            runs,
        }
    }

    #[test]
    fn asked_runs_count_until_they_show_up() {
        let mut ledger = Ledger::default();
        ledger.record(rec(1, 1, 2, accepted(2), 1_000));
        assert_eq!(
            ledger.not_yet_visible(ORIGIN, "autoland", 1, "bc1", 1, 2_000),
            2
        );
        assert_eq!(
            ledger.not_yet_visible(ORIGIN, "autoland", 1, "bc1", 2, 2_000),
            1
        );
        assert_eq!(
            ledger.not_yet_visible(ORIGIN, "autoland", 1, "bc1", 3, 2_000),
            0
        );
        assert_eq!(
            ledger.not_yet_visible(ORIGIN, "autoland", 2, "bc1", 0, 2_000),
            0,
            "other pushes are unaffected"
        );
        assert_eq!(
            ledger.not_yet_visible(
                ORIGIN,
                "autoland",
                1,
                "bc1",
                1,
                1_000 + VISIBILITY_WINDOW_MS
            ),
            0,
            "outside the window"
        );
    }

    #[test]
    fn unknown_outcomes_count_refusals_do_not() {
        let mut ledger = Ledger::default();
        ledger.record(rec(
            1,
            0,
            3,
            TriggerOutcome::Unknown {
                reason: "timeout".into(),
            },
            0,
        ));
        ledger.record(rec(
            1,
            0,
            5,
            TriggerOutcome::Refused {
                reason: "400".into(),
                refusal: Refusal::Other,
            },
            0,
        ));
        assert_eq!(
            ledger.not_yet_visible(ORIGIN, "autoland", 1, "bc1", 0, 10),
            3
        );
    }

    #[test]
    fn successive_triggers_add_up_from_the_first_baseline() {
        let mut ledger = Ledger::default();
        ledger.record(rec(1, 1, 1, accepted(1), 0));
        ledger.record(rec(1, 2, 2, accepted(2), 5));
        assert_eq!(
            ledger.not_yet_visible(ORIGIN, "autoland", 1, "bc1", 2, 10),
            2
        );
        ledger.prune(VISIBILITY_WINDOW_MS + 1);
        assert_eq!(ledger.records.len(), 1);
    }

    #[test]
    fn intents_count_as_asked_and_outcomes_replace_them() {
        let mut ledger = Ledger::default();
        let mut intent = rec(1, 0, 3, TriggerOutcome::Sending, 0);
        intent.id = "a".into();
        ledger.record(intent.clone());
        assert_eq!(
            ledger.not_yet_visible(ORIGIN, "autoland", 1, "bc1", 0, 10),
            3
        );
        assert_eq!(ledger.unanswered().count(), 1);
        let answered = intent
            .clone()
            .answered(Ok(TriggerReceipt::accepted("t".into(), 3)));
        ledger.record(answered.clone());
        // A late copy of the intent (another writer's stale ledger) changes nothing.
        ledger.record(intent);
        assert_eq!(ledger.records, vec![answered]);
        assert_eq!(ledger.unanswered().count(), 0);
    }

    #[test]
    fn merging_keeps_both_writers_records() {
        let mut a = Ledger::default();
        a.record(rec(1, 0, 1, accepted(1), 0));
        let mut b = Ledger::default();
        b.record(rec(2, 0, 2, accepted(2), 0));
        b.record(rec(1, 0, 1, accepted(1), 0));
        a.merge(&b);
        assert_eq!(a.records.len(), 2);
    }

    #[test]
    fn runs_on_one_treeherder_never_count_on_another() {
        let mut ledger = Ledger::default();
        ledger.record(rec(1, 0, 2, accepted(2), 0));
        assert_eq!(
            ledger.not_yet_visible(ORIGIN, "autoland", 1, "bc1", 0, 10),
            2
        );
        assert_eq!(
            ledger.not_yet_visible("http://127.0.0.1:8100", "autoland", 1, "bc1", 0, 10),
            0
        );
        // Records of an older version name no origin: they count everywhere.
        let mut legacy = rec(1, 0, 2, accepted(2), 0);
        legacy.origin.clear();
        ledger.record(legacy);
        assert_eq!(
            ledger.not_yet_visible("http://127.0.0.1:8100", "autoland", 1, "bc1", 0, 10),
            2
        );
    }

    #[test]
    fn lost_answers_are_unknown_refusals_are_typed() {
        let lost = TriggerOutcome::from_result(Err(Error::Uncertain {
            cause: Box::new(Error::from_status("u", 500, b"")),
        }));
        assert!(lost.is_unknown() && lost.describe().starts_with("unknown, possibly scheduled"));
        assert_eq!(lost.runs_possibly_scheduled(4), 4);
        let refused = TriggerOutcome::from_result(Err(Error::from_status("u", 403, b"")));
        assert!(
            matches!(
                refused,
                TriggerOutcome::Refused {
                    refusal: Refusal::NoAccess,
                    ..
                }
            ),
            "{refused:?}"
        );
        assert_eq!(refused.runs_possibly_scheduled(4), 0);
        // Nothing was sent: a read before the request failed.
        let not_sent = TriggerOutcome::from_result(Err(Error::Timeout {
            url: "actions.json".into(),
            after_ms: 1,
        }));
        assert_eq!(not_sent.runs_possibly_scheduled(4), 0);
    }

    #[test]
    fn a_backfill_action_is_found_until_the_window_ends() {
        let mut ledger = Ledger::default();
        let mut action = rec(1, 0, 6, TriggerOutcome::Sending, 0);
        action.kind = TriggerKind::BackfillAction;
        ledger.record(action);
        assert!(ledger
            .backfill_action_sent(ORIGIN, "autoland", 1, "bc1", 10)
            .is_some());
        assert_eq!(
            ledger.not_yet_visible(ORIGIN, "autoland", 1, "bc1", 0, 10),
            0,
            "its runs are on the earlier pushes"
        );
        assert!(ledger
            .backfill_action_sent(ORIGIN, "autoland", 1, "bc1", VISIBILITY_WINDOW_MS)
            .is_none());
    }

    #[test]
    fn a_confirm_request_counts_unless_refused_and_its_tasks_count_on_its_push() {
        let confirm = |outcome, at_ms| {
            let mut r = rec(1, 0, 1, outcome, at_ms);
            r.kind = TriggerKind::ConfirmFailures;
            r.job_name = "bc1-cf".into();
            r
        };
        let mut ledger = Ledger::default();
        ledger.record(confirm(
            TriggerOutcome::Refused {
                reason: "401".into(),
                refusal: Refusal::LogIn,
            },
            0,
        ));
        assert!(
            ledger
                .confirm_pending(ORIGIN, "autoland", 1, "bc1-cf", 0, 10)
                .is_none(),
            "a refused one may be asked again"
        );
        ledger.record(confirm(
            TriggerOutcome::Unknown {
                reason: "timeout".into(),
            },
            5,
        ));
        assert!(ledger
            .confirm_pending(ORIGIN, "autoland", 1, "bc1-cf", 0, 10)
            .is_some());
        assert!(ledger
            .confirm_pending(ORIGIN, "autoland", 2, "bc1-cf", 0, 10)
            .is_none());
        // Once its task is visible, the push may be asked for more.
        assert!(ledger
            .confirm_pending(ORIGIN, "autoland", 1, "bc1-cf", 1, 10)
            .is_none());
        assert!(
            ledger
                .confirm_pending(
                    ORIGIN,
                    "autoland",
                    1,
                    "bc1-cf",
                    0,
                    10 + VISIBILITY_WINDOW_MS
                )
                .is_none(),
            "past the window it is settled"
        );
        assert_eq!(
            ledger.not_yet_visible(ORIGIN, "autoland", 1, "bc1-cf", 0, 10),
            1,
            "its task is on its way on its own push"
        );
        assert_eq!(
            ledger.not_yet_visible(ORIGIN, "autoland", 1, "bc1", 0, 10),
            0
        );
    }
}

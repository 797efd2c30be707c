//! What live job events (the Taskcluster queue's Pulse messages) tell a
//! watch: a pure reducer from messages to the known state of each run, and
//! whether a message is news that the watched work moved, worth a poll.
//!
//! Pulse delivers at least once and in no guaranteed order across exchanges
//! (taskcluster/taskcluster services/queue/src/exchanges.js, "Delivery
//! guarantees"): state is kept per (taskId, runId) and only ever moves
//! forward (pending < running < completed | failed | exception), so a
//! repeated or late message changes nothing and is not news.
//!
//! A poll is worth it when a reaction may follow (a watched run failed, a
//! build the tests wait for finished, an action ended or created tasks) or
//! when the last watched run resolved; a watched run's success while others
//! still run is noted only.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::sources::taskcluster::pulse::TaskMessage;
use crate::sources::taskcluster::queue::QueueState;

/// `task.tags.kind` of the task a Treeherder action runs (gecko's
/// `.taskcluster.yml` for `tasks_for == "action"`): the tasks it creates
/// are in a task group named after it.
pub const ACTION_TASK_KIND: &str = "action-callback";

/// The watch's view of the events so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobEvents {
    /// Known state of each run, keyed by (taskId, runId); a message without
    /// a run (task-defined) stands for run 0.
    runs: BTreeMap<(String, u32), QueueState>,
    /// Tasks whose resolution the watch waits for.
    watched_tasks: BTreeSet<String>,
    /// Watched tasks whose success also calls for a reaction (a build the
    /// watched tests wait for), not only their failure.
    reaction_tasks: BTreeSet<String>,
    /// Task groups whose tasks the watch asked for (an action's task id).
    action_groups: BTreeSet<String>,
}

/// What one message means for the watch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// The message moved a run forward (it was neither a repeat nor stale).
    pub changed: bool,
    /// The watched work moved: poll now rather than at the next interval.
    pub poll: bool,
    /// An action task resolved: the tasks it created are in this task
    /// group, which the listener should bind too.
    pub follow_group: Option<String>,
    /// A watched run (or one of a followed action group) resolved: what a
    /// screen shows of the watch changed, even when no reaction follows.
    pub shown: bool,
}

impl JobEvents {
    /// No events seen yet.
    pub fn new() -> Self {
        JobEvents::default()
    }

    /// Waits for these tasks' resolutions (from a poll: the runs still
    /// pending or running). Returns the ones not watched before.
    pub fn watch_tasks<'a>(&mut self, task_ids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        task_ids
            .into_iter()
            .filter(|t| self.watched_tasks.insert(t.to_string()))
            .map(str::to_string)
            .collect()
    }

    /// Like [`JobEvents::watch_tasks`], for tasks whose success matters as
    /// much as their failure (builds that tests wait for).
    pub fn watch_reaction_tasks<'a>(
        &mut self,
        task_ids: impl IntoIterator<Item = &'a str>,
    ) -> Vec<String> {
        let ids: Vec<&str> = task_ids.into_iter().collect();
        self.reaction_tasks
            .extend(ids.iter().map(|t| t.to_string()));
        self.watch_tasks(ids)
    }

    /// Whether a watched task's latest known run is not resolved (or no
    /// message about it came yet).
    fn unresolved_watched(&self) -> bool {
        self.watched_tasks.iter().any(|task| {
            let latest = self
                .runs
                .range((task.clone(), 0)..=(task.clone(), u32::MAX))
                .next_back();
            !latest.is_some_and(|(_, state)| state.is_resolved())
        })
    }

    /// Follows the tasks of an action's task group (the action's task id,
    /// from a trigger's answer). Returns whether it is new.
    pub fn follow_group(&mut self, task_group_id: &str) -> bool {
        self.action_groups.insert(task_group_id.to_string())
    }

    /// The known state of a run.
    pub fn state(&self, task_id: &str, run_id: u32) -> Option<QueueState> {
        self.runs.get(&(task_id.to_string(), run_id)).copied()
    }

    /// Runs known in each state (for progress lines).
    pub fn counts(&self) -> BTreeMap<QueueState, u32> {
        let mut counts = BTreeMap::new();
        for state in self.runs.values() {
            *counts.entry(*state).or_insert(0) += 1;
        }
        counts
    }

    /// Takes one message into account.
    pub fn apply(&mut self, message: &TaskMessage) -> Outcome {
        let key = (message.task_id.clone(), message.run_id.unwrap_or(0));
        let changed = match self.runs.get(&key) {
            Some(known) if known.rank() >= message.state.rank() => false,
            _ => {
                self.runs.insert(key, message.state);
                true
            }
        };
        if !changed || !message.state.is_resolved() {
            return Outcome {
                changed,
                ..Outcome::default()
            };
        }
        let is_action = message.kind.as_deref() == Some(ACTION_TASK_KIND);
        let follow_group =
            (is_action && self.follow_group(&message.task_id)).then(|| message.task_id.clone());
        let watched = self.watched_tasks.contains(&message.task_id);
        let asked_for = self.action_groups.contains(&message.task_group_id);
        // A watched run that succeeded needs no reaction: the watch polls
        // when the last watched run resolves. A failure may call for a
        // re-run, a build's success for its tests, a task an action created
        // is not known yet (it may be a build), an action's end for a look.
        let poll = is_action
            || (asked_for && !watched)
            || ((watched || asked_for)
                && (message.state != QueueState::Completed
                    || self.reaction_tasks.contains(&message.task_id)
                    || !self.unresolved_watched()));
        Outcome {
            changed,
            poll,
            follow_group,
            shown: watched || asked_for,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(task: &str, group: &str, run: Option<u32>, state: QueueState) -> TaskMessage {
        TaskMessage {
            task_id: task.into(),
            task_group_id: group.into(),
            run_id: run,
            state,
            kind: None,
        }
    }

    fn action(task: &str, group: &str) -> TaskMessage {
        TaskMessage {
            kind: Some(ACTION_TASK_KIND.into()),
            ..message(task, group, Some(0), QueueState::Completed)
        }
    }

    #[test]
    fn states_only_move_forward_so_repeats_and_late_messages_change_nothing() {
        let mut events = JobEvents::new();
        events.watch_tasks(["T"]);
        let pending = message("T", "G", Some(0), QueueState::Pending);
        let running = message("T", "G", Some(0), QueueState::Running);
        let failed = message("T", "G", Some(0), QueueState::Failed);
        assert!(events.apply(&pending).changed);
        assert!(!events.apply(&pending).changed, "a repeat");
        let resolved = events.apply(&failed);
        assert!(resolved.changed && resolved.poll);
        // Running arrives after the resolution (another exchange, later).
        assert_eq!(events.apply(&running), Outcome::default());
        assert_eq!(events.apply(&pending), Outcome::default());
        // The first resolution stays: a second one is not news.
        let completed = message("T", "G", Some(0), QueueState::Completed);
        assert_eq!(events.apply(&completed), Outcome::default());
        assert_eq!(events.apply(&failed), Outcome::default());
        assert_eq!(events.state("T", 0), Some(QueueState::Failed));
    }

    #[test]
    fn any_order_of_the_same_messages_ends_in_the_same_state() {
        let all = [
            message("T", "G", None, QueueState::Unscheduled),
            message("T", "G", Some(0), QueueState::Pending),
            message("T", "G", Some(0), QueueState::Running),
            message("T", "G", Some(0), QueueState::Exception),
            message("T", "G", Some(1), QueueState::Pending),
            message("T", "G", Some(1), QueueState::Running),
            message("T", "G", Some(1), QueueState::Completed),
        ];
        let mut expected = JobEvents::new();
        expected.watch_tasks(["T"]);
        for m in &all {
            expected.apply(m);
        }
        // Every rotation and the reverse, each message delivered twice.
        for shift in 0..all.len() {
            for reverse in [false, true] {
                let mut order: Vec<&TaskMessage> = all.iter().collect();
                order.rotate_left(shift);
                if reverse {
                    order.reverse();
                }
                let mut events = JobEvents::new();
                events.watch_tasks(["T"]);
                let mut polls = 0;
                for m in order.iter().chain(order.iter()) {
                    polls += u32::from(events.apply(m).poll);
                }
                assert_eq!(events, expected, "shift {shift}, reverse {reverse}");
                // One resolution per run: at most one poll each.
                assert!(polls <= 2, "{polls} polls");
            }
        }
        assert_eq!(expected.state("T", 0), Some(QueueState::Exception));
        assert_eq!(expected.state("T", 1), Some(QueueState::Completed));
    }

    #[test]
    fn only_resolutions_of_watched_work_are_worth_a_poll() {
        let mut events = JobEvents::new();
        events.watch_tasks(["W"]);
        // Another task of the decision task's group: noted, no poll.
        let other = events.apply(&message("X", "D", Some(0), QueueState::Completed));
        assert!(other.changed && !other.poll && !other.shown);
        // A watched task starting is no reason to poll; resolving is.
        assert!(
            !events
                .apply(&message("W", "D", Some(0), QueueState::Running))
                .poll
        );
        assert!(
            events
                .apply(&message("W", "D", Some(0), QueueState::Completed))
                .poll
        );
        // An action resolving: poll, and follow its task group once.
        let first = events.apply(&action("A", "D"));
        assert!(first.poll);
        assert_eq!(first.follow_group.as_deref(), Some("A"));
        assert_eq!(events.apply(&action("A", "D")), Outcome::default());
        // Tasks the action created (group A) are watched from then on.
        assert!(
            events
                .apply(&message("N", "A", Some(0), QueueState::Failed))
                .poll
        );
    }

    #[test]
    fn successes_poll_only_when_the_last_watched_run_resolves_or_a_build_does() {
        let mut events = JobEvents::new();
        events.watch_tasks(["T1", "T2", "T3"]);
        events.watch_reaction_tasks(["B"]);
        let done = |t: &str, run: u32| message(t, "D", Some(run), QueueState::Completed);
        let first = events.apply(&done("T1", 0));
        assert!(!first.poll && first.shown, "others still run, but it shows");
        assert!(
            events
                .apply(&message("T2", "D", Some(0), QueueState::Exception))
                .poll
        );
        assert!(events.apply(&done("B", 0)).poll, "the tests' build is in");
        // T2 runs again (an automatic retry): not resolved any more.
        assert!(
            !events
                .apply(&message("T2", "D", Some(1), QueueState::Pending))
                .poll
        );
        assert!(!events.apply(&done("T3", 0)).poll, "T2's retry still runs");
        assert!(events.apply(&done("T2", 1)).poll, "the last one");
    }

    #[test]
    fn watching_tasks_reports_only_new_ones() {
        let mut events = JobEvents::new();
        assert_eq!(events.watch_tasks(["A", "B"]), vec!["A", "B"]);
        assert_eq!(events.watch_tasks(["B", "C"]), vec!["C"]);
        assert!(events.follow_group("G"));
        assert!(!events.follow_group("G"));
    }

    #[test]
    fn counts_group_runs_by_state() {
        let mut events = JobEvents::new();
        events.apply(&message("A", "G", Some(0), QueueState::Running));
        events.apply(&message("B", "G", Some(0), QueueState::Running));
        events.apply(&message("B", "G", Some(1), QueueState::Completed));
        let counts = events.counts();
        assert_eq!(counts.get(&QueueState::Running), Some(&2));
        assert_eq!(counts.get(&QueueState::Completed), Some(&1));
        assert!(
            QueueState::Pending < QueueState::Running && QueueState::Running < QueueState::Failed
        );
    }
}

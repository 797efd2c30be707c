//! One subscription socket of the add-on, as pure state: which task groups
//! have an operation running (and under which id), what to send when the
//! watch's targets change or the server acknowledges, and what each server
//! message means for the screen. The background page owns the WebSocket and
//! hands every text frame here; run states go through [`JobEvents`], the
//! same reducer the command line's Pulse listener uses, so duplicates and
//! late messages change nothing.
//!
//! Subscriptions carry a task's whole status (`runs`), so one message
//! re-states every run it knows: the reducer keeps what only moves forward.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::job_events::JobEvents;
use super::Endpoints;
use crate::model::CiSystem;
use crate::sources::taskcluster::subscriptions::{
    connection_init, read_server_message, start_message, stop_message, subscription_url,
    ServerMessage,
};
use crate::sources::taskcluster::RootUrl;

/// The socket to follow runs of `system` on, from `endpoints` (the
/// driver's own settings, never a page nor CI data): Taskcluster's
/// `ws(s)://<root>/subscription`. `None` for a system without live events
/// (its runs are polled only) or a root URL that does not parse.
pub fn socket_url(system: CiSystem, endpoints: &Endpoints) -> Option<String> {
    if !system.has_live_events() {
        return None;
    }
    RootUrl::parse(&endpoints.taskcluster)
        .ok()
        .map(|root| subscription_url(&root))
}

/// What the watch wants to hear about (from its last poll).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveWanted {
    /// Task groups to subscribe to: the pushes' decision task groups and
    /// the task groups of the actions the watch triggered.
    pub task_groups: BTreeSet<String>,
    /// Tasks whose resolution the watch waits for.
    pub tasks: BTreeSet<String>,
    /// Of those, the ones whose success also calls for a reaction (builds).
    pub reaction_tasks: BTreeSet<String>,
    /// Action task ids: their groups hold the tasks the actions created.
    pub action_groups: BTreeSet<String>,
}

/// What one server message meant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reception {
    /// `ack`, `ka`, `data`, `error`, `complete`, `connection_error` or
    /// `ignored` (unreadable, or about nothing this socket asked for).
    pub kind: String,
    /// Messages to send now, in order.
    pub send: Vec<String>,
    /// The screen is out of date (a watched run resolved): poll now.
    pub refresh: bool,
    /// Why a message was ignored or an operation ended, for the console.
    pub note: Option<String>,
}

/// The state of one socket.
#[derive(Debug, Clone, Default)]
pub struct LiveSession {
    events: JobEvents,
    wanted: LiveWanted,
    /// Operations running (or asked for), by task group.
    operations: BTreeMap<String, String>,
    acknowledged: bool,
    next_id: u64,
}

impl LiveSession {
    /// A socket not opened yet, following nothing.
    pub fn new() -> Self {
        LiveSession::default()
    }

    /// A (new) socket is open: the first message to send. Operations of an
    /// earlier socket are gone with it; they start again after the ack.
    pub fn opened(&mut self) -> Vec<String> {
        self.operations.clear();
        self.acknowledged = false;
        vec![connection_init()]
    }

    /// The socket closed.
    pub fn closed(&mut self) {
        self.operations.clear();
        self.acknowledged = false;
    }

    /// Whether the server acknowledged this socket.
    pub fn is_live(&self) -> bool {
        self.acknowledged
    }

    /// Task groups with an operation running or asked for.
    pub fn subscribed(&self) -> Vec<String> {
        self.operations.keys().cloned().collect()
    }

    /// The watch's targets changed (after a poll): start operations for new
    /// task groups, stop the ones no longer wanted.
    pub fn want(&mut self, wanted: LiveWanted) -> Vec<String> {
        self.events
            .watch_tasks(wanted.tasks.iter().map(String::as_str));
        self.events
            .watch_reaction_tasks(wanted.reaction_tasks.iter().map(String::as_str));
        for group in &wanted.action_groups {
            self.events.follow_group(group);
        }
        self.wanted = wanted;
        if self.acknowledged {
            self.sync_operations()
        } else {
            Vec::new()
        }
    }

    fn sync_operations(&mut self) -> Vec<String> {
        let mut send = Vec::new();
        let gone: Vec<String> = self
            .operations
            .keys()
            .filter(|g| !self.wanted.task_groups.contains(*g))
            .cloned()
            .collect();
        for group in gone {
            if let Some(id) = self.operations.remove(&group) {
                send.push(stop_message(&id));
            }
        }
        for group in &self.wanted.task_groups {
            if !self.operations.contains_key(group) {
                self.next_id += 1;
                let id = self.next_id.to_string();
                send.push(start_message(&id, group));
                self.operations.insert(group.clone(), id);
            }
        }
        send
    }

    fn group_of(&self, id: &str) -> Option<&str> {
        self.operations
            .iter()
            .find(|(_, op)| op.as_str() == id)
            .map(|(group, _)| group.as_str())
    }

    /// Takes one text frame from the server.
    pub fn receive(&mut self, text: &str) -> Reception {
        let ignored = |note: String| Reception {
            kind: "ignored".into(),
            note: Some(note),
            ..Reception::default()
        };
        let message = match read_server_message(text) {
            Ok(m) => m,
            Err(e) => return ignored(e.to_string()),
        };
        match message {
            ServerMessage::Ack => {
                self.acknowledged = true;
                Reception {
                    kind: "ack".into(),
                    send: self.sync_operations(),
                    ..Reception::default()
                }
            }
            ServerMessage::KeepAlive => Reception {
                kind: "ka".into(),
                ..Reception::default()
            },
            ServerMessage::Data { id, runs } => {
                let Some(group) = self.group_of(&id).map(str::to_string) else {
                    return ignored(format!("data for operation {id}, which is not running"));
                };
                if let Some(stray) = runs.iter().find(|r| r.task_group_id != group) {
                    return ignored(format!(
                        "operation {id} (task group {group}) reported task {} of group {}",
                        stray.task_id, stray.task_group_id
                    ));
                }
                let mut refresh = false;
                for run in &runs {
                    let outcome = self.events.apply(run);
                    refresh |= outcome.changed && (outcome.shown || outcome.poll);
                }
                Reception {
                    kind: "data".into(),
                    refresh,
                    ..Reception::default()
                }
            }
            ServerMessage::OperationError { id, message } => {
                // A refused operation is not started again on this socket:
                // the alarm's polls cover its task group.
                let group = self.group_of(&id).map(str::to_string);
                Reception {
                    kind: "error".into(),
                    note: Some(format!(
                        "subscription {id} ({}) refused: {message}",
                        group.as_deref().unwrap_or("unknown operation")
                    )),
                    ..Reception::default()
                }
            }
            ServerMessage::Complete { id } => {
                // The server ended the operation: nothing more will come for
                // that group, so it is asked for again.
                let group = self.group_of(&id).map(str::to_string);
                let mut send = Vec::new();
                if let Some(group) = &group {
                    self.operations.remove(group);
                    if self.acknowledged {
                        send = self.sync_operations();
                    }
                }
                Reception {
                    kind: "complete".into(),
                    send,
                    note: group.map(|g| format!("subscription {id} ({g}) completed")),
                    ..Reception::default()
                }
            }
            ServerMessage::ConnectionError { message } => Reception {
                kind: "connection_error".into(),
                note: Some(message),
                ..Reception::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn wanted(groups: &[&str], tasks: &[&str]) -> LiveWanted {
        LiveWanted {
            task_groups: groups.iter().map(|s| s.to_string()).collect(),
            tasks: tasks.iter().map(|s| s.to_string()).collect(),
            ..LiveWanted::default()
        }
    }

    fn types(sent: &[String]) -> Vec<(String, Option<String>)> {
        sent.iter()
            .map(|m| {
                let v: Value = serde_json::from_str(m).unwrap();
                (
                    v["type"].as_str().unwrap().to_string(),
                    v["payload"]["variables"]["taskGroupId"]
                        .as_str()
                        .map(str::to_string),
                )
            })
            .collect()
    }

    fn data(id: &str, task: &str, group: &str, runs: Value) -> String {
        let state = runs
            .as_array()
            .and_then(|r| r.last())
            .map(|r| r["state"].clone())
            .unwrap_or(json!("UNSCHEDULED"));
        json!({"type": "data", "id": id, "payload": {"data": {"tasksSubscriptions":
            {"taskId": task, "taskGroupId": group, "state": state, "runs": runs}}}})
        .to_string()
    }

    fn connected(groups: &[&str], tasks: &[&str]) -> LiveSession {
        let mut session = LiveSession::new();
        assert_eq!(
            types(&session.opened()),
            vec![("connection_init".into(), None)]
        );
        // Targets before the ack wait for it.
        assert!(session.want(wanted(groups, tasks)).is_empty());
        let ack = session.receive(r#"{"type":"connection_ack"}"#);
        assert_eq!(ack.kind, "ack");
        assert_eq!(ack.send.len(), groups.len());
        session
    }

    #[test]
    fn operations_follow_the_targets() {
        let mut session = connected(&["D1", "D2"], &["T"]);
        assert_eq!(session.subscribed(), vec!["D1", "D2"]);
        let sent = session.want(wanted(&["D2", "A9"], &["T"]));
        assert_eq!(
            types(&sent),
            vec![("stop".into(), None), ("start".into(), Some("A9".into()))]
        );
        assert!(session.want(wanted(&["D2", "A9"], &["T"])).is_empty());
        // A new socket starts everything again after its ack.
        session.closed();
        assert!(!session.is_live());
        session.opened();
        let ack = session.receive(r#"{"type":"connection_ack"}"#);
        assert_eq!(ack.send.len(), 2);
    }

    #[test]
    fn each_watched_resolution_refreshes_once_whatever_the_order_and_repeats() {
        let mut session = connected(&["D"], &["T1", "T2"]);
        let running = data("1", "T1", "D", json!([{"runId": 0, "state": "RUNNING"}]));
        let done = data("1", "T1", "D", json!([{"runId": 0, "state": "COMPLETED"}]));
        assert!(!session.receive(&running).refresh, "running is not shown");
        assert!(session.receive(&done).refresh);
        assert!(!session.receive(&done).refresh, "a repeat");
        assert!(!session.receive(&running).refresh, "a late message");
        // T2's retry: run 0 exception then run 1; delivered late and twice.
        let retry = data(
            "1",
            "T2",
            "D",
            json!([{"runId": 0, "state": "EXCEPTION"}, {"runId": 1, "state": "COMPLETED"}]),
        );
        let first_run = data("1", "T2", "D", json!([{"runId": 0, "state": "EXCEPTION"}]));
        assert!(session.receive(&retry).refresh);
        assert!(!session.receive(&first_run).refresh);
        assert!(!session.receive(&retry).refresh);
    }

    #[test]
    fn unknown_tasks_stray_operations_and_malformed_frames_change_nothing() {
        let mut session = connected(&["D"], &["T"]);
        let other = data("1", "X", "D", json!([{"runId": 0, "state": "FAILED"}]));
        let r = session.receive(&other);
        assert_eq!((r.kind.as_str(), r.refresh), ("data", false));
        for bad in [
            "}{".to_string(),
            r#"{"type":"data","id":"1","payload":{"data":{"tasksSubscriptions":{"taskId":42}}}}"#
                .to_string(),
            data("7", "T", "D", json!([{"runId": 0, "state": "COMPLETED"}])),
            data(
                "1",
                "T",
                "ELSEWHERE",
                json!([{"runId": 0, "state": "COMPLETED"}]),
            ),
        ] {
            let r = session.receive(&bad);
            assert_eq!(r.kind, "ignored", "{bad}");
            assert!(!r.refresh && r.send.is_empty());
        }
        // T's real completion still counts: nothing above touched its state.
        let done = data("1", "T", "D", json!([{"runId": 0, "state": "COMPLETED"}]));
        assert!(session.receive(&done).refresh);
        assert_eq!(session.receive(r#"{"type":"ka"}"#).kind, "ka");
    }

    #[test]
    fn a_completed_operation_is_asked_again_and_a_refused_one_is_not() {
        let mut session = connected(&["D"], &[]);
        let r = session.receive(r#"{"type":"complete","id":"1"}"#);
        assert_eq!(types(&r.send), vec![("start".into(), Some("D".into()))]);
        let r = session.receive(r#"{"type":"error","id":"2","payload":{"message":"bad"}}"#);
        assert_eq!(r.kind, "error");
        assert!(r.send.is_empty());
        assert!(r.note.unwrap().contains("bad"));
    }

    #[test]
    fn tasks_of_a_followed_action_group_show() {
        let mut session = LiveSession::new();
        session.opened();
        session.want(LiveWanted {
            task_groups: ["A".to_string()].into(),
            action_groups: ["A".to_string()].into(),
            ..LiveWanted::default()
        });
        session.receive(r#"{"type":"connection_ack"}"#);
        let created = data("1", "N", "A", json!([{"runId": 0, "state": "COMPLETED"}]));
        assert!(session.receive(&created).refresh);
    }
}

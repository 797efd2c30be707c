//! Taskcluster's GraphQL subscriptions over WebSocket, as the web-server
//! serves them to its own UI: where the socket is, the client's messages
//! (connection_init, start, stop), and reading the server's messages into
//! the task-state news a watch needs. No I/O; the add-on's background owns
//! the socket and hands every text frame to `read_server_message`.
//!
//! Facts, from taskcluster/taskcluster:
//! - services/web-server/src/main.js: the subscription server is attached
//!   to the web-server's HTTP server at `path: '/subscription'`; deployments
//!   serve the web-server at the root URL (ui/src/static/env.js:
//!   `GRAPHQL_SUBSCRIPTION_ENDPOINT` is `ws(s)://<host>/subscription`).
//! - services/web-server/src/servers/createSubscriptionServer.js: it is
//!   `SubscriptionServer` of apollographql/subscriptions-transport-ws, whose
//!   PROTOCOL.md defines the WebSocket sub-protocol `graphql-ws` and its
//!   messages `{type, id?, payload?}`: client `connection_init`, `start`
//!   (`payload: {query, variables, operationName}`), `stop`,
//!   `connection_terminate`; server `connection_ack`, `connection_error`,
//!   `ka` (keep-alive), `data` (`payload: {data, errors?}`), `error`
//!   (the operation failed before running), `complete`.
//! - services/web-server/src/graphql/Tasks.graphql: `tasksSubscriptions(
//!   taskGroupId: ID!, subscriptions: [TaskSubscriptions]!): TaskStatus`,
//!   enum `TaskSubscriptions { tasksDefined tasksPending tasksRunning
//!   tasksCompleted tasksFailed tasksException }`; resolvers/Tasks.js binds
//!   each to the queue exchange of the same name (task-defined, ...) with
//!   routing key `{taskGroupId}`, and resolves to the message's `status`.
//! - graphql/TaskStatus.graphql and TaskRun.graphql: `TaskStatus {taskId,
//!   taskGroupId, state: TaskState, runs: [TaskRun]}`, `TaskRun {runId: Int,
//!   state: RunState}`; resolvers/TaskStatuses.js and TaskRuns.js map the
//!   queue's lower-case states to the enum names, so states travel in
//!   capitals (`COMPLETED`).

#![warn(missing_docs)]

use serde_json::{json, Value};

use super::pulse::TaskMessage;
use super::queue::QueueState;
use super::RootUrl;
use crate::error::{Error, Result};

/// The WebSocket sub-protocol (subscriptions-transport-ws).
pub const PROTOCOL: &str = "graphql-ws";

/// Where the web-server listens for subscriptions, under the root URL.
pub(crate) const SUBSCRIPTION_PATH: &str = "subscription";

/// Every state change a watch cares about (the `TaskSubscriptions` enum).
pub const TASK_SUBSCRIPTIONS: [&str; 6] = [
    "tasksDefined",
    "tasksPending",
    "tasksRunning",
    "tasksCompleted",
    "tasksFailed",
    "tasksException",
];

/// The subscription a watch starts for each task group: the fields it reads
/// and no more (the server resolves only what is asked).
pub(crate) const TASKS_SUBSCRIPTION: &str = "subscription TaskGroupChanges($taskGroupId: ID!, $subscriptions: [TaskSubscriptions]!) { tasksSubscriptions(taskGroupId: $taskGroupId, subscriptions: $subscriptions) { taskId taskGroupId state runs { runId state } } }";

/// The socket URL of a deployment: `wss://<root>/subscription` for an https
/// root, `ws://` for http (a local sandbox). Built from the root URL the
/// caller's settings give, never from anything a page says.
pub(crate) fn subscription_url(root: &RootUrl) -> String {
    let mut url = root.endpoint([SUBSCRIPTION_PATH]);
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    // http → ws and https → wss are "special" to "special" scheme changes,
    // which the URL standard allows.
    let _ = url.set_scheme(scheme);
    url.to_string()
}

/// The first message on a new socket (no connection parameters: task
/// state changes need no credentials).
pub(crate) fn connection_init() -> String {
    json!({"type": "connection_init", "payload": {}}).to_string()
}

/// Starts operation `id`: every state change of the tasks of `task_group_id`.
pub(crate) fn start_message(id: &str, task_group_id: &str) -> String {
    json!({
        "type": "start",
        "id": id,
        "payload": {
            "query": TASKS_SUBSCRIPTION,
            "variables": {"taskGroupId": task_group_id, "subscriptions": TASK_SUBSCRIPTIONS},
            "operationName": "TaskGroupChanges",
        },
    })
    .to_string()
}

/// Stops operation `id`.
pub(crate) fn stop_message(id: &str) -> String {
    json!({"type": "stop", "id": id}).to_string()
}

/// What one server message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ServerMessage {
    /// The server accepted the connection: operations may start.
    Ack,
    /// Keep-alive.
    KeepAlive,
    /// Operation `id` reports a task's status: one message per known run
    /// (run 0 unscheduled for a task without runs).
    Data { id: String, runs: Vec<TaskMessage> },
    /// Operation `id` failed before running (a malformed subscription), or
    /// its result carries errors and no status.
    OperationError { id: String, message: String },
    /// Operation `id` ended: no more data will come for it.
    Complete { id: String },
    /// The server refused the connection or could not read a message.
    ConnectionError { message: String },
}

/// Reads one text frame from the server. A frame that is not one of the
/// protocol's messages, or a status without the fields a watch needs, is an
/// error: the caller ignores it, and nothing it says is believed.
pub(crate) fn read_server_message(text: &str) -> Result<ServerMessage> {
    let message: Value = serde_json::from_str(text)
        .map_err(|e| Error::Invalid(format!("subscription message is not JSON: {e}")))?;
    let kind = message["type"]
        .as_str()
        .ok_or_else(|| Error::Invalid("subscription message without a type".into()))?;
    let id = || {
        message["id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| Error::Invalid(format!("subscription {kind} message without an id")))
    };
    let error_text = |payload: &Value| match payload {
        Value::Array(errors) => errors
            .iter()
            .map(|e| e["message"].as_str().unwrap_or("error").to_string())
            .collect::<Vec<_>>()
            .join("; "),
        Value::Object(_) => payload["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| payload.to_string()),
        Value::String(s) => s.clone(),
        _ => "error".to_string(),
    };
    Ok(match kind {
        "connection_ack" => ServerMessage::Ack,
        "ka" => ServerMessage::KeepAlive,
        "complete" => ServerMessage::Complete { id: id()? },
        "error" => ServerMessage::OperationError {
            id: id()?,
            message: error_text(&message["payload"]),
        },
        "connection_error" => ServerMessage::ConnectionError {
            message: error_text(&message["payload"]),
        },
        "data" => {
            let id = id()?;
            let payload = &message["payload"];
            let status = &payload["data"]["tasksSubscriptions"];
            if status.is_null() {
                let errors = &payload["errors"];
                if errors.is_array() {
                    return Ok(ServerMessage::OperationError {
                        id,
                        message: error_text(errors),
                    });
                }
                return Err(Error::Invalid(format!(
                    "subscription data for {id} without tasksSubscriptions"
                )));
            }
            ServerMessage::Data {
                runs: status_runs(status)?,
                id,
            }
        }
        other => {
            return Err(Error::Invalid(format!(
                "unknown subscription message type {other:?}"
            )))
        }
    })
}

/// A `TaskState`/`RunState` enum name (the GraphQL schema's) as the server sends it.
fn state_named(name: &Value) -> Result<QueueState> {
    Ok(match name.as_str() {
        Some("UNSCHEDULED") => QueueState::Unscheduled,
        Some("PENDING") => QueueState::Pending,
        Some("RUNNING") => QueueState::Running,
        Some("COMPLETED") => QueueState::Completed,
        Some("FAILED") => QueueState::Failed,
        Some("EXCEPTION") => QueueState::Exception,
        _ => return Err(Error::Invalid(format!("unknown task state {name}"))),
    })
}

/// The runs of a `TaskStatus`, each as the news a queue message would bring.
fn status_runs(status: &Value) -> Result<Vec<TaskMessage>> {
    let text = |field: &str| {
        status[field]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| Error::Invalid(format!("task status without {field}")))
    };
    let task_id = text("taskId")?;
    let task_group_id = text("taskGroupId")?;
    let task_state = state_named(&status["state"])?;
    let runs = match &status["runs"] {
        Value::Array(runs) => runs.as_slice(),
        Value::Null => &[],
        other => return Err(Error::Invalid(format!("task status runs {other}"))),
    };
    let message = |run_id, state| TaskMessage {
        task_id: task_id.clone(),
        task_group_id: task_group_id.clone(),
        run_id,
        state,
        kind: None,
    };
    if runs.is_empty() {
        return Ok(vec![message(None, task_state)]);
    }
    runs.iter()
        .map(|run| {
            let run_id = run["runId"]
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| Error::Invalid(format!("task run id {}", run["runId"])))?;
            if run["state"].is_null() || run["state"] == "UNSCHEDULED" {
                return Err(Error::Invalid(format!(
                    "run {run_id} state {}",
                    run["state"]
                )));
            }
            Ok(message(Some(run_id), state_named(&run["state"])?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(id: &str, status: Value) -> String {
        json!({"type": "data", "id": id, "payload": {"data": {"tasksSubscriptions": status}}})
            .to_string()
    }

    #[test]
    fn the_socket_is_under_the_root_url() {
        let prod = RootUrl::parse("https://firefox-ci-tc.services.mozilla.com/").unwrap();
        assert_eq!(
            subscription_url(&prod),
            "wss://firefox-ci-tc.services.mozilla.com/subscription"
        );
        let local = RootUrl::parse("http://127.0.0.1:8103").unwrap();
        assert_eq!(subscription_url(&local), "ws://127.0.0.1:8103/subscription");
    }

    #[test]
    fn client_messages_follow_the_protocol() {
        let init: Value = serde_json::from_str(&connection_init()).unwrap();
        assert_eq!(init["type"], "connection_init");
        let start: Value = serde_json::from_str(&start_message("3", "G1")).unwrap();
        assert_eq!(start["type"], "start");
        assert_eq!(start["id"], "3");
        assert_eq!(start["payload"]["variables"]["taskGroupId"], "G1");
        assert_eq!(
            start["payload"]["variables"]["subscriptions"]
                .as_array()
                .unwrap()
                .len(),
            6
        );
        assert!(start["payload"]["query"]
            .as_str()
            .unwrap()
            .contains("tasksSubscriptions(taskGroupId: $taskGroupId"));
        let stop: Value = serde_json::from_str(&stop_message("3")).unwrap();
        assert_eq!(
            (stop["type"].as_str(), stop["id"].as_str()),
            (Some("stop"), Some("3"))
        );
    }

    #[test]
    fn a_status_gives_one_message_per_run() {
        let text = data(
            "1",
            json!({"taskId": "T", "taskGroupId": "G", "state": "PENDING",
                   "runs": [{"runId": 0, "state": "EXCEPTION"}, {"runId": 1, "state": "PENDING"}]}),
        );
        let ServerMessage::Data { id, runs } = read_server_message(&text).unwrap() else {
            panic!("data expected");
        };
        assert_eq!(id, "1");
        assert_eq!(runs.len(), 2);
        assert_eq!(
            (runs[0].run_id, runs[0].state),
            (Some(0), QueueState::Exception)
        );
        assert_eq!(
            (runs[1].run_id, runs[1].state),
            (Some(1), QueueState::Pending)
        );
        assert_eq!(runs[1].task_group_id, "G");
        // A defined task has no run yet.
        let text = data(
            "1",
            json!({"taskId": "T", "taskGroupId": "G", "state": "UNSCHEDULED", "runs": []}),
        );
        let ServerMessage::Data { runs, .. } = read_server_message(&text).unwrap() else {
            panic!("data expected");
        };
        assert_eq!(
            (runs[0].run_id, runs[0].state),
            (None, QueueState::Unscheduled)
        );
    }

    #[test]
    fn protocol_messages_are_read() {
        assert_eq!(
            read_server_message(r#"{"type":"connection_ack"}"#).unwrap(),
            ServerMessage::Ack
        );
        assert_eq!(
            read_server_message(r#"{"type":"ka"}"#).unwrap(),
            ServerMessage::KeepAlive
        );
        assert_eq!(
            read_server_message(r#"{"type":"complete","id":"2"}"#).unwrap(),
            ServerMessage::Complete { id: "2".into() }
        );
        assert_eq!(
            read_server_message(
                r#"{"type":"error","id":"2","payload":[{"message":"Variable \"$taskGroupId\" of required type \"ID!\" was not provided."}]}"#
            )
            .unwrap(),
            ServerMessage::OperationError {
                id: "2".into(),
                message: "Variable \"$taskGroupId\" of required type \"ID!\" was not provided."
                    .into()
            }
        );
        let resolver_error = r#"{"type":"data","id":"4","payload":{"data":{"tasksSubscriptions":null},"errors":[{"message":"boom"}]}}"#;
        assert_eq!(
            read_server_message(resolver_error).unwrap(),
            ServerMessage::OperationError {
                id: "4".into(),
                message: "boom".into()
            }
        );
        assert!(matches!(
            read_server_message(r#"{"type":"connection_error","payload":{"message":"no"}}"#),
            Ok(ServerMessage::ConnectionError { .. })
        ));
    }

    #[test]
    fn malformed_messages_are_refused() {
        for bad in [
            "not json",
            "{}",
            r#"{"type":"gossip"}"#,
            r#"{"type":"data"}"#,
            r#"{"type":"data","id":"1","payload":{"data":{}}}"#,
            &data(
                "1",
                json!({"taskGroupId": "G", "state": "RUNNING", "runs": []}),
            ),
            &data(
                "1",
                json!({"taskId": "T", "taskGroupId": "G", "state": "running", "runs": []}),
            ),
            &data(
                "1",
                json!({"taskId": "T", "taskGroupId": "G", "state": "RUNNING", "runs": [{"runId": -1, "state": "RUNNING"}]}),
            ),
            &data(
                "1",
                json!({"taskId": "T", "taskGroupId": "G", "state": "RUNNING", "runs": [{"runId": 0, "state": "LOST"}]}),
            ),
            &data(
                "1",
                json!({"taskId": "T", "taskGroupId": "G", "state": "RUNNING", "runs": 7}),
            ),
        ] {
            assert!(read_server_message(bad).is_err(), "{bad} must be refused");
        }
    }
}

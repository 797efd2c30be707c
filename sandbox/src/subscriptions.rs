//! Taskcluster's GraphQL subscription endpoint (`GET /subscription` on the
//! Taskcluster origin, a WebSocket), as the web-server serves it to its UI:
//! the subscriptions-transport-ws protocol (`graphql-ws`) and the
//! `tasksSubscriptions(taskGroupId, subscriptions)` operation, fed by the
//! simulator's queue messages. Plus the admin side (Treeherder origin,
//! `/__sandbox/subscriptions…`): statistics, dropping every socket, taking
//! the endpoint down, and sending a message about an unknown task or a
//! malformed one.
//!
//! Facts (taskcluster/taskcluster services/web-server: src/main.js,
//! src/servers/createSubscriptionServer.js, src/graphql/Tasks.graphql,
//! src/resolvers/Tasks.js, TaskStatuses.js, TaskRuns.js;
//! apollographql/subscriptions-transport-ws PROTOCOL.md): see the core's
//! `sources::taskcluster::subscriptions`. The server answers
//! `connection_init` with `connection_ack` then `ka`, repeats `ka`
//! periodically, answers an unreadable frame with `connection_error`
//! (keeping the socket), a failing `start` with `error`, a `stop` with
//! `complete`, and sends `data` with the task's status for each queue
//! message of a subscribed task group and exchange.
//!
//! Not modelled: the operation's selection set is not parsed. Every `data`
//! carries the four fields the add-on asks for (`taskId taskGroupId state
//! runs { runId state }`), and arguments are read from `variables` only
//! (an inline `taskGroupId: "..."` is refused with an error saying so).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::broadcast;

use mozci::sources::taskcluster::pulse::QUEUE_EXCHANGE_PREFIX;
use mozci::sources::taskcluster::subscriptions::{PROTOCOL, TASK_SUBSCRIPTIONS};

use crate::model::PulseEvent;
use crate::AppState;

/// How often an idle socket hears `ka` (subscriptions-transport-ws sends
/// them when the server sets `keepAlive`; clients treat a silent socket as
/// lost).
pub const KEEP_ALIVE: Duration = Duration::from_secs(5);

/// What the admin API asks of every open socket.
#[derive(Debug, Clone)]
pub enum Control {
    /// Close every socket at once, without a close handshake (a network drop).
    DropAll,
    /// Send a crafted message to the sockets subscribed to `task_group_id`.
    Inject {
        task_group_id: String,
        kind: Injection,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Injection {
    /// A completed task no one defined, in the subscribed group.
    UnknownTask,
    /// A frame that is not JSON, then a `data` whose status has no taskId.
    Malformed,
}

/// Counters for tests (`GET /__sandbox/subscriptions`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Sockets open now.
    pub open: u64,
    /// Sockets accepted so far.
    pub opened: u64,
    /// Sockets closed by `POST /__sandbox/subscriptions/drop`.
    pub dropped: u64,
    /// `start` messages accepted, and refused.
    pub starts: u64,
    pub refused: u64,
    /// `data` messages sent.
    pub data: u64,
    /// Task groups with an operation running now, with how many.
    pub task_groups: BTreeMap<String, u64>,
}

/// The live side of the endpoint, shared by every socket.
#[derive(Clone)]
pub struct Hub {
    control: broadcast::Sender<Control>,
    stats: Arc<Mutex<Stats>>,
    /// The endpoint is down: upgrades get 503 (a client must poll).
    refusing: Arc<AtomicBool>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            control: broadcast::channel(64).0,
            stats: Arc::default(),
            refusing: Arc::default(),
        }
    }
}

impl Hub {
    fn stats(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.stats
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The endpoint, on the Taskcluster origin.
pub fn router() -> Router<AppState> {
    Router::new().route("/subscription", get(upgrade))
}

/// Its admin side, on the Treeherder origin.
pub fn admin_router() -> Router<AppState> {
    Router::new()
        .route("/__sandbox/subscriptions", get(stats))
        .route("/__sandbox/subscriptions/drop", post(drop_all))
        .route("/__sandbox/subscriptions/inject", post(inject))
        .route("/__sandbox/subscriptions/refuse", post(refuse))
}

#[derive(Deserialize)]
struct RefuseBody {
    refuse: bool,
}

/// Takes the endpoint down (every socket dropped, new ones refused with
/// 503) or brings it back.
async fn refuse(State(state): State<AppState>, Json(body): Json<RefuseBody>) -> Json<Value> {
    state.live.refusing.store(body.refuse, Ordering::SeqCst);
    if body.refuse {
        let _ = state.live.control.send(Control::DropAll);
    }
    Json(json!({ "refusing": body.refuse }))
}

async fn stats(State(state): State<AppState>) -> Json<Stats> {
    Json(state.live.stats().clone())
}

async fn drop_all(State(state): State<AppState>) -> Json<Value> {
    let open = state.live.stats().open;
    let _ = state.live.control.send(Control::DropAll);
    Json(json!({ "dropping": open }))
}

#[derive(Deserialize)]
struct InjectBody {
    #[serde(rename = "taskGroupId")]
    task_group_id: String,
    message: Injection,
}

async fn inject(State(state): State<AppState>, Json(body): Json<InjectBody>) -> Json<Value> {
    let subscribed = state
        .live
        .stats()
        .task_groups
        .get(&body.task_group_id)
        .copied()
        .unwrap_or(0);
    let _ = state.live.control.send(Control::Inject {
        task_group_id: body.task_group_id,
        kind: body.message,
    });
    Json(json!({ "operations": subscribed }))
}

async fn upgrade(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    if state.live.refusing.load(Ordering::SeqCst) {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "subscriptions are down (sandbox switch)",
        )
            .into_response();
    }
    ws.protocols([PROTOCOL])
        .on_upgrade(move |socket| serve(socket, state))
}

/// One running `tasksSubscriptions` operation.
struct Operation {
    task_group_id: String,
    /// Exchange names (`task-completed`, ...) it asked for.
    exchanges: BTreeSet<String>,
}

/// The exchange behind a `TaskSubscriptions` value (resolvers/Tasks.js:
/// `tasksCompleted` → queueEvents.taskCompleted → `task-completed`).
fn exchange_of(subscription: &str) -> Option<String> {
    TASK_SUBSCRIPTIONS.contains(&subscription).then(|| {
        let rest = subscription.trim_start_matches("tasks");
        format!("task-{}", rest.to_lowercase())
    })
}

/// The queue's lower-case state as the GraphQL enum name.
fn enum_name(state: &Value) -> Value {
    state
        .as_str()
        .map(|s| Value::String(s.to_uppercase()))
        .unwrap_or(Value::Null)
}

/// The `TaskStatus` fields a subscriber reads, from a queue message's status.
fn graphql_status(status: &Value) -> Value {
    let runs: Vec<Value> = status["runs"]
        .as_array()
        .map(|runs| {
            runs.iter()
                .map(|r| json!({"runId": r["runId"], "state": enum_name(&r["state"])}))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "taskId": status["taskId"],
        "taskGroupId": status["taskGroupId"],
        "state": enum_name(&status["state"]),
        "runs": runs,
    })
}

fn data_message(id: &str, status: Value) -> String {
    json!({"type": "data", "id": id, "payload": {"data": {"tasksSubscriptions": status}}})
        .to_string()
}

fn error_message(id: &str, message: &str) -> String {
    json!({"type": "error", "id": id, "payload": {"message": message}}).to_string()
}

/// Reads a `start` payload: the task group and the exchanges, or why not.
fn read_start(payload: &Value) -> Result<Operation, String> {
    let query = payload["query"]
        .as_str()
        .ok_or("Must provide query string.")?;
    if !query.trim_start().starts_with("subscription") || !query.contains("tasksSubscriptions") {
        return Err(
            "this endpoint serves the tasksSubscriptions subscription only (the sandbox runs no other operation)"
                .into(),
        );
    }
    let variables = &payload["variables"];
    let task_group_id = variables["taskGroupId"]
        .as_str()
        .filter(|g| !g.is_empty())
        .ok_or(
            "Variable \"$taskGroupId\" of required type \"ID!\" was not provided (the sandbox reads arguments from variables only).",
        )?
        .to_string();
    let names = variables["subscriptions"].as_array().ok_or(
        "Variable \"$subscriptions\" of required type \"[TaskSubscriptions]!\" was not provided.",
    )?;
    let mut exchanges = BTreeSet::new();
    for name in names {
        let exchange = name.as_str().and_then(exchange_of).ok_or_else(|| {
            format!("Variable \"$subscriptions\" got invalid value {name}; expected a TaskSubscriptions value.")
        })?;
        exchanges.insert(exchange);
    }
    Ok(Operation {
        task_group_id,
        exchanges,
    })
}

/// What a socket's loop does after a client frame.
enum Next {
    Continue,
    Close,
}

struct Connection {
    socket: WebSocket,
    state: AppState,
    operations: BTreeMap<String, Operation>,
    initialised: bool,
}

impl Connection {
    async fn send(&mut self, text: String) -> Result<(), axum::Error> {
        self.socket.send(Message::Text(text.into())).await
    }

    fn forget(&mut self, id: &str) {
        if let Some(op) = self.operations.remove(id) {
            let mut stats = self.state.live.stats();
            if let Some(n) = stats.task_groups.get_mut(&op.task_group_id) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    stats.task_groups.remove(&op.task_group_id);
                }
            }
        }
    }

    fn forget_all(&mut self) {
        let ids: Vec<String> = self.operations.keys().cloned().collect();
        for id in ids {
            self.forget(&id);
        }
    }

    async fn client_frame(&mut self, text: &str) -> Result<Next, axum::Error> {
        let message: Value = match serde_json::from_str(text) {
            Ok(m @ Value::Object(_)) => m,
            _ => {
                // PROTOCOL.md: a parsing error gets connection_error, and
                // the socket stays.
                self.send(
                    json!({"type": "connection_error", "payload": {"message": "Message must be JSON-parseable."}})
                        .to_string(),
                )
                .await?;
                return Ok(Next::Continue);
            }
        };
        let id = message["id"].as_str().unwrap_or_default().to_string();
        match message["type"].as_str().unwrap_or_default() {
            "connection_init" => {
                self.initialised = true;
                self.send(json!({"type": "connection_ack"}).to_string())
                    .await?;
                self.send(json!({"type": "ka"}).to_string()).await?;
            }
            "connection_terminate" => return Ok(Next::Close),
            "start" => {
                let started = if !self.initialised {
                    Err("the connection was not initialised (send connection_init first)".into())
                } else if id.is_empty() {
                    Err("a start message needs an id".to_string())
                } else {
                    read_start(&message["payload"])
                };
                match started {
                    Ok(op) => {
                        // A start reusing a running id replaces it.
                        self.forget(&id);
                        {
                            let mut stats = self.state.live.stats();
                            stats.starts += 1;
                            *stats
                                .task_groups
                                .entry(op.task_group_id.clone())
                                .or_insert(0) += 1;
                        }
                        self.operations.insert(id, op);
                    }
                    Err(why) => {
                        self.state.live.stats().refused += 1;
                        self.send(error_message(&id, &why)).await?;
                    }
                }
            }
            "stop" => {
                self.forget(&id);
                self.send(json!({"type": "complete", "id": id}).to_string())
                    .await?;
            }
            other => {
                self.send(error_message(
                    &id,
                    &format!("Invalid message type {other:?}"),
                ))
                .await?;
            }
        }
        Ok(Next::Continue)
    }

    async fn queue_event(&mut self, event: &PulseEvent) -> Result<(), axum::Error> {
        let Some(exchange) = event.exchange.strip_prefix(QUEUE_EXCHANGE_PREFIX) else {
            return Ok(());
        };
        let status = &event.payload["status"];
        let Some(group) = status["taskGroupId"].as_str() else {
            return Ok(());
        };
        let ids: Vec<String> = self
            .operations
            .iter()
            .filter(|(_, op)| op.task_group_id == group && op.exchanges.contains(exchange))
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            self.send(data_message(&id, graphql_status(status))).await?;
            self.state.live.stats().data += 1;
        }
        Ok(())
    }

    async fn injected(&mut self, task_group_id: &str, kind: Injection) -> Result<(), axum::Error> {
        let ids: Vec<String> = self
            .operations
            .iter()
            .filter(|(_, op)| op.task_group_id == task_group_id)
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            match kind {
                Injection::UnknownTask => {
                    let task_id = crate::ids::slugid(&["unknown-task", task_group_id, &id]);
                    let status = json!({
                        "taskId": task_id, "taskGroupId": task_group_id, "state": "COMPLETED",
                        "runs": [{"runId": 0, "state": "COMPLETED"}],
                    });
                    self.send(data_message(&id, status)).await?;
                }
                Injection::Malformed => {
                    self.send("{\"type\": \"data\", \"id\": ".to_string())
                        .await?;
                    self.send(data_message(
                        &id,
                        json!({"taskGroupId": task_group_id, "state": "COMPLETED", "runs": "all"}),
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }
}

async fn serve(socket: WebSocket, state: AppState) {
    let mut events = state.events.subscribe();
    let mut control = state.live.control.subscribe();
    {
        let mut stats = state.live.stats();
        stats.open += 1;
        stats.opened += 1;
    }
    let mut connection = Connection {
        socket,
        state: state.clone(),
        operations: BTreeMap::new(),
        initialised: false,
    };
    // subscriptions-transport-ws closes a socket that did not ask for its
    // protocol (code 1002, protocol error).
    if connection.socket.protocol().is_none() {
        let _ = connection
            .socket
            .send(Message::Close(Some(CloseFrame {
                code: 1002,
                reason: "the graphql-ws sub-protocol is required".into(),
            })))
            .await;
        state.live.stats().open -= 1;
        return;
    }
    let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
    keep_alive.tick().await;
    loop {
        let step: Result<Next, axum::Error> = tokio::select! {
            frame = connection.socket.recv() => match frame {
                Some(Ok(Message::Text(text))) => connection.client_frame(text.as_str()).await,
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => Ok(Next::Close),
                Some(Ok(_)) => Ok(Next::Continue),
            },
            event = events.recv() => match event {
                Ok(event) => connection.queue_event(&event).await.map(|_| Next::Continue),
                Err(broadcast::error::RecvError::Lagged(_)) => Ok(Next::Continue),
                Err(broadcast::error::RecvError::Closed) => Ok(Next::Close),
            },
            order = control.recv() => match order {
                Ok(Control::DropAll) => {
                    state.live.stats().dropped += 1;
                    Ok(Next::Close)
                }
                Ok(Control::Inject { task_group_id, kind }) => {
                    connection.injected(&task_group_id, kind).await.map(|_| Next::Continue)
                }
                Err(_) => Ok(Next::Continue),
            },
            _ = keep_alive.tick(), if connection.initialised => {
                connection.send(json!({"type": "ka"}).to_string()).await.map(|_| Next::Continue)
            }
        };
        match step {
            Ok(Next::Continue) => {}
            Ok(Next::Close) | Err(_) => break,
        }
    }
    connection.forget_all();
    state.live.stats().open -= 1;
    // Dropping the socket ends the TCP connection without a close frame.
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_name_the_queue_exchanges() {
        assert_eq!(
            exchange_of("tasksCompleted").as_deref(),
            Some("task-completed")
        );
        assert_eq!(exchange_of("tasksDefined").as_deref(), Some("task-defined"));
        assert_eq!(exchange_of("tasksArtifacts"), None);
    }

    #[test]
    fn starts_are_read_from_variables() {
        let ok = read_start(&json!({
            "query": "subscription X($taskGroupId: ID!, $subscriptions: [TaskSubscriptions]!) { tasksSubscriptions(taskGroupId: $taskGroupId, subscriptions: $subscriptions) { taskId } }",
            "variables": {"taskGroupId": "G", "subscriptions": ["tasksCompleted", "tasksFailed"]},
        }))
        .unwrap();
        assert_eq!(ok.task_group_id, "G");
        assert_eq!(ok.exchanges.len(), 2);
        assert!(read_start(&json!({"query": "query { task(taskId: \"x\") { taskId } }"})).is_err());
        assert!(read_start(&json!({"query": "subscription { tasksSubscriptions(taskGroupId: \"G\", subscriptions: [tasksFailed]) { taskId } }"})).is_err());
        assert!(read_start(&json!({"query": "subscription { tasksSubscriptions }", "variables": {"taskGroupId": "G", "subscriptions": ["tasksExploded"]}})).is_err());
    }

    #[test]
    fn statuses_travel_with_enum_names() {
        let status = graphql_status(&json!({
            "taskId": "T", "taskGroupId": "G", "state": "failed", "provisionerId": "p",
            "runs": [{"runId": 0, "state": "exception", "reasonCreated": "scheduled"}, {"runId": 1, "state": "failed"}],
        }));
        assert_eq!(
            status,
            json!({"taskId": "T", "taskGroupId": "G", "state": "FAILED",
                   "runs": [{"runId": 0, "state": "EXCEPTION"}, {"runId": 1, "state": "FAILED"}]})
        );
    }
}

//! The Taskcluster queue's Pulse messages (AMQP topic exchanges on
//! pulse.mozilla.org): exchange names, the primary routing key's layout,
//! binding keys, the message bodies' fields a watcher needs, and the broker
//! address. No I/O.
//!
//! Facts, from taskcluster/taskcluster:
//! - services/queue/src/exchanges.js: `exchangePrefix`
//!   `exchange/taskcluster-queue/v1/`; every task exchange shares one routing
//!   key, `primary.<taskId>.<runId>.<workerGroup>.<workerId>.<provisionerId>.
//!   <workerType>.<schedulerId>.<taskGroupId>.<reserved>`, where values that
//!   do not exist (no run yet, no worker yet) are `_` and the reserved part is
//!   matched with `#`.
//! - services/queue/schemas/v1/task-*-message.yml: every body has `version`
//!   and `status` (the task status structure: taskId, taskGroupId, state,
//!   runs, ...); `runId` on all but task-defined (optional on task-exception);
//!   `workerGroup`/`workerId` once a worker claimed the run; `takenUntil` on
//!   task-running; `task: {tags}` (task-pulse-definition.yml) on
//!   task-completed, task-failed and task-exception.
//!
//! Pulse's own rules (<https://pulse.mozilla.org>, mozilla-services/pulseguardian):
//! a user may only create queues named `queue/<user>/...`; exchanges are
//! durable topic exchanges.

#![warn(missing_docs)]

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::queue::QueueState;
use crate::error::{Error, Result};

/// Where the queue's exchanges live.
pub const QUEUE_EXCHANGE_PREFIX: &str = "exchange/taskcluster-queue/v1/";

/// The queue's per-task exchanges a watcher listens to (artifact-created
/// tells nothing about a task's state).
pub const QUEUE_TASK_EXCHANGES: [&str; 6] = [
    "task-defined",
    "task-pending",
    "task-running",
    "task-completed",
    "task-failed",
    "task-exception",
];

/// Production Pulse.
pub const DEFAULT_PULSE_URL: &str = "amqps://pulse.mozilla.org:5671";

/// The words of the primary routing key, in order (exchanges.js).
pub const ROUTING_KEY_WORDS: [&str; 10] = [
    "routingKeyKind",
    "taskId",
    "runId",
    "workerGroup",
    "workerId",
    "provisionerId",
    "workerType",
    "schedulerId",
    "taskGroupId",
    "reserved",
];

/// What a watcher keeps of one queue message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskMessage {
    /// `status.taskId` (the routing key's `taskId` agrees).
    pub task_id: String,
    /// `status.taskGroupId`.
    pub task_group_id: String,
    /// `None` on task-defined (and task-exception before any run).
    pub run_id: Option<u32>,
    /// The state the message's exchange reports.
    pub state: QueueState,
    /// `task.tags.kind` when the message carries the task's tags (resolved
    /// tasks): `action-callback` marks a Treeherder action's task.
    pub kind: Option<String>,
}

/// The state an exchange reports.
pub(crate) fn exchange_state(exchange: &str) -> Option<QueueState> {
    let name = exchange.strip_prefix(QUEUE_EXCHANGE_PREFIX)?;
    Some(match name {
        "task-defined" => QueueState::Unscheduled,
        "task-pending" => QueueState::Pending,
        "task-running" => QueueState::Running,
        "task-completed" => QueueState::Completed,
        "task-failed" => QueueState::Failed,
        "task-exception" => QueueState::Exception,
        _ => return None,
    })
}

/// The routing key's words by name (`None` for `_`), or an error when it
/// does not have the primary layout.
pub(crate) fn routing_key_words(routing_key: &str) -> Result<Vec<(&'static str, Option<&str>)>> {
    let words: Vec<&str> = routing_key.split('.').collect();
    // The reserved part may in future span several words (matched with `#`).
    if words.len() < ROUTING_KEY_WORDS.len() - 1 || words.first() != Some(&"primary") {
        return Err(Error::Invalid(format!(
            "not a queue primary routing key: {routing_key}"
        )));
    }
    Ok(ROUTING_KEY_WORDS
        .iter()
        .zip(words.iter().map(|w| Some(*w).filter(|w| *w != "_")))
        .map(|(name, value)| (*name, value))
        .collect())
}

/// Reads one queue message (its exchange, routing key and JSON body). The
/// body's `status` is the authority; the routing key must agree with it.
pub fn task_message(exchange: &str, routing_key: &str, body: &[u8]) -> Result<TaskMessage> {
    let state = exchange_state(exchange)
        .ok_or_else(|| Error::Invalid(format!("not a queue task exchange: {exchange}")))?;
    let words = routing_key_words(routing_key)?;
    let word = |name: &str| words.iter().find(|(n, _)| *n == name).and_then(|(_, v)| *v);
    let payload: Value = serde_json::from_slice(body)
        .map_err(|e| Error::Invalid(format!("queue message body on {exchange}: {e}")))?;
    let status = &payload["status"];
    let text = |v: &Value, what: &str| {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| Error::Invalid(format!("queue message on {exchange} without {what}")))
    };
    let task_id = text(&status["taskId"], "status.taskId")?;
    let task_group_id = text(&status["taskGroupId"], "status.taskGroupId")?;
    if word("taskId") != Some(task_id.as_str()) {
        return Err(Error::Invalid(format!(
            "routing key {routing_key} does not name task {task_id}"
        )));
    }
    let run_id = match &payload["runId"] {
        Value::Null => None,
        v => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| Error::Invalid(format!("runId {v} on {exchange}")))?,
        ),
    };
    let kind = payload["task"]["tags"]["kind"].as_str().map(str::to_string);
    Ok(TaskMessage {
        task_id,
        task_group_id,
        run_id,
        state,
        kind,
    })
}

/// Binding key for every message about the tasks of a task group.
pub fn task_group_binding(task_group_id: &str) -> String {
    format!("primary.*.*.*.*.*.*.*.{task_group_id}.#")
}

/// Binding key for every message about one task.
pub fn task_binding(task_id: &str) -> String {
    format!("primary.{task_id}.#")
}

/// An AMQP broker address with credentials (`amqp://` or `amqps://`).
#[derive(Clone, PartialEq, Eq)]
pub struct PulseAddress {
    /// `amqps://`: connect over TLS.
    pub tls: bool,
    /// The broker's host name.
    pub host: String,
    /// The broker's port (default 5671 with TLS, 5672 without).
    pub port: u16,
    /// The Pulse user name.
    pub user: String,
    /// The Pulse password; `Debug` never prints it.
    pub password: String,
    /// The AMQP virtual host, percent-decoded (`/` by default).
    pub vhost: String,
}

impl std::fmt::Debug for PulseAddress {
    // The password stays out of logs and error messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.display())
    }
}

impl PulseAddress {
    /// Parses `amqp[s]://[user[:password]@]host[:port][/vhost]`; `user` and
    /// `password`, when given, replace those of the URL. The vhost is
    /// percent-decoded (`%2f` is `/`, the default).
    pub fn parse(url: &str, user: Option<&str>, password: Option<&str>) -> Result<Self> {
        let parsed = crate::url_text::parse_url(url)
            .map_err(|e| Error::Config(format!("Pulse URL {url:?}: {e}")))?;
        let (tls, default_port) = match parsed.scheme() {
            "amqp" => (false, 5672),
            "amqps" => (true, 5671),
            other => {
                return Err(Error::Config(format!(
                    "Pulse URL scheme must be amqp or amqps, not {other}"
                )))
            }
        };
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| Error::Config(format!("Pulse URL {url:?} has no host")))?
            .to_string();
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let url_user = decode(parsed.username());
        let url_password = parsed.password().map(decode).unwrap_or_default();
        let path = parsed.path().strip_prefix('/').unwrap_or("");
        let vhost = if path.is_empty() {
            "/".to_string()
        } else {
            decode(path)
        };
        let user = user.map(str::to_string).unwrap_or(url_user);
        let password = password.map(str::to_string).unwrap_or(url_password);
        if user.is_empty() {
            return Err(Error::Config(
                "Pulse needs a user (MOZCI_PULSE_USER or the URL's user)".into(),
            ));
        }
        Ok(PulseAddress {
            tls,
            host,
            port: parsed.port().unwrap_or(default_port),
            user,
            password,
            vhost,
        })
    }

    /// The address without the password.
    pub fn display(&self) -> String {
        let scheme = if self.tls { "amqps" } else { "amqp" };
        format!(
            "{scheme}://{}@{}:{}/{}",
            self.user,
            self.host,
            self.port,
            self.vhost.replace('/', "%2f")
        )
    }

    /// The queue name Pulse lets this user create: `queue/<user>/<name>`.
    pub fn queue_name(&self, name: &str) -> String {
        format!("queue/{}/{name}", self.user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "primary.fQv2ptI0ScCbdFtX2ZSnVA.0.us-east-1.i-0abc.gecko-t.t-linux-xlarge.gecko-level-3.Ow3v_dZOTRW8W3Ht7iXVnQ._";

    fn body(state: &str, run: Option<u32>, tags: Option<Value>) -> Vec<u8> {
        let mut b = json!({
            "version": 1,
            "status": {"taskId": "fQv2ptI0ScCbdFtX2ZSnVA", "taskGroupId": "Ow3v_dZOTRW8W3Ht7iXVnQ", "state": state, "runs": []},
        });
        if let Some(r) = run {
            b["runId"] = json!(r);
        }
        if let Some(t) = tags {
            b["task"] = json!({ "tags": t });
        }
        serde_json::to_vec(&b).unwrap()
    }

    #[test]
    fn reads_a_completed_message_with_its_tags() {
        let m = task_message(
            "exchange/taskcluster-queue/v1/task-completed",
            KEY,
            &body(
                "completed",
                Some(0),
                Some(json!({"kind": "action-callback"})),
            ),
        )
        .unwrap();
        assert_eq!(m.task_id, "fQv2ptI0ScCbdFtX2ZSnVA");
        assert_eq!(m.task_group_id, "Ow3v_dZOTRW8W3Ht7iXVnQ");
        assert_eq!(m.run_id, Some(0));
        assert_eq!(m.state, QueueState::Completed);
        assert_eq!(m.kind.as_deref(), Some("action-callback"));
    }

    #[test]
    fn refuses_foreign_exchanges_keys_and_bodies() {
        let good = body("pending", Some(0), None);
        assert!(task_message("exchange/build/", KEY, &good).is_err());
        assert!(task_message(
            "exchange/taskcluster-queue/v1/task-pending",
            "route.tc-treeherder.v2.x",
            &good
        )
        .is_err());
        let other = KEY.replace("fQv2ptI0ScCbdFtX2ZSnVA", "AAAAAAAAAAAAAAAAAAAAAA");
        assert!(task_message("exchange/taskcluster-queue/v1/task-pending", &other, &good).is_err());
        assert!(task_message("exchange/taskcluster-queue/v1/task-pending", KEY, b"{").is_err());
        let bad_run =
            br#"{"status":{"taskId":"fQv2ptI0ScCbdFtX2ZSnVA","taskGroupId":"g"},"runId":-1}"#;
        assert!(task_message("exchange/taskcluster-queue/v1/task-pending", KEY, bad_run).is_err());
    }

    #[test]
    fn routing_key_words_name_absent_values_none() {
        let words = routing_key_words("primary.T.0._._.p.w.s.G._").unwrap();
        let get = |n: &str| words.iter().find(|(k, _)| *k == n).unwrap().1;
        assert_eq!(get("runId"), Some("0"));
        assert_eq!(get("workerGroup"), None);
        assert_eq!(get("taskGroupId"), Some("G"));
        assert_eq!(words.len(), ROUTING_KEY_WORDS.len());
    }

    #[test]
    fn binding_keys_put_the_group_in_the_ninth_word() {
        let binding = task_group_binding("G");
        let words: Vec<&str> = binding.split('.').collect();
        assert_eq!(words[8], "G");
        assert_eq!(words[9], "#");
        assert_eq!(task_binding("T"), "primary.T.#");
    }

    #[test]
    fn addresses_decode_the_vhost_and_take_separate_credentials() {
        let a = PulseAddress::parse("amqp://u:p%40ss@127.0.0.1:5999/%2f", None, None).unwrap();
        assert_eq!((a.tls, a.port, a.vhost.as_str()), (false, 5999, "/"));
        assert_eq!((a.user.as_str(), a.password.as_str()), ("u", "p@ss"));
        let p = PulseAddress::parse(DEFAULT_PULSE_URL, Some("me"), Some("secret")).unwrap();
        assert_eq!((p.tls, p.port, p.vhost.as_str()), (true, 5671, "/"));
        assert_eq!(p.queue_name("mozci-1"), "queue/me/mozci-1");
        assert!(!format!("{p:?}").contains("secret"));
        assert!(PulseAddress::parse("http://h/", Some("u"), None).is_err());
        assert!(PulseAddress::parse(DEFAULT_PULSE_URL, None, None).is_err());
    }
}

//! A Pulse listener for watches: one queue of the user's on the broker,
//! bound to the Taskcluster queue's task exchanges for the task groups and
//! tasks being watched, delivering their messages as they come, and
//! reconnecting with backoff whenever the broker goes away.
//!
//! AMQP client: `amqprs`. Both it and `lapin` are maintained AMQP 0-9-1
//! clients; amqprs is built on tokio alone (the CLI's runtime; lapin brings
//! its own reactor and executor abstraction), does TLS with rustls and
//! webpki roots as the rest of the CLI (no OpenSSL), has a small dependency
//! tree, and its API (declare, bind, consume into a channel) is all a
//! listener needs. Neither reconnects by itself; this module does.
//!
//! The queue, `queue/<user>/mozci-<random>` as Pulse requires, is not
//! exclusive nor auto-deleted, so that messages wait in it through a short
//! outage of the client; it is bounded (`x-max-length`, dropping the oldest
//! first: a watch only needs recent news, and reconciles by polling), expires
//! when unused (`x-expires`) and is deleted when the watch ends, so nothing
//! is left on the server.
//!
//! The bound holds only if a backlog stays on the broker, so the client
//! never takes more than it has handled: at most `PREFETCH` messages are
//! unacknowledged at a time, each is acknowledged once handed to the watch,
//! and the hand-off waits when the watch is `HANDOFF` messages behind. A
//! flood then costs the watch a fixed amount of memory, and the broker
//! drops the flood's oldest messages.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use amqprs::channel::{
    BasicAckArguments, BasicConsumeArguments, BasicQosArguments, Channel, ConsumerMessage,
    QueueBindArguments, QueueDeclareArguments, QueueDeleteArguments,
};
use amqprs::connection::{Connection, OpenConnectionArguments};
use amqprs::tls::TlsAdaptor;
use amqprs::{FieldTable, FieldValue};
use mozci::sources::taskcluster::pulse::{
    task_message, PulseAddress, TaskMessage, QUEUE_EXCHANGE_PREFIX, QUEUE_TASK_EXCHANGES,
};
use tokio::sync::mpsc;

/// Messages kept at most while nobody reads them (the oldest go first).
/// Pulse's PulseGuardian counts a queue's messages, ready and
/// unacknowledged: above 2,000 it mails the owner a warning, above 8,000 it
/// deletes the queue (its defaults, `WARN_QUEUE_SIZE` / `DEL_QUEUE_SIZE`).
/// This bound and `PREFETCH` keep a stalled watch's queue under the warning.
const QUEUE_MAX_LENGTH: i64 = 1_500;
/// Deliveries the broker may have in flight to the client, unacknowledged.
const PREFETCH: u16 = 100;
/// Reports waiting for the watch to read them before the listener stops
/// taking messages.
const HANDOFF: usize = 64;
/// An unused queue disappears after this long (ms).
const QUEUE_EXPIRES_MS: i64 = 10 * 60 * 1000;
/// Longest wait between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How often a quiet connection is checked for life.
const LIVENESS_CHECK: Duration = Duration::from_millis(500);

/// What the listener reports.
#[derive(Debug, Clone)]
pub enum ListenerEvent {
    /// (Re)connected and bound: messages flow from now on, and any sent
    /// while away may be missing.
    Connected,
    /// Lost the broker or could not reach it; retrying with backoff.
    Disconnected(String),
    Message(TaskMessage),
    /// A message on a bound exchange that does not read as a task message.
    Unreadable(String),
}

/// A running listener (a background task).
pub struct Listener {
    bindings: mpsc::UnboundedSender<String>,
    events: mpsc::Receiver<ListenerEvent>,
    task: tokio::task::JoinHandle<()>,
    pub queue: String,
}

impl Listener {
    /// Starts listening for messages matching `bindings` (routing-key
    /// patterns, bound on every queue task exchange).
    pub fn start(address: PulseAddress, bindings: Vec<String>) -> Listener {
        let queue = address.queue_name(&format!("mozci-{:016x}", random()));
        let (bind_tx, bind_rx) = mpsc::unbounded_channel();
        let (event_tx, event_rx) = mpsc::channel(HANDOFF);
        let task = tokio::spawn(listen(address, queue.clone(), bindings, bind_rx, event_tx));
        Listener {
            bindings: bind_tx,
            events: event_rx,
            task,
            queue,
        }
    }

    /// Adds a binding (kept across reconnections).
    pub fn bind(&self, routing_key_pattern: String) {
        let _ = self.bindings.send(routing_key_pattern);
    }

    /// The next report; `None` once the listener has stopped.
    pub async fn next(&mut self) -> Option<ListenerEvent> {
        self.events.recv().await
    }

    /// Stops listening and deletes the queue (within a few seconds at most).
    pub async fn close(self) {
        let Listener {
            bindings,
            events,
            task,
            ..
        } = self;
        // Both ends go, so that a listener waiting to hand a report over
        // stops too.
        drop(events);
        drop(bindings);
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }
}

fn random() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish()
}

async fn listen(
    address: PulseAddress,
    queue: String,
    mut bindings: Vec<String>,
    mut new_bindings: mpsc::UnboundedReceiver<String>,
    events: mpsc::Sender<ListenerEvent>,
) {
    let mut backoff = Duration::from_millis(250);
    loop {
        // Bindings asked for while disconnected are made on connection.
        while let Ok(key) = new_bindings.try_recv() {
            if !bindings.contains(&key) {
                bindings.push(key);
            }
        }
        let reason = match open(&address, &queue, &bindings).await {
            Ok((connection, channel, mut messages)) => {
                backoff = Duration::from_millis(250);
                if events.send(ListenerEvent::Connected).await.is_err() {
                    return close(connection, channel, &queue).await;
                }
                let mut liveness = tokio::time::interval(LIVENESS_CHECK);
                let reason = loop {
                    tokio::select! {
                        key = new_bindings.recv() => match key {
                            Some(key) => {
                                if bindings.contains(&key) {
                                    continue;
                                }
                                let bound = bind(&channel, &queue, &key).await;
                                bindings.push(key);
                                if let Err(e) = bound {
                                    break e;
                                }
                            }
                            None => return close(connection, channel, &queue).await,
                        },
                        message = messages.recv() => match message {
                            Some(message) => {
                                let tag = message.deliver.as_ref().map(|d| d.delivery_tag());
                                if events.send(read(message)).await.is_err() {
                                    return close(connection, channel, &queue).await;
                                }
                                // Handed over: the broker may send the next one.
                                if let Some(tag) = tag {
                                    let acked = channel
                                        .basic_ack(BasicAckArguments::new(tag, false))
                                        .await;
                                    if let Err(e) = acked {
                                        break format!("acknowledging a message: {e}");
                                    }
                                }
                            }
                            None => break "the broker ended the subscription".to_string(),
                        },
                        _ = liveness.tick() => {
                            if !connection.is_open() || !channel.is_open() {
                                break "connection lost".to_string();
                            }
                        }
                    }
                };
                let _ = connection.close().await;
                reason
            }
            Err(e) => e,
        };
        if events
            .send(ListenerEvent::Disconnected(reason))
            .await
            .is_err()
        {
            return;
        }
        // Wait before retrying, unless the watch ends meanwhile.
        let sleep = tokio::time::sleep(backoff);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                key = new_bindings.recv() => match key {
                    Some(key) => {
                        if !bindings.contains(&key) {
                            bindings.push(key);
                        }
                    }
                    None => return,
                },
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn read(message: ConsumerMessage) -> ListenerEvent {
    let Some(deliver) = message.deliver else {
        return ListenerEvent::Unreadable("a delivery without its method frame".into());
    };
    let body = message.content.unwrap_or_default();
    match task_message(deliver.exchange(), deliver.routing_key(), &body) {
        Ok(m) => ListenerEvent::Message(m),
        Err(e) => ListenerEvent::Unreadable(e.to_string()),
    }
}

type Opened = (
    Connection,
    Channel,
    mpsc::UnboundedReceiver<ConsumerMessage>,
);

async fn open(address: &PulseAddress, queue: &str, bindings: &[String]) -> Result<Opened, String> {
    let mut args = OpenConnectionArguments::new(
        &address.host,
        address.port,
        &address.user,
        &address.password,
    );
    args.virtual_host(&address.vhost)
        .connection_name("mozci watch")
        .heartbeat(15);
    if address.tls {
        args.tls_adaptor(
            TlsAdaptor::without_client_auth(None, address.host.clone())
                .map_err(|e| format!("TLS: {e}"))?,
        );
    }
    let connection = Connection::open(&args)
        .await
        .map_err(|e| format!("{}: {e}", address.display()))?;
    let channel = connection
        .open_channel(None)
        .await
        .map_err(|e| e.to_string())?;
    let mut arguments = FieldTable::new();
    let mut put = |name: &str, value: FieldValue| -> Result<(), String> {
        let name = name.to_string().try_into().map_err(|_| name.to_string())?;
        arguments.insert(name, value);
        Ok(())
    };
    put("x-max-length", FieldValue::l(QUEUE_MAX_LENGTH))?;
    put("x-overflow", FieldValue::from("drop-head".to_string()))?;
    put("x-expires", FieldValue::l(QUEUE_EXPIRES_MS))?;
    channel
        .queue_declare(
            QueueDeclareArguments::new(queue)
                .durable(false)
                .exclusive(false)
                .auto_delete(false)
                .arguments(arguments)
                .finish(),
        )
        .await
        .map_err(|e| format!("declaring {queue}: {e}"))?;
    for key in bindings {
        bind(&channel, queue, key).await?;
    }
    channel
        .basic_qos(BasicQosArguments::new(0, PREFETCH, false))
        .await
        .map_err(|e| format!("limiting deliveries in flight: {e}"))?;
    let (_, messages) = channel
        .basic_consume_rx(
            BasicConsumeArguments::new(queue, "mozci-watch")
                .manual_ack(true)
                .exclusive(true)
                .finish(),
        )
        .await
        .map_err(|e| format!("consuming {queue}: {e}"))?;
    Ok((connection, channel, messages))
}

async fn bind(channel: &Channel, queue: &str, key: &str) -> Result<(), String> {
    for name in QUEUE_TASK_EXCHANGES {
        let exchange = format!("{QUEUE_EXCHANGE_PREFIX}{name}");
        channel
            .queue_bind(QueueBindArguments::new(queue, &exchange, key))
            .await
            .map_err(|e| format!("binding {key} on {exchange}: {e}"))?;
    }
    Ok(())
}

async fn close(connection: Connection, channel: Channel, queue: &str) {
    let _ = channel.queue_delete(QueueDeleteArguments::new(queue)).await;
    let _ = channel.close().await;
    let _ = connection.close().await;
}

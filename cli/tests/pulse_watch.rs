//! Watching with live job events: the sandbox publishes its job changes to
//! a real RabbitMQ (`scripts/rabbitmq`) as the Taskcluster queue does on
//! Pulse, and `mozci trigger --watch` listens. A watched backfill ends as the
//! same one watched by polling does, with fewer API requests; a broker that
//! goes away mid-watch and comes back changes nothing in the outcome, and
//! nothing is triggered twice; nor does a flood of messages the watch
//! cannot use (its queue stays within its bound).
//!
//! The broker: `MOZCI_PULSE_TEST_URL` / `MOZCI_PULSE_PUBLISH_URL` when
//! scripts/test started one; otherwise each test starts its own (the
//! restart test always does). Skipped, saying so, only when
//! rabbitmq-server is not installed. Needs `cargo build -p mozci-sandbox`.

// Not every helper of the shared module is used here.
#[allow(dead_code)]
mod common;

use common::{get, hook_calls, mozci_command, StateDir};
use mozci_harness::Sandbox;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

const BC1: &str = "test-linux64/opt-mochitest-browser-chrome-1";
const RABBITMQ_SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";

/// A broker for one test: the shared one, or its own (stopped on drop).
struct Broker {
    /// The watcher's URL (a Pulse-like account) and the publisher's.
    test_url: String,
    publish_url: String,
    own_dir: Option<PathBuf>,
}

fn script() -> PathBuf {
    mozci_harness::repo_root().join("scripts").join("rabbitmq")
}

impl Broker {
    fn installed() -> bool {
        if std::path::Path::new(RABBITMQ_SERVER).exists() {
            return true;
        }
        eprintln!("SKIPPED: rabbitmq-server is not installed (scripts/setup installs it)");
        false
    }

    fn shared_or_own(name: &str) -> Broker {
        match (
            std::env::var("MOZCI_PULSE_TEST_URL"),
            std::env::var("MOZCI_PULSE_PUBLISH_URL"),
        ) {
            (Ok(test_url), Ok(publish_url)) => Broker {
                test_url,
                publish_url,
                own_dir: None,
            },
            _ => Broker::own(name),
        }
    }

    fn own(name: &str) -> Broker {
        let dir =
            std::env::temp_dir().join(format!("mozci-rabbitmq-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut broker = Broker {
            test_url: String::new(),
            publish_url: String::new(),
            own_dir: Some(dir),
        };
        broker.run("start");
        let env = broker.run("env");
        let value = |name: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("export {name}=")))
                .map(|v| v.trim_matches('\'').to_string())
                .unwrap_or_else(|| panic!("scripts/rabbitmq env prints {name}: {env}"))
        };
        broker.test_url = value("MOZCI_PULSE_TEST_URL");
        broker.publish_url = value("MOZCI_PULSE_PUBLISH_URL");
        broker
    }

    /// `scripts/rabbitmq <command>` on this test's own broker.
    fn run(&self, command: &str) -> String {
        let dir = self
            .own_dir
            .as_ref()
            .expect("only a test's own broker is started or stopped");
        let out = std::process::Command::new(script())
            .arg(command)
            .env("MOZCI_RABBITMQ_DIR", dir)
            .output()
            .expect("scripts/rabbitmq runs");
        assert!(
            out.status.success(),
            "scripts/rabbitmq {command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(dir) = &self.own_dir {
            let _ = std::process::Command::new(script())
                .arg("stop")
                .env("MOZCI_RABBITMQ_DIR", dir)
                .output();
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Moves the sandbox's clock 20 s every 100 ms until dropped (while
/// not paused), so both runs of a comparison see the same simulated pace.
struct Clock {
    stop: Arc<AtomicBool>,
    paused: Arc<AtomicBool>,
}

impl Clock {
    fn start(s: &Sandbox) -> Clock {
        let stop = Arc::new(AtomicBool::new(false));
        let paused = Arc::new(AtomicBool::new(false));
        let url = format!("{}/__sandbox/advance", s.origins.treeherder);
        let (stop_flag, paused_flag) = (stop.clone(), paused.clone());
        // The core's HTTP client is single-threaded: a thread of its own.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let client = common::client();
                let body = serde_json::json!({"seconds": 20});
                while !stop_flag.load(Ordering::Relaxed) {
                    if !paused_flag.load(Ordering::Relaxed) {
                        let request = mozci::http::HttpRequest::post_json(url.as_str(), &body);
                        let policy = mozci::http::RetryPolicy::none();
                        let _ = mozci::http::send_checked(&client, request, policy).await;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
        });
        Clock { stop, paused }
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

async fn failing_revision(s: &Sandbox) -> String {
    let rows = get(&format!(
        "{}/__sandbox/summary?repo=autoland",
        s.origins.treeherder
    ))
    .await;
    rows.as_array()
        .expect("rows")
        .iter()
        .rev()
        .find(|r| {
            r["failed"]
                .as_array()
                .is_some_and(|f| f.iter().any(|l| l == BC1))
        })
        .and_then(|r| r["revision"].as_str())
        .expect("failing push")
        .to_string()
}

/// Reads the sandbox served (Treeherder, hg, BuildAPI, Taskcluster): what
/// the CLI's polls cost.
async fn api_requests(s: &Sandbox) -> u64 {
    let reads = get(&format!("{}/__sandbox/reads", s.origins.treeherder)).await;
    reads
        .as_object()
        .expect("reads per origin")
        .values()
        .filter_map(Value::as_u64)
        .sum()
}

fn backfill_args(rev: &str) -> Vec<String> {
    [
        "--json",
        "trigger",
        "--repo",
        "autoland",
        "--label",
        BC1,
        "--rev",
        rev,
        "--backfill",
        "--max-revisions",
        "6",
        "--times",
        "2",
        "--yes",
        "--watch",
        "--poll-seconds",
        "1",
        "--fallback-seconds",
        "600",
        "--timeout-minutes",
        "4",
    ]
    .map(String::from)
    .to_vec()
}

/// The watched backfill as a child process, its stderr lines forwarded.
fn spawn_backfill(
    s: &Sandbox,
    state: &std::path::Path,
    rev: &str,
    pulse_url: Option<&str>,
) -> (
    tokio::process::Child,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    let args = backfill_args(rev);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = mozci_command(s, state, &args);
    command
        .env_remove("MOZCI_PULSE_URL")
        .env_remove("MOZCI_PULSE_USER")
        .env_remove("MOZCI_PULSE_PASSWORD");
    if let Some(url) = pulse_url {
        command.env("MOZCI_PULSE_URL", url);
    }
    let mut child = tokio::process::Command::from(command)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("mozci starts");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let stderr = child.stderr.take().expect("stderr");
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("mozci: {line}");
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Waits for the child and parses its JSON document.
async fn finish(mut child: tokio::process::Child) -> (i32, Value) {
    let mut stdout = child.stdout.take().expect("stdout");
    let mut text = String::new();
    let read = stdout.read_to_string(&mut text);
    let (read, status) = tokio::time::timeout(Duration::from_secs(300), async {
        tokio::join!(read, child.wait())
    })
    .await
    .expect("the watch ends within 5 minutes");
    read.expect("stdout");
    let code = status.expect("exit status").code().unwrap_or(-1);
    let doc =
        serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("JSON output ({e}): {text}"));
    (code, doc)
}

/// Trigger records in the JSON output: the executions' and the watch's.
fn records(doc: &Value) -> Vec<Value> {
    let executed = doc["executions"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| e["records"].as_array().cloned().unwrap_or_default());
    let watched = doc["watch"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| Some(w["record"].clone()).filter(|r| !r.is_null()));
    executed.chain(watched).collect()
}

/// Runs of BC1 on the plan's pushes still pending or running in the sandbox.
async fn unsettled_runs(s: &Sandbox, doc: &Value) -> usize {
    let mut count = 0;
    for plan in doc["plan"]["pushes"].as_array().expect("plan pushes") {
        let push_id = plan["push_id"].as_u64().expect("push_id");
        let jobs = get(&format!(
            "{}/__sandbox/jobs?push_id={push_id}&label={BC1}",
            s.origins.treeherder
        ))
        .await;
        count += jobs
            .as_array()
            .expect("jobs")
            .iter()
            .filter(|j| j["state"] != "completed")
            .count();
    }
    count
}

/// One watched backfill on a fresh sandbox: (exit code, JSON, API requests).
async fn watched_backfill(pulse: Option<&Broker>, name: &str) -> (i32, Value, u64, usize) {
    let mut args = vec!["--speed", "0"];
    if let Some(broker) = pulse {
        args.extend(["--pulse", broker.publish_url.as_str()]);
    }
    let s = Sandbox::start(&args).await.expect("sandbox");
    let watch_url = pulse.map(|b| b.test_url.as_str());
    let state = StateDir::new(name);
    let rev = failing_revision(&s).await;
    let before = api_requests(&s).await;
    let _clock = Clock::start(&s);
    let (child, _stderr) = spawn_backfill(&s, &state, &rev, watch_url);
    let (code, doc) = finish(child).await;
    let requests = api_requests(&s).await - before;
    assert_eq!(
        unsettled_runs(&s, &doc).await,
        0,
        "{name}: every run settled"
    );
    let hooks = hook_calls(&s).await.len();
    (code, doc, requests, hooks)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_backfill_ends_right_with_fewer_requests_than_polling() {
    if !Broker::installed() {
        return;
    }
    let broker = Broker::shared_or_own("compare");
    let (events, polling) = tokio::join!(
        watched_backfill(Some(&broker), "pulse-events"),
        // Same seed, same task ids: this sandbox publishes nothing.
        watched_backfill(None, "pulse-polling"),
    );
    let (code, doc, event_requests, event_hooks) = events;
    let (polling_code, polling_doc, polling_requests, polling_hooks) = polling;
    assert_eq!((code, polling_code), (0, 0));
    // The same answer, the same triggers, each sent once.
    assert!(!doc["verdict"].is_null(), "{doc}");
    assert_eq!(doc["verdict"], polling_doc["verdict"]);
    assert_eq!(
        event_hooks,
        records(&doc).len(),
        "one hook call per trigger record"
    );
    assert_eq!(polling_hooks, records(&polling_doc).len());
    assert_eq!(event_hooks, polling_hooks);
    eprintln!(
        "API requests: {event_requests} with live events, {polling_requests} polling every second"
    );
    assert!(
        event_requests < polling_requests,
        "events {event_requests} against polling {polling_requests}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watch_outlives_the_broker_going_away_and_triggers_nothing_twice() {
    if !Broker::installed() {
        return;
    }
    let broker = Broker::own("restart");
    let s = Sandbox::start(&["--speed", "0", "--pulse", &broker.publish_url])
        .await
        .expect("sandbox");
    let state = StateDir::new("pulse-restart");
    let rev = failing_revision(&s).await;
    let clock = Clock::start(&s);
    clock.paused.store(true, Ordering::Relaxed);
    let (child, mut stderr) = spawn_backfill(&s, &state, &rev, Some(&broker.test_url));
    // Listening: the first poll done, then the broker connected.
    let started = Instant::now();
    while let Some(line) = stderr.recv().await {
        if line.contains("live job events from Pulse") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no Pulse listener"
        );
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    clock.paused.store(false, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Away: the clock stands still meanwhile, so work is left for after.
    clock.paused.store(true, Ordering::Relaxed);
    broker.run("stop");
    tokio::time::sleep(Duration::from_secs(3)).await;
    broker.run("start");
    let env = broker.run("env");
    assert!(
        env.contains(&broker.test_url),
        "the broker came back on other ports, where the watch cannot find it: {env}"
    );
    // Back: the clock moves again once the watch has reconnected.
    let mut lines = Vec::new();
    let back = Instant::now();
    while let Ok(Some(line)) = tokio::time::timeout(Duration::from_secs(90), stderr.recv()).await {
        lines.push(line.clone());
        if line.contains("Pulse is back") {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(90),
            "no reconnection: {lines:#?}"
        );
    }
    clock.paused.store(false, Ordering::Relaxed);
    let (code, doc) = finish(child).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    while let Ok(line) = stderr.try_recv() {
        lines.push(line);
    }
    let said = |what: &str| lines.iter().any(|l| l.contains(what));
    assert_eq!(code, 0, "{doc}");
    assert!(
        said("Pulse unreachable"),
        "the outage was noticed: {lines:#?}"
    );
    assert!(
        said("Pulse is back"),
        "the listener reconnected: {lines:#?}"
    );
    assert!(!doc["verdict"].is_null(), "{doc}");
    assert_eq!(unsettled_runs(&s, &doc).await, 0, "every run settled");
    let records = records(&doc);
    assert!(!records.is_empty());
    assert_eq!(
        hook_calls(&s).await.len(),
        records.len(),
        "one hook call per trigger record"
    );
}

/// The decision task groups of the push of `revision` and the 7 before it
/// (a backfill's watch of `--max-revisions 6` binds to theirs), from the
/// sandbox's Treeherder.
async fn decision_task_groups(s: &Sandbox, revision: &str) -> Vec<String> {
    let pushes = get(&format!(
        "{}/api/project/autoland/push/?count=50",
        s.origins.treeherder
    ))
    .await;
    // Newest first.
    let ids: Vec<String> = pushes["results"]
        .as_array()
        .expect("pushes")
        .iter()
        .skip_while(|p| p["revision"] != revision)
        .take(8)
        .filter_map(|p| p["id"].as_u64())
        .map(|id| id.to_string())
        .collect();
    assert!(!ids.is_empty(), "the push of {revision} is listed");
    let tasks = get(&format!(
        "{}/api/project/autoland/push/decisiontask/?push_ids={}",
        s.origins.treeherder,
        ids.join(",")
    ))
    .await;
    tasks
        .as_object()
        .expect("decision tasks by push")
        .values()
        .filter_map(|t| t["id"].as_str().map(str::to_string))
        .collect()
}

/// A connection and a channel on it, as the account of `url`.
async fn open_amqp(url: &str) -> (amqprs::connection::Connection, amqprs::channel::Channel) {
    use amqprs::connection::{Connection, OpenConnectionArguments};
    use mozci::sources::taskcluster::pulse::PulseAddress;
    let address = PulseAddress::parse(url, None, None).expect("broker URL");
    let mut args = OpenConnectionArguments::new(
        &address.host,
        address.port,
        &address.user,
        &address.password,
    );
    args.virtual_host(&address.vhost);
    let connection = Connection::open(&args).await.expect("connection");
    let channel = connection.open_channel(None).await.expect("channel");
    (connection, channel)
}

/// Waits until the watch consumes from its `queue`: it names the queue
/// before declaring it, and consumes once the queue is declared and
/// bound to its task groups.
async fn wait_for_consumer(broker: &Broker, queue: &str) {
    use amqprs::channel::QueueDeclareArguments;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // A passive declaration of a missing queue closes the channel: a
        // fresh connection each time.
        let (connection, channel) = open_amqp(&broker.test_url).await;
        let declared = channel
            .queue_declare(QueueDeclareArguments::new(queue).passive(true).finish())
            .await;
        let _ = connection.close().await;
        if let Ok(Some((_, _, consumers))) = declared {
            if consumers > 0 {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the watch consumes from its queue within a minute"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Publishes the messages numbered `numbers` on the queue's `task-pending`
/// exchange, as the publisher account, with routing keys of `task_groups`
/// (so they reach every watch bound to one), as fast as the broker takes
/// them; samples the depth of the watch's `queue` meanwhile (as the watch's
/// own account) and returns the deepest it was seen.
///
/// The watch deletes its queue when it ends. Unless `watch_may_end`, the
/// queue must exist throughout, and the depth returned is the one the
/// queue settles at; otherwise its going ends the flood (there is nobody
/// left to flood).
async fn flood(
    broker: &Broker,
    queue: &str,
    task_groups: &[String],
    numbers: std::ops::Range<usize>,
    watch_may_end: bool,
) -> u32 {
    use amqprs::channel::{BasicPublishArguments, QueueDeclareArguments};
    use amqprs::BasicProperties;
    let (publisher, publish) = open_amqp(&broker.publish_url).await;
    let (watcher, watch) = open_amqp(&broker.test_url).await;
    // None once the queue is gone (a passive declaration of a missing
    // queue closes the channel).
    let depth = || async {
        match watch
            .queue_declare(QueueDeclareArguments::new(queue).passive(true).finish())
            .await
        {
            Ok(declared) => Some(declared.map(|(_, messages, _)| messages).unwrap_or(0)),
            Err(e) if watch_may_end => {
                eprintln!("flood: the watch's queue is gone ({e}); the watch ended");
                None
            }
            Err(e) => panic!("the watch's queue exists while the watch cannot end: {e}"),
        }
    };
    // Messages no watch can use (a task nobody watches, or bytes that are
    // not JSON): they crowd out whatever the watch's own messages were.
    let body = br#"{"status":{"taskId":"flood","state":"pending"}}"#.to_vec();
    let mut deepest = 0;
    let mut watched = true;
    for i in numbers {
        let group = &task_groups[i % task_groups.len()];
        let key = format!("primary.flood{i}.0._._.p.w.s.{group}._");
        let payload = if i % 2 == 0 {
            body.clone()
        } else {
            b"not json".to_vec()
        };
        publish
            .basic_publish(
                BasicProperties::default(),
                payload,
                BasicPublishArguments::new("exchange/taskcluster-queue/v1/task-pending", &key),
            )
            .await
            .expect("publish");
        if i % 500 == 0 {
            match depth().await {
                Some(messages) => deepest = deepest.max(messages),
                None => {
                    watched = false;
                    break;
                }
            }
        }
    }
    if watched && !watch_may_end {
        // What was sent may still be on its way into the queue: read the
        // depth until it holds still for half a second.
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = None;
        while Instant::now() < deadline {
            let messages = depth().await.unwrap_or(0);
            deepest = deepest.max(messages);
            if last == Some(messages) {
                break;
            }
            last = Some(messages);
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    } else if watched {
        deepest = deepest.max(depth().await.unwrap_or(0));
    }
    let _ = publish.close().await;
    let _ = publisher.close().await;
    let _ = watch.close().await;
    let _ = watcher.close().await;
    deepest
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooded_queue_stays_bounded_and_the_watch_still_ends_right() {
    if !Broker::installed() {
        return;
    }
    // Its own broker: the flood must not reach other tests' watches (the
    // sandboxes share a seed, so their task groups are the same).
    let broker = Broker::own("flood");
    let s = Sandbox::start(&["--speed", "0", "--pulse", &broker.publish_url])
        .await
        .expect("sandbox");
    let state = StateDir::new("pulse-flood");
    let rev = failing_revision(&s).await;
    let clock = Clock::start(&s);
    clock.paused.store(true, Ordering::Relaxed);
    // A short fallback: messages dropped by the queue's bound are made up
    // for by the polls the watch makes on its own.
    let mut args = backfill_args(&rev);
    let fallback = args
        .iter()
        .position(|a| a == "--fallback-seconds")
        .expect("--fallback-seconds");
    args[fallback + 1] = "5".into();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut command = mozci_command(&s, &state, &args);
    command
        .env_remove("MOZCI_PULSE_USER")
        .env_remove("MOZCI_PULSE_PASSWORD")
        .env("MOZCI_PULSE_URL", &broker.test_url);
    let mut child = tokio::process::Command::from(command)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("mozci starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let queue = loop {
        let line = tokio::time::timeout(Duration::from_secs(60), stderr.next_line())
            .await
            .expect("the watch starts listening within a minute")
            .expect("stderr")
            .expect("the watch says where it listens");
        eprintln!("mozci: {line}");
        if let Some(rest) = line.split("(queue ").nth(1) {
            break rest.trim_end_matches(')').to_string();
        }
    };
    tokio::spawn(async move {
        while let Ok(Some(line)) = stderr.next_line().await {
            eprintln!("mozci: {line}");
        }
    });
    // A producer far faster than the consumer. First 5,000 messages while
    // the watch is stopped (SIGSTOP) and the clock with it, so no run can
    // settle and the watch cannot end: the backlog must stay on the
    // broker, filled to its bound of 1,500 and no further (a client that
    // took every delivery would leave the queue short and grow instead).
    // On Pulse, PulseGuardian mails a warning about a queue of over 2,000
    // messages and deletes one of over 8,000.
    let pid = child.id().expect("the watch's pid") as libc::pid_t;
    let signal = |number| {
        // SAFETY: kill(2) on our own child, which has not been reaped.
        let sent = unsafe { libc::kill(pid, number) };
        assert_eq!(sent, 0, "signal {number} to the watch");
    };
    let groups = decision_task_groups(&s, &rev).await;
    wait_for_consumer(&broker, &queue).await;
    signal(libc::SIGSTOP);
    let held = flood(&broker, &queue, &groups, 0..5_000, false).await;
    signal(libc::SIGCONT);
    assert_eq!(
        held, 1_500,
        "the stopped watch's queue held {held} messages, not its bound of 1,500"
    );
    // Then 5,000 more while the watch reads again and the triggered runs
    // move on, so that the watch's own messages arrive among them. The
    // watch may end (and delete its queue) before these are all sent,
    // which ends the flood.
    clock.paused.store(false, Ordering::Relaxed);
    let deepest = flood(&broker, &queue, &groups, 5_000..10_000, true).await;
    assert!(
        deepest <= 1_500,
        "the queue held {deepest} messages, over its bound of 1,500"
    );
    let (code, doc) = finish(child).await;
    assert_eq!(code, 0, "{doc}");
    // The flood reached the watch, which read past it.
    let unreadable = doc["live_events"]["unreadable"].as_u64().unwrap_or(0);
    eprintln!("flood: the watch's live events: {}", doc["live_events"]);
    assert!(unreadable > 500, "{}", doc["live_events"]);
    assert!(!doc["verdict"].is_null(), "{doc}");
    assert_eq!(unsettled_runs(&s, &doc).await, 0, "every run settled");
    let hooks = hook_calls(&s).await.len();
    assert_eq!(
        hooks,
        records(&doc).len(),
        "one hook call per trigger record"
    );
}

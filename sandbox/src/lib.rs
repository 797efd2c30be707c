//! `mozci-sandbox`: a local Mozilla CI. Serves Treeherder, the hg pushlog,
//! Self-Serve BuildAPI (+ buildjson, allthethings) and Taskcluster on four
//! 127.0.0.1 origins, backed by a seeded job simulator persisted in SQLite.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
// Handler helpers return `Err(Response)` to answer early with a ready HTTP
// error; the response is moved straight out, so boxing it buys nothing.
#![allow(clippy::result_large_err)]

pub mod admin;
pub mod buildapi;
pub mod buildjson;
pub mod events;
pub mod faults;
pub mod hg;
pub mod hooks;
pub mod hostile;
pub mod ids;
pub mod logs;
pub mod model;
pub mod page_api;
pub mod pulse;
pub mod scenario;
pub mod sim;
pub mod store;
pub mod subscriptions;
pub mod taskcluster;
pub mod tc_auth;
pub mod treeherder;
pub mod treeherder_jobdetail;
pub mod treeherder_jobs;
pub mod treeherder_refdata;
pub mod web;
pub mod world;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::broadcast;

use crate::model::PulseEvent;
use crate::scenario::Scenario;
use crate::store::Store;
use crate::world::World;

/// Command-line settings of a sandbox.
#[derive(Debug, Clone)]
pub struct Config {
    /// Treeherder on P, hg on P+1, BuildAPI on P+2, Taskcluster on P+3; 0 picks free ports.
    pub base_port: u16,
    /// `demo` or a path to a JSON scenario file.
    pub scenario: String,
    /// SQLite file; None = a fresh temporary file.
    pub db: Option<PathBuf>,
    pub seed: u64,
    /// Simulated seconds per real second (0 = only the admin API moves the clock).
    pub speed: f64,
    /// An AMQP broker URL: publish every job state change there as the
    /// Taskcluster queue does on Pulse.
    pub pulse: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            base_port: 8100,
            scenario: "demo".into(),
            db: None,
            seed: 1,
            speed: 1.0,
            pulse: None,
        }
    }
}

/// The four origins, as printed on start.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Urls {
    pub treeherder: String,
    pub hg: String,
    pub buildapi: String,
    pub taskcluster: String,
}

/// World and store behind one lock: every change is persisted before unlocking.
pub struct Shared {
    pub world: World,
    pub store: Store,
}

#[derive(Clone)]
pub struct AppState {
    shared: Arc<Mutex<Shared>>,
    pub urls: Arc<Urls>,
    pub events: broadcast::Sender<PulseEvent>,
    /// Counter of fault draws (each draw hashes it with the seed).
    pub fault_draws: Arc<AtomicU64>,
    /// Hawk headers accepted lately (replays are refused).
    pub hawk_nonces: tc_auth::SeenNonces,
    /// Reads (GET and the like) served per origin, `/__sandbox` ones aside:
    /// what a client's polling costs (`GET /__sandbox/reads`). Only
    /// mutating requests go to the request log.
    pub reads: Arc<Mutex<std::collections::BTreeMap<String, u64>>>,
    /// The GraphQL subscription sockets (`/subscription`): their control
    /// channel and counters.
    pub live: subscriptions::Hub,
}

impl AppState {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads the world without changing it.
    pub fn read<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        f(&self.lock().world)
    }

    /// Changes the world, persists the change and publishes its events.
    pub fn update<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut guard = self.lock();
        let shared = &mut *guard;
        let out = f(&mut shared.world);
        if let Err(e) = shared.store.save(&mut shared.world) {
            eprintln!("mozci-sandbox: cannot save state: {e}");
        }
        for event in shared.world.events.drain(..) {
            // No subscribers is fine: events are only for live listeners.
            let _ = self.events.send(event);
        }
        out
    }

    /// Replaces the world (reset) and stores it in full.
    pub fn replace(&self, world: World) -> Result<(), String> {
        let mut guard = self.lock();
        let shared = &mut *guard;
        shared.world = world;
        shared.store.save_all(&mut shared.world)
    }
}

/// A running sandbox.
pub struct Sandbox {
    pub urls: Urls,
    pub state: AppState,
    /// The SQLite file in use.
    pub db: PathBuf,
    /// Whether `db` is a temporary file made for this run (no `--db`).
    pub temporary_db: bool,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Sandbox {
    /// Serves until every server stops (in practice: until the process is killed).
    pub async fn wait(self) {
        for task in self.tasks {
            let _ = task.await;
        }
    }

    /// Stops serving (used by tests that restart on the same database).
    pub fn shutdown(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

async fn bind(port: u16) -> Result<TcpListener, String> {
    TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))
}

fn default_db_path() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    std::env::temp_dir().join(format!(
        "mozci-sandbox-{}-{nanos}.sqlite",
        std::process::id()
    ))
}

/// Opens (or creates) the state and starts the four servers and the clock.
pub async fn start(config: Config) -> Result<Sandbox, String> {
    let mut listeners = Vec::new();
    for offset in 0..4u16 {
        let port = if config.base_port == 0 {
            0
        } else {
            config.base_port + offset
        };
        listeners.push(bind(port).await?);
    }
    let mut addrs = Vec::new();
    for listener in &listeners {
        addrs.push(listener.local_addr().map_err(|e| e.to_string())?);
    }
    let origin = |i: usize| format!("http://{}", addrs[i]);
    let urls = Urls {
        treeherder: origin(0),
        hg: origin(1),
        buildapi: origin(2),
        taskcluster: origin(3),
    };

    let pulse = config.pulse.as_deref().map(pulse::address).transpose()?;
    let temporary_db = config.db.is_none();
    let db = config.db.clone().unwrap_or_else(default_db_path);
    let mut store = Store::open(&db)?;
    let loaded = store.load()?;
    let fresh = loaded.is_none();
    let world = match loaded {
        Some(world) => world,
        None => World::new(Scenario::load(&config.scenario)?, config.seed),
    };
    let (events, _) = broadcast::channel(1024);
    let state = AppState {
        shared: Arc::new(Mutex::new(Shared { world, store })),
        urls: Arc::new(urls.clone()),
        events,
        fault_draws: Arc::new(AtomicU64::new(0)),
        hawk_nonces: tc_auth::SeenNonces::default(),
        reads: Arc::default(),
        live: subscriptions::Hub::default(),
    };
    if fresh {
        let world = state.read(|w| w.clone());
        state.replace(world)?;
    }

    let routers = [
        faults::wrap(
            treeherder::router()
                .merge(admin::router())
                .merge(hostile::router())
                .merge(page_api::router())
                .merge(subscriptions::admin_router()),
            "treeherder",
            &state,
        ),
        faults::wrap(hg::router(), "hg", &state),
        faults::wrap(
            buildapi::router().merge(buildjson::router()),
            "buildapi",
            &state,
        ),
        faults::wrap(
            taskcluster::router().merge(subscriptions::router()),
            "taskcluster",
            &state,
        ),
    ];
    let mut tasks = Vec::new();
    for (listener, router) in listeners.into_iter().zip(routers) {
        let app = router.with_state(state.clone());
        tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("mozci-sandbox: server stopped: {e}");
            }
        }));
    }
    if let Some(address) = pulse {
        tasks.push(pulse::spawn(address, state.events.subscribe()));
    }
    if config.speed > 0.0 {
        tasks.push(tokio::spawn(run_clock(state.clone(), config.speed)));
    }
    Ok(Sandbox {
        urls,
        state,
        db,
        temporary_db,
        tasks,
    })
}

/// Moves the simulated clock at `speed` simulated seconds per real second.
async fn run_clock(state: AppState, speed: f64) {
    let tick = Duration::from_millis(250);
    let mut carried = 0.0;
    loop {
        tokio::time::sleep(tick).await;
        carried += speed * tick.as_secs_f64();
        let whole = carried.floor();
        if whole >= 1.0 {
            carried -= whole;
            state.update(|w| {
                let target = w.clock + whole as i64;
                w.advance_to(target);
            });
        }
    }
}

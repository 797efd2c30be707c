//! `mozci-sandbox`: parses the command line, starts the local Mozilla CI and
//! prints its four origins as one JSON line.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::path::PathBuf;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "mozci-sandbox",
    about = "A local Mozilla CI: Treeherder, hg, Self-Serve BuildAPI and Taskcluster"
)]
struct Args {
    /// Treeherder on P, hg on P+1, BuildAPI on P+2, Taskcluster on P+3 (0 = free ports).
    #[arg(long, default_value_t = 8100)]
    base_port: u16,
    /// Built-in scenario name (`demo`) or a JSON scenario file.
    #[arg(long, default_value = "demo")]
    scenario: String,
    /// SQLite state file (default: a fresh temporary file). Reused state survives restarts.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Seed of the simulator's draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Simulated seconds per real second (0 = the clock moves only via POST /__sandbox/advance).
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Publish every job state change to this AMQP broker
    /// (amqp://user:password@127.0.0.1:PORT/%2f, e.g. from scripts/rabbitmq)
    /// on the Taskcluster queue's Pulse exchanges.
    #[arg(long, value_name = "AMQP_URL")]
    pulse: Option<String>,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let config = mozci_sandbox::Config {
        base_port: args.base_port,
        scenario: args.scenario,
        db: args.db,
        seed: args.seed,
        speed: args.speed,
        pulse: args.pulse,
    };
    let sandbox = match mozci_sandbox::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mozci-sandbox: {e}");
            std::process::exit(1);
        }
    };
    match serde_json::to_string(&sandbox.urls) {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("mozci-sandbox: {e}");
            std::process::exit(1);
        }
    }
    let (db, temporary) = (sandbox.db.clone(), sandbox.temporary_db);
    tokio::select! {
        _ = sandbox.wait() => {}
        _ = stop_signal() => {}
    }
    if temporary {
        // A temporary database is of no use after this run.
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    }
}

/// Ctrl-C or SIGTERM (how test harnesses stop the sandbox).
async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return interrupt.await.unwrap_or(()),
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

//! The local Mozilla CI (`mozci-sandbox`) as a child process: started on
//! free ports, its origins read from the one JSON line it prints, killed on
//! drop, its state database removed with it.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The newest push of a `/__sandbox/summary` listing (its rows are oldest
/// first) on which the job `label` failed.
pub fn newest_failed_push<'a>(
    rows: &'a [serde_json::Value],
    label: &str,
) -> Option<&'a serde_json::Value> {
    rows.iter().rev().find(|r| {
        r["failed"]
            .as_array()
            .is_some_and(|f| f.iter().any(|l| l == label))
    })
}

/// The four origins the sandbox serves.
#[derive(Debug, Clone, Deserialize)]
pub struct SandboxOrigins {
    pub treeherder: String,
    pub hg: String,
    pub buildapi: String,
    pub taskcluster: String,
}

pub struct Sandbox {
    pub origins: SandboxOrigins,
    /// Its entry in [`running_sandboxes`].
    number: u32,
    child: Child,
    /// The state database the harness chose (no `--db` given), removed on
    /// drop: the child is killed outright, so it cannot remove it itself.
    own_db: Option<PathBuf>,
}

/// Numbers the sandboxes (and their databases) one test process starts.
static SANDBOXES_STARTED: AtomicU32 = AtomicU32::new(0);

/// The sandboxes of this process that are running, by number.
static RUNNING: Mutex<Vec<(u32, SandboxOrigins)>> = Mutex::new(Vec::new());

/// The origins of every sandbox this process started and has not dropped:
/// the ones a browser session enables in the add-on's options, as a
/// developer would (the add-on uses no sandbox it was not told about).
pub fn running_sandboxes() -> Vec<SandboxOrigins> {
    RUNNING
        .lock()
        .map(|r| r.iter().map(|(_, o)| o.clone()).collect())
        .unwrap_or_default()
}

/// A sandbox endpoint's JSON answer.
async fn get_json(url: &str) -> Result<serde_json::Value> {
    let client = mozci::http::NativeClient::new(Duration::from_secs(10))?;
    Ok(mozci::http::get_json(&client, url, "sandbox").await?)
}

/// The SQLite database at `db` and its write-ahead files.
fn remove_database(db: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(name);
    }
}

impl Sandbox {
    /// Where the sandbox binary is: `$MOZCI_SANDBOX_BIN`, else the workspace's
    /// target directory (build it first with `cargo build -p mozci-sandbox`).
    pub fn binary() -> PathBuf {
        if let Some(p) = std::env::var_os("MOZCI_SANDBOX_BIN") {
            return PathBuf::from(p);
        }
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| crate::repo_root().join("target"));
        target.join("debug").join("mozci-sandbox")
    }

    /// Start the sandbox with `--base-port 0` and the given extra arguments
    /// (e.g. `["--scenario", "demo", "--speed", "0"]`).
    pub async fn start(args: &[&str]) -> Result<Sandbox> {
        let bin = Self::binary();
        if !bin.is_file() {
            bail!(
                "{} is missing: run `cargo build -p mozci-sandbox` first",
                bin.display()
            );
        }
        let number = SANDBOXES_STARTED.fetch_add(1, Ordering::Relaxed);
        let own_db = (!args.contains(&"--db")).then(|| {
            std::env::temp_dir().join(format!(
                "mozci-harness-sandbox-{}-{number}.sqlite",
                std::process::id()
            ))
        });
        let mut command = Command::new(&bin);
        command.arg("--base-port").arg("0").args(args);
        if let Some(db) = &own_db {
            remove_database(db);
            command.arg("--db").arg(db);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("sandbox stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .context("the sandbox printed nothing within 30 s")??
            .context("the sandbox exited before printing its origins")?;
        let origins: SandboxOrigins = serde_json::from_str(&first)
            .with_context(|| format!("the sandbox's first line is not its origins: {first}"))?;
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        if let Ok(mut running) = RUNNING.lock() {
            running.push((number, origins.clone()));
        }
        Ok(Sandbox {
            origins,
            number,
            child,
            own_db,
        })
    }

    /// The start-up line again, for `mozci --sandbox` and friends.
    pub fn origins_json(&self) -> serde_json::Value {
        let o = &self.origins;
        serde_json::json!({ "treeherder": o.treeherder, "hg": o.hg, "buildapi": o.buildapi, "taskcluster": o.taskcluster })
    }

    /// Treeherder's job view of the newest autoland push on which the demo
    /// scenario's browser-chrome run failed, with that run selected (a job
    /// Backfill applies to).
    pub async fn demo_failing_job_view(&self) -> Result<String> {
        let th = &self.origins.treeherder;
        let summary = get_json(&format!("{th}/__sandbox/summary?repo=autoland")).await?;
        let label = "test-linux64/opt-mochitest-browser-chrome-1";
        let row = summary
            .as_array()
            .and_then(|rows| newest_failed_push(rows, label))
            .context("the demo scenario has no failing browser-chrome run")?;
        let push_id = row["push_id"].as_u64().context("push id")?;
        let revision = row["revision"].as_str().context("revision")?;
        let jobs = get_json(&format!(
            "{th}/__sandbox/jobs?repo=autoland&push_id={push_id}&label={label}"
        ))
        .await?;
        let task = jobs
            .as_array()
            .and_then(|jobs| jobs.iter().find(|j| j["result"] == "testfailed"))
            .and_then(|j| j["taskcluster"]["task_id"].as_str())
            .context("the failing run has a task id")?;
        Ok(format!(
            "{th}/jobs?repo=autoland&revision={revision}&selectedTaskRun={task}.0"
        ))
    }

    /// The state database the harness made for this sandbox (`None` when
    /// the caller passed `--db`).
    pub fn own_database(&self) -> Option<&std::path::Path> {
        self.own_db.as_deref()
    }

    pub async fn stop(mut self) -> Result<()> {
        self.child.kill().await.context("stopping the sandbox")?;
        Ok(())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Ok(mut running) = RUNNING.lock() {
            running.retain(|(n, _)| *n != self.number);
        }
        // Unlinking while the killed child still holds the file is fine:
        // the space is freed once it exits.
        if let Some(db) = &self.own_db {
            remove_database(db);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn the_state_database_goes_with_the_sandbox() -> Result<()> {
        let sandbox = Sandbox::start(&["--speed", "0"]).await?;
        let db = sandbox
            .own_database()
            .context("no --db given: the harness chose one")?
            .to_path_buf();
        assert!(db.is_file(), "{} while the sandbox runs", db.display());
        drop(sandbox);
        assert!(!db.exists(), "{} left behind", db.display());
        let mut wal = db.into_os_string();
        wal.push("-wal");
        assert!(!std::path::Path::new(&wal).exists(), "WAL file left behind");
        Ok(())
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_database_given_by_the_caller_is_theirs() -> Result<()> {
        let db =
            std::env::temp_dir().join(format!("mozci-harness-given-{}.sqlite", std::process::id()));
        let path = db.to_string_lossy().into_owned();
        let sandbox = Sandbox::start(&["--speed", "0", "--db", &path]).await?;
        assert!(sandbox.own_database().is_none());
        sandbox.stop().await?;
        assert!(db.is_file(), "the caller's database is kept");
        remove_database(&db);
        Ok(())
    }
}

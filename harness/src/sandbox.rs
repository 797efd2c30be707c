//! The local Mozilla CI (`mozci-sandbox`) as a child process: started on
//! free ports, its origins read from the one JSON line it prints, killed on drop.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::PathBuf;
use std::process::Stdio;
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
    child: Child,
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
        let mut child = Command::new(&bin)
            .arg("--base-port")
            .arg("0")
            .args(args)
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
        Ok(Sandbox { origins, child })
    }

    /// The start-up line again, for `mozci --sandbox` and friends.
    pub fn origins_json(&self) -> serde_json::Value {
        let o = &self.origins;
        serde_json::json!({ "treeherder": o.treeherder, "hg": o.hg, "buildapi": o.buildapi, "taskcluster": o.taskcluster })
    }

    pub async fn stop(mut self) -> Result<()> {
        self.child.kill().await.context("stopping the sandbox")?;
        Ok(())
    }
}

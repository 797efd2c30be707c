//! The binary's interface: flags, the single JSON line of origins on stdout,
//! four distinct origins, and state kept across a restart with `--db`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

fn spawn(db: &std::path::Path) -> (Child, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mozci-sandbox"))
        .args([
            "--base-port",
            "0",
            "--speed",
            "0",
            "--seed",
            "3",
            "--scenario",
            "demo",
            "--db",
        ])
        .arg(db)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, serde_json::from_str(&line).unwrap())
}

#[tokio::test]
async fn prints_its_origins_and_keeps_state_across_restarts() {
    let db = std::env::temp_dir().join(format!("mozci-sandbox-cli-{}.sqlite", std::process::id()));
    let (mut child, urls) = spawn(&db);
    let keys: Vec<&String> = urls.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4);
    let origins: std::collections::BTreeSet<&str> = urls
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(origins.len(), 4, "one port per origin");
    let http = reqwest::Client::new();
    let th = urls["treeherder"].as_str().unwrap();
    let state: Value = http
        .get(format!("{th}/__sandbox/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["seed"], 3);
    assert_eq!(state["scenario"], "demo");
    let repos: Value = http
        .get(format!("{th}/api/repository/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(repos.as_array().unwrap().len(), 4);
    let advanced: Value = http
        .post(format!("{th}/__sandbox/advance"))
        .json(&serde_json::json!({"seconds": 777}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();

    let (mut again, urls) = spawn(&db);
    let th = urls["treeherder"].as_str().unwrap();
    let state: Value = http
        .get(format!("{th}/__sandbox/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        state["clock"], advanced["clock"],
        "the clock survives the restart"
    );
    again.kill().unwrap();
    again.wait().unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
}

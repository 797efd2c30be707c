//! The sandbox's admin API (`/__sandbox/…` on its Treeherder origin) as the
//! browser tests, the engine tests and the benchmarks use it: the request
//! log, the scenario's pushes and jobs, the simulated clock and faults.

use crate::sandbox::Sandbox;
use anyhow::{anyhow, ensure, Context, Result};
use serde_json::Value;

/// A client of one sandbox's admin API.
#[derive(Clone)]
pub struct SandboxAdmin {
    http: reqwest::Client,
    treeherder: String,
}

impl SandboxAdmin {
    pub fn new(sandbox: &Sandbox) -> SandboxAdmin {
        SandboxAdmin {
            http: reqwest::Client::new(),
            treeherder: sandbox.origins.treeherder.clone(),
        }
    }

    /// The JSON answer to `GET <treeherder><path>`; an error status is an error.
    pub async fn get(&self, path: &str) -> Result<Value> {
        let url = format!("{}{path}", self.treeherder);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .with_context(|| url.clone())?;
        ensure!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
        Ok(serde_json::from_slice(&response.bytes().await?)?)
    }

    /// `POST <treeherder><path>` with `body` as JSON; an error status is an
    /// error. The answer as JSON (`null` when it is not).
    pub async fn post(&self, path: &str, body: Value) -> Result<Value> {
        let url = format!("{}{path}", self.treeherder);
        let response = self
            .http
            .post(&url)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .with_context(|| url.clone())?;
        ensure!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
        Ok(serde_json::from_slice(&response.bytes().await?).unwrap_or(Value::Null))
    }

    /// Id of the newest logged request (0 when none).
    pub async fn last_request_id(&self) -> Result<u64> {
        let log = self.get("/__sandbox/requests").await?;
        Ok(log
            .as_array()
            .and_then(|a| a.iter().filter_map(|r| r["id"].as_u64()).max())
            .unwrap_or(0))
    }

    /// The request log after request `after`, of `origin` (`treeherder`,
    /// `buildapi`, `taskcluster`, …) or of every origin.
    pub async fn requests_after(&self, origin: Option<&str>, after: u64) -> Result<Vec<Value>> {
        let origin = origin.map(|o| format!("origin={o}&")).unwrap_or_default();
        let log = self
            .get(&format!("/__sandbox/requests?{origin}after={after}"))
            .await?;
        Ok(log.as_array().cloned().unwrap_or_default())
    }

    /// Hook triggers (POSTs to Taskcluster's hooks service) logged after
    /// request `after`.
    pub async fn hook_calls_after(&self, after: u64) -> Result<Vec<Value>> {
        Ok(self
            .requests_after(Some("taskcluster"), after)
            .await?
            .into_iter()
            .filter(|r| {
                r["method"] == "POST"
                    && r["path"]
                        .as_str()
                        .is_some_and(|p| p.contains("/api/hooks/v1/hooks/"))
            })
            .collect())
    }

    /// The push of `repo` at `index` in the scenario (oldest = 0), as
    /// `/__sandbox/summary` lists it.
    pub async fn push_at(&self, repo: &str, index: u64) -> Result<Value> {
        let summary = self.get(&format!("/__sandbox/summary?repo={repo}")).await?;
        summary
            .as_array()
            .and_then(|a| a.iter().find(|p| p["index"].as_u64() == Some(index)))
            .cloned()
            .ok_or_else(|| anyhow!("no push {index} of {repo}"))
    }

    /// The simulator's records of the runs of `label` on push `push_id`.
    pub async fn jobs(&self, repo: &str, push_id: u64, label: &str) -> Result<Vec<Value>> {
        let label: String = url::form_urlencoded::byte_serialize(label.as_bytes()).collect();
        let jobs = self
            .get(&format!(
                "/__sandbox/jobs?repo={repo}&push_id={push_id}&label={label}"
            ))
            .await?;
        Ok(jobs.as_array().cloned().unwrap_or_default())
    }

    /// The confirm-failures hook calls the sandbox received, each checked
    /// against the simulator's confirm tasks `confirm_label` of `repo`:
    /// a push is asked again only once every confirm task already on it
    /// had finished (the answer to the call before was in; asking while it
    /// was on its way would ask the same question twice). Returns the calls.
    pub async fn confirm_calls_each_after_the_last_answer(
        &self,
        repo: &str,
        confirm_label: &str,
    ) -> Result<Vec<Value>> {
        let label: String =
            url::form_urlencoded::byte_serialize(confirm_label.as_bytes()).collect();
        let tasks = self
            .get(&format!("/__sandbox/jobs?repo={repo}&label={label}"))
            .await?;
        let tasks = tasks.as_array().cloned().unwrap_or_default();
        let calls: Vec<Value> = self
            .hook_calls_after(0)
            .await?
            .into_iter()
            .filter(|c| hook_callback(c) == "confirm-failures")
            .collect();
        for call in &calls {
            let body: Value = serde_json::from_str(call["body"].as_str().unwrap_or(""))?;
            let revision = body["decision"]["push"]["revision"]
                .as_str()
                .context("the call's push revision")?;
            let at = call["time"].as_i64().context("the call's time")?;
            for task in tasks
                .iter()
                .filter(|t| t["revision"] == revision)
                .filter(|t| t["submit"].as_i64().is_some_and(|s| s < at))
            {
                ensure!(
                    task["end"].as_i64().is_some_and(|end| end <= at),
                    "confirm-failures asked again on {revision} at {at} while {task} was on its way"
                );
            }
        }
        Ok(calls)
    }
}

/// The in-tree action callback (`cb_name`) a logged hook call asked for.
pub fn hook_callback(call: &Value) -> String {
    serde_json::from_str::<Value>(call["body"].as_str().unwrap_or(""))
        .ok()
        .and_then(|b| {
            b["decision"]["action"]["cb_name"]
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_default()
}

//! Taskcluster Index lookups (`<root>/api/index/v1/task/<namespace>`), used
//! to find a push's decision task from its repository and revision.

#![warn(missing_docs)]

use super::timestamp::parse_iso8601_ms;
use super::RootUrl;
use crate::error::{Error, Result};
use serde_json::Value;

/// `gecko.v2.<repo>.revision.<rev>.taskgraph.decision`: where Firefox CI's
/// decision tasks index themselves. The repository is its short name
/// (`autoland`, `mozilla-central`, `try`) and the revision a full 40-hex id.
pub fn decision_task_namespace(repo: &str, revision: &str) -> Result<String> {
    let repo_ok = !repo.is_empty()
        && repo
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !repo_ok {
        return Err(Error::Invalid(format!(
            "{repo:?} is not a repository short name (letters, digits, `-`, `_`)"
        )));
    }
    let revision_ok = revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit());
    if !revision_ok {
        return Err(Error::Invalid(format!(
            "{revision:?} is not a full 40-hex-digit revision"
        )));
    }
    Ok(format!(
        "gecko.v2.{repo}.revision.{}.taskgraph.decision",
        revision.to_ascii_lowercase()
    ))
}

/// `GET <root>/api/index/v1/task/<namespace>` (the Index's `findTask`).
pub fn find_task_url(root: &RootUrl, namespace: &str) -> String {
    root.endpoint(["api", "index", "v1", "task", namespace])
        .to_string()
}

/// The `findTask` URL of a push's decision task.
pub fn decision_task_index_url(root: &RootUrl, repo: &str, revision: &str) -> Result<String> {
    Ok(find_task_url(
        root,
        &decision_task_namespace(repo, revision)?,
    ))
}

/// An indexed task.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IndexedTask {
    /// The namespace the task is indexed under.
    pub namespace: String,
    /// `taskId`: the indexed task.
    pub task_id: String,
    /// `rank`: among tasks indexed under one namespace, the highest rank wins.
    pub rank: Option<i64>,
    /// Milliseconds since the Unix epoch.
    pub expires_ms: Option<i64>,
}

/// Parse a `findTask` answer (`{namespace, taskId, rank, data, expires}`).
pub fn parse_find_task(body: &[u8]) -> Result<IndexedTask> {
    const SOURCE: &str = "Taskcluster index entry";
    let entry: Value = serde_json::from_slice(body).map_err(|e| Error::json(SOURCE, &e))?;
    let task_id = entry
        .get("taskId")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Error::parse_field(SOURCE, "taskId", "expected a task id"))?;
    Ok(IndexedTask {
        namespace: entry
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        task_id: task_id.to_string(),
        rank: entry.get("rank").and_then(Value::as_i64),
        expires_ms: entry
            .get("expires")
            .and_then(Value::as_str)
            .and_then(parse_iso8601_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REV: &str = "C7766D0B4A121985A8B07E6721D66CCAB57BBF76";

    #[test]
    fn decision_task_url_of_a_push() {
        let root = RootUrl::parse("https://firefox-ci-tc.services.mozilla.com/").unwrap();
        assert_eq!(
            decision_task_index_url(&root, "autoland", REV).unwrap(),
            "https://firefox-ci-tc.services.mozilla.com/api/index/v1/task/\
             gecko.v2.autoland.revision.c7766d0b4a121985a8b07e6721d66ccab57bbf76.taskgraph.decision"
        );
    }

    #[test]
    fn namespaces_cannot_be_bent_by_their_parts() {
        assert!(decision_task_namespace("auto.land", REV).is_err());
        assert!(decision_task_namespace("a/b", REV).is_err());
        assert!(decision_task_namespace("", REV).is_err());
        assert!(decision_task_namespace("autoland", "c7766d0b4a12").is_err());
        assert!(decision_task_namespace("autoland", &"g".repeat(40)).is_err());
    }

    #[test]
    fn find_task_answers_give_the_task_id() {
        let entry = parse_find_task(
            br#"{"namespace": "gecko.v2.autoland.revision.x.taskgraph.decision",
                 "taskId": "f7Jj_h6MTEKr5Ln_7aFqbw", "rank": 1583815073, "data": {},
                 "expires": "2021-03-10T04:40:43.718Z"}"#,
        )
        .unwrap();
        assert_eq!(entry.task_id, "f7Jj_h6MTEKr5Ln_7aFqbw");
        assert_eq!(entry.rank, Some(1_583_815_073));
        assert_eq!(entry.expires_ms, Some(1_615_351_243_718));
        assert!(parse_find_task(br#"{"namespace": "x"}"#).is_err());
        assert!(parse_find_task(br#"{"taskId": ""}"#).is_err());
        assert!(parse_find_task(b"[]").is_err());
    }
}

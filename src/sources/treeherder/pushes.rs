//! Treeherder pushes: `/api/project/{repo}/push/` (2015: `/resultset/`) and
//! `push/decisiontask/`.
//!
//! Treeherder lists pushes newest first, each with at most 20 revisions (also
//! newest first); conversion to [`crate::model::Push`] restores pushlog order.

#![warn(missing_docs)]

use super::fields::{expect_array, expect_object, parse_body, Record};
use crate::error::{Error, Result};
use crate::model::{Changeset, Push, Revision};

const PUSH_LIST: &str = "Treeherder push list";
const DECISION_TASKS: &str = "Treeherder push decision tasks";

/// One page of `/push/` (or `/resultset/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushList {
    /// `meta.count`: how many pushes the server says this page holds.
    pub count: Option<u64>,
    /// `meta.repository`.
    pub repository: Option<String>,
    /// As sent: newest first.
    pub pushes: Vec<TreeherderPush>,
}

/// One push as Treeherder describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeherderPush {
    /// Treeherder's push id (the `push_id` of its jobs; not the pushlog's id).
    pub id: u64,
    /// The push's tip revision (12 digits in 2015 result sets).
    pub revision: Revision,
    /// Who pushed (an email address).
    pub author: String,
    /// When it was pushed, Unix seconds.
    pub push_timestamp: i64,
    /// The push's total number of changesets, which may exceed `revisions.len()`.
    pub revision_count: Option<u64>,
    /// Treeherder's id of the repository (see `/api/repository/`).
    pub repository_id: Option<u64>,
    /// Changesets as sent: newest first, at most 20.
    pub revisions: Vec<Changeset>,
}

/// A push's decision task, from `push/decisiontask/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionTask {
    /// The Treeherder push id (the answer's key).
    pub push_id: u64,
    /// The decision task's Taskcluster task id (`id`).
    pub task_id: String,
    /// The decision task's run id.
    pub run: u32,
}

impl PushList {
    /// The pushes as model pushes of `repository`, oldest first (by id).
    pub fn to_model_pushes(&self, repository: &str) -> Vec<Push> {
        let mut pushes: Vec<Push> = self
            .pushes
            .iter()
            .map(|p| p.to_model_push(repository))
            .collect();
        pushes.sort_by_key(|p| p.id);
        pushes
    }
}

impl TreeherderPush {
    /// A model push with changesets oldest first. When Treeherder truncated
    /// the list (`revision_count` > 20) only the newest changesets are known.
    pub fn to_model_push(&self, repository: &str) -> Push {
        Push {
            id: self.id,
            revision: self.revision.clone(),
            changesets: self.revisions.iter().rev().cloned().collect(),
            author: self.author.clone(),
            date: self.push_timestamp,
            repository: repository.to_string(),
        }
    }

    /// Whether `revisions` holds every changeset of the push.
    pub fn has_all_revisions(&self) -> bool {
        self.revision_count
            .is_none_or(|n| n <= self.revisions.len() as u64)
    }
}

/// Parse `/api/project/{repo}/push/` or the 2015 `/resultset/` (same shape;
/// extra 2015 fields such as `revision_hash` are ignored). A bare array of
/// pushes (the results without `meta`) is accepted too.
pub fn parse_push_list(body: &[u8]) -> Result<PushList> {
    let root = parse_body(body, PUSH_LIST)?;
    let (meta, results, prefix) = match &root {
        serde_json::Value::Array(items) => (None, items.as_slice(), ""),
        other => {
            let obj = expect_object(other, PUSH_LIST, "")?;
            let results = obj
                .get("results")
                .ok_or_else(|| Error::parse_field(PUSH_LIST, "results", "missing"))?;
            let meta = match obj.get("meta") {
                None | Some(serde_json::Value::Null) => None,
                Some(meta) => Some(Record::object(meta, PUSH_LIST, "meta")?),
            };
            (
                meta,
                expect_array(results, PUSH_LIST, "results")?,
                "results.",
            )
        }
    };
    let (count, repository) = match &meta {
        Some(meta) => (meta.opt_u64("count")?, meta.opt_string("repository")?),
        None => (None, None),
    };
    let pushes = results
        .iter()
        .enumerate()
        .map(|(i, item)| parse_push(item, &format!("{prefix}{i}")))
        .collect::<Result<Vec<_>>>()?;
    Ok(PushList {
        count,
        repository,
        pushes,
    })
}

fn parse_push(item: &serde_json::Value, path: &str) -> Result<TreeherderPush> {
    let push = Record::object(item, PUSH_LIST, path)?;
    let revisions = push
        .opt_array("revisions")?
        .iter()
        .enumerate()
        .map(|(i, rev)| parse_revision(rev, &format!("{}.{i}", push.field_path("revisions"))))
        .collect::<Result<Vec<_>>>()?;
    Ok(TreeherderPush {
        id: push.u64("id")?,
        revision: Revision(push.str("revision")?.to_string()),
        author: push.opt_str("author")?.unwrap_or_default().to_string(),
        push_timestamp: push.i64("push_timestamp")?,
        revision_count: push.opt_u64("revision_count")?,
        repository_id: push.opt_u64("repository_id")?,
        revisions,
    })
}

/// A revision entry; its message is `comments` in most payloads and
/// `comment` in the 2025 sample.
fn parse_revision(item: &serde_json::Value, path: &str) -> Result<Changeset> {
    let rev = Record::object(item, PUSH_LIST, path)?;
    let desc = match rev.opt_str("comments")? {
        Some(text) => text,
        None => rev.opt_str("comment")?.unwrap_or_default(),
    };
    Ok(Changeset {
        node: Revision(rev.str("revision")?.to_string()),
        author: rev.opt_str("author")?.unwrap_or_default().to_string(),
        desc: desc.to_string(),
    })
}

/// Parse `push/decisiontask/`: `{"<pushId>": {"id": "<taskId>", "run": "0"}}`,
/// returned sorted by push id.
pub fn parse_decision_tasks(body: &[u8]) -> Result<Vec<DecisionTask>> {
    let root = parse_body(body, DECISION_TASKS)?;
    let obj = expect_object(&root, DECISION_TASKS, "")?;
    let mut tasks = obj
        .iter()
        .map(|(key, value)| {
            let push_id = key.parse::<u64>().map_err(|_| {
                Error::parse_field(DECISION_TASKS, key, "key is not a numeric push id")
            })?;
            let entry = Record::object(value, DECISION_TASKS, key)?;
            Ok(DecisionTask {
                push_id,
                task_id: entry.str("id")?.to_string(),
                run: entry.lenient_u32("run")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    tasks.sort_by_key(|t| t.push_id);
    Ok(tasks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_tasks_accept_string_or_number_runs() {
        let body = br#"{"12": {"id": "Abc-_0123456789ABCDEFGH", "run": "1"},
                        "9": {"id": "Zyx-_0123456789ABCDEFGH", "run": 0, "extra": true}}"#;
        let tasks = parse_decision_tasks(body).unwrap();
        assert_eq!(
            tasks,
            [
                DecisionTask {
                    push_id: 9,
                    task_id: "Zyx-_0123456789ABCDEFGH".into(),
                    run: 0
                },
                DecisionTask {
                    push_id: 12,
                    task_id: "Abc-_0123456789ABCDEFGH".into(),
                    run: 1
                },
            ]
        );
    }

    #[test]
    fn decision_task_errors_name_the_field() {
        for (body, field) in [
            (&br#"{"x": {"id": "t", "run": 0}}"#[..], "x"),
            (br#"{"3": {"run": 0}}"#, "3.id"),
            (br#"{"3": {"id": "t", "run": "zero"}}"#, "3.run"),
            (br#"{"3": {"id": "t", "run": -1}}"#, "3.run"),
        ] {
            match parse_decision_tasks(body) {
                Err(Error::Parse { field: got, .. }) => assert_eq!(got.as_deref(), Some(field)),
                other => panic!("expected a parse error, got {other:?}"),
            }
        }
    }

    #[test]
    fn truncated_revision_lists_are_flagged() {
        let body = br#"[{"id": 5, "revision": "r5", "author": "a", "push_timestamp": 10,
            "revision_count": 3, "revisions": [
              {"revision": "r5", "author": "x", "comments": "newest"},
              {"revision": "r4", "author": "y", "comment": "older"}]}]"#;
        let list = parse_push_list(body).unwrap();
        assert_eq!((list.count, list.repository.as_deref()), (None, None));
        let push = &list.pushes[0];
        assert!(!push.has_all_revisions());
        let model = push.to_model_push("autoland");
        let descs: Vec<&str> = model.changesets.iter().map(|c| c.desc.as_str()).collect();
        assert_eq!(descs, ["older", "newest"]);
        assert_eq!(model.revision.0, "r5");
    }
}

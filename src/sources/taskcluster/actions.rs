//! The decision task's `public/actions.json`: which actions a push offers,
//! and which one applies to a given task (the rule Treeherder and the
//! Taskcluster actions specification use).

#![warn(missing_docs)]

use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

const SOURCE: &str = "actions.json";

/// The artifact holding a decision task's actions.
pub const ACTIONS_ARTIFACT: &str = "public/actions.json";

/// The only `actions.json` format version defined.
pub(crate) const SUPPORTED_VERSION: u64 = 1;

/// A parsed `actions.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionsJson {
    /// Merged into the JSON-e context of every hook payload.
    pub variables: Map<String, Value>,
    /// In file order: the order decides which of several same-named actions wins.
    pub actions: Vec<Action>,
}

/// One action entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// The action's name (`retrigger`, `backfill`, …); several entries may share it.
    pub name: String,
    /// A one-line title for menus.
    pub title: String,
    /// A longer description of what it does.
    pub description: String,
    /// Tag-sets; the action applies to a task carrying all tags of any one of
    /// them. Empty: a push-level action, offered only when no task is given.
    pub context: Vec<BTreeMap<String, String>>,
    /// The input's JSON schema; `None` when the action takes no input.
    pub schema: Option<Value>,
    /// How it is carried out (`kind`: `hook`, `task`, …).
    pub kind: ActionKind,
    /// `extra` as given (e.g. `{"actionPerm": "generic"}`).
    pub extra: Value,
}

/// How an action is carried out.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionKind {
    /// Trigger a Taskcluster hook with a JSON-e rendered payload (current Firefox CI).
    Hook {
        /// `hookGroupId` (`project-gecko`).
        hook_group_id: String,
        /// `hookId` (`in-tree-action-3-generic/<hash>`).
        hook_id: String,
        /// `hookPayload`: the JSON-e template of the hook's payload.
        hook_payload: Value,
    },
    /// Create a task from a JSON-e template (the older form). Parsed so that a
    /// file using it still reads, but not triggerable by this client.
    Task {
        /// `task`: the JSON-e template of the task definition.
        task: Value,
    },
    /// A kind this client does not know; never selected.
    Other(String),
}

impl Action {
    /// Whether this action is offered for a task with `task_tags`, or, with
    /// `None`, at the level of the whole push.
    pub fn applies_to(&self, task_tags: Option<&BTreeMap<String, String>>) -> bool {
        match task_tags {
            None => self.context.is_empty(),
            Some(tags) => self.context.iter().any(|tag_set| {
                tag_set
                    .iter()
                    .all(|(name, value)| tags.get(name) == Some(value))
            }),
        }
    }

    /// The hook to trigger, or why this action cannot be triggered here.
    pub fn hook(&self) -> Result<(&str, &str, &Value)> {
        match &self.kind {
            ActionKind::Hook {
                hook_group_id,
                hook_id,
                hook_payload,
            } => Ok((hook_group_id, hook_id, hook_payload)),
            ActionKind::Task { .. } => Err(Error::Invalid(format!(
                "action `{}` is of kind \"task\" (created as a task from a template); \
                 only \"hook\" actions can be triggered",
                self.name
            ))),
            ActionKind::Other(kind) => Err(Error::Invalid(format!(
                "action `{}` is of unknown kind {kind:?}",
                self.name
            ))),
        }
    }
}

impl ActionsJson {
    /// The first action called `name` that applies to a task with `task_tags`
    /// (`None`: the push itself). Actions of unknown kinds are skipped.
    pub fn select(
        &self,
        name: &str,
        task_tags: Option<&BTreeMap<String, String>>,
    ) -> Option<&Action> {
        self.actions.iter().find(|action| {
            action.name == name
                && !matches!(action.kind, ActionKind::Other(_))
                && action.applies_to(task_tags)
        })
    }

    /// Like [`ActionsJson::select`], with an error saying what is missing.
    pub fn require(
        &self,
        name: &str,
        task_tags: Option<&BTreeMap<String, String>>,
    ) -> Result<&Action> {
        self.select(name, task_tags).ok_or_else(|| {
            let offered = self.actions.iter().any(|a| a.name == name);
            Error::Invalid(match (offered, task_tags.is_some()) {
                (false, _) => format!("this push's decision task offers no `{name}` action"),
                (true, true) => format!("the `{name}` action does not apply to this task"),
                (true, false) => format!("the `{name}` action needs a task to act on"),
            })
        })
    }

    /// Names of the actions offered for `task_tags`, first occurrence only, in file order.
    pub fn names_for(&self, task_tags: Option<&BTreeMap<String, String>>) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for action in &self.actions {
            if !matches!(action.kind, ActionKind::Other(_))
                && action.applies_to(task_tags)
                && !names.contains(&action.name.as_str())
            {
                names.push(&action.name);
            }
        }
        names
    }
}

/// Parse the body of `public/actions.json`.
pub fn parse_actions_json(body: &[u8]) -> Result<ActionsJson> {
    let root: Value = serde_json::from_slice(body).map_err(|e| Error::json(SOURCE, &e))?;
    let root = root
        .as_object()
        .ok_or_else(|| Error::parse(SOURCE, "expected a JSON object"))?;
    match root.get("version").and_then(Value::as_u64) {
        Some(SUPPORTED_VERSION) => {}
        Some(other) => {
            return Err(Error::parse_field(
                SOURCE,
                "version",
                format!("version {other} is not supported (only {SUPPORTED_VERSION})"),
            ))
        }
        None => {
            return Err(Error::parse_field(
                SOURCE,
                "version",
                "missing or not a number",
            ))
        }
    }
    let variables = match root.get("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(v)) => v.clone(),
        Some(_) => {
            return Err(Error::parse_field(
                SOURCE,
                "variables",
                "expected an object",
            ))
        }
    };
    let actions = root
        .get("actions")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::parse_field(SOURCE, "actions", "expected a list"))?
        .iter()
        .enumerate()
        .map(|(i, action)| parse_action(action, &format!("actions[{i}]")))
        .collect::<Result<Vec<_>>>()?;
    Ok(ActionsJson { variables, actions })
}

/// Parse one action entry (also the form of a single action saved on its own).
pub fn parse_action_entry(body: &[u8]) -> Result<Action> {
    let action: Value = serde_json::from_slice(body).map_err(|e| Error::json(SOURCE, &e))?;
    parse_action(&action, "action")
}

fn parse_action(action: &Value, at: &str) -> Result<Action> {
    let field_error =
        |name: &str, msg: &str| Error::parse_field(SOURCE, format!("{at}.{name}"), msg);
    let text = |name: &str| -> Result<String> {
        action
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| field_error(name, "expected a string"))
    };
    let optional_text = |name: &str| {
        action
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let context = action
        .get("context")
        .and_then(Value::as_array)
        .ok_or_else(|| field_error("context", "expected a list of tag-sets"))?
        .iter()
        .enumerate()
        .map(|(i, tag_set)| {
            parse_tag_set(tag_set).ok_or_else(|| {
                field_error(&format!("context[{i}]"), "expected an object of strings")
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let kind = match text("kind")?.as_str() {
        "hook" => ActionKind::Hook {
            hook_group_id: text("hookGroupId")?,
            hook_id: text("hookId")?,
            hook_payload: action
                .get("hookPayload")
                .cloned()
                .ok_or_else(|| field_error("hookPayload", "missing"))?,
        },
        "task" => ActionKind::Task {
            task: action
                .get("task")
                .cloned()
                .ok_or_else(|| field_error("task", "missing"))?,
        },
        other => ActionKind::Other(other.to_string()),
    };
    Ok(Action {
        name: text("name")?,
        title: optional_text("title"),
        description: optional_text("description"),
        context,
        schema: action.get("schema").filter(|s| !s.is_null()).cloned(),
        kind,
        extra: action.get("extra").cloned().unwrap_or(Value::Null),
    })
}

fn parse_tag_set(tag_set: &Value) -> Option<BTreeMap<String, String>> {
    let mut tags = BTreeMap::new();
    for (k, v) in tag_set.as_object()? {
        tags.insert(k.clone(), v.as_str()?.to_string());
    }
    Some(tags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn hook_action(name: &str, context: Value, hook_id: &str) -> Value {
        json!({"name": name, "title": name, "description": "", "context": context,
               "kind": "hook", "hookGroupId": "g", "hookId": hook_id, "hookPayload": {}})
    }

    fn actions(list: Vec<Value>) -> ActionsJson {
        let body = json!({"version": 1, "variables": {}, "actions": list}).to_string();
        parse_actions_json(body.as_bytes()).unwrap()
    }

    fn hook_id(action: Option<&Action>) -> Option<&str> {
        action.and_then(|a| a.hook().ok()).map(|(_, id, _)| id)
    }

    #[test]
    fn first_applicable_action_of_a_name_wins() {
        let file = actions(vec![
            hook_action("retrigger", json!([{"kind": "decision-task"}]), "decision"),
            hook_action("retrigger", json!([{"retrigger": "true"}]), "plain"),
            hook_action("retrigger", json!([{}]), "forced"),
        ]);
        let test_task = tags(&[("kind", "test"), ("retrigger", "true")]);
        let build_task = tags(&[("kind", "build"), ("retrigger", "false")]);
        let decision = tags(&[("kind", "decision-task")]);
        assert_eq!(
            hook_id(file.select("retrigger", Some(&test_task))),
            Some("plain")
        );
        assert_eq!(
            hook_id(file.select("retrigger", Some(&build_task))),
            Some("forced")
        );
        assert_eq!(
            hook_id(file.select("retrigger", Some(&decision))),
            Some("decision")
        );
        assert_eq!(hook_id(file.select("retrigger", None)), None);
    }

    #[test]
    fn push_level_actions_need_no_task() {
        let file = actions(vec![hook_action("add-new-jobs", json!([]), "push")]);
        assert_eq!(hook_id(file.select("add-new-jobs", None)), Some("push"));
        assert_eq!(file.select("add-new-jobs", Some(&tags(&[]))), None);
        let e = file.require("add-new-jobs", Some(&tags(&[]))).unwrap_err();
        assert!(e.to_string().contains("does not apply"), "{e}");
        let e = file.require("backfill", None).unwrap_err();
        assert!(e.to_string().contains("offers no `backfill`"), "{e}");
    }

    #[test]
    fn task_kind_actions_parse_but_cannot_be_triggered() {
        let file = actions(vec![
            json!({"name": "old", "title": "", "description": "", "context": [{}],
                   "kind": "task", "task": {"$let": {}, "in": {}}}),
            json!({"name": "odd", "title": "", "description": "", "context": [{}], "kind": "mystery"}),
        ]);
        let action = file.select("old", Some(&tags(&[]))).unwrap();
        let e = action.hook().unwrap_err();
        assert!(e.to_string().contains("kind \"task\""), "{e}");
        assert_eq!(file.select("odd", Some(&tags(&[]))), None);
        assert_eq!(file.names_for(Some(&tags(&[]))), vec!["old"]);
    }

    #[test]
    fn other_versions_and_shapes_are_refused() {
        for (body, field) in [
            (json!({"version": 2, "actions": []}), Some("version")),
            (json!({"actions": []}), Some("version")),
            (json!({"version": 1}), Some("actions")),
            (
                json!({"version": 1, "variables": [], "actions": []}),
                Some("variables"),
            ),
            (
                json!({"version": 1, "actions": [{"name": "x", "context": [{"a": 1}], "kind": "hook"}]}),
                Some("actions[0].context[0]"),
            ),
            (
                json!({"version": 1, "actions": [{"name": "x", "context": [], "kind": "hook"}]}),
                Some("actions[0].hookGroupId"),
            ),
            (json!([1]), None),
        ] {
            match parse_actions_json(body.to_string().as_bytes()) {
                Err(Error::Parse { field: got, .. }) => {
                    assert_eq!(got.as_deref(), field, "{body}")
                }
                other => panic!("{body} gave {other:?}"),
            }
        }
        assert!(parse_actions_json(b"not json").is_err());
    }
}

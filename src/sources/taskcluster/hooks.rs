//! Triggering an action's hook: checking its input, rendering `hookPayload`
//! with JSON-e, and the Hawk-signed `triggerHook` request and its answer
//! (`POST <root>/api/hooks/v1/hooks/<hookGroupId>/<hookId>/trigger`).

#![warn(missing_docs)]

use super::action_schema::validate_and_fill_defaults;
use super::actions::Action;
use super::credentials::TaskclusterCredentials;
use super::hawk_auth::sign_request;
use super::RootUrl;
use crate::error::{Error, Result};
use crate::http::HttpRequest;
use serde_json::{Map, Value};

/// Everything that decides what one action trigger does.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionCall<'a> {
    /// The selected action (see [`super::actions::ActionsJson::select`]).
    pub action: &'a Action,
    /// `actions.json`'s `variables`.
    pub variables: &'a Map<String, Value>,
    /// The push's decision task: the task group the action task joins.
    pub decision_task_id: &'a str,
    /// The task acted on; `None` for a push-level action.
    pub task_id: Option<&'a str>,
}

/// The input as the action will receive it: checked against the action's
/// schema with defaults filled in. `None` becomes `{}` for object schemas;
/// an action without schema takes no input (`null`).
pub fn prepare_action_input(action: &Action, input: Option<Value>) -> Result<Value> {
    match &action.schema {
        None => match input {
            None | Some(Value::Null) => Ok(Value::Null),
            Some(_) => Err(Error::Invalid(format!(
                "action `{}` takes no input",
                action.name
            ))),
        },
        Some(schema) => {
            let wants_object = schema.get("type").and_then(Value::as_str) == Some("object");
            let input = match input {
                None | Some(Value::Null) if wants_object => Value::Object(Map::new()),
                None => Value::Null,
                Some(given) => given,
            };
            Ok(validate_and_fill_defaults(schema, &input)?)
        }
    }
}

/// The JSON-e context of a hook payload, as Treeherder builds it:
/// `{taskGroupId, taskId, input}` with `actions.json`'s variables merged over it.
pub(crate) fn hook_payload_context(
    variables: &Map<String, Value>,
    decision_task_id: &str,
    task_id: Option<&str>,
    input: &Value,
) -> Value {
    let mut context = Map::new();
    context.insert("taskGroupId".into(), Value::from(decision_task_id));
    context.insert("taskId".into(), task_id.map_or(Value::Null, Value::from));
    context.insert("input".into(), input.clone());
    for (name, value) in variables {
        context.insert(name.clone(), value.clone());
    }
    Value::Object(context)
}

/// Render `hookPayload` of a hook action for `call`, with the input already
/// prepared by [`prepare_action_input`].
pub fn render_hook_payload(call: &ActionCall<'_>, prepared_input: &Value) -> Result<Value> {
    let (_, _, template) = call.action.hook()?;
    let context = hook_payload_context(
        call.variables,
        call.decision_task_id,
        call.task_id,
        prepared_input,
    );
    json_e::render(template, &context).map_err(|e| {
        Error::parse_field(
            "actions.json",
            format!("{}.hookPayload", call.action.name),
            format!("JSON-e rendering failed: {e}"),
        )
    })
}

/// `<root>/api/hooks/v1/hooks/<hookGroupId>/<hookId>/trigger`, each id one
/// percent-encoded path segment (in-tree hook ids contain a `/`).
pub(crate) fn trigger_hook_url(root: &RootUrl, hook_group_id: &str, hook_id: &str) -> String {
    root.endpoint([
        "api",
        "hooks",
        "v1",
        "hooks",
        hook_group_id,
        hook_id,
        "trigger",
    ])
    .to_string()
}

/// The Hawk-signed `triggerHook` request posting `payload`.
/// `ts_secs` and `nonce`: the caller's clock and a fresh random string.
pub(crate) fn trigger_hook_request(
    root: &RootUrl,
    hook_group_id: &str,
    hook_id: &str,
    payload: &Value,
    credentials: &TaskclusterCredentials,
    ts_secs: u64,
    nonce: &str,
) -> Result<HttpRequest> {
    let request = HttpRequest::post_json(trigger_hook_url(root, hook_group_id, hook_id), payload)
        .header("Accept", "application/json");
    sign_request(request, credentials, ts_secs, nonce)
}

/// The whole trigger of `call` with the user's `input` (`None`: all
/// defaults): input checked and completed, payload rendered, request built
/// and signed.
pub fn trigger_action_request(
    root: &RootUrl,
    call: &ActionCall<'_>,
    input: Option<Value>,
    credentials: &TaskclusterCredentials,
    ts_secs: u64,
    nonce: &str,
) -> Result<HttpRequest> {
    let (hook_group_id, hook_id, _) = call.action.hook()?;
    let input = prepare_action_input(call.action, input)?;
    let payload = render_hook_payload(call, &input)?;
    trigger_hook_request(
        root,
        hook_group_id,
        hook_id,
        &payload,
        credentials,
        ts_secs,
        nonce,
    )
}

/// What `triggerHook` answered: the id of the task it created.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TriggeredHook {
    /// `taskId`: the task the hook created (for an action hook, the action task).
    pub task_id: String,
    /// The new task's queue state (`unscheduled`, `pending`, …) when reported.
    pub state: Option<String>,
}

/// Parse the `triggerHook` answer `{taskId, status: {taskId, state, …}}`.
pub fn parse_trigger_hook_response(body: &[u8]) -> Result<TriggeredHook> {
    const SOURCE: &str = "triggerHook response";
    let answer: Value = serde_json::from_slice(body).map_err(|e| Error::json(SOURCE, &e))?;
    let status = answer.get("status");
    let task_id = answer
        .get("taskId")
        .or_else(|| status.and_then(|s| s.get("taskId")))
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Error::parse_field(SOURCE, "taskId", "missing"))?;
    Ok(TriggeredHook {
        task_id: task_id.to_string(),
        state: status
            .and_then(|s| s.get("state"))
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;
    use crate::sources::taskcluster::actions::{Action, ActionKind};
    use serde_json::json;
    use std::collections::BTreeMap;

    fn action(schema: Option<Value>, payload: Value) -> Action {
        Action {
            name: "backfill".into(),
            title: "Backfill".into(),
            description: String::new(),
            context: vec![BTreeMap::new()],
            schema,
            kind: ActionKind::Hook {
                hook_group_id: "project-gecko".into(),
                hook_id: "in-tree-action-3-generic/abc".into(),
                hook_payload: payload,
            },
            extra: Value::Null,
        }
    }

    fn credentials() -> TaskclusterCredentials {
        TaskclusterCredentials {
            client_id: "me".into(),
            access_token: "token".into(),
            certificate: None,
        }
    }

    #[test]
    fn context_merges_variables_over_the_fixed_keys() {
        let mut variables = Map::new();
        variables.insert("level".into(), json!("3"));
        let context = hook_payload_context(&variables, "DECISION", None, &json!({"a": 1}));
        assert_eq!(
            context,
            json!({"taskGroupId": "DECISION", "taskId": null, "input": {"a": 1}, "level": "3"})
        );
    }

    #[test]
    fn input_defaults_apply_before_rendering() {
        let schema =
            json!({"type": "object", "properties": {"times": {"type": "integer", "default": 1}}});
        let act = action(
            Some(schema),
            json!({"user": {"input": {"$eval": "input"}, "task": {"$eval": "taskId"}}}),
        );
        let variables = Map::new();
        let call = ActionCall {
            action: &act,
            variables: &variables,
            decision_task_id: "D",
            task_id: Some("T"),
        };
        let input = prepare_action_input(&act, None).unwrap();
        assert_eq!(input, json!({"times": 1}));
        assert_eq!(
            render_hook_payload(&call, &input).unwrap(),
            json!({"user": {"input": {"times": 1}, "task": "T"}})
        );
    }

    #[test]
    fn schemaless_actions_take_no_input() {
        let act = action(None, json!({}));
        assert_eq!(prepare_action_input(&act, None).unwrap(), Value::Null);
        assert!(prepare_action_input(&act, Some(json!({"x": 1}))).is_err());
    }

    #[test]
    fn broken_templates_name_the_action() {
        let act = action(None, json!({"$eval": "undefinedVariable"}));
        let variables = Map::new();
        let call = ActionCall {
            action: &act,
            variables: &variables,
            decision_task_id: "D",
            task_id: None,
        };
        let e = render_hook_payload(&call, &Value::Null).unwrap_err();
        assert!(e.to_string().contains("backfill.hookPayload"), "{e}");
    }

    #[test]
    fn trigger_request_is_a_signed_json_post() {
        let root = RootUrl::parse("https://tc.example/").unwrap();
        let act = action(None, json!({"taskGroupId": {"$eval": "taskGroupId"}}));
        let variables = Map::new();
        let call = ActionCall {
            action: &act,
            variables: &variables,
            decision_task_id: "D",
            task_id: None,
        };
        let request =
            trigger_action_request(&root, &call, None, &credentials(), 1_700_000_000, "n").unwrap();
        assert_eq!(request.method, Method::Post);
        assert_eq!(
            request.url,
            "https://tc.example/api/hooks/v1/hooks/project-gecko/in-tree-action-3-generic%2Fabc/trigger"
        );
        assert_eq!(
            request.header_value("content-type"),
            Some("application/json")
        );
        let body: Value = serde_json::from_slice(request.body.as_deref().unwrap()).unwrap();
        assert_eq!(body, json!({"taskGroupId": "D"}));
        let authorization = request.header_value("authorization").unwrap();
        assert!(
            authorization.starts_with("Hawk id=\"me\", ts=\"1700000000\", nonce=\"n\""),
            "{authorization}"
        );
        assert!(authorization.contains("hash=\""), "{authorization}");
    }

    #[test]
    fn trigger_answers_give_the_new_task() {
        let answer = parse_trigger_hook_response(
            br#"{"taskId": "abc", "status": {"taskId": "abc", "state": "pending"}}"#,
        )
        .unwrap();
        assert_eq!(answer.task_id, "abc");
        assert_eq!(answer.state.as_deref(), Some("pending"));
        let nested = parse_trigger_hook_response(br#"{"status": {"taskId": "xyz"}}"#).unwrap();
        assert_eq!(nested.task_id, "xyz");
        assert_eq!(nested.state, None);
        assert!(parse_trigger_hook_response(br#"{"status": {}}"#).is_err());
        assert!(parse_trigger_hook_response(b"<html>").is_err());
    }
}

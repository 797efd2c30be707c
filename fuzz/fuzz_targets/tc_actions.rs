//! Taskcluster `actions.json`: parsing, action selection by name and task
//! tags, input preparation against the action's schema, and JSON-e rendering
//! of `hookPayload`. Input: `<actions.json or one action> NUL <input JSON>`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mozci::sources::taskcluster::actions::{parse_action_entry, parse_actions_json, Action};
use mozci::sources::taskcluster::hooks::{prepare_action_input, render_hook_payload, ActionCall};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

fn exercise(action: &Action, variables: &Map<String, Value>, input: Option<&Value>) {
    let _ = action.hook();
    let Ok(prepared) = prepare_action_input(action, input.cloned()) else {
        return;
    };
    for task_id in [None, Some("fUzZtAsKiDaaaaaaaaaaaa")] {
        let call = ActionCall {
            action,
            variables,
            decision_task_id: "dEcIsIoNtAsKaaaaaaaaaa",
            task_id,
        };
        let _ = render_hook_payload(&call, &prepared);
    }
}

fuzz_target!(|data: &[u8]| {
    let [actions_body, input_body] = mozci_fuzz::fields::<2>(data);
    let input: Option<Value> = serde_json::from_slice(input_body).ok();
    let no_variables = Map::new();
    if let Ok(action) = parse_action_entry(actions_body) {
        exercise(&action, &no_variables, input.as_ref());
    }
    let Ok(actions) = parse_actions_json(actions_body) else {
        return;
    };
    // Tags of the first tag-set offered, so that task-level selection is reached.
    let tags: BTreeMap<String, String> = actions
        .actions
        .iter()
        .find_map(|a| a.context.first().cloned())
        .unwrap_or_default();
    for task_tags in [None, Some(&tags)] {
        for name in actions.names_for(task_tags) {
            let selected = actions
                .select(name, task_tags)
                .expect("an offered name is selectable");
            assert!(selected.applies_to(task_tags));
            assert!(actions.require(name, task_tags).is_ok());
        }
        let _ = actions.require("backfill", task_tags);
    }
    for action in actions.actions.iter().take(8) {
        exercise(action, &actions.variables, input.as_ref());
    }
});

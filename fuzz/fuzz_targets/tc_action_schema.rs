//! Action input validation against an arbitrary JSON schema, with defaults
//! filled. Input: `<schema JSON> NUL <input JSON>`. Property: filling is
//! idempotent (the filled input validates and fills to itself).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mozci::sources::taskcluster::action_schema::validate_and_fill_defaults;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let [schema, input] = mozci_fuzz::fields::<2>(data);
    let Ok(schema) = serde_json::from_slice::<Value>(schema) else {
        return;
    };
    let input = serde_json::from_slice::<Value>(input).unwrap_or(Value::Null);
    let Ok(filled) = validate_and_fill_defaults(&schema, &input) else {
        return;
    };
    match validate_and_fill_defaults(&schema, &filled) {
        Ok(again) => assert_eq!(again, filled, "filling defaults twice changed the input"),
        Err(e) => panic!("the filled input {filled} fails its own schema: {e}"),
    }
});

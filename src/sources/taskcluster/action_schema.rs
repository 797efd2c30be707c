//! Client-side checking of an action's `input` against the JSON schema in
//! `actions.json`, filling in schema defaults (the hooks service fills none,
//! and the in-tree callbacks read missing fields as "use my own default").
//!
//! Only the JSON Schema subset that Firefox CI's actions use is understood;
//! a schema using a constraint outside it is refused rather than half-checked.

#![warn(missing_docs)]

use crate::error::Error;
use serde_json::{Map, Value};
use std::fmt;

/// An input (or schema) problem, naming the offending field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// Path of the field inside the input: `times`, `requests[0].tasks[2]`;
    /// empty for the input as a whole.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "action input: {}", self.message)
        } else {
            write!(f, "action input `{}`: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for InputError {}

impl From<InputError> for Error {
    fn from(e: InputError) -> Self {
        Error::Invalid(e.to_string())
    }
}

/// Keywords that only describe (ignored when checking).
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "format",
    "examples",
    "$schema",
    "$id",
    "id",
    "$comment",
    "readOnly",
    "writeOnly",
    "deprecated",
    "definitions",
    "$defs",
];

/// Keywords this checker applies.
const CHECKED: &[&str] = &[
    "type",
    "properties",
    "required",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "enum",
    "const",
    "items",
    "additionalProperties",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
];

/// Standard constraints this checker does not implement: a schema using one
/// is refused, because accepting it unchecked would send input the action
/// may reject only after a decision task has been spent on it.
const UNSUPPORTED: &[&str] = &[
    "pattern",
    "patternProperties",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "$ref",
    "uniqueItems",
    "contains",
    "multipleOf",
    "dependencies",
    "dependentRequired",
    "dependentSchemas",
    "if",
    "then",
    "else",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "additionalItems",
    "unevaluatedProperties",
    "unevaluatedItems",
];

/// Check `input` against `schema` and return it with every missing property
/// that has a schema `default` filled in (recursively, inside objects).
pub fn validate_and_fill_defaults(schema: &Value, input: &Value) -> Result<Value, InputError> {
    let mut filled = input.clone();
    check(schema, &mut filled, &FieldPath::root())?;
    Ok(filled)
}

/// The field being checked, for error messages.
struct FieldPath(String);

impl FieldPath {
    fn root() -> Self {
        FieldPath(String::new())
    }

    fn property(&self, name: &str) -> Self {
        if self.0.is_empty() {
            FieldPath(name.to_string())
        } else {
            FieldPath(format!("{}.{name}", self.0))
        }
    }

    fn index(&self, i: usize) -> Self {
        FieldPath(format!("{}[{i}]", self.0))
    }

    fn error(&self, message: impl Into<String>) -> InputError {
        InputError {
            path: self.0.clone(),
            message: message.into(),
        }
    }
}

fn check(schema: &Value, value: &mut Value, path: &FieldPath) -> Result<(), InputError> {
    let schema = match schema {
        Value::Bool(true) => return Ok(()),
        Value::Bool(false) => return Err(path.error("is not allowed here")),
        Value::Object(schema) => schema,
        _ => return Err(path.error("the action's schema here is neither an object nor a boolean")),
    };
    let properties = property_schemas(schema, path)?;
    if let Some(expected) = schema.get("type") {
        check_type(expected, value, path)?;
    }
    if let Some(allowed) = schema.get("enum") {
        let allowed = allowed
            .as_array()
            .ok_or_else(|| path.error("the schema's `enum` is not a list"))?;
        if !allowed.contains(value) {
            return Err(path.error(format!("must be one of {}", Value::from(allowed.clone()))));
        }
    }
    if let Some(constant) = schema.get("const") {
        if constant != value {
            return Err(path.error(format!("must be {constant}")));
        }
    }
    check_number_bounds(schema, value, path)?;
    check_length_bounds(schema, value, path)?;
    match value {
        Value::Object(object) => check_object(schema, &properties, object, path),
        Value::Array(elements) => check_array(schema, elements, path),
        _ => Ok(()),
    }
}

/// The schema's property schemas: its `properties`, or — when it has none —
/// the entries that are not keywords. Taskgraph's `retrigger-multiple` writes
/// its request items as `{"tasks": {…}, "times": {…}, "additionalProperties": false}`
/// and its callback reads `tasks`/`times` as properties, so they are read so here.
fn property_schemas<'s>(
    schema: &'s Map<String, Value>,
    path: &FieldPath,
) -> Result<Vec<(&'s str, &'s Value)>, InputError> {
    if let Some(keyword) = schema.keys().find(|k| UNSUPPORTED.contains(&k.as_str())) {
        return Err(path.error(format!(
            "the action's schema uses `{keyword}`, which this client cannot check"
        )));
    }
    if let Some(properties) = schema.get("properties") {
        let properties = properties
            .as_object()
            .ok_or_else(|| path.error("the schema's `properties` is not an object"))?;
        return Ok(properties.iter().map(|(k, v)| (k.as_str(), v)).collect());
    }
    Ok(schema
        .iter()
        .filter(|(k, v)| {
            !ANNOTATIONS.contains(&k.as_str())
                && !CHECKED.contains(&k.as_str())
                && (v.is_object() || v.is_boolean())
        })
        .map(|(k, v)| (k.as_str(), v))
        .collect())
}

fn check_type(expected: &Value, value: &Value, path: &FieldPath) -> Result<(), InputError> {
    let names: Vec<&str> = match expected {
        Value::String(name) => vec![name.as_str()],
        Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
        _ => return Err(path.error("the schema's `type` is neither a name nor a list")),
    };
    if names.iter().any(|name| has_type(value, name)) {
        Ok(())
    } else {
        Err(path.error(format!(
            "expected {}, found {}",
            names.join(" or "),
            type_name(value)
        )))
    }
}

fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        // JSON Schema counts 3.0 as an integer.
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn schema_number(
    schema: &Map<String, Value>,
    keyword: &str,
    path: &FieldPath,
) -> Result<Option<f64>, InputError> {
    match schema.get(keyword) {
        None => Ok(None),
        Some(bound) => bound
            .as_f64()
            .map(Some)
            .ok_or_else(|| path.error(format!("the schema's `{keyword}` is not a number"))),
    }
}

fn check_number_bounds(
    schema: &Map<String, Value>,
    value: &Value,
    path: &FieldPath,
) -> Result<(), InputError> {
    let Some(number) = value.as_f64() else {
        return Ok(());
    };
    if let Some(minimum) = schema_number(schema, "minimum", path)? {
        if number < minimum {
            return Err(path.error(format!("must be at least {minimum}")));
        }
    }
    if let Some(maximum) = schema_number(schema, "maximum", path)? {
        if number > maximum {
            return Err(path.error(format!("must be at most {maximum}")));
        }
    }
    if let Some(bound) = schema_number(schema, "exclusiveMinimum", path)? {
        if number <= bound {
            return Err(path.error(format!("must be more than {bound}")));
        }
    }
    if let Some(bound) = schema_number(schema, "exclusiveMaximum", path)? {
        if number >= bound {
            return Err(path.error(format!("must be less than {bound}")));
        }
    }
    Ok(())
}

fn check_length_bounds(
    schema: &Map<String, Value>,
    value: &Value,
    path: &FieldPath,
) -> Result<(), InputError> {
    let (length, min_keyword, max_keyword, unit) = match value {
        Value::String(s) => (s.chars().count(), "minLength", "maxLength", "characters"),
        Value::Array(a) => (a.len(), "minItems", "maxItems", "items"),
        _ => return Ok(()),
    };
    let length = length as f64;
    if let Some(minimum) = schema_number(schema, min_keyword, path)? {
        if length < minimum {
            return Err(path.error(format!("must have at least {minimum} {unit}")));
        }
    }
    if let Some(maximum) = schema_number(schema, max_keyword, path)? {
        if length > maximum {
            return Err(path.error(format!("must have at most {maximum} {unit}")));
        }
    }
    Ok(())
}

fn check_object(
    schema: &Map<String, Value>,
    properties: &[(&str, &Value)],
    object: &mut Map<String, Value>,
    path: &FieldPath,
) -> Result<(), InputError> {
    for (name, property_schema) in properties {
        if !object.contains_key(*name) {
            if let Some(default) = property_schema.get("default") {
                object.insert(name.to_string(), default.clone());
            }
        }
        if let Some(property) = object.get_mut(*name) {
            check(property_schema, property, &path.property(name))?;
        }
    }
    if let Some(required) = schema.get("required") {
        let required = required
            .as_array()
            .ok_or_else(|| path.error("the schema's `required` is not a list"))?;
        if let Some(missing) = required
            .iter()
            .filter_map(Value::as_str)
            .find(|name| !object.contains_key(*name))
        {
            return Err(path.property(missing).error("is required"));
        }
    }
    let additional = schema.get("additionalProperties");
    if let Some(additional) = additional.filter(|a| **a != Value::Bool(true)) {
        for (name, extra) in object.iter_mut() {
            if properties.iter().any(|(known, _)| known == name) {
                continue;
            }
            match additional {
                Value::Bool(false) => {
                    return Err(path.property(name).error("is not a field of this action"))
                }
                _ => check(additional, extra, &path.property(name))?,
            }
        }
    }
    Ok(())
}

fn check_array(
    schema: &Map<String, Value>,
    elements: &mut [Value],
    path: &FieldPath,
) -> Result<(), InputError> {
    match schema.get("items") {
        None => Ok(()),
        Some(items @ (Value::Object(_) | Value::Bool(_))) => {
            for (i, element) in elements.iter_mut().enumerate() {
                check(items, element, &path.index(i))?;
            }
            Ok(())
        }
        Some(_) => Err(path.error("the schema's `items` is not a single schema")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn backfill_schema() -> Value {
        json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "depth": {"type": "integer", "default": 9, "minimum": 1, "maximum": 25, "title": "Depth"},
                "inclusive": {"type": "boolean", "default": false},
                "testPath": {"type": "string"},
                "times": {"type": "integer", "default": 1, "minimum": 1, "maximum": 10}
            }
        })
    }

    fn error_path(schema: &Value, input: Value) -> String {
        match validate_and_fill_defaults(schema, &input) {
            Err(e) => e.path,
            Ok(v) => panic!("{input} was accepted as {v}"),
        }
    }

    #[test]
    fn defaults_fill_missing_fields_only() {
        let filled = validate_and_fill_defaults(&backfill_schema(), &json!({"times": 3})).unwrap();
        assert_eq!(filled, json!({"depth": 9, "inclusive": false, "times": 3}));
    }

    #[test]
    fn bounds_types_and_unknown_fields_name_the_field() {
        let schema = backfill_schema();
        assert_eq!(error_path(&schema, json!({"depth": 26})), "depth");
        assert_eq!(error_path(&schema, json!({"times": 0})), "times");
        assert_eq!(error_path(&schema, json!({"times": 1.5})), "times");
        assert_eq!(
            error_path(&schema, json!({"inclusive": "yes"})),
            "inclusive"
        );
        assert_eq!(error_path(&schema, json!({"depht": 3})), "depht");
        assert_eq!(error_path(&schema, json!([1])), "");
        let e = validate_and_fill_defaults(&schema, &json!({"depth": 26})).unwrap_err();
        assert_eq!(e.to_string(), "action input `depth`: must be at most 25");
        assert!(validate_and_fill_defaults(&schema, &json!({"depth": 25.0})).is_ok());
    }

    #[test]
    fn required_enum_and_length() {
        let schema = json!({
            "type": "object",
            "required": ["path"],
            "properties": {
                "path": {"type": "string", "maxLength": 3},
                "logLevel": {"type": "string", "enum": ["debug", "info"], "default": "debug"},
                "env": {"type": "object", "additionalProperties": {"type": "string"}, "default": {"MOZ_LOG": ""}}
            }
        });
        assert_eq!(error_path(&schema, json!({})), "path");
        assert_eq!(error_path(&schema, json!({"path": "abcd"})), "path");
        assert_eq!(
            error_path(&schema, json!({"path": "a", "logLevel": "loud"})),
            "logLevel"
        );
        assert_eq!(
            error_path(&schema, json!({"path": "a", "env": {"A": 1}})),
            "env.A"
        );
        assert_eq!(
            validate_and_fill_defaults(&schema, &json!({"path": "a"})).unwrap(),
            json!({"path": "a", "logLevel": "debug", "env": {"MOZ_LOG": ""}})
        );
    }

    #[test]
    fn arrays_are_checked_element_by_element() {
        let schema = json!({
            "type": "object",
            "properties": {
                "tasks": {"type": "array", "items": {"type": "string"}, "minItems": 1}
            }
        });
        assert_eq!(error_path(&schema, json!({"tasks": ["a", 2]})), "tasks[1]");
        assert_eq!(error_path(&schema, json!({"tasks": []})), "tasks");
        assert!(validate_and_fill_defaults(&schema, &json!({"tasks": ["a"]})).is_ok());
    }

    #[test]
    fn misplaced_item_properties_are_read_as_properties() {
        // The shape of retrigger-multiple's schema in the real actions.json.
        let schema = json!({
            "type": "object",
            "properties": {
                "additionalProperties": false,
                "requests": {"type": "array", "items": {
                    "additionalProperties": false,
                    "tasks": {"type": "array", "items": {"type": "string"}},
                    "times": {"type": "integer", "minimum": 1, "maximum": 100}
                }}
            }
        });
        let ok = json!({"requests": [{"tasks": ["test-a"], "times": 2}]});
        assert_eq!(validate_and_fill_defaults(&schema, &ok).unwrap(), ok);
        assert_eq!(
            error_path(
                &schema,
                json!({"requests": [{"tasks": ["a"], "times": 101}]})
            ),
            "requests[0].times"
        );
        assert_eq!(
            error_path(&schema, json!({"requests": [{"tasks": ["a"], "extra": 1}]})),
            "requests[0].extra"
        );
        assert_eq!(
            error_path(&schema, json!({"additionalProperties": 1})),
            "additionalProperties"
        );
    }

    #[test]
    fn unsupported_constraints_are_refused() {
        let schema =
            json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "^x"}}});
        let e = validate_and_fill_defaults(&schema, &json!({"a": "y"})).unwrap_err();
        assert_eq!(e.path, "a");
        assert!(e.message.contains("`pattern`"), "{e}");
        assert!(validate_and_fill_defaults(&json!(false), &json!(1)).is_err());
        assert!(validate_and_fill_defaults(&json!(true), &json!(1)).is_ok());
        assert!(validate_and_fill_defaults(&json!("object"), &json!({})).is_err());
    }

    #[test]
    fn errors_convert_to_invalid_input() {
        let e: Error = InputError {
            path: "times".into(),
            message: "must be at most 10".into(),
        }
        .into();
        assert_eq!(
            e,
            Error::Invalid("action input `times`: must be at most 10".into())
        );
    }
}

//! Typed reads of JSON fields that report the failing field's path.
//!
//! A [`Record`] is one object of a Treeherder payload, either a JSON object or
//! a list-form row read through its column names, so every parser reads
//! fields the same way and every error names `results.3.state`-style paths.

#![warn(missing_docs)]

use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Parse a whole body as JSON.
pub(super) fn parse_body(body: &[u8], source: &'static str) -> Result<Value> {
    serde_json::from_slice(body).map_err(|e| Error::json(source, &e))
}

/// `value` as an array, or an error naming `path` (the whole payload when empty).
pub(super) fn expect_array<'a>(
    value: &'a Value,
    source: &'static str,
    path: &str,
) -> Result<&'a [Value]> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| type_error(source, path, "an array"))
}

/// `value` as an object, or an error naming `path` (the whole payload when empty).
pub(super) fn expect_object<'a>(
    value: &'a Value,
    source: &'static str,
    path: &str,
) -> Result<&'a Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| type_error(source, path, "an object"))
}

fn type_error(source: &'static str, path: &str, expected: &str) -> Error {
    if path.is_empty() {
        Error::parse(source, format!("expected {expected}"))
    } else {
        Error::parse_field(source, path, format!("expected {expected}"))
    }
}

/// Column positions of a list-form payload, from its `job_property_names`.
#[derive(Debug, Clone)]
pub(super) struct Columns {
    positions: HashMap<String, usize>,
    width: usize,
}

impl Columns {
    pub(super) fn from_names(names: &[Value], source: &'static str, path: &str) -> Result<Self> {
        let mut positions = HashMap::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let name = name
                .as_str()
                .ok_or_else(|| type_error(source, &format!("{path}.{i}"), "a property name"))?;
            positions.insert(name.to_string(), i);
        }
        Ok(Columns {
            positions,
            width: names.len(),
        })
    }

    pub(super) fn width(&self) -> usize {
        self.width
    }
}

enum Lookup<'a> {
    Object(&'a Map<String, Value>),
    Row {
        columns: &'a Columns,
        row: &'a [Value],
    },
}

/// One record of a payload, with typed accessors. `null` counts as absent.
pub(super) struct Record<'a> {
    source: &'static str,
    path: &'a str,
    lookup: Lookup<'a>,
}

impl<'a> Record<'a> {
    /// A JSON object at `path`; errors if `value` is not an object.
    pub(super) fn object(value: &'a Value, source: &'static str, path: &'a str) -> Result<Self> {
        Ok(Record {
            source,
            path,
            lookup: Lookup::Object(expect_object(value, source, path)?),
        })
    }

    /// A list-form row read by column name. The row must have exactly one
    /// value per column: a mismatch means positions cannot be trusted.
    pub(super) fn row(
        value: &'a Value,
        columns: &'a Columns,
        source: &'static str,
        path: &'a str,
    ) -> Result<Self> {
        let row = expect_array(value, source, path)?;
        if row.len() != columns.width() {
            return Err(Error::parse_field(
                source,
                path,
                format!(
                    "row has {} values but job_property_names lists {}",
                    row.len(),
                    columns.width()
                ),
            ));
        }
        Ok(Record {
            source,
            path,
            lookup: Lookup::Row { columns, row },
        })
    }

    /// The raw value of `key`, `None` when absent or null.
    pub(super) fn get(&self, key: &str) -> Option<&'a Value> {
        let value = match &self.lookup {
            Lookup::Object(obj) => obj.get(key),
            Lookup::Row { columns, row } => columns.positions.get(key).and_then(|&i| row.get(i)),
        };
        value.filter(|v| !v.is_null())
    }

    /// The path of `key` inside the payload, for error messages.
    pub(super) fn field_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    pub(super) fn error(&self, key: &str, message: impl std::fmt::Display) -> Error {
        Error::parse_field(self.source, self.field_path(key), message)
    }

    fn required(&self, key: &str) -> Result<&'a Value> {
        self.get(key).ok_or_else(|| self.error(key, "missing"))
    }

    pub(super) fn str(&self, key: &str) -> Result<&'a str> {
        self.required(key)?
            .as_str()
            .ok_or_else(|| self.error(key, "expected a string"))
    }

    pub(super) fn opt_str(&self, key: &str) -> Result<Option<&'a str>> {
        self.get(key)
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| self.error(key, "expected a string"))
            })
            .transpose()
    }

    pub(super) fn opt_string(&self, key: &str) -> Result<Option<String>> {
        Ok(self.opt_str(key)?.map(str::to_string))
    }

    pub(super) fn u64(&self, key: &str) -> Result<u64> {
        self.required(key)?
            .as_u64()
            .ok_or_else(|| self.error(key, "expected a non-negative integer"))
    }

    pub(super) fn opt_u64(&self, key: &str) -> Result<Option<u64>> {
        self.get(key)
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| self.error(key, "expected a non-negative integer"))
            })
            .transpose()
    }

    pub(super) fn opt_u32(&self, key: &str) -> Result<Option<u32>> {
        self.opt_u64(key)?
            .map(|n| u32::try_from(n).map_err(|_| self.error(key, "number out of range")))
            .transpose()
    }

    pub(super) fn opt_i64(&self, key: &str) -> Result<Option<i64>> {
        self.get(key)
            .map(|v| {
                v.as_i64()
                    .ok_or_else(|| self.error(key, "expected an integer"))
            })
            .transpose()
    }

    pub(super) fn i64(&self, key: &str) -> Result<i64> {
        self.required(key)?
            .as_i64()
            .ok_or_else(|| self.error(key, "expected an integer"))
    }

    pub(super) fn opt_bool(&self, key: &str) -> Result<Option<bool>> {
        self.get(key)
            .map(|v| {
                v.as_bool()
                    .ok_or_else(|| self.error(key, "expected true or false"))
            })
            .transpose()
    }

    /// A counter Treeherder sends as a number or as a numeric string (`"run": "0"`).
    pub(super) fn lenient_u32(&self, key: &str) -> Result<u32> {
        let value = self.required(key)?;
        let number = match value {
            Value::String(s) => s.parse::<u32>().ok(),
            other => other.as_u64().and_then(|n| u32::try_from(n).ok()),
        };
        number.ok_or_else(|| self.error(key, "expected a small non-negative integer"))
    }

    /// An array field (absent or null gives an empty slice).
    pub(super) fn opt_array(&self, key: &str) -> Result<&'a [Value]> {
        match self.get(key) {
            None => Ok(&[]),
            Some(v) => v
                .as_array()
                .map(Vec::as_slice)
                .ok_or_else(|| self.error(key, "expected an array")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_are_read_by_name_and_must_match_the_column_count() {
        let names = json!(["b", "a"]);
        let columns = Columns::from_names(names.as_array().unwrap(), "t", "names").unwrap();
        let row = json!([2, "x"]);
        let record = Record::row(&row, &columns, "t", "results.0").unwrap();
        assert_eq!(record.str("a").unwrap(), "x");
        assert_eq!(record.u64("b").unwrap(), 2);
        assert_eq!(record.opt_str("c").unwrap(), None);
        let short = json!([2]);
        let err = Record::row(&short, &columns, "t", "results.1").err();
        assert_eq!(
            err.map(|e| e.to_string()),
            Some(
                "could not read t: row has 1 values but job_property_names lists 2 (field `results.1`)"
                    .to_string()
            )
        );
    }

    #[test]
    fn nulls_are_absent_and_wrong_types_name_the_path() {
        let obj = json!({"n": null, "s": 5, "run": "3"});
        let record = Record::object(&obj, "t", "results.4").unwrap();
        assert_eq!(record.opt_u64("n").unwrap(), None);
        assert_eq!(record.lenient_u32("run").unwrap(), 3);
        match record.opt_str("s") {
            Err(Error::Parse { field, .. }) => assert_eq!(field.as_deref(), Some("results.4.s")),
            other => panic!("expected a parse error, got {other:?}"),
        }
        match record.u64("n") {
            Err(Error::Parse { field, message, .. }) => {
                assert_eq!(field.as_deref(), Some("results.4.n"));
                assert_eq!(message, "missing");
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }
}

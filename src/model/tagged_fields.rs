//! Reading tagged enums through one flat struct holding every variant's
//! fields: serde's derived code for internally and adjacently tagged enums
//! buffers the object and parses it again per variant, which costs several
//! KB of WebAssembly per enum. The JSON shapes read and written are unchanged.

use std::fmt;

/// A field the tagged variant needs but the object lacks (the error the
/// enums' `try_from` conversions report, worded like serde's own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingField(pub &'static str);

impl fmt::Display for MissingField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "missing field `{}`", self.0)
    }
}

/// `value`, or the [`MissingField`] error naming `field`.
pub fn required<T>(value: Option<T>, field: &'static str) -> Result<T, MissingField> {
    value.ok_or(MissingField(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fields_are_named_like_serde_does() {
        assert_eq!(required(Some(3), "count"), Ok(3));
        let err = required::<u32>(None, "count").unwrap_err();
        assert_eq!(err.to_string(), "missing field `count`");
    }
}

//! The wire encodings of [`Value`]: msgpack (what Terraform sends and what every
//! response uses) and JSON (the fallback on input, and raw state).
//!
//! Every function here is total: malformed, truncated, over-deep or over-large
//! input becomes a [`CodecError`], never a panic, and no allocation is larger than
//! the input that asked for it. Error messages name paths and kinds, never the
//! contents of a value, so they cannot carry a secret.

use std::borrow::Cow;
use std::fmt;

use crate::value::{Name, NameMap, Type, Value};

mod json;
mod msgpack_decode;
mod msgpack_encode;
#[cfg(test)]
mod tests;

pub use json::decode_json;
pub use msgpack_decode::decode_msgpack;
pub use msgpack_encode::encode_msgpack;

/// Deepest value nesting accepted from the wire.
pub const MAX_VALUE_DEPTH: usize = 64;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CodecError {
    #[error("the value ends before it is complete")]
    Truncated,
    #[error("{0} bytes follow the value")]
    TrailingBytes(usize),
    #[error("at {path}: expected {expected}, found {found}")]
    Mismatch { path: String, expected: &'static str, found: &'static str },
    #[error("at {path}: attribute {name:?} is not in the schema")]
    UnknownAttribute { path: String, name: String },
    #[error("values nest deeper than {MAX_VALUE_DEPTH} levels")]
    TooDeep,
    #[error("at {path}: text is not valid UTF-8")]
    InvalidUtf8 { path: String },
    #[error("at {path}: the dynamic value's type is not a valid type constraint")]
    InvalidDynamicType { path: String },
    #[error("invalid JSON ({category}) at line {line}, column {column}")]
    Json { category: &'static str, line: usize, column: usize },
}

/// Looks up entries of a map by name for names that come, like everything Terraform
/// writes (cty sorts object attributes and map keys), in the map's own order: each
/// lookup first compares the entry after the previous match, so it mostly compares
/// one name, where a search compares several. Names in any other order are still
/// found, by a search.
struct InOrder<'m, V> {
    entries: &'m [(Name, V)],
    next: usize,
}

impl<'m, V> InOrder<'m, V> {
    fn new(all: &'m NameMap<V>) -> Self {
        InOrder { entries: all.entries(), next: 0 }
    }

    /// The entry named `name` and its index in the map's entries, compared as bytes
    /// (UTF-8 orders as its bytes do).
    fn find(&mut self, name: &[u8]) -> Option<(usize, &'m Name, &'m V)> {
        let found = match self.entries.get(self.next) {
            Some((known, _)) if known.as_bytes() == name => self.next,
            _ => self.entries.binary_search_by(|(known, _)| known.as_bytes().cmp(name)).ok()?,
        };
        self.next = found + 1;
        let (known, entry) = &self.entries[found];
        Some((found, known, entry))
    }
}

/// Where in a value the codec is, for error messages. Segments borrow their names
/// from the input, the value being encoded or the type: keeping the path costs no
/// allocation per attribute, only an error turns it into text.
#[derive(Default)]
struct Path<'a>(Vec<Seg<'a>>);

enum Seg<'a> {
    Attr(Cow<'a, str>),
    Index(usize),
    Key(Cow<'a, str>),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("the root");
        }
        for seg in &self.0 {
            match seg {
                Seg::Attr(a) => write!(f, ".{a}")?,
                Seg::Index(i) => write!(f, "[{i}]")?,
                // Map keys are user data, but never secrets: keys of this provider's
                // maps are names (regions, keeper names).
                Seg::Key(k) => write!(f, "[{k:?}]")?,
            }
        }
        Ok(())
    }
}

pub(super) fn infer_type(value: &Value) -> Option<Type> {
    match value {
        Value::Bool(_) => Some(Type::Bool),
        Value::Number(_) => Some(Type::Number),
        Value::String(_) => Some(Type::String),
        _ => None,
    }
}

pub(super) fn type_name(ty: &Type) -> &'static str {
    match ty {
        Type::Bool => "bool",
        Type::Number => "number",
        Type::String => "string",
        Type::List(_) => "list",
        Type::Set(_) => "set",
        Type::Map(_) => "map",
        Type::Object(_) => "object",
        Type::Tuple(_) => "tuple",
        Type::Dynamic => "dynamic",
    }
}

pub(super) fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Unknown => "unknown",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "list",
        Value::Map(_) => "map",
        Value::Object(_) => "object",
        Value::Dynamic(..) => "dynamic",
    }
}

pub(super) fn is_decimal(text: &str) -> bool {
    !text.is_empty() && text.parse::<f64>().is_ok_and(f64::is_finite)
}

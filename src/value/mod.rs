//! Terraform's value model, the leaf every layer imports: values, types, attribute
//! paths and diagnostics. Nothing here knows the wire or IAM.
//!
//! Terraform values as a provider sees them: every value is known, null or unknown,
//! and carries no type of its own (the schema supplies it).
//!
//! `Debug` never prints string contents: a value may hold a secret on its way into
//! state, and `{:?}` must not be able to leak it.

mod diagnostics;
mod name_map;
mod path;
pub mod summary;

pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use name_map::NameMap;
pub use path::{AttributePath, PathStep};
pub use summary::{Summary, SummaryText};

use std::borrow::Cow;
use std::fmt;

/// An attribute name or map key. Names from a schema are borrowed for the life of the
/// program, so decoding an object costs no allocation per attribute name; names and
/// keys that arrive on the wire are owned.
pub type Name = Cow<'static, str>;

/// A Terraform type constraint, as it travels in `Schema.Attribute.type` (JSON).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Bool,
    Number,
    String,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(NameMap<Type>),
    Tuple(Vec<Type>),
    /// Any type; the wire carries the concrete type next to the value.
    Dynamic,
}

/// Deepest type nesting accepted from the wire (a dynamic value names its own type).
pub const MAX_TYPE_DEPTH: usize = 32;

impl Type {
    /// The JSON type constraint Terraform expects in schemas and dynamic values.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Type::Bool => json!("bool"),
            Type::Number => json!("number"),
            Type::String => json!("string"),
            Type::Dynamic => json!("dynamic"),
            Type::List(t) => json!(["list", t.to_json()]),
            Type::Set(t) => json!(["set", t.to_json()]),
            Type::Map(t) => json!(["map", t.to_json()]),
            Type::Object(attrs) => {
                let fields: serde_json::Map<_, _> = attrs.iter().map(|(k, t)| (k.to_string(), t.to_json())).collect();
                json!(["object", fields])
            }
            Type::Tuple(elems) => {
                json!(["tuple", elems.iter().map(Type::to_json).collect::<Vec<_>>()])
            }
        }
    }

    /// Parses a JSON type constraint, refusing anything nested deeper than [`MAX_TYPE_DEPTH`].
    pub fn from_json(json: &serde_json::Value) -> Option<Type> {
        Self::from_json_at(json, 0)
    }

    fn from_json_at(json: &serde_json::Value, depth: usize) -> Option<Type> {
        use serde_json::Value as J;
        if depth > MAX_TYPE_DEPTH {
            return None;
        }
        let inner = |v: &J| Self::from_json_at(v, depth + 1);
        match json {
            J::String(s) => match s.as_str() {
                "bool" => Some(Type::Bool),
                "number" => Some(Type::Number),
                "string" => Some(Type::String),
                "dynamic" => Some(Type::Dynamic),
                _ => None,
            },
            J::Array(parts) => match (parts.first()?.as_str()?, parts.get(1)?) {
                ("list", t) => Some(Type::List(Box::new(inner(t)?))),
                ("set", t) => Some(Type::Set(Box::new(inner(t)?))),
                ("map", t) => Some(Type::Map(Box::new(inner(t)?))),
                ("object", J::Object(fields)) => {
                    fields.iter().map(|(k, t)| Some((Name::Owned(k.clone()), inner(t)?))).collect::<Option<NameMap<_>>>().map(Type::Object)
                }
                ("tuple", J::Array(elems)) => elems.iter().map(inner).collect::<Option<Vec<_>>>().map(Type::Tuple),
                _ => None,
            },
            _ => None,
        }
    }
}

/// A number. Terraform numbers are arbitrary precision; values that fit i64 or f64
/// are kept as such, anything else keeps its decimal text.
#[derive(Clone, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
    Decimal(String),
}

impl Number {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            Number::Float(_) => None,
            Number::Decimal(s) => s.parse().ok(),
        }
    }
}

/// A value in the shape of a [`Type`]. Sets and tuples are held as lists; the type
/// tells them apart when encoding.
#[derive(Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Unknown,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    Map(NameMap<Value>),
    Object(NameMap<Value>),
    /// A value of a `dynamic` slot, with the concrete type it was sent with.
    Dynamic(Type, Box<Value>),
}

/// Equal values hash alike (numbers by value where they are whole), so values can
/// key sets and maps. Different values may still collide, as with any hash.
impl std::hash::Hash for Value {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Value::Null | Value::Unknown => {}
            Value::Bool(b) => b.hash(state),
            Value::Number(n) => match (n.as_i64(), n) {
                (Some(whole), _) => whole.hash(state),
                (None, Number::Float(f)) => f.to_bits().hash(state),
                (None, Number::Decimal(d)) => d.hash(state),
                (None, Number::Int(i)) => i.hash(state),
            },
            Value::String(s) => s.hash(state),
            Value::List(items) => items.hash(state),
            Value::Map(m) | Value::Object(m) => m.hash(state),
            Value::Dynamic(ty, v) => {
                ty.hash(state);
                v.hash(state);
            }
        }
    }
}

static NULL: Value = Value::Null;

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// An object with the given attributes.
    pub fn object(attributes: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
        Value::Object(attributes.into_iter().map(|(k, v)| (Name::Borrowed(k), v)).collect())
    }

    /// A string, or null when there is none.
    pub fn opt_string(s: Option<impl Into<String>>) -> Value {
        s.map_or(Value::Null, Value::string)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// This value with every unknown in it, at any depth, made null: what a state
    /// holds where a plan left a value to be learned that never was.
    pub fn unknowns_to_null(self) -> Value {
        match self {
            Value::Unknown => Value::Null,
            Value::List(items) => Value::List(items.into_iter().map(Value::unknowns_to_null).collect()),
            Value::Map(entries) => Value::Map(entries.into_iter().map(|(k, v)| (k, v.unknowns_to_null())).collect()),
            Value::Object(attributes) => Value::Object(attributes.into_iter().map(|(k, v)| (k, v.unknowns_to_null())).collect()),
            Value::Dynamic(ty, inner) => Value::Dynamic(ty, Box::new(inner.unknowns_to_null())),
            known => known,
        }
    }

    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, v) => v.is_wholly_known(),
            _ => true,
        }
    }

    /// An attribute of an object; null for anything else or a missing attribute.
    pub fn get(&self, name: &str) -> &Value {
        match self {
            Value::Object(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// `get`, for a caller that knows the attribute's slot: its index among the
    /// names of the object's type, in name order (`schema::Attribute::slot`).
    pub fn get_at(&self, slot: usize, name: &str) -> &Value {
        match self {
            Value::Object(m) => m.get_at(slot, name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Sets an attribute of an object (a null value becomes an empty object first).
    pub fn set(&mut self, name: impl Into<Name>, value: Value) {
        self.set_in_slot(None, name.into(), value);
    }

    /// `set`, for a caller that knows the attribute's slot (see `get_at`).
    pub fn set_at(&mut self, slot: usize, name: impl Into<Name>, value: Value) {
        self.set_in_slot(Some(slot), name.into(), value);
    }

    fn set_in_slot(&mut self, slot: Option<usize>, name: Name, value: Value) {
        if !matches!(self, Value::Object(_)) {
            *self = Value::Object(NameMap::new());
        }
        if let Value::Object(m) = self {
            match slot {
                Some(slot) => m.insert_at(slot, name, value),
                None => m.insert(name, value),
            };
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&NameMap<Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Unknown => f.write_str("unknown"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{n:?}"),
            // Redacted: the string may be a secret on its way into state.
            Value::String(s) => write!(f, "string(len {})", s.len()),
            Value::List(items) => f.debug_list().entries(items).finish(),
            Value::Map(m) | Value::Object(m) => f.debug_map().entries(m).finish(),
            Value::Dynamic(t, v) => write!(f, "dynamic({t:?}, {v:?})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_string_contents() {
        let mut v = Value::Null;
        v.set("secret", Value::string("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
        let shown = format!("{v:?} {v:#?}");
        assert!(!shown.contains("wJalr"), "{shown}");
        assert!(shown.contains("string(len 40)"));
    }

    #[test]
    fn type_json_round_trips() {
        let t = Type::Object(NameMap::from([
            ("a".into(), Type::List(Box::new(Type::String))),
            ("b".into(), Type::Tuple(vec![Type::Number, Type::Dynamic])),
            ("c".into(), Type::Map(Box::new(Type::Set(Box::new(Type::Bool))))),
        ]));
        assert_eq!(Type::from_json(&t.to_json()), Some(t));
    }

    #[test]
    fn over_deep_type_is_refused() {
        let mut json = serde_json::json!("string");
        for _ in 0..(MAX_TYPE_DEPTH + 2) {
            json = serde_json::json!(["list", json]);
        }
        assert_eq!(Type::from_json(&json), None);
    }

    #[test]
    fn wholly_known_looks_inside_collections() {
        let v = Value::List(vec![Value::string("a"), Value::Unknown]);
        assert!(!v.is_wholly_known());
        assert!(Value::List(vec![Value::Null]).is_wholly_known());
    }
}

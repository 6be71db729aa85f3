//! The wire encodings of [`Value`]: msgpack (what Terraform sends and what every
//! response uses) and JSON (the fallback on input, and raw state).
//!
//! Every function here is total: malformed, truncated, over-deep or over-large
//! input becomes a [`CodecError`], never a panic, and no allocation is larger than
//! the input that asked for it. Error messages name paths and kinds, never the
//! contents of a value, so they cannot carry a secret.

use std::collections::BTreeMap;
use std::fmt;

use crate::value::{Number, Type, Value};

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

/// Where in a value the codec is, for error messages.
#[derive(Default)]
struct Path(Vec<Seg>);

enum Seg {
    Attr(String),
    Index(usize),
    Key(String),
}

impl fmt::Display for Path {
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

// ---------------------------------------------------------------- msgpack decoding

/// Decodes a msgpack `DynamicValue` of type `ty`.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut reader = Reader { buf: bytes, pos: 0, path: Path::default() };
    let value = reader.value(ty, 0)?;
    match bytes.len() - reader.pos {
        0 => Ok(value),
        n => Err(CodecError::TrailingBytes(n)),
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    path: Path,
}

/// The kinds of msgpack item, enough to decode and to name in errors.
enum Item<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    Array(usize),
    Map(usize),
    Ext,
}

impl Item<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Item::Nil => "nil",
            Item::Bool(_) => "bool",
            Item::Int(_) | Item::UInt(_) => "integer",
            Item::Float(_) => "float",
            Item::Str(_) => "string",
            Item::Bin(_) => "binary",
            Item::Array(_) => "array",
            Item::Map(_) => "map",
            Item::Ext => "extension",
        }
    }
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self.pos.checked_add(n).ok_or(CodecError::Truncated)?;
        let slice = self.buf.get(self.pos..end).ok_or(CodecError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    fn uint(&mut self, n: usize) -> Result<u64, CodecError> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn len(&mut self, n: usize) -> Result<usize, CodecError> {
        usize::try_from(self.uint(n)?).map_err(|_| CodecError::Truncated)
    }

    fn item(&mut self) -> Result<Item<'a>, CodecError> {
        let marker = self.take(1)?[0];
        Ok(match marker {
            0x00..=0x7f => Item::Int(i64::from(marker)),
            0xe0..=0xff => Item::Int(i64::from(marker as i8)),
            0xc0 => Item::Nil,
            0xc2 => Item::Bool(false),
            0xc3 => Item::Bool(true),
            0xcc => Item::UInt(self.uint(1)?),
            0xcd => Item::UInt(self.uint(2)?),
            0xce => Item::UInt(self.uint(4)?),
            0xcf => Item::UInt(self.uint(8)?),
            0xd0 => Item::Int(i64::from(self.uint(1)? as u8 as i8)),
            0xd1 => Item::Int(i64::from(self.uint(2)? as u16 as i16)),
            0xd2 => Item::Int(i64::from(self.uint(4)? as u32 as i32)),
            0xd3 => Item::Int(self.uint(8)? as i64),
            0xca => Item::Float(f64::from(f32::from_bits(self.uint(4)? as u32))),
            0xcb => Item::Float(f64::from_bits(self.uint(8)?)),
            0xa0..=0xbf => Item::Str(self.take(usize::from(marker & 0x1f))?),
            0xd9 => {
                let n = self.len(1)?;
                Item::Str(self.take(n)?)
            }
            0xda => {
                let n = self.len(2)?;
                Item::Str(self.take(n)?)
            }
            0xdb => {
                let n = self.len(4)?;
                Item::Str(self.take(n)?)
            }
            0xc4 => {
                let n = self.len(1)?;
                Item::Bin(self.take(n)?)
            }
            0xc5 => {
                let n = self.len(2)?;
                Item::Bin(self.take(n)?)
            }
            0xc6 => {
                let n = self.len(4)?;
                Item::Bin(self.take(n)?)
            }
            0x90..=0x9f => Item::Array(usize::from(marker & 0x0f)),
            0xdc => Item::Array(self.len(2)?),
            0xdd => Item::Array(self.len(4)?),
            0x80..=0x8f => Item::Map(usize::from(marker & 0x0f)),
            0xde => Item::Map(self.len(2)?),
            0xdf => Item::Map(self.len(4)?),
            // Any extension is an unknown value (code 0 plain, 12 refined): skip its
            // type byte and payload.
            0xd4 => self.ext(1)?,
            0xd5 => self.ext(2)?,
            0xd6 => self.ext(4)?,
            0xd7 => self.ext(8)?,
            0xd8 => self.ext(16)?,
            0xc7 => {
                let n = self.len(1)?;
                self.ext(n)?
            }
            0xc8 => {
                let n = self.len(2)?;
                self.ext(n)?
            }
            0xc9 => {
                let n = self.len(4)?;
                self.ext(n)?
            }
            // 0xc1 is never used by msgpack.
            _ => return Err(CodecError::Mismatch { path: self.path.to_string(), expected: "a msgpack value", found: "the reserved marker 0xc1" }),
        })
    }

    fn ext(&mut self, payload: usize) -> Result<Item<'a>, CodecError> {
        self.take(1)?;
        self.take(payload)?;
        Ok(Item::Ext)
    }

    fn mismatch(&self, expected: &'static str, found: &Item) -> CodecError {
        CodecError::Mismatch { path: self.path.to_string(), expected, found: found.kind() }
    }

    fn text(&self, bytes: &[u8]) -> Result<String, CodecError> {
        std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| CodecError::InvalidUtf8 { path: self.path.to_string() })
    }

    /// A collection never holds more elements than bytes remain, so capacity is
    /// bounded by the input rather than by a length the input claims.
    fn capacity(&self, claimed: usize) -> usize {
        claimed.min(self.buf.len() - self.pos)
    }

    fn value(&mut self, ty: &Type, depth: usize) -> Result<Value, CodecError> {
        if depth > MAX_VALUE_DEPTH {
            return Err(CodecError::TooDeep);
        }
        let item = self.item()?;
        match (&item, ty) {
            (Item::Nil, _) => return Ok(Value::Null),
            (Item::Ext, _) => return Ok(Value::Unknown),
            _ => {}
        }
        match ty {
            Type::Bool => match item {
                Item::Bool(b) => Ok(Value::Bool(b)),
                other => Err(self.mismatch("bool", &other)),
            },
            Type::Number => match item {
                Item::Int(i) => Ok(Value::Number(Number::Int(i))),
                Item::UInt(u) => Ok(Value::Number(i64::try_from(u).map_or_else(|_| Number::Decimal(u.to_string()), Number::Int))),
                Item::Float(f) => Ok(Value::Number(Number::Float(f))),
                Item::Str(s) => {
                    let text = self.text(s)?;
                    if is_decimal(&text) {
                        Ok(Value::Number(Number::Decimal(text)))
                    } else {
                        Err(CodecError::Mismatch { path: self.path.to_string(), expected: "number", found: "a string that is not a decimal number" })
                    }
                }
                other => Err(self.mismatch("number", &other)),
            },
            Type::String => match item {
                Item::Str(s) => Ok(Value::String(self.text(s)?)),
                other => Err(self.mismatch("string", &other)),
            },
            Type::List(elem) | Type::Set(elem) => match item {
                Item::Array(n) => self.elements(n, depth, |_| elem),
                other => Err(self.mismatch("array", &other)),
            },
            Type::Tuple(elems) => match item {
                Item::Array(n) if n == elems.len() => self.elements(n, depth, |i| &elems[i]),
                other => Err(self.mismatch("array of the tuple's length", &other)),
            },
            Type::Map(elem) => match item {
                Item::Map(n) => {
                    let mut map = BTreeMap::new();
                    for _ in 0..n {
                        let key = self.key()?;
                        self.path.0.push(Seg::Key(key.clone()));
                        let v = self.value(elem, depth + 1)?;
                        self.path.0.pop();
                        map.insert(key, v);
                    }
                    Ok(Value::Map(map))
                }
                other => Err(self.mismatch("map", &other)),
            },
            Type::Object(attrs) => match item {
                Item::Map(n) => {
                    let mut object = BTreeMap::new();
                    for _ in 0..n {
                        let name = self.key()?;
                        let Some(attr_ty) = attrs.get(&name) else {
                            return Err(CodecError::UnknownAttribute { path: self.path.to_string(), name });
                        };
                        self.path.0.push(Seg::Attr(name.clone()));
                        let v = self.value(attr_ty, depth + 1)?;
                        self.path.0.pop();
                        object.insert(name, v);
                    }
                    for name in attrs.keys() {
                        object.entry(name.clone()).or_insert(Value::Null);
                    }
                    Ok(Value::Object(object))
                }
                other => Err(self.mismatch("map (object)", &other)),
            },
            Type::Dynamic => match item {
                Item::Array(2) => {
                    let type_json = match self.item()? {
                        Item::Bin(b) | Item::Str(b) => b,
                        other => return Err(self.mismatch("binary type constraint", &other)),
                    };
                    let concrete = serde_json::from_slice(type_json)
                        .ok()
                        .and_then(|j| Type::from_json(&j))
                        .ok_or_else(|| CodecError::InvalidDynamicType { path: self.path.to_string() })?;
                    let inner = self.value(&concrete, depth + 1)?;
                    Ok(Value::Dynamic(concrete, Box::new(inner)))
                }
                other => Err(self.mismatch("[type, value] pair", &other)),
            },
        }
    }

    fn elements<'t>(&mut self, n: usize, depth: usize, elem_type: impl Fn(usize) -> &'t Type) -> Result<Value, CodecError> {
        let mut items = Vec::with_capacity(self.capacity(n));
        for i in 0..n {
            self.path.0.push(Seg::Index(i));
            items.push(self.value(elem_type(i), depth + 1)?);
            self.path.0.pop();
        }
        Ok(Value::List(items))
    }

    fn key(&mut self) -> Result<String, CodecError> {
        match self.item()? {
            Item::Str(s) => self.text(s),
            other => Err(self.mismatch("string key", &other)),
        }
    }
}

fn is_decimal(text: &str) -> bool {
    !text.is_empty() && text.parse::<f64>().is_ok_and(f64::is_finite)
}

// ---------------------------------------------------------------- msgpack encoding

/// Encodes `value` as msgpack of type `ty`. Objects get every attribute of their
/// type (null where the value has none) and nothing else.
pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(256);
    let mut path = Path::default();
    write_value(&mut out, value, ty, &mut path)?;
    Ok(out)
}

fn write_value(out: &mut Vec<u8>, value: &Value, ty: &Type, path: &mut Path) -> Result<(), CodecError> {
    let mismatch = |path: &Path, expected, found| CodecError::Mismatch { path: path.to_string(), expected, found };
    match (value, ty) {
        (Value::Null, _) => out.push(0xc0),
        // go-cty writes a plain unknown as fixext1 with code 0 and a zero payload.
        (Value::Unknown, _) => out.extend_from_slice(&[0xd4, 0x00, 0x00]),
        (Value::Bool(b), Type::Bool) => out.push(if *b { 0xc3 } else { 0xc2 }),
        (Value::Number(n), Type::Number) => match n {
            Number::Int(i) => write_int(out, *i),
            Number::Float(f) => {
                out.push(0xcb);
                out.extend_from_slice(&f.to_bits().to_be_bytes());
            }
            Number::Decimal(s) => write_str(out, s),
        },
        (Value::String(s), Type::String) => write_str(out, s),
        (Value::List(items), Type::List(elem) | Type::Set(elem)) => {
            write_len(out, items.len(), ARRAY);
            for (i, item) in items.iter().enumerate() {
                path.0.push(Seg::Index(i));
                write_value(out, item, elem, path)?;
                path.0.pop();
            }
        }
        (Value::List(items), Type::Tuple(elems)) if items.len() == elems.len() => {
            write_len(out, items.len(), ARRAY);
            for (i, (item, elem)) in items.iter().zip(elems).enumerate() {
                path.0.push(Seg::Index(i));
                write_value(out, item, elem, path)?;
                path.0.pop();
            }
        }
        (Value::Map(m), Type::Map(elem)) => {
            write_len(out, m.len(), MAP);
            for (k, v) in m {
                write_str(out, k);
                path.0.push(Seg::Key(k.clone()));
                write_value(out, v, elem, path)?;
                path.0.pop();
            }
        }
        (Value::Object(m), Type::Object(attrs)) => {
            write_len(out, attrs.len(), MAP);
            for (name, attr_ty) in attrs {
                write_str(out, name);
                path.0.push(Seg::Attr(name.clone()));
                write_value(out, m.get(name).unwrap_or(&Value::Null), attr_ty, path)?;
                path.0.pop();
            }
        }
        (Value::Dynamic(concrete, inner), Type::Dynamic) => {
            out.push(0x92);
            let type_json = concrete.to_json().to_string();
            write_len(out, type_json.len(), BIN);
            out.extend_from_slice(type_json.as_bytes());
            write_value(out, inner, concrete, path)?;
        }
        (Value::Dynamic(_, inner), concrete) => write_value(out, inner, concrete, path)?,
        (_, Type::Dynamic) => {
            let concrete = infer_type(value).ok_or_else(|| mismatch(path, "a value whose type can be inferred", "a collection"))?;
            write_value(out, &Value::Dynamic(concrete, Box::new(value.clone())), ty, path)?;
        }
        (v, t) => return Err(mismatch(path, type_name(t), value_kind(v))),
    }
    Ok(())
}

fn infer_type(value: &Value) -> Option<Type> {
    match value {
        Value::Bool(_) => Some(Type::Bool),
        Value::Number(_) => Some(Type::Number),
        Value::String(_) => Some(Type::String),
        _ => None,
    }
}

fn type_name(ty: &Type) -> &'static str {
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

fn value_kind(value: &Value) -> &'static str {
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

fn write_int(out: &mut Vec<u8>, i: i64) {
    match i {
        0..=0x7f => out.push(i as u8),
        -32..=-1 => out.push(i as i8 as u8),
        _ if i8::try_from(i).is_ok() => out.extend_from_slice(&[0xd0, i as i8 as u8]),
        _ if i16::try_from(i).is_ok() => {
            out.push(0xd1);
            out.extend_from_slice(&(i as i16).to_be_bytes());
        }
        _ if i32::try_from(i).is_ok() => {
            out.push(0xd2);
            out.extend_from_slice(&(i as i32).to_be_bytes());
        }
        _ => {
            out.push(0xd3);
            out.extend_from_slice(&i.to_be_bytes());
        }
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    if s.len() < 32 {
        out.push(0xa0 | s.len() as u8);
    } else {
        write_len(out, s.len(), STR);
    }
    out.extend_from_slice(s.as_bytes());
}

/// Markers of one msgpack length class: the short form (a fix form that holds the
/// length in its low bits, or an 8-bit length), then the 16- and 32-bit forms.
struct LenMarkers {
    short: u8,
    short_is_fix: bool,
    m16: u8,
    m32: u8,
}

const ARRAY: LenMarkers = LenMarkers { short: 0x90, short_is_fix: true, m16: 0xdc, m32: 0xdd };
const MAP: LenMarkers = LenMarkers { short: 0x80, short_is_fix: true, m16: 0xde, m32: 0xdf };
const STR: LenMarkers = LenMarkers { short: 0xd9, short_is_fix: false, m16: 0xda, m32: 0xdb };
const BIN: LenMarkers = LenMarkers { short: 0xc4, short_is_fix: false, m16: 0xc5, m32: 0xc6 };

fn write_len(out: &mut Vec<u8>, len: usize, markers: LenMarkers) {
    if markers.short_is_fix && len < 16 {
        out.push(markers.short | len as u8);
    } else if !markers.short_is_fix && len <= 0xff {
        out.extend_from_slice(&[markers.short, len as u8]);
    } else if len <= 0xffff {
        out.push(markers.m16);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(markers.m32);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

// ---------------------------------------------------------------- JSON decoding

/// Decodes a JSON `DynamicValue` or raw state of type `ty`. With `ignore_unknown_attributes`,
/// attributes that the type lacks are dropped (state written by an older schema).
pub fn decode_json(bytes: &[u8], ty: &Type, ignore_unknown_attributes: bool) -> Result<Value, CodecError> {
    let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| CodecError::Json {
        category: match e.classify() {
            serde_json::error::Category::Io => "I/O",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "unexpected end",
        },
        line: e.line(),
        column: e.column(),
    })?;
    let mut path = Path::default();
    from_json(&json, ty, 0, ignore_unknown_attributes, &mut path)
}

fn from_json(json: &serde_json::Value, ty: &Type, depth: usize, lenient: bool, path: &mut Path) -> Result<Value, CodecError> {
    use serde_json::Value as J;
    if depth > MAX_VALUE_DEPTH {
        return Err(CodecError::TooDeep);
    }
    let mismatch = |path: &Path, expected, found| CodecError::Mismatch { path: path.to_string(), expected, found };
    let kind = |j: &J| match j {
        J::Null => "null",
        J::Bool(_) => "bool",
        J::Number(_) => "number",
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    };
    if json.is_null() {
        return Ok(Value::Null);
    }
    Ok(match (json, ty) {
        (J::Bool(b), Type::Bool) => Value::Bool(*b),
        (J::Number(n), Type::Number) => Value::Number(match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Number::Int(i),
            (None, Some(f)) => Number::Float(f),
            _ => Number::Decimal(n.to_string()),
        }),
        (J::String(s), Type::Number) if is_decimal(s) => Value::Number(Number::Decimal(s.clone())),
        (J::String(s), Type::String) => Value::String(s.clone()),
        (J::Array(items), Type::List(elem) | Type::Set(elem)) => Value::List(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    path.0.push(Seg::Index(i));
                    let v = from_json(item, elem, depth + 1, lenient, path);
                    path.0.pop();
                    v
                })
                .collect::<Result<_, _>>()?,
        ),
        (J::Array(items), Type::Tuple(elems)) if items.len() == elems.len() => {
            Value::List(items.iter().zip(elems).map(|(item, elem)| from_json(item, elem, depth + 1, lenient, path)).collect::<Result<_, _>>()?)
        }
        (J::Object(m), Type::Map(elem)) => Value::Map(
            m.iter()
                .map(|(k, v)| {
                    path.0.push(Seg::Key(k.clone()));
                    let v = from_json(v, elem, depth + 1, lenient, path);
                    path.0.pop();
                    Ok((k.clone(), v?))
                })
                .collect::<Result<_, _>>()?,
        ),
        (J::Object(m), Type::Object(attrs)) => {
            let mut object = BTreeMap::new();
            for (name, v) in m {
                let Some(attr_ty) = attrs.get(name) else {
                    if lenient {
                        continue;
                    }
                    return Err(CodecError::UnknownAttribute { path: path.to_string(), name: name.clone() });
                };
                path.0.push(Seg::Attr(name.clone()));
                let decoded = from_json(v, attr_ty, depth + 1, lenient, path)?;
                path.0.pop();
                object.insert(name.clone(), decoded);
            }
            for name in attrs.keys() {
                object.entry(name.clone()).or_insert(Value::Null);
            }
            Value::Object(object)
        }
        (J::Object(m), Type::Dynamic) => {
            let concrete = m.get("type").and_then(Type::from_json).ok_or_else(|| CodecError::InvalidDynamicType { path: path.to_string() })?;
            let inner = from_json(m.get("value").unwrap_or(&J::Null), &concrete, depth + 1, lenient, path)?;
            Value::Dynamic(concrete, Box::new(inner))
        }
        (j, t) => return Err(mismatch(path, type_name(t), kind(j))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object_type() -> Type {
        Type::Object(BTreeMap::from([
            ("id".into(), Type::String),
            ("n".into(), Type::Number),
            ("flag".into(), Type::Bool),
            ("tags".into(), Type::Map(Box::new(Type::String))),
            ("ids".into(), Type::Set(Box::new(Type::String))),
            ("pair".into(), Type::Tuple(vec![Type::String, Type::Number])),
            ("any".into(), Type::Dynamic),
            ("nested".into(), Type::List(Box::new(Type::Object(BTreeMap::from([("x".into(), Type::String)]))))),
        ]))
    }

    fn sample() -> Value {
        let mut v = Value::Null;
        v.set("id", Value::string("AKIA".repeat(10)));
        v.set("n", Value::Number(Number::Int(-70000)));
        v.set("flag", Value::Unknown);
        v.set("tags", Value::Map(BTreeMap::from([("k".into(), Value::string("v"))])));
        v.set("ids", Value::List(vec![Value::string("a"), Value::Unknown]));
        v.set("pair", Value::List(vec![Value::string("p"), Value::Number(Number::Float(1.5))]));
        v.set("any", Value::Dynamic(Type::List(Box::new(Type::Bool)), Box::new(Value::List(vec![Value::Bool(true)]))));
        let mut inner = Value::Null;
        inner.set("x", Value::Null);
        v.set("nested", Value::List(vec![inner]));
        v
    }

    #[test]
    fn msgpack_round_trips_every_kind_of_value() {
        let ty = object_type();
        let bytes = encode_msgpack(&sample(), &ty).unwrap();
        assert_eq!(decode_msgpack(&bytes, &ty).unwrap(), sample());
    }

    #[test]
    fn unknown_is_encoded_as_go_cty_does() {
        assert_eq!(encode_msgpack(&Value::Unknown, &Type::String).unwrap(), vec![0xd4, 0, 0]);
    }

    #[test]
    fn any_extension_decodes_as_unknown_including_refined() {
        // ext 12 whose payload is the map {1: false} (refined: "not null").
        let refined = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2];
        assert_eq!(decode_msgpack(&refined, &Type::String).unwrap(), Value::Unknown);
        assert_eq!(decode_msgpack(&[0xd5, 0x07, 0x00, 0x00], &Type::Bool).unwrap(), Value::Unknown);
        assert_eq!(decode_msgpack(&refined[..4], &Type::String), Err(CodecError::Truncated));
    }

    #[test]
    fn missing_attributes_decode_as_null_and_are_always_encoded() {
        let ty = object_type();
        let v = decode_msgpack(&[0x80], &ty).unwrap();
        assert_eq!(v.get("id"), &Value::Null);
        let bytes = encode_msgpack(&v, &ty).unwrap();
        assert_eq!(bytes[0], 0x88, "all eight attributes are written");
    }

    #[test]
    fn numbers_arrive_as_int_float_or_decimal_string() {
        let big = "123456789012345678901234567890";
        let mut bytes = vec![0xd9, big.len() as u8];
        bytes.extend_from_slice(big.as_bytes());
        assert_eq!(decode_msgpack(&bytes, &Type::Number).unwrap(), Value::Number(Number::Decimal(big.into())));
        assert_eq!(
            decode_msgpack(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], &Type::Number).unwrap(),
            Value::Number(Number::Decimal(u64::MAX.to_string()))
        );
        assert!(decode_msgpack(&[0xa3, b'a', b'b', b'c'], &Type::Number).is_err());
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let ty = object_type();
        let good = encode_msgpack(&sample(), &ty).unwrap();
        // Every truncation fails cleanly.
        for end in 0..good.len() {
            assert!(decode_msgpack(&good[..end], &ty).is_err(), "prefix of {end} bytes");
        }
        // Every single-byte corruption is decoded or refused, never panics.
        for i in 0..good.len() {
            for b in [0x00, 0x7f, 0x80, 0xc1, 0xdd, 0xdf, 0xff] {
                let mut bad = good.clone();
                bad[i] = b;
                let _ = decode_msgpack(&bad, &ty);
            }
        }
        assert!(matches!(decode_msgpack(&[0xc1], &ty), Err(CodecError::Mismatch { .. })));
        assert_eq!(decode_msgpack(&[0xc0, 0xc0], &ty), Err(CodecError::TrailingBytes(1)));
    }

    #[test]
    fn claimed_huge_collections_do_not_allocate() {
        // An array that claims 4 billion elements with no bytes behind it.
        let ty = Type::List(Box::new(Type::String));
        assert_eq!(decode_msgpack(&[0xdd, 0xff, 0xff, 0xff, 0xff], &ty), Err(CodecError::Truncated));
    }

    #[test]
    fn over_deep_dynamic_values_are_refused() {
        // A dynamic slot whose type is a list of lists … deeper than allowed.
        let mut type_json = serde_json::json!("string");
        for _ in 0..20 {
            type_json = serde_json::json!(["list", type_json]);
        }
        let concrete = Type::from_json(&type_json).unwrap();
        let mut value = Value::string("x");
        for _ in 0..20 {
            value = Value::List(vec![value]);
        }
        let bytes = encode_msgpack(&Value::Dynamic(concrete.clone(), Box::new(value.clone())), &Type::Dynamic).unwrap();
        assert_eq!(decode_msgpack(&bytes, &Type::Dynamic).unwrap(), Value::Dynamic(concrete, Box::new(value)));
        let mut deep = vec![0x91; 10_000];
        deep.push(0xc0);
        let mut nested = Type::String;
        for _ in 0..100 {
            nested = Type::List(Box::new(nested));
        }
        assert_eq!(decode_msgpack(&deep, &nested), Err(CodecError::TooDeep));
    }

    #[test]
    fn unknown_attributes_are_refused_and_named() {
        let ty = Type::Object(BTreeMap::from([("a".into(), Type::String)]));
        let err = decode_msgpack(&[0x81, 0xa1, b'b', 0xc0], &ty).unwrap_err();
        assert_eq!(err.to_string(), "at the root: attribute \"b\" is not in the schema");
    }

    #[test]
    fn json_decodes_state_and_drops_removed_attributes_when_asked() {
        let ty = object_type();
        let json = br#"{"id":"x","n":"12.5","gone":1,"any":{"type":"string","value":"s"},"pair":["a",1]}"#;
        assert!(decode_json(json, &ty, false).is_err());
        let v = decode_json(json, &ty, true).unwrap();
        assert_eq!(v.get("id"), &Value::string("x"));
        assert_eq!(v.get("n"), &Value::Number(Number::Decimal("12.5".into())));
        assert_eq!(v.get("any"), &Value::Dynamic(Type::String, Box::new(Value::string("s"))));
        assert_eq!(v.get("flag"), &Value::Null);
    }

    #[test]
    fn json_errors_do_not_quote_the_input() {
        let err = decode_json(br#"{"id": "wJalrXUtnFEMI"#, &object_type(), false).unwrap_err();
        assert!(!err.to_string().contains("wJalr"), "{err}");
        let err = decode_json(br#"{"n": "wJalrXUtnFEMI"}"#, &object_type(), false).unwrap_err();
        assert!(!err.to_string().contains("wJalr"), "{err}");
    }
}

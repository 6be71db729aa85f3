//! JSON to a value (the fallback on input, and raw state), directed by the type.
//!
//! The JSON is read once, straight into a [`Value`] (serde's `DeserializeSeed`, the
//! type choosing what each JSON value may be), not through a `serde_json::Value`
//! tree first: that tree allocated every name and string twice.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::*;
use crate::value::{Name, NameMap, Number, Type, Value};

/// Decodes a JSON `DynamicValue` or raw state of type `ty`. With `ignore_unknown_attributes`,
/// attributes that the type lacks are dropped (state written by an older schema).
pub fn decode_json(bytes: &[u8], ty: &Type, ignore_unknown_attributes: bool) -> Result<Value, CodecError> {
    let shared = Shared { lenient: ignore_unknown_attributes, path: RefCell::default(), failure: Cell::new(None) };
    let mut input = serde_json::Deserializer::from_slice(bytes);
    let decoded = Decoder { ty, depth: 0, shared: &shared }.deserialize(&mut input).and_then(|value| input.end().map(|()| value));
    decoded.map_err(|e| shared.failure.take().unwrap_or_else(|| syntax_error(&e)))
}

fn syntax_error(e: &serde_json::Error) -> CodecError {
    CodecError::Json {
        category: match e.classify() {
            serde_json::error::Category::Io => "I/O",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "unexpected end",
        },
        line: e.line(),
        column: e.column(),
    }
}

/// What every level of one decode shares: where it is, and the first failure of our
/// own (serde's error type cannot carry it, so it waits here while serde unwinds).
struct Shared {
    lenient: bool,
    path: RefCell<Path<'static>>,
    failure: Cell<Option<CodecError>>,
}

/// Decodes one JSON value of type `ty`.
#[derive(Clone, Copy)]
struct Decoder<'t, 's> {
    ty: &'t Type,
    depth: usize,
    shared: &'s Shared,
}

impl<'s> Decoder<'_, 's> {
    /// Records `failure` and returns the error that makes serde unwind.
    fn fail<E: de::Error>(&self, failure: CodecError) -> E {
        self.shared.failure.set(Some(failure));
        E::custom("the value does not fit its type")
    }

    fn mismatch<E: de::Error>(&self, found: &'static str) -> E {
        let path = self.shared.path.borrow().to_string();
        self.fail(CodecError::Mismatch { path, expected: type_name(self.ty), found })
    }

    fn nested<'u>(&self, ty: &'u Type) -> Decoder<'u, 's> {
        Decoder { ty, depth: self.depth + 1, shared: self.shared }
    }

    /// Decodes with `seg` pushed onto the path. A failure leaves it pushed: the
    /// path has then served its one purpose, naming where that failure is.
    fn at<T, E>(&self, seg: Seg<'static>, decode: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        self.shared.path.borrow_mut().0.push(seg);
        let decoded = decode()?;
        self.shared.path.borrow_mut().0.pop();
        Ok(decoded)
    }

    fn string<E: de::Error>(self, text: &str) -> Result<Value, E> {
        match self.ty {
            Type::String => Ok(Value::String(text.to_owned())),
            Type::Number if is_decimal(text) => Ok(Value::Number(Number::Decimal(text.to_owned()))),
            _ => Err(self.mismatch("string")),
        }
    }

    fn number<E: de::Error>(self, number: Number) -> Result<Value, E> {
        match self.ty {
            Type::Number => Ok(Value::Number(number)),
            _ => Err(self.mismatch("number")),
        }
    }

    fn object<'de, A: MapAccess<'de>>(self, attrs: &NameMap<Type>, mut map: A) -> Result<Value, A::Error> {
        // Every attribute of the type, null until the input gives it (a repeated
        // name keeps its last value).
        let mut object = attrs.map_values(|_| Value::Null);
        let mut types = InOrder::new(attrs);
        while let Some(name) = map.next_key_seed(KeySeed)? {
            let Some((index, known, attr_ty)) = types.find(name.as_bytes()) else {
                if self.shared.lenient {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
                let path = self.shared.path.borrow().to_string();
                return Err(self.fail(CodecError::UnknownAttribute { path, name: name.into_owned() }));
            };
            let value = self.at(Seg::Attr(known.clone()), || map.next_value_seed(self.nested(attr_ty)))?;
            *object.value_at_mut(index) = value;
        }
        Ok(Value::Object(object))
    }

    fn map<'de, A: MapAccess<'de>>(self, elem: &Type, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let key = key.into_owned();
            let value = self.at(Seg::Key(Cow::Owned(key.clone())), || map.next_value_seed(self.nested(elem)))?;
            entries.push((Name::Owned(key), value));
        }
        Ok(Value::Map(entries.into_iter().collect()))
    }

    /// `{"type": ..., "value": ...}` in either order: the value waits, as JSON, for
    /// its type.
    fn dynamic<'de, A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let (mut type_json, mut value_json) = (None, None);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match &*key {
                "type" => type_json = Some(map.next_value::<serde_json::Value>()?),
                "value" => value_json = Some(map.next_value::<serde_json::Value>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let Some(concrete) = type_json.as_ref().and_then(Type::from_json) else {
            let path = self.shared.path.borrow().to_string();
            return Err(self.fail(CodecError::InvalidDynamicType { path }));
        };
        let inner = self.nested(&concrete).deserialize(value_json.unwrap_or_default()).map_err(|e| match self.shared.failure.take() {
            Some(failure) => self.fail(failure),
            None => de::Error::custom(e),
        })?;
        Ok(Value::Dynamic(concrete, Box::new(inner)))
    }
}

impl<'de> DeserializeSeed<'de> for Decoder<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, input: D) -> Result<Value, D::Error> {
        if self.depth > MAX_VALUE_DEPTH {
            return Err(self.fail(CodecError::TooDeep));
        }
        input.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Decoder<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a JSON value of type {}", type_name(self.ty))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        match self.ty {
            Type::Bool => Ok(Value::Bool(b)),
            _ => Err(self.mismatch("bool")),
        }
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        self.number(Number::Int(i))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        self.number(i64::try_from(u).map_or(Number::Float(u as f64), Number::Int))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        self.number(Number::Float(f))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Value, E> {
        self.string(text)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        match self.ty {
            Type::List(elem) | Type::Set(elem) => {
                while let Some(item) = self.at(Seg::Index(items.len()), || seq.next_element_seed(self.nested(elem)))? {
                    items.push(item);
                }
            }
            Type::Tuple(elems) => {
                while let Some(elem) = elems.get(items.len()) {
                    match seq.next_element_seed(self.nested(elem))? {
                        Some(item) => items.push(item),
                        None => return Err(self.mismatch("array")), // too short
                    }
                }
                if seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(self.mismatch("array")); // too long
                }
            }
            _ => return Err(self.mismatch("array")),
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        match self.ty {
            Type::Object(attrs) => self.object(attrs, map),
            Type::Map(elem) => self.map(elem, map),
            Type::Dynamic => self.dynamic(map),
            _ => Err(self.mismatch("object")),
        }
    }
}

/// An object key, borrowed from the input unless it holds escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, input: D) -> Result<Self::Value, D::Error> {
        input.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key.to_owned()))
    }
}

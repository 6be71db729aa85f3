//! msgpack to a value, directed by the type.

use super::*;
use crate::value::{Name, Number, Type, Value};

/// Decodes a msgpack `DynamicValue` of type `ty`.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut reader = Reader { buf: bytes, pos: 0, path: Path::default() };
    let value = reader.value(ty, 0)?;
    match bytes.len() - reader.pos {
        0 => Ok(value),
        n => Err(CodecError::TrailingBytes(n)),
    }
}

pub(super) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    path: Path<'a>,
}

/// The kinds of msgpack item, enough to decode and to name in errors.
pub(super) enum Item<'a> {
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
    pub(super) fn kind(&self) -> &'static str {
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
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        let end = self.pos.checked_add(n).ok_or(CodecError::Truncated)?;
        let slice = self.buf.get(self.pos..end).ok_or(CodecError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    pub(super) fn uint(&mut self, n: usize) -> Result<u64, CodecError> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    pub(super) fn len(&mut self, n: usize) -> Result<usize, CodecError> {
        usize::try_from(self.uint(n)?).map_err(|_| CodecError::Truncated)
    }

    pub(super) fn item(&mut self) -> Result<Item<'a>, CodecError> {
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

    pub(super) fn ext(&mut self, payload: usize) -> Result<Item<'a>, CodecError> {
        self.take(1)?;
        self.take(payload)?;
        Ok(Item::Ext)
    }

    pub(super) fn mismatch(&self, expected: &'static str, found: &Item) -> CodecError {
        CodecError::Mismatch { path: self.path.to_string(), expected, found: found.kind() }
    }

    pub(super) fn text(&self, bytes: &'a [u8]) -> Result<&'a str, CodecError> {
        std::str::from_utf8(bytes).map_err(|_| CodecError::InvalidUtf8 { path: self.path.to_string() })
    }

    /// A collection never holds more elements than bytes remain, so capacity is
    /// bounded by the input rather than by a length the input claims.
    pub(super) fn capacity(&self, claimed: usize) -> usize {
        claimed.min(self.buf.len() - self.pos)
    }

    pub(super) fn value(&mut self, ty: &Type, depth: usize) -> Result<Value, CodecError> {
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
                    if is_decimal(text) {
                        Ok(Value::Number(Number::Decimal(text.to_owned())))
                    } else {
                        Err(CodecError::Mismatch { path: self.path.to_string(), expected: "number", found: "a string that is not a decimal number" })
                    }
                }
                other => Err(self.mismatch("number", &other)),
            },
            Type::String => match item {
                Item::Str(s) => Ok(Value::String(self.text(s)?.to_owned())),
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
                    let mut entries = Vec::with_capacity(self.capacity(n));
                    for _ in 0..n {
                        let key = self.key()?;
                        self.path.0.push(Seg::Key(Cow::Borrowed(key)));
                        let v = self.value(elem, depth + 1)?;
                        self.path.0.pop();
                        entries.push((Name::Owned(key.to_owned()), v));
                    }
                    Ok(Value::Map(entries.into_iter().collect()))
                }
                other => Err(self.mismatch("map", &other)),
            },
            Type::Object(attrs) => match item {
                Item::Map(n) => {
                    // Every attribute of the type, null until the input gives it (a
                    // repeated name keeps its last value).
                    let mut object = attrs.map_values(|_| Value::Null);
                    let mut types = InOrder::new(attrs);
                    for _ in 0..n {
                        // Matched as bytes: a name equal to one of the type's is valid
                        // UTF-8, so only a name that matches none is checked.
                        let name = self.key_bytes()?;
                        let Some((index, known, attr_ty)) = types.find(name) else {
                            let name = self.text(name)?;
                            return Err(CodecError::UnknownAttribute { path: self.path.to_string(), name: name.to_owned() });
                        };
                        self.path.0.push(Seg::Attr(known.clone()));
                        let v = self.value(attr_ty, depth + 1)?;
                        self.path.0.pop();
                        *object.value_at_mut(index) = v;
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

    pub(super) fn elements<'t>(&mut self, n: usize, depth: usize, elem_type: impl Fn(usize) -> &'t Type) -> Result<Value, CodecError> {
        let mut items = Vec::with_capacity(self.capacity(n));
        for i in 0..n {
            self.path.0.push(Seg::Index(i));
            items.push(self.value(elem_type(i), depth + 1)?);
            self.path.0.pop();
        }
        Ok(Value::List(items))
    }

    pub(super) fn key(&mut self) -> Result<&'a str, CodecError> {
        let bytes = self.key_bytes()?;
        self.text(bytes)
    }

    /// A string key's bytes, not yet checked to be UTF-8.
    pub(super) fn key_bytes(&mut self) -> Result<&'a [u8], CodecError> {
        match self.item()? {
            Item::Str(s) => Ok(s),
            other => Err(self.mismatch("string key", &other)),
        }
    }
}

//! A value to msgpack, directed by the type.

use super::*;
use crate::value::{Number, Type, Value};

/// Encodes `value` as msgpack of type `ty`. Objects get every attribute of their
/// type (null where the value has none) and nothing else.
pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    // A resource's state is a few hundred bytes: one allocation holds most.
    let mut out = Vec::with_capacity(1024);
    let mut path = Path::default();
    write_value(&mut out, value, ty, &mut path)?;
    Ok(out)
}

pub(super) fn write_value<'v>(out: &mut Vec<u8>, value: &'v Value, ty: &Type, path: &mut Path<'v>) -> Result<(), CodecError> {
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
                path.0.push(Seg::Key(Cow::Borrowed(&**k)));
                write_value(out, v, elem, path)?;
                path.0.pop();
            }
        }
        (Value::Object(m), Type::Object(attrs)) => {
            write_len(out, attrs.len(), MAP);
            let mut values = InOrder::new(m);
            for (name, attr_ty) in attrs {
                write_str(out, name);
                match values.find(name.as_bytes()) {
                    Some((_, name, attr)) => {
                        path.0.push(Seg::Attr(Cow::Borrowed(&**name)));
                        write_value(out, attr, attr_ty, path)?;
                        path.0.pop();
                    }
                    None => out.push(0xc0),
                }
            }
        }
        (Value::Dynamic(concrete, inner), Type::Dynamic) => write_dynamic(out, concrete, inner, path)?,
        (Value::Dynamic(_, inner), concrete) => write_value(out, inner, concrete, path)?,
        (_, Type::Dynamic) => {
            let concrete = infer_type(value).ok_or_else(|| mismatch(path, "a value whose type can be inferred", "a collection"))?;
            write_dynamic(out, &concrete, value, path)?;
        }
        (v, t) => return Err(mismatch(path, type_name(t), value_kind(v))),
    }
    Ok(())
}

/// A dynamic value: the pair of its type (JSON, as binary) and the value.
fn write_dynamic<'v>(out: &mut Vec<u8>, concrete: &Type, value: &'v Value, path: &mut Path<'v>) -> Result<(), CodecError> {
    out.push(0x92);
    let type_json = concrete.to_json().to_string();
    write_len(out, type_json.len(), BIN);
    out.extend_from_slice(type_json.as_bytes());
    write_value(out, value, concrete, path)
}

pub(super) fn write_int(out: &mut Vec<u8>, i: i64) {
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

pub(super) fn write_str(out: &mut Vec<u8>, s: &str) {
    if s.len() < 32 {
        out.push(0xa0 | s.len() as u8);
    } else {
        write_len(out, s.len(), STR);
    }
    out.extend_from_slice(s.as_bytes());
}

/// Markers of one msgpack length class: the short form (a fix form that holds the
/// length in its low bits, or an 8-bit length), then the 16- and 32-bit forms.
pub(super) struct LenMarkers {
    short: u8,
    short_is_fix: bool,
    m16: u8,
    m32: u8,
}

pub(super) const ARRAY: LenMarkers = LenMarkers { short: 0x90, short_is_fix: true, m16: 0xdc, m32: 0xdd };
pub(super) const MAP: LenMarkers = LenMarkers { short: 0x80, short_is_fix: true, m16: 0xde, m32: 0xdf };
pub(super) const STR: LenMarkers = LenMarkers { short: 0xd9, short_is_fix: false, m16: 0xda, m32: 0xdb };
pub(super) const BIN: LenMarkers = LenMarkers { short: 0xc4, short_is_fix: false, m16: 0xc5, m32: 0xc6 };

pub(super) fn write_len(out: &mut Vec<u8>, len: usize, markers: LenMarkers) {
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

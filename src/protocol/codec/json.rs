//! JSON to a value (the fallback on input, and raw state), directed by the type.

use super::*;
use crate::value::{Name, Number, Type, Value};

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

pub(super) fn from_json<'j>(json: &'j serde_json::Value, ty: &Type, depth: usize, lenient: bool, path: &mut Path<'j>) -> Result<Value, CodecError> {
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
                    path.0.push(Seg::Key(k));
                    let v = from_json(v, elem, depth + 1, lenient, path);
                    path.0.pop();
                    Ok((Name::Owned(k.clone()), v?))
                })
                .collect::<Result<_, _>>()?,
        ),
        (J::Object(m), Type::Object(attrs)) => {
            let mut decoded = Vec::with_capacity(m.len());
            let mut types = InOrder::new(attrs);
            for (name, v) in m {
                let Some((known, attr_ty)) = types.find(name) else {
                    if lenient {
                        continue;
                    }
                    return Err(CodecError::UnknownAttribute { path: path.to_string(), name: name.clone() });
                };
                path.0.push(Seg::Attr(name));
                let value = from_json(v, attr_ty, depth + 1, lenient, path)?;
                path.0.pop();
                decoded.push((known.clone(), value));
            }
            Value::Object(complete_object(decoded, attrs))
        }
        (J::Object(m), Type::Dynamic) => {
            let concrete = m.get("type").and_then(Type::from_json).ok_or_else(|| CodecError::InvalidDynamicType { path: path.to_string() })?;
            let inner = from_json(m.get("value").unwrap_or(&J::Null), &concrete, depth + 1, lenient, path)?;
            Value::Dynamic(concrete, Box::new(inner))
        }
        (j, t) => return Err(mismatch(path, type_name(t), kind(j))),
    })
}

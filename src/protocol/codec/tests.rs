//! Unit tests of the codec.

use super::*;
use crate::value::{NameMap, Number, Type, Value};

fn object_type() -> Type {
    Type::Object(NameMap::from([
        ("id".into(), Type::String),
        ("n".into(), Type::Number),
        ("flag".into(), Type::Bool),
        ("tags".into(), Type::Map(Box::new(Type::String))),
        ("ids".into(), Type::Set(Box::new(Type::String))),
        ("pair".into(), Type::Tuple(vec![Type::String, Type::Number])),
        ("any".into(), Type::Dynamic),
        ("nested".into(), Type::List(Box::new(Type::Object(NameMap::from([("x".into(), Type::String)]))))),
    ]))
}

fn sample() -> Value {
    let mut v = Value::Null;
    v.set("id", Value::string("AKIA".repeat(10)));
    v.set("n", Value::Number(Number::Int(-70000)));
    v.set("flag", Value::Unknown);
    v.set("tags", Value::Map(NameMap::from([("k".into(), Value::string("v"))])));
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
    let ty = Type::Object(NameMap::from([("a".into(), Type::String)]));
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

/// Errors name where in the value they are: attributes, indexes and map keys.
#[test]
fn errors_name_the_path_to_the_bad_value() {
    let ty = object_type();
    // {"nested": [{"x": true}]}: a bool where a string belongs.
    let bytes = [&[0x81, 0xa6][..], b"nested", &[0x91, 0x81, 0xa1, b'x', 0xc3]].concat();
    assert_eq!(decode_msgpack(&bytes, &ty).unwrap_err().to_string(), "at .nested[0].x: expected string, found bool");
    // {"tags": {"k": 1}}
    let bytes = [&[0x81, 0xa4][..], b"tags", &[0x81, 0xa1, b'k', 0x01]].concat();
    assert_eq!(decode_msgpack(&bytes, &ty).unwrap_err().to_string(), "at .tags[\"k\"]: expected string, found integer");
    let json = br#"{"nested":[{"x":1}]}"#;
    assert_eq!(decode_json(json, &ty, false).unwrap_err().to_string(), "at .nested[0].x: expected string, found number");
    let mut wrong = sample();
    wrong.set("tags", Value::Map(NameMap::from([("k".into(), Value::Bool(true))])));
    assert_eq!(encode_msgpack(&wrong, &ty).unwrap_err().to_string(), "at .tags[\"k\"]: expected string, found bool");
}

#[test]
fn attributes_decode_in_any_order_and_skipped_ones_are_null() {
    let ty = Type::Object(NameMap::from([("a".into(), Type::String), ("b".into(), Type::String), ("c".into(), Type::String)]));
    let expected = Value::object([("a", Value::string("1")), ("b", Value::Null), ("c", Value::string("3"))]);
    // fixmap of 2: "c" then "a" (against the type's order), then "a" then "c" (in order, "b" skipped).
    let reversed = [0x82, 0xa1, b'c', 0xa1, b'3', 0xa1, b'a', 0xa1, b'1'];
    let in_order = [0x82, 0xa1, b'a', 0xa1, b'1', 0xa1, b'c', 0xa1, b'3'];
    assert_eq!(decode_msgpack(&reversed, &ty).unwrap(), expected);
    assert_eq!(decode_msgpack(&in_order, &ty).unwrap(), expected);
    assert_eq!(decode_json(br#"{"c": "3", "a": "1"}"#, &ty, false).unwrap(), expected);
    // A name given twice keeps its last value; an unknown or non-UTF-8 name is refused.
    let repeated = [0x83, 0xa1, b'a', 0xa1, b'0', 0xa1, b'c', 0xa1, b'3', 0xa1, b'a', 0xa1, b'1'];
    assert_eq!(decode_msgpack(&repeated, &ty).unwrap(), expected);
    assert_eq!(decode_json(br#"{"a": "0", "c": "3", "a": "1"}"#, &ty, false).unwrap(), expected);
    let unknown = [0x81, 0xa1, b'd', 0xc0];
    assert_eq!(decode_msgpack(&unknown, &ty).unwrap_err().to_string(), "at the root: attribute \"d\" is not in the schema");
    let not_utf8 = [0x81, 0xa1, 0xff, 0xc0];
    assert_eq!(decode_msgpack(&not_utf8, &ty).unwrap_err().to_string(), "at the root: text is not valid UTF-8");
}

#[test]
fn in_order_lookup_finds_every_name_whatever_the_order() {
    let map: NameMap<u8> = [("a".into(), 1), ("b".into(), 2), ("c".into(), 3)].into();
    let mut names = InOrder::new(&map);
    let found = |names: &mut InOrder<u8>, name: &[u8]| names.find(name).map(|(index, known, v)| (index, known.to_string(), *v));
    assert_eq!(found(&mut names, b"a"), Some((0, "a".into(), 1)));
    assert_eq!(found(&mut names, b"c"), Some((2, "c".into(), 3)));
    assert_eq!(found(&mut names, b"b"), Some((1, "b".into(), 2)), "behind the last match");
    assert_eq!(found(&mut names, b"bb"), None);
    assert_eq!(found(&mut names, b"a"), Some((0, "a".into(), 1)));
}

/// JSON state is read in one pass: a dynamic value may come before its type (cty
/// writes `value` first), names may hold escapes, and a tuple's length is checked.
#[test]
fn json_reads_dynamic_values_in_either_order_escaped_names_and_tuple_lengths() {
    let ty = object_type();
    let json = br#"{"any":{"value":["x"],"type":["list","string"]},"\u0069d":"y","pair":["a",1],"n":18446744073709551615}"#;
    let v = decode_json(json, &ty, false).unwrap();
    assert_eq!(v.get("any"), &Value::Dynamic(Type::List(Box::new(Type::String)), Box::new(Value::List(vec![Value::string("x")]))));
    assert_eq!(v.get("id"), &Value::string("y"));
    assert_eq!(v.get("n"), &Value::Number(Number::Float(18446744073709551615.0)));
    let refused = |json: &[u8]| decode_json(json, &ty, false).unwrap_err().to_string();
    assert_eq!(refused(br#"{"pair":["a"]}"#), "at .pair: expected tuple, found array");
    assert_eq!(refused(br#"{"pair":["a",1,2]}"#), "at .pair: expected tuple, found array");
    assert_eq!(refused(br#"{"any":{"value":[1],"type":["list","string"]}}"#), "at .any[0]: expected string, found number");
    assert_eq!(refused(br#"{"any":{"value":1,"type":"nonsense"}}"#), "at .any: the dynamic value's type is not a valid type constraint");
    assert_eq!(refused(br#"{"tags":{"k":true}}"#), "at .tags[\"k\"]: expected string, found bool");
    assert_eq!(refused(br#"{"id":"x"} trailing"#), "invalid JSON (syntax) at line 1, column 12");
    // Lenient: an unknown attribute is skipped whole, however deep.
    let lenient = decode_json(br#"{"gone":{"deep":[1,{"x":null}]},"id":"z"}"#, &ty, true).unwrap();
    assert_eq!(lenient.get("id"), &Value::string("z"));
}

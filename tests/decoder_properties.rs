//! Property tests for everything that parses input from Terraform: the msgpack and
//! JSON decoders and the import ID parser. Deterministic (a fixed seed), at least
//! 10,000 cases each: no panic, every input decided within 100 ms, round trips exact,
//! and 10,000-deep nesting refused. Figures go to target/reliability/fuzz.md.
//!
//! Private state needs no case here: the provider never decodes it (it returns
//! Terraform's bytes unchanged).

use std::time::{Duration, Instant};

use iamkey::framework::Provider;
use iamkey::protocol::codec::{decode_json, decode_msgpack, encode_msgpack, CodecError};
use iamkey::resources::access_key::parse_import_id;
use iamkey::value::{NameMap, Number, Type, Value};

const CASES: usize = 10_000;
const SEED: u64 = 0x001a_34e9_2024;
const PER_INPUT_BUDGET: Duration = Duration::from_millis(100);

/// xorshift64*: small, deterministic, good enough to drive generators.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }
    fn text(&mut self) -> String {
        const PIECES: &[&str] = &["a", "Z", "0", "_", "+", "=", ",", ".", "@", "-", "/", " ", "é", "я", "🔑", "\0", "\"", "\\", "AKIA"];
        (0..self.below(24)).map(|_| PIECES[self.below(PIECES.len())]).collect()
    }
}

fn random_type(rng: &mut Rng, depth: usize) -> Type {
    let leaf = depth >= 4 || rng.chance(40);
    if leaf {
        return [Type::Bool, Type::Number, Type::String, Type::Dynamic][rng.below(4)].clone();
    }
    let inner = |rng: &mut Rng| Box::new(random_type(rng, depth + 1));
    match rng.below(5) {
        0 => Type::List(inner(rng)),
        1 => Type::Set(inner(rng)),
        2 => Type::Map(inner(rng)),
        3 => Type::Object((0..rng.below(4)).map(|i| (format!("a{i}").into(), random_type(rng, depth + 1))).collect()),
        _ => Type::Tuple((0..rng.below(3)).map(|_| random_type(rng, depth + 1)).collect()),
    }
}

fn random_value(rng: &mut Rng, ty: &Type) -> Value {
    if rng.chance(8) {
        return Value::Null;
    }
    if rng.chance(8) {
        return Value::Unknown;
    }
    match ty {
        Type::Bool => Value::Bool(rng.chance(50)),
        Type::Number => {
            Value::Number(if rng.chance(50) { Number::Int(rng.next() as i64 >> rng.below(63)) } else { Number::Float((rng.next() % 1_000_000) as f64 / 7.0) })
        }
        Type::String => Value::String(rng.text()),
        Type::Dynamic => {
            let concrete = random_type(rng, 3);
            if matches!(concrete, Type::Dynamic) {
                return Value::Null;
            }
            let inner = random_value(rng, &concrete);
            Value::Dynamic(concrete, Box::new(inner))
        }
        Type::List(t) | Type::Set(t) => Value::List((0..rng.below(4)).map(|_| random_value(rng, t)).collect()),
        Type::Map(t) => Value::Map((0..rng.below(4)).map(|i| (format!("k{i}").into(), random_value(rng, t))).collect()),
        Type::Object(attrs) => Value::Object(attrs.iter().map(|(k, t)| (k.clone(), random_value(rng, t))).collect::<NameMap<_>>()),
        Type::Tuple(elems) => Value::List(elems.iter().map(|t| random_value(rng, t)).collect()),
    }
}

/// Runs `check` on each case, failing on a case slower than the budget.
fn timed<T>(name: &str, inputs: impl Iterator<Item = T>, mut check: impl FnMut(T)) -> (usize, Duration) {
    let (mut count, mut slowest) = (0, Duration::ZERO);
    for input in inputs {
        let started = Instant::now();
        check(input);
        let took = started.elapsed();
        assert!(took < PER_INPUT_BUDGET, "{name}: one input took {took:?}");
        slowest = slowest.max(took);
        count += 1;
    }
    (count, slowest)
}

fn report(line: String) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/reliability");
    std::fs::create_dir_all(&dir).unwrap();
    let name = line.split(':').next().unwrap().replace(' ', "-");
    std::fs::write(dir.join(format!("fuzz-{name}.md")), format!("{line}\n")).unwrap();
}

fn access_key_type() -> Type {
    iamkey::provider::IamKeyProvider::new().resource("iamkey_access_key").unwrap().schema().value_type().clone()
}

#[test]
fn msgpack_values_round_trip_for_random_types() {
    let mut rng = Rng(SEED);
    let (count, slowest) = timed("round trip", (0..CASES).map(|_| ()), |()| {
        let ty = random_type(&mut rng, 0);
        let value = random_value(&mut rng, &ty);
        let bytes = encode_msgpack(&value, &ty).expect("a value of its own type encodes");
        assert_eq!(decode_msgpack(&bytes, &ty).expect("its own encoding decodes"), value);
    });
    report(format!("msgpack round trip: {count} random (type, value) pairs, decode(encode(v)) = v for all; slowest {slowest:?}"));
}

#[test]
fn msgpack_decoder_never_panics_on_garbage_or_mutations() {
    let mut rng = Rng(SEED ^ 1);
    let key_type = access_key_type();
    let mut refused = 0;
    let (count, slowest) = timed("msgpack", 0..CASES, |case| {
        let ty = if case % 3 == 0 { key_type.clone() } else { random_type(&mut rng, 0) };
        let bytes = if case % 2 == 0 {
            rng.bytes(256)
        } else {
            let mut valid = encode_msgpack(&random_value(&mut rng, &ty), &ty).unwrap();
            for _ in 0..=rng.below(4) {
                if valid.is_empty() {
                    break;
                }
                let at = rng.below(valid.len());
                match rng.below(3) {
                    0 => valid[at] = rng.next() as u8,
                    1 => valid.truncate(at),
                    _ => valid.insert(at, [0xc1, 0xdd, 0xdf, 0xc6, 0xd9][rng.below(5)]),
                }
            }
            valid
        };
        if decode_msgpack(&bytes, &ty).is_err() {
            refused += 1;
        }
    });
    assert!(refused > count / 4, "the corpus exercises the error paths ({refused} refused)");
    report(format!("msgpack decoder: {count} random and mutated inputs, 0 panics, {refused} refused with an error; slowest {slowest:?}"));
}

/// Which check refused an input.
fn error_kind(error: &CodecError) -> &'static str {
    match error {
        CodecError::Truncated => "truncated",
        CodecError::TrailingBytes(_) => "trailing bytes",
        CodecError::Mismatch { .. } => "type mismatch",
        CodecError::UnknownAttribute { .. } => "unknown attribute",
        CodecError::TooDeep => "too deep",
        CodecError::InvalidUtf8 { .. } => "invalid UTF-8",
        CodecError::InvalidDynamicType { .. } => "invalid dynamic type",
        CodecError::Json { .. } => "invalid JSON",
    }
}

#[test]
fn json_decoder_never_panics_on_garbage_or_mutations() {
    let mut rng = Rng(SEED ^ 2);
    let key_type = access_key_type();
    let valid = br#"{"id":"AKIAIOSFODNN7EXAMPLE","user":"bob","status":"Active","secret":null,"create_date":"2026-01-01T00:00:00Z"}"#;
    let (mut accepted, mut reached) = (0, std::collections::BTreeMap::<&str, usize>::new());
    let (count, slowest) = timed("json", 0..CASES, |case| {
        let mut bytes = if case % 2 == 0 { rng.bytes(128) } else { valid.to_vec() };
        for _ in 0..rng.below(6) {
            let at = rng.below(bytes.len().max(1));
            const JSON_BYTES: &[u8] = b"{}[]\",:0-eE.nul\\";
            let b = JSON_BYTES[rng.below(JSON_BYTES.len())];
            if at < bytes.len() && rng.chance(50) {
                bytes[at] = b;
            } else {
                bytes.insert(at.min(bytes.len()), b);
            }
        }
        match decode_json(&bytes, &key_type, case % 4 == 0) {
            Ok(_) => accepted += 1,
            Err(e) => *reached.entry(error_kind(&e)).or_default() += 1,
        }
    });
    // The corpus reaches the decoder's own checks, not only the JSON parser's, and
    // still holds inputs that decode.
    for kind in ["invalid JSON", "type mismatch", "unknown attribute"] {
        assert!(reached.contains_key(kind), "no input reached the {kind} error: {reached:?}");
    }
    assert!(accepted > count / 100, "the mutations keep some inputs valid ({accepted} accepted)");
    report(format!(
        "JSON decoder (state and DynamicValue): {count} random and mutated inputs, 0 panics, {accepted} accepted, refused by kind {reached:?}; slowest {slowest:?}"
    ));
}

#[test]
fn import_id_parser_accepts_exactly_the_valid_ids() {
    let mut rng = Rng(SEED ^ 3);
    let mut accepted = 0;
    let (count, slowest) = timed("import id", 0..CASES, |case| {
        let id = match case % 3 {
            0 => rng.text(),
            1 => format!("{}/{}", rng.text(), "AKIA".repeat(1 + rng.below(40))),
            _ => "AKIAIOSFODNN7EXAMPLE"[..rng.below(21)].to_string() + &rng.text(),
        };
        if let Ok((user, key)) = parse_import_id(&id) {
            accepted += 1;
            assert!((16..=128).contains(&key.len()) && key.chars().all(|c| c.is_ascii_alphanumeric()), "{id:?}");
            if let Some(user) = user {
                assert!(!user.is_empty() && user.len() <= 64 && user.is_ascii(), "{id:?}");
            }
        }
    });
    assert!(accepted > 0, "the corpus includes valid IDs");
    report(format!("import ID parser: {count} random IDs, 0 panics, {accepted} accepted (each a valid key ID and user); slowest {slowest:?}"));
}

#[test]
fn ten_thousand_deep_nesting_is_refused() {
    let mut nested = Type::String;
    for _ in 0..200 {
        nested = Type::List(Box::new(nested));
    }
    let mut msgpack = vec![0x91; 10_000];
    msgpack.push(0xc0);
    assert_eq!(decode_msgpack(&msgpack, &nested), Err(CodecError::TooDeep));
    let json = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(decode_json(json.as_bytes(), &nested, false).is_err());
    // A dynamic value that names a 10,000-deep type.
    let deep_type = format!("{}\"string\"{}", "[\"list\",".repeat(10_000), "]".repeat(10_000));
    let mut dynamic = vec![0x92, 0xc6];
    dynamic.extend_from_slice(&(deep_type.len() as u32).to_be_bytes());
    dynamic.extend_from_slice(deep_type.as_bytes());
    dynamic.push(0xc0);
    assert!(decode_msgpack(&dynamic, &Type::Dynamic).is_err());
    report("deep nesting: 10,000-deep msgpack arrays, JSON arrays and dynamic type constraints all refused with an error".into());
}

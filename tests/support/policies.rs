//! IAM policies on the policy-enforcing emulator: the documented policy files as
//! moto takes them, and turning enforcement on (tests/e2e/permissions.rs and
//! tests/e2e/organization.rs prove least privilege with them).

use std::io::{Read, Write};

use super::*;

/// A statement's actions and the policy document moto gets (Resource "*").
pub fn policy(file: &str) -> (Vec<String>, serde_json::Value) {
    let path = project_root().join("examples/iam-policies").join(file);
    let mut document: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut actions = Vec::new();
    for statement in document["Statement"].as_array_mut().unwrap() {
        actions.extend(statement["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()));
        statement["Resource"] = serde_json::Value::String("*".into());
    }
    (actions, document)
}

/// The same document without `action` (and without a statement left with none).
pub fn without(document: &serde_json::Value, action: &str) -> serde_json::Value {
    let mut document = document.clone();
    let statements = document["Statement"].as_array_mut().unwrap();
    for statement in statements.iter_mut() {
        statement["Action"].as_array_mut().unwrap().retain(|a| a != action);
    }
    statements.retain(|statement| !statement["Action"].as_array().unwrap().is_empty());
    document
}

/// Turns policy enforcement on: every later request must be signed by a known
/// key whose user's policies allow the action.
pub fn enforce_policies(emulator: &Emulator) {
    let port = emulator.endpoint().rsplit(':').next().unwrap().to_string();
    let mut stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    write!(
        stream,
        "POST /moto-api/reset-auth HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/plain\r\nContent-Length: 1\r\nConnection: close\r\n\r\n0"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "reset-auth: {answer}");
}

/// An IAM user with a key, made while policies are not yet enforced.
pub fn user_with_key(emulator: &Emulator, name: &str) -> (String, String) {
    user_with_key_in(&emulator.iam(), name)
}

/// An IAM user with a key in the account `iam` acts in.
pub fn user_with_key_in(iam: &aws_sdk_iam::Client, name: &str) -> (String, String) {
    block_on(iam.create_user().user_name(name).send()).unwrap();
    let key = block_on(iam.create_access_key().user_name(name).send()).unwrap();
    let key = key.access_key().unwrap();
    (key.access_key_id().to_string(), key.secret_access_key().to_string())
}

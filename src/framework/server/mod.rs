//! The framework server: the rules of every RPC, on decoded values. The protocol
//! layer converts the wire to these calls and back; it decides nothing.
//!
//! Each file holds one RPC family and its unit tests (against the in-memory
//! resource in `testing`):
//! `validate`, `configure`, `plan`, `apply`, `read`, `import`, `upgrade`, `list`,
//! `ephemeral`, `function`, `action`.
//!
//! Rules kept everywhere:
//! - a value arrives still encoded and is decoded here, with the type the schema
//!   gives; a value that does not decode is an error diagnostic, never a panic;
//! - a type name this provider does not serve is an error diagnostic;
//! - domain failures are diagnostics; nothing here knows the wire or IAM.

pub mod action;
pub mod apply;
pub mod configure;
pub mod ephemeral;
pub mod function;
pub mod import;
pub mod list;
pub mod plan;
pub mod read;
pub mod upgrade;
pub mod validate;

#[cfg(test)]
pub(crate) mod testing;

use super::{Provider, Resource};
use crate::value::summary;
use crate::value::{Diagnostics, Type, Value};

/// A value as Terraform sent it, decoded only once the framework knows its type.
pub trait Encoded: Sync {
    /// Decodes the value as `ty`; `Value::Null` when Terraform sent none.
    fn decode(&self, ty: &Type) -> Result<Value, String>;
}

/// A decoded value needs no decoding (tests, and values the framework made).
impl Encoded for Value {
    fn decode(&self, _: &Type) -> Result<Value, String> {
        Ok(self.clone())
    }
}

/// A value on its way back to Terraform, with the type to encode it as.
#[derive(Debug)]
pub struct Typed<'a> {
    pub value: Value,
    pub ty: &'a Type,
}

/// What becomes of the identity Terraform holds for an object.
#[derive(Debug)]
pub enum IdentityChange<'a> {
    /// Terraform keeps the identity it sent (an identity never changes in place).
    Keep,
    /// The object has this identity.
    Set(Typed<'a>),
    /// The object has none (it is gone, or its identity is not complete yet).
    Absent,
}

/// Decodes a value Terraform sent; `what` names it in the diagnostic.
pub fn decode(value: &dyn Encoded, ty: &Type, what: &str) -> Result<Value, Diagnostics> {
    value.decode(ty).map_err(|e| Diagnostics::error(summary::INVALID_VALUE_FROM_TERRAFORM, format!("The {what} sent by Terraform could not be decoded: {e}.")))
}

/// Decodes a configuration Terraform sent and validates it against `schema`:
/// whatever RPC brings a configuration, nothing acts on one its schema refuses.
pub fn decode_valid(value: &dyn Encoded, schema: &crate::framework::schema::Schema, what: &str) -> Result<Value, Diagnostics> {
    let config = decode(value, schema.value_type(), what)?;
    let diags = schema.validate(&config);
    match diags.has_errors() {
        true => Err(diags),
        false => Ok(config),
    }
}

/// The diagnostic for a type name this provider does not serve.
pub fn unknown_type(kind: &str, type_name: &str) -> Diagnostics {
    Diagnostics::error(summary::UNKNOWN_TYPE.fill(&[("kind", kind)]), format!("This provider has no {kind} type \"{type_name}\"."))
}

/// The served resource type of that name.
pub fn resource<'a>(provider: &'a dyn Provider, type_name: &str) -> Result<&'a dyn Resource, Diagnostics> {
    provider.resource(type_name).map(|r| r.as_ref()).ok_or_else(|| unknown_type("resource", type_name))
}

/// The identity of the object `state` describes: only for types with an identity,
/// and only once every part of it is known.
pub fn identity_of<'a>(resource: &'a dyn Resource, state: &Value) -> Option<Typed<'a>> {
    let schema = resource.identity_schema()?;
    if state.is_null() {
        return None;
    }
    let value = resource.identity(state).filter(Value::is_wholly_known)?;
    Some(Typed { value, ty: schema.value_type() })
}

/// A resource's value type, the one its state, plan and configuration share.
pub fn state_type(resource: &dyn Resource) -> &Type {
    resource.schema().value_type()
}

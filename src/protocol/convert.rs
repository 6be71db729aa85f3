//! Converters between the generated tfplugin6 types and the framework's: one
//! function per message part. No rule lives here.

use std::collections::HashMap;

use super::codec::{decode_json, decode_msgpack, encode_msgpack};
use super::wire;
use crate::framework::schema::{self, Mode, Nesting, Schema};
use crate::framework::server::{Encoded, IdentityChange, Typed};
use crate::framework::{Function, Provider};
use crate::value::{AttributePath, Diagnostics, PathStep, Severity, Type, Value};

/// A `DynamicValue` decodes from msgpack when present, else JSON, else null.
impl Encoded for Option<wire::DynamicValue> {
    fn decode(&self, ty: &Type) -> Result<Value, String> {
        decode_dynamic(self.as_ref(), ty)
    }
}

impl Encoded for wire::DynamicValue {
    fn decode(&self, ty: &Type) -> Result<Value, String> {
        decode_dynamic(Some(self), ty)
    }
}

fn decode_dynamic(value: Option<&wire::DynamicValue>, ty: &Type) -> Result<Value, String> {
    let decoded = match value {
        Some(v) if !v.msgpack.is_empty() => decode_msgpack(&v.msgpack, ty),
        Some(v) if !v.json.is_empty() => decode_json(&v.json, ty, false),
        _ => Ok(Value::Null),
    };
    decoded.map_err(|e| e.to_string())
}

/// State or identity as Terraform stored it (JSON, possibly of an older schema:
/// attributes no longer in the schema are dropped, new ones start null).
pub struct Stored<'r>(pub Option<&'r wire::RawState>);

impl Encoded for Stored<'_> {
    fn decode(&self, ty: &Type) -> Result<Value, String> {
        decode_json(self.0.map(|r| r.json.as_slice()).unwrap_or_default(), ty, true).map_err(|e| e.to_string())
    }
}

/// Encodes a value for Terraform; an encoding failure is the provider's bug.
pub fn encode(typed: &Typed<'_>) -> Result<wire::DynamicValue, Diagnostics> {
    encode_msgpack(&typed.value, typed.ty).map(|msgpack| wire::DynamicValue { msgpack, json: Vec::new() }).map_err(|e| {
        Diagnostics::error("Provider produced an invalid value", format!("The provider could not encode its result: {e}. This is a bug in the provider."))
    })
}

/// Encodes a value, moving an encoding failure into `diags`.
pub fn encode_into(typed: Option<&Typed<'_>>, diags: &mut Diagnostics) -> Option<wire::DynamicValue> {
    match encode(typed?) {
        Ok(encoded) => Some(encoded),
        Err(failure) => {
            diags.extend(failure);
            None
        }
    }
}

pub fn identity(typed: Option<&Typed<'_>>) -> Option<wire::ResourceIdentityData> {
    Some(wire::ResourceIdentityData { identity_data: Some(encode(typed?).ok()?) })
}

/// The identity to answer with: `kept` is the one Terraform sent.
pub fn identity_change(change: &IdentityChange<'_>, kept: Option<wire::ResourceIdentityData>) -> Option<wire::ResourceIdentityData> {
    match change {
        IdentityChange::Keep => kept,
        IdentityChange::Set(typed) => identity(Some(typed)),
        IdentityChange::Absent => None,
    }
}

pub fn diagnostics(diags: Diagnostics) -> Vec<wire::Diagnostic> {
    diags
        .into_iter()
        .map(|d| wire::Diagnostic {
            severity: match d.severity {
                Severity::Error => wire::diagnostic::Severity::Error,
                Severity::Warning => wire::diagnostic::Severity::Warning,
            } as i32,
            summary: d.summary,
            detail: d.detail,
            attribute: d.path.map(path),
        })
        .collect()
}

pub fn path(path: AttributePath) -> wire::AttributePath {
    use wire::attribute_path::step::Selector;
    let step = |step| wire::attribute_path::Step {
        selector: Some(match step {
            PathStep::Attribute(a) => Selector::AttributeName(a),
            PathStep::Key(k) => Selector::ElementKeyString(k),
            PathStep::Index(i) => Selector::ElementKeyInt(i),
        }),
    };
    wire::AttributePath { steps: path.0.into_iter().map(step).collect() }
}

pub fn schema(schema: &Schema) -> wire::Schema {
    wire::Schema { version: schema.version, block: Some(block(&schema.block, schema.version)) }
}

fn block(block_of: &schema::Block, version: i64) -> wire::schema::Block {
    use wire::schema::nested_block::NestingMode;
    wire::schema::Block {
        version,
        attributes: block_of
            .attributes
            .iter()
            .map(|a| wire::schema::Attribute {
                name: a.name.to_string(),
                r#type: type_json(&a.ty),
                description: a.description.to_string(),
                required: a.mode == Mode::Required,
                optional: matches!(a.mode, Mode::Optional | Mode::OptionalComputed),
                computed: a.is_computed(),
                sensitive: a.sensitive,
                description_kind: wire::StringKind::Markdown as i32,
                ..Default::default()
            })
            .collect(),
        block_types: block_of
            .blocks
            .iter()
            .map(|b| wire::schema::NestedBlock {
                type_name: b.name.to_string(),
                block: Some(block(&b.block, version)),
                nesting: match b.nesting {
                    Nesting::Single => NestingMode::Single,
                    Nesting::List => NestingMode::List,
                } as i32,
                ..Default::default()
            })
            .collect(),
        description: block_of.description.to_string(),
        description_kind: wire::StringKind::Markdown as i32,
        ..Default::default()
    }
}

pub fn identity_schema(schema: &Schema) -> wire::ResourceIdentitySchema {
    wire::ResourceIdentitySchema {
        version: schema.version,
        identity_attributes: schema
            .block
            .attributes
            .iter()
            .map(|a| wire::resource_identity_schema::IdentityAttribute {
                name: a.name.to_string(),
                r#type: type_json(&a.ty),
                required_for_import: a.mode == Mode::Required,
                optional_for_import: a.mode != Mode::Required,
                description: a.description.to_string(),
            })
            .collect(),
    }
}

pub fn functions(provider: &dyn Provider) -> HashMap<String, wire::Function> {
    provider.functions().iter().map(|f| (f.name().to_string(), function(f.as_ref()))).collect()
}

fn function(function: &dyn Function) -> wire::Function {
    use wire::function::{Parameter, Return};
    wire::Function {
        parameters: function
            .parameters()
            .iter()
            .map(|p| Parameter {
                name: p.name.to_string(),
                r#type: type_json(&p.ty),
                description: p.description.to_string(),
                description_kind: wire::StringKind::Markdown as i32,
                ..Default::default()
            })
            .collect(),
        r#return: Some(Return { r#type: type_json(&function.return_type()) }),
        summary: function.summary().to_string(),
        description: function.description().to_string(),
        description_kind: wire::StringKind::Markdown as i32,
        ..Default::default()
    }
}

fn type_json(ty: &Type) -> Vec<u8> {
    ty.to_json().to_string().into_bytes()
}

pub fn server_capabilities() -> wire::ServerCapabilities {
    wire::ServerCapabilities { get_provider_schema_optional: false, generate_resource_config: true, move_resource_state: true, ..Default::default() }
}

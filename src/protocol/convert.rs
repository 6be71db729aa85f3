//! Converters between the generated tfplugin6 types and the framework's: one
//! function per message part. No rule lives here.

use std::collections::HashMap;

use super::codec::{decode_json, decode_msgpack, encode_msgpack};
use super::wire;
use crate::framework::schema::{self, Mode, Nesting, Schema};
use crate::framework::server::{Encoded, IdentityChange, Typed};
use crate::framework::{Function, Provider};
use crate::value::summary;
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
        Diagnostics::error(
            summary::PROVIDER_PRODUCED_AN_INVALID_VALUE,
            format!("The provider could not encode its result: {e}. This is a bug in the provider."),
        )
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

/// A framework result as a value for Terraform and the diagnostics beside it.
pub fn encoded(result: Result<Typed<'_>, Diagnostics>) -> (Option<wire::DynamicValue>, Diagnostics) {
    let (typed, mut diags) = match result {
        Ok(typed) => (Some(typed), Diagnostics::new()),
        Err(diags) => (None, diags),
    };
    (encode_into(typed.as_ref(), &mut diags), diags)
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

pub fn metadata(p: &dyn Provider) -> wire::get_metadata::Response {
    use wire::get_metadata as m;
    m::Response {
        server_capabilities: Some(server_capabilities()),
        resources: p.resources().iter().map(|r| m::ResourceMetadata { type_name: r.type_name().into() }).collect(),
        data_sources: p.data_sources().iter().map(|d| m::DataSourceMetadata { type_name: d.type_name().into() }).collect(),
        list_resources: p.list_resources().iter().map(|l| m::ListResourceMetadata { type_name: l.type_name().into() }).collect(),
        functions: p.functions().iter().map(|f| m::FunctionMetadata { name: f.name().into() }).collect(),
        ephemeral_resources: p.ephemeral_resources().iter().map(|e| m::EphemeralMetadata { type_name: e.type_name().into() }).collect(),
        actions: p.actions().iter().map(|a| m::ActionMetadata { type_name: a.type_name().into() }).collect(),
        ..Default::default()
    }
}

pub fn provider_schema(p: &dyn Provider) -> wire::get_provider_schema::Response {
    let schemas = |items: Vec<(&str, &Schema)>| items.into_iter().map(|(name, s)| (name.to_string(), schema(s))).collect();
    wire::get_provider_schema::Response {
        provider: Some(schema(p.schema())),
        resource_schemas: schemas(p.resources().iter().map(|r| (r.type_name(), r.schema())).collect()),
        data_source_schemas: schemas(p.data_sources().iter().map(|d| (d.type_name(), d.schema())).collect()),
        list_resource_schemas: schemas(p.list_resources().iter().map(|l| (l.type_name(), l.schema())).collect()),
        ephemeral_resource_schemas: schemas(p.ephemeral_resources().iter().map(|e| (e.type_name(), e.schema())).collect()),
        functions: functions(p),
        action_schemas: p.actions().iter().map(|a| (a.type_name().to_string(), wire::ActionSchema { schema: Some(schema(a.schema())) })).collect(),
        server_capabilities: Some(server_capabilities()),
        ..Default::default()
    }
}

pub fn identity_schemas(p: &dyn Provider) -> wire::get_resource_identity_schemas::Response {
    let identity_schemas = p.resources().iter().filter_map(|r| Some((r.type_name().to_string(), identity_schema(r.identity_schema()?))));
    wire::get_resource_identity_schemas::Response { identity_schemas: identity_schemas.collect(), diagnostics: Vec::new() }
}

pub fn server_capabilities() -> wire::ServerCapabilities {
    wire::ServerCapabilities { get_provider_schema_optional: false, generate_resource_config: true, move_resource_state: true, ..Default::default() }
}

/// A response that can carry only diagnostics.
pub trait Failed {
    fn failed(diagnostics: Vec<wire::Diagnostic>) -> Self;
}

macro_rules! failed_with_diagnostics {
    ($($response:path),* $(,)?) => {$(
        #[allow(clippy::needless_update)]
        impl Failed for $response {
            fn failed(diagnostics: Vec<wire::Diagnostic>) -> Self {
                Self { diagnostics, ..Default::default() }
            }
        }
    )*};
}

failed_with_diagnostics!(
    wire::get_provider_schema::Response,
    wire::validate_provider_config::Response,
    wire::validate_resource_config::Response,
    wire::validate_data_resource_config::Response,
    wire::validate_list_resource_config::Response,
    wire::validate_ephemeral_resource_config::Response,
    wire::configure_provider::Response,
    wire::upgrade_resource_state::Response,
    wire::upgrade_resource_identity::Response,
    wire::get_resource_identity_schemas::Response,
    wire::plan_resource_change::Response,
    wire::import_resource_state::Response,
    wire::move_resource_state::Response,
    wire::read_data_source::Response,
    wire::generate_resource_config::Response,
    wire::open_ephemeral_resource::Response,
    wire::renew_ephemeral_resource::Response,
    wire::close_ephemeral_resource::Response,
    wire::get_functions::Response,
    wire::get_metadata::Response,
    wire::validate_action_config::Response,
    wire::plan_action::Response,
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::{Attribute, Block};

    fn key_type() -> Type {
        Type::Object([("id".into(), Type::String), ("user".into(), Type::String)].into())
    }

    #[test]
    fn a_dynamic_value_decodes_from_msgpack_first_then_json_and_absent_is_null() {
        let ty = key_type();
        let value = Value::object([("id", Value::string("AKIA1")), ("user", Value::string("bob"))]);
        let msgpack = encode(&Typed { value: value.clone(), ty: &ty }).unwrap();
        assert_eq!(Some(msgpack.clone()).decode(&ty), Ok(value.clone()));
        let json = wire::DynamicValue { msgpack: Vec::new(), json: br#"{"id":"AKIA1","user":"bob"}"#.to_vec() };
        assert_eq!(json.decode(&ty), Ok(value));
        assert_eq!(None::<wire::DynamicValue>.decode(&ty), Ok(Value::Null));
        let unknown_attribute = wire::DynamicValue { msgpack: Vec::new(), json: br#"{"id":"AKIA1","extra":1}"#.to_vec() };
        assert!(unknown_attribute.decode(&ty).unwrap_err().contains("extra"), "a DynamicValue must match the schema");
    }

    #[test]
    fn stored_state_of_an_older_schema_drops_attributes_and_starts_new_ones_null() {
        let raw = wire::RawState { json: br#"{"id":"AKIA1","removed_since":"x"}"#.to_vec(), ..Default::default() };
        let decoded = Stored(Some(&raw)).decode(&key_type()).unwrap();
        assert_eq!((decoded.get("id"), decoded.get("user")), (&Value::string("AKIA1"), &Value::Null));
    }

    #[test]
    fn diagnostics_keep_severity_summary_detail_and_the_path_steps() {
        let mut diags = Diagnostics::error_at(AttributePath::root("tags").key("team").attribute("value"), "Bad tag", "detail");
        diags.add_warning("Careful", "more");
        let wire = diagnostics(diags);
        assert_eq!(wire[0].severity, wire::diagnostic::Severity::Error as i32);
        assert_eq!((wire[0].summary.as_str(), wire[0].detail.as_str()), ("Bad tag", "detail"));
        use wire::attribute_path::step::Selector;
        let steps: Vec<_> = wire[0].attribute.as_ref().unwrap().steps.iter().map(|s| s.selector.clone().unwrap()).collect();
        assert_eq!(steps, [Selector::AttributeName("tags".into()), Selector::ElementKeyString("team".into()), Selector::AttributeName("value".into())]);
        assert_eq!((wire[1].severity, wire[1].attribute.is_none()), (wire::diagnostic::Severity::Warning as i32, true));
    }

    #[test]
    fn a_schema_converts_with_its_modes_nested_blocks_and_version() {
        let block = Block::new("A key.")
            .attribute(Attribute::required("user", Type::String))
            .attribute(Attribute::optional_computed("status", Type::String))
            .attribute(Attribute::computed("secret", Type::String).sensitive())
            .block("rotation", Nesting::Single, Block::new("When.").attribute(Attribute::optional("after_days", Type::Number)));
        let converted = schema(&Schema::new(2, block));
        let block = converted.block.unwrap();
        assert_eq!((converted.version, block.version), (2, 2));
        let flags = |name: &str| {
            let a = block.attributes.iter().find(|a| a.name == name).unwrap();
            (a.required, a.optional, a.computed, a.sensitive)
        };
        assert_eq!(flags("user"), (true, false, false, false));
        assert_eq!(flags("status"), (false, true, true, false));
        assert_eq!(flags("secret"), (false, false, true, true));
        assert_eq!(block.attributes.iter().find(|a| a.name == "user").unwrap().r#type, b"\"string\"");
        let nested = &block.block_types[0];
        assert_eq!((nested.type_name.as_str(), nested.nesting), ("rotation", wire::schema::nested_block::NestingMode::Single as i32));
        assert_eq!(nested.block.as_ref().unwrap().attributes[0].name, "after_days");
    }
}

//! ValidateProviderConfig, ValidateResourceConfig, ValidateDataResourceConfig,
//! ValidateListResourceConfig, ValidateEphemeralResourceConfig.
//!
//! Rule: a configuration passes the schema's validators and then the type's own
//! checks; unknown values pass both (they are checked again at apply). Plan and
//! apply run the same validation again: nothing relies on Terraform having
//! called validate first.

use super::{decode, resource, unknown_type, Encoded};
use crate::framework::schema::Schema;
use crate::framework::{Provider, Resource};
use crate::value::{Diagnostics, Value};

pub fn provider_config(provider: &dyn Provider, config: &dyn Encoded) -> Diagnostics {
    checked(provider.schema(), config, "provider configuration", |config, diags| provider.validate(config, diags))
}

pub fn resource_config(provider: &dyn Provider, type_name: &str, config: &dyn Encoded) -> Diagnostics {
    match resource(provider, type_name) {
        Ok(resource) => checked(resource.schema(), config, "configuration", |config, diags| resource.validate(config, diags)),
        Err(diags) => diags,
    }
}

pub fn data_source_config(provider: &dyn Provider, type_name: &str, config: &dyn Encoded) -> Diagnostics {
    let schema = provider.data_source(type_name).map(|d| d.schema());
    schema_only(schema, "data source", type_name, config)
}

pub fn list_resource_config(provider: &dyn Provider, type_name: &str, config: &dyn Encoded) -> Diagnostics {
    let schema = provider.list_resource(type_name).map(|l| l.schema());
    schema_only(schema, "list resource", type_name, config)
}

pub fn ephemeral_resource_config(provider: &dyn Provider, type_name: &str, config: &dyn Encoded) -> Diagnostics {
    let schema = provider.ephemeral_resource(type_name).map(|e| e.schema());
    schema_only(schema, "ephemeral resource", type_name, config)
}

/// The provider's whole validation of a decoded configuration, as
/// ValidateProviderConfig runs it; ConfigureProvider runs it again.
pub fn provider_value(provider: &dyn Provider, config: &Value) -> Diagnostics {
    let mut diags = provider.schema().validate(config);
    provider.validate(config, &mut diags);
    diags
}

/// A resource's whole validation of a decoded configuration, as
/// ValidateResourceConfig runs it; plan and apply run it again.
pub fn resource_value(resource: &dyn Resource, config: &Value) -> Diagnostics {
    let mut diags = resource.schema().validate(config);
    resource.validate(config, &mut diags);
    diags
}

fn schema_only(schema: Option<&Schema>, kind: &str, type_name: &str, config: &dyn Encoded) -> Diagnostics {
    match schema {
        Some(schema) => checked(schema, config, "configuration", |_, _| {}),
        None => unknown_type(kind, type_name),
    }
}

fn checked(schema: &Schema, config: &dyn Encoded, what: &str, own_checks: impl FnOnce(&Value, &mut Diagnostics)) -> Diagnostics {
    match decode(config, schema.value_type(), what) {
        Ok(config) => {
            let mut diags = schema.validate(&config);
            own_checks(&config, &mut diags);
            diags
        }
        Err(diags) => diags,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::server::testing::{config, Notes};

    #[test]
    fn each_kind_runs_its_schema_and_the_resource_its_own_checks() {
        let provider = Notes::provider();
        let cases: [(&str, Diagnostics, &[&str]); 6] = [
            ("valid resource", resource_config(&provider, "notes_note", &config("hello")), &[]),
            ("schema validator", resource_config(&provider, "notes_note", &config("")), &["Invalid value for \"text\""]),
            ("resource's own check", resource_config(&provider, "notes_note", &config("forbidden")), &["Forbidden text"]),
            ("unknown resource", resource_config(&provider, "notes_other", &config("x")), &["Unknown resource type"]),
            ("unknown data source", data_source_config(&provider, "notes_other", &Value::Null), &["Unknown data source type"]),
            ("undecodable", resource_config(&provider, "notes_note", &testing_undecodable()), &["Invalid value from Terraform"]),
        ];
        for (case, diags, summaries) in cases {
            let got: Vec<&str> = diags.iter().map(|d| d.summary.as_str()).collect();
            assert_eq!(got, summaries, "{case}");
        }
    }

    #[test]
    fn unknown_values_pass() {
        let provider = Notes::provider();
        let unknown = Value::object([("text", Value::Unknown), ("id", Value::Null)]);
        assert!(resource_config(&provider, "notes_note", &unknown).is_empty());
    }

    fn testing_undecodable() -> crate::framework::server::testing::Undecodable {
        crate::framework::server::testing::Undecodable
    }
}

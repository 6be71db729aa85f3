//! Plan rules that follow from a schema alone: defaults (always, or on create only),
//! unknown computed values on create, prior values kept on update, and
//! replace-on-change.
//!
//! The rules keep Terraform's planning contract: a non-null configured value is
//! planned unchanged; a computed value is unknown only where it will change, so an
//! in-place update shows no "(known after apply)" noise.

use crate::value::AttributePath;
use crate::value::{Name, Value};

use super::schema::{Mode, Schema};

/// What the schema says a change will be.
#[derive(Debug, PartialEq)]
pub struct Planned {
    pub state: Value,
    pub requires_replace: Vec<AttributePath>,
}

/// Plans the new state from the prior state, Terraform's proposed new state (which
/// becomes the plan, so it is taken rather than copied) and the configuration. A
/// null proposal is a destroy and plans null.
pub fn plan(schema: &Schema, prior: &Value, proposed: Value, config: &Value) -> Planned {
    if proposed.is_null() {
        return Planned { state: Value::Null, requires_replace: Vec::new() };
    }
    let mut state = proposed;
    let creating = prior.is_null();
    for attr in &schema.block.attributes {
        let configured = config.get_at(attr.slot, attr.name);
        let planned = match (&attr.default, configured.is_null(), attr.mode) {
            (_, false, _) => configured.clone(),
            (Some(default), true, _) => default.clone(),
            (None, true, Mode::Computed | Mode::OptionalComputed) if creating => attr.create_default.clone().unwrap_or(Value::Unknown),
            (None, true, Mode::Computed | Mode::OptionalComputed) => prior.get_at(attr.slot, attr.name).clone(),
            (None, true, _) => Value::Null,
        };
        state.set_at(attr.slot, attr.name, planned);
    }
    let requires_replace: Vec<AttributePath> = if creating {
        Vec::new()
    } else {
        schema
            .block
            .attributes
            .iter()
            .filter(|a| a.replace_on_change && state.get_at(a.slot, a.name) != prior.get_at(a.slot, a.name))
            .map(|a| AttributePath::root(a.name))
            .collect()
    };
    let mut planned = Planned { state, requires_replace: Vec::new() };
    force_replacement(schema, config, &mut planned, requires_replace);
    planned
}

/// Turns an update into a replacement for the given reasons (beyond the schema's
/// replace-on-change attributes): what the provider computes becomes unknown.
pub fn force_replacement(schema: &Schema, config: &Value, planned: &mut Planned, reasons: Vec<AttributePath>) {
    if reasons.is_empty() || planned.state.is_null() {
        return;
    }
    for attr in schema.block.attributes.iter().filter(|a| a.is_computed()) {
        if config.get_at(attr.slot, attr.name).is_null() && attr.default.is_none() {
            // The replacement is a new object.
            planned.state.set_at(attr.slot, attr.name, attr.create_default.clone().unwrap_or(Value::Unknown));
        }
    }
    for reason in reasons {
        if !planned.requires_replace.contains(&reason) {
            planned.requires_replace.push(reason);
        }
    }
}

/// The configuration that would produce `state`: every configurable attribute's
/// value, and null for computed-only ones.
pub fn config_from_state(schema: &Schema, state: &Value) -> Value {
    Value::Object(
        schema
            .block
            .attributes
            .iter()
            .map(|a| (Name::Borrowed(a.name), if a.is_configurable() { state.get_at(a.slot, a.name).clone() } else { Value::Null }))
            .chain(schema.block.blocks.iter().map(|b| (Name::Borrowed(b.name), state.get_at(b.slot, b.name).clone())))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::{Attribute, Block};
    use crate::value::Type;

    fn schema() -> Schema {
        Schema::new(
            0,
            Block::new("")
                .attribute(Attribute::optional_computed("user", Type::String).replace_on_change())
                .attribute(Attribute::optional("status", Type::String).default(Value::string("Active")))
                .attribute(Attribute::computed("id", Type::String))
                .attribute(Attribute::computed("secret", Type::String).sensitive()),
        )
    }

    #[test]
    fn create_plans_defaults_and_unknown_computed_values() {
        let config = Value::object([("user", Value::Null), ("status", Value::Null)]);
        let p = plan(&schema(), &Value::Null, config.clone(), &config);
        assert_eq!(p.state.get("status"), &Value::string("Active"));
        assert_eq!(p.state.get("user"), &Value::Unknown);
        assert_eq!(p.state.get("id"), &Value::Unknown);
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn a_default_on_create_applies_to_new_objects_and_replacements_only() {
        let schema = Schema::new(
            0,
            Block::new("")
                .attribute(Attribute::optional("status", Type::String).default_on_create(Value::string("Active")))
                .attribute(Attribute::optional("user", Type::String).replace_on_change()),
        );
        let unset = Value::object([("status", Value::Null), ("user", Value::string("bob"))]);
        let created = plan(&schema, &Value::Null, unset.clone(), &unset);
        assert_eq!(created.state.get("status"), &Value::string("Active"));
        // Changed outside Terraform and left unset: kept, not reverted.
        let prior = Value::object([("status", Value::string("Inactive")), ("user", Value::string("bob"))]);
        let kept = plan(&schema, &prior, unset.clone(), &unset);
        assert_eq!(kept.state, prior);
        // Configured: the configuration wins.
        let configured = Value::object([("status", Value::string("Active")), ("user", Value::string("bob"))]);
        assert_eq!(plan(&schema, &prior, configured.clone(), &configured).state.get("status"), &Value::string("Active"));
        // A replacement is a new object.
        let moved = Value::object([("status", Value::Null), ("user", Value::string("carol"))]);
        let replaced = plan(&schema, &prior, moved.clone(), &moved);
        assert_eq!(replaced.requires_replace, [AttributePath::root("user")]);
        assert_eq!(replaced.state.get("status"), &Value::string("Active"));
    }

    #[test]
    fn in_place_update_keeps_every_computed_value_known() {
        let prior = Value::object([
            ("user", Value::string("bob")),
            ("status", Value::string("Active")),
            ("id", Value::string("AKIA1")),
            ("secret", Value::string("s")),
        ]);
        let config = Value::object([("user", Value::Null), ("status", Value::string("Inactive"))]);
        let mut proposed = prior.clone();
        proposed.set("status", Value::string("Inactive"));
        let p = plan(&schema(), &prior, proposed, &config);
        assert_eq!(p.state.get("id"), &Value::string("AKIA1"));
        assert_eq!(p.state.get("secret"), &Value::string("s"));
        assert_eq!(p.state.get("user"), &Value::string("bob"));
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn default_reverts_a_status_changed_outside_terraform() {
        let prior = Value::object([("user", Value::string("bob")), ("status", Value::string("Inactive"))]);
        let config = Value::object([("user", Value::string("bob")), ("status", Value::Null)]);
        let p = plan(&schema(), &prior, prior.clone(), &config);
        assert_eq!(p.state.get("status"), &Value::string("Active"));
    }

    #[test]
    fn replace_on_change_reports_the_path_and_unknowns_computed_values() {
        let prior = Value::object([("user", Value::string("bob")), ("id", Value::string("AKIA1"))]);
        let config = Value::object([("user", Value::string("alice"))]);
        let p = plan(&schema(), &prior, config.clone(), &config);
        assert_eq!(p.requires_replace, vec![AttributePath::root("user")]);
        assert_eq!(p.state.get("id"), &Value::Unknown);
    }

    #[test]
    fn unknown_configuration_forces_replacement_of_replace_on_change_attributes() {
        let prior = Value::object([("user", Value::string("bob"))]);
        let config = Value::object([("user", Value::Unknown)]);
        let p = plan(&schema(), &prior, config.clone(), &config);
        assert_eq!(p.requires_replace, vec![AttributePath::root("user")]);
    }

    #[test]
    fn generated_config_keeps_configurable_values_and_no_computed_ones() {
        let state = Value::object([
            ("user", Value::string("bob")),
            ("status", Value::string("Inactive")),
            ("id", Value::string("AKIA1")),
            ("secret", Value::string("s")),
        ]);
        let config = config_from_state(&schema(), &state);
        assert_eq!(config.get("user"), &Value::string("bob"));
        assert_eq!(config.get("status"), &Value::string("Inactive"));
        assert_eq!(config.get("id"), &Value::Null);
        assert_eq!(config.get("secret"), &Value::Null);
    }

    #[test]
    fn destroy_plans_null() {
        let prior = Value::object([("user", Value::string("bob"))]);
        assert_eq!(plan(&schema(), &prior, Value::Null, &Value::Null).state, Value::Null);
    }
}

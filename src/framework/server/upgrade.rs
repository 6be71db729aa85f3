//! UpgradeResourceState, UpgradeResourceIdentity and MoveResourceState: stored
//! JSON read with the current schema.
//!
//! Rules: state or identity written by a newer schema version is refused;
//! attributes no longer in the schema are dropped and new ones start null; a move
//! across types happens only when the target type accepts the source.

use super::{identity_of, resource, state_type, Encoded, Typed};
use crate::framework::Provider;
use crate::value::summary;
use crate::value::{Diagnostics, Type, Value};

pub fn upgrade_resource_state<'a>(provider: &'a dyn Provider, type_name: &str, version: i64, stored: &dyn Encoded) -> Result<Typed<'a>, Diagnostics> {
    let resource = resource(provider, type_name)?;
    let schema = resource.schema();
    if version > schema.version {
        return Err(Diagnostics::error(
            summary::STATE_WRITTEN_BY_A_NEWER_PROVIDER,
            format!("The state of this {type_name} has schema version {version}, newer than this provider's {}. Upgrade the provider.", schema.version),
        ));
    }
    let ty = state_type(resource);
    Ok(Typed { value: read_stored(stored, ty, summary::INVALID_STORED_STATE, "The stored state")?, ty })
}

pub fn upgrade_resource_identity<'a>(provider: &'a dyn Provider, type_name: &str, version: i64, stored: &dyn Encoded) -> Result<Typed<'a>, Diagnostics> {
    let resource = resource(provider, type_name)?;
    let Some(schema) = resource.identity_schema() else {
        return Err(Diagnostics::error(
            summary::RESOURCE_IDENTITY_NOT_SUPPORTED,
            format!("The {type_name} type has no resource identity in this provider version."),
        ));
    };
    if version > schema.version {
        return Err(Diagnostics::error(
            summary::IDENTITY_WRITTEN_BY_A_NEWER_PROVIDER,
            format!("The stored identity has version {version}, newer than this provider's {}. Upgrade the provider.", schema.version),
        ));
    }
    let ty = schema.value_type();
    Ok(Typed { value: read_stored(stored, ty, summary::INVALID_STORED_IDENTITY, "The stored identity")?, ty })
}

/// Where state comes from in a cross-type move: the provider as Terraform names
/// it, the type and its schema version.
pub struct MoveSource<'r> {
    pub provider: &'r str,
    pub type_name: &'r str,
    pub version: i64,
}

pub fn move_resource_state<'a>(
    provider: &'a dyn Provider,
    target_type: &str,
    source: MoveSource<'_>,
    stored: &dyn Encoded,
) -> Result<(Typed<'a>, Option<Typed<'a>>), Diagnostics> {
    let resource = resource(provider, target_type)?;
    let MoveSource { provider: source_provider, type_name: kind, version } = source;
    if !resource.accepts_moved_state(source_provider, kind, version) {
        return Err(Diagnostics::error(
            summary::MOVE_NOT_SUPPORTED,
            format!("This provider cannot move {kind} (schema version {version}) of {source_provider} to {target_type}."),
        ));
    }
    let ty = state_type(resource);
    let state = read_stored(stored, ty, summary::INVALID_SOURCE_STATE, &format!("The state of the {kind}"))?;
    let identity = identity_of(resource, &state);
    Ok((Typed { value: state, ty }, identity))
}

fn read_stored(stored: &dyn Encoded, ty: &Type, summary: summary::Summary, what: &str) -> Result<Value, Diagnostics> {
    stored.decode(ty).map_err(|e| Diagnostics::error(summary, format!("{what} could not be read: {e}.")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::server::testing::{Notes, Undecodable};

    #[test]
    fn versions_and_stored_values() {
        let provider = Notes::provider();
        let note = Value::object([("id", Value::string("n1")), ("text", Value::string("a")), ("kind", Value::Null)]);
        assert_eq!(upgrade_resource_state(&provider, "notes_note", 1, &note).unwrap().value, note);
        let summary = |r: Result<Typed<'_>, Diagnostics>| r.err().unwrap().first().unwrap().summary.clone();
        assert_eq!(summary(upgrade_resource_state(&provider, "notes_note", 2, &note)), "State written by a newer provider");
        assert_eq!(summary(upgrade_resource_state(&provider, "notes_note", 1, &Undecodable)), "Invalid stored state");
        assert_eq!(summary(upgrade_resource_identity(&provider, "notes_note", 1, &note)), "Identity written by a newer provider");
        assert_eq!(summary(upgrade_resource_identity(&provider, "notes_note", 0, &Undecodable)), "Invalid stored identity");
    }

    #[test]
    fn a_move_needs_the_target_to_accept_the_source() {
        let provider = Notes::provider();
        let source = MoveSource { provider: "registry.terraform.io/hashicorp/aws", type_name: "aws_iam_access_key", version: 0 };
        let refused = move_resource_state(&provider, "notes_note", source, &Value::Null).err().unwrap();
        assert_eq!(refused.first().unwrap().summary, "Move not supported");
    }
}

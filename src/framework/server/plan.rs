//! PlanResourceChange.
//!
//! Rules, in order: the configuration is validated again; the schema plans
//! (defaults, computed values, replace-on-change); the resource may force a
//! replacement, then adjust the plan (`modify_plan`), then check it against the
//! remote system (`check_plan`: errors stop the plan, warnings come back). An
//! identity never changes in place: an update keeps the prior one; a new object
//! has none until it exists.

use super::{decode, identity_of, resource, state_type, validate, Encoded, IdentityChange, Typed};
use crate::framework::plan::{force_replacement, plan};
use crate::framework::{OpContext, PlanKind, Provider, EXISTING_OBJECT_PRIVATE};
use crate::value::{AttributePath, Diagnostics};

pub struct PlanRequest<'r> {
    pub type_name: &'r str,
    pub prior: &'r dyn Encoded,
    pub proposed: &'r dyn Encoded,
    pub config: &'r dyn Encoded,
    pub prior_private: &'r [u8],
}

pub struct PlanResponse<'a> {
    pub planned_state: Typed<'a>,
    pub requires_replace: Vec<AttributePath>,
    pub identity: IdentityChange<'a>,
    /// `EXISTING_OBJECT_PRIVATE` for an existing object that stays (updated, unchanged
    /// or replaced), else the prior private data.
    pub planned_private: Vec<u8>,
    /// Warnings only: a plan with errors is an `Err`.
    pub diagnostics: Diagnostics,
}

pub async fn plan_resource_change<'a>(ctx: &OpContext, provider: &'a dyn Provider, request: PlanRequest<'_>) -> Result<PlanResponse<'a>, Diagnostics> {
    let resource = resource(provider, request.type_name)?;
    let ty = state_type(resource);
    let prior = decode(request.prior, ty, "prior state")?;
    let proposed = decode(request.proposed, ty, "proposed new state")?;
    let config = decode(request.config, ty, "configuration")?;
    if !config.is_null() {
        let diags = validate::resource_value(resource, &config);
        if diags.has_errors() {
            return Err(diags);
        }
    }
    let mut planned = plan(resource.schema(), &prior, proposed, &config);
    if !prior.is_null() {
        let reasons = resource.replacement_reasons(ctx, &prior, &planned.state);
        force_replacement(resource.schema(), &config, &mut planned, reasons);
    }
    if !planned.state.is_null() {
        resource.modify_plan(&prior, &config, &mut planned.state);
    }
    let kind = PlanKind::of(&prior, request.prior_private);
    let warnings = resource.check_plan(ctx, kind, &prior, &config, &mut planned.state).await;
    if warnings.has_errors() {
        return Err(warnings);
    }
    let identity = match planned.requires_replace.is_empty() && kind == PlanKind::Existing {
        true => IdentityChange::Keep,
        false => identity_of(resource, &planned.state).map_or(IdentityChange::Absent, IdentityChange::Set),
    };
    let stays = kind == PlanKind::Existing && !planned.state.is_null();
    let planned_private = if stays { EXISTING_OBJECT_PRIVATE.to_vec() } else { request.prior_private.to_vec() };
    Ok(PlanResponse {
        planned_state: Typed { value: planned.state, ty },
        requires_replace: planned.requires_replace,
        identity,
        planned_private,
        diagnostics: warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::server::testing::{config, Notes, NotesProvider};
    use crate::value::Value;

    fn note(text: &str, kind: &str) -> Value {
        Value::object([("id", Value::string("n1")), ("text", Value::string(text)), ("kind", Value::string(kind))])
    }

    async fn planned(provider: &NotesProvider, prior: Value, config: Value) -> Result<PlanResponse<'_>, Diagnostics> {
        let request = PlanRequest { type_name: "notes_note", prior: &prior, proposed: &config, config: &config, prior_private: b"" };
        plan_resource_change(&OpContext::default(), provider, request).await
    }

    fn with_kind(mut config: Value, kind: &str) -> Value {
        config.set("kind", Value::string(kind));
        config
    }

    #[tokio::test]
    async fn create_update_replace_and_destroy() {
        let provider = Notes::provider();
        let create = planned(&provider, Value::Null, config("a")).await.unwrap();
        assert_eq!(create.planned_state.value.get("id"), &Value::Unknown, "a new object's computed id is unknown");
        assert_eq!(create.planned_state.value.get("kind"), &Value::string("plain"), "the default is planned");
        assert!(matches!(create.identity, IdentityChange::Absent), "no identity before the object exists");

        let update = planned(&provider, note("a", "plain"), config("b")).await.unwrap();
        assert_eq!(update.planned_state.value.get("id"), &Value::string("n1"), "an update keeps computed values");
        assert!(update.requires_replace.is_empty());
        assert!(matches!(update.identity, IdentityChange::Keep), "an identity never changes in place");

        let replace = planned(&provider, note("a", "plain"), with_kind(config("a"), "memo")).await.unwrap();
        assert_eq!(replace.requires_replace, vec![AttributePath::root("kind")]);
        assert_eq!(replace.planned_state.value.get("id"), &Value::Unknown);

        let destroy = planned(&provider, note("a", "plain"), Value::Null).await.unwrap();
        assert_eq!(destroy.planned_state.value, Value::Null);
    }

    #[tokio::test]
    async fn the_new_half_of_a_replacement_is_told_apart_by_the_private_data_planned_for_the_old() {
        let provider = Notes::provider();
        let prior = note("a", "plain");
        let first = PlanRequest { type_name: "notes_note", prior: &prior, proposed: &prior, config: &with_kind(config("a"), "memo"), prior_private: b"{}" };
        let replace = plan_resource_change(&OpContext::default(), &provider, first).await.unwrap();
        assert_eq!(replace.planned_private, EXISTING_OBJECT_PRIVATE, "the replaced object's plan carries the mark");
        // Terraform may replace an object the provider would keep (-replace): the mark is there too.
        assert_eq!(PlanKind::of(&Value::Null, &replace.planned_private), PlanKind::Replacement);
        assert_eq!(PlanKind::of(&Value::Null, b""), PlanKind::Create);
        assert_eq!(crate::framework::private_after_apply(&replace.planned_private, false), b"", "the mark never reaches state");

        let update = PlanRequest { type_name: "notes_note", prior: &prior, proposed: &config("b"), config: &config("b"), prior_private: b"{}" };
        let update = plan_resource_change(&OpContext::default(), &provider, update).await.unwrap();
        assert_eq!(update.planned_private, EXISTING_OBJECT_PRIVATE, "so a forced replacement is told apart too");
        let destroy = PlanRequest { type_name: "notes_note", prior: &prior, proposed: &Value::Null, config: &Value::Null, prior_private: b"{}" };
        let destroy = plan_resource_change(&OpContext::default(), &provider, destroy).await.unwrap();
        assert_eq!(destroy.planned_private, b"{}", "a destroy keeps the private data");
    }

    #[tokio::test]
    async fn an_invalid_configuration_is_refused_at_plan_too() {
        let provider = Notes::provider();
        let refused = planned(&provider, Value::Null, config("forbidden")).await.err().unwrap();
        assert_eq!(refused.first().unwrap().path, Some(AttributePath::root("text")));
    }
}

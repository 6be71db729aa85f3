//! ApplyResourceChange.
//!
//! Rules:
//! - before anything is sent: the configuration is wholly known and valid, and
//!   what the plan filled in passes the attributes' validators;
//! - a null plan deletes; a failed delete keeps the object in state;
//! - a create that fails after the object exists still returns it (Terraform
//!   keeps it, tainted), marked so the resource knows on the next refresh;
//! - central checks after every apply: a successful create returned a state; no
//!   value is left unknown; an identity the resource reports is complete.

use super::{decode, identity_of, resource, state_type, validate, Encoded, Typed};
use crate::framework::{ApplyOutcome, OpContext, Provider, Resource};
use crate::value::summary;
use crate::value::{Diagnostics, Value};

pub struct ApplyRequest<'r> {
    pub type_name: &'r str,
    pub prior: &'r dyn Encoded,
    pub planned: &'r dyn Encoded,
    pub config: &'r dyn Encoded,
}

pub struct ApplyResponse<'a> {
    /// The new state; `None` keeps the prior state Terraform sent (nothing was done).
    pub new_state: Option<Typed<'a>>,
    /// A create failed after the object existed: the state is its only record.
    pub failed_create: bool,
    pub identity: Option<Typed<'a>>,
    pub diagnostics: Diagnostics,
}

impl ApplyResponse<'_> {
    fn refused(diagnostics: Diagnostics) -> Self {
        ApplyResponse { new_state: None, failed_create: false, identity: None, diagnostics }
    }
}

pub async fn apply_resource_change<'a>(ctx: &OpContext, provider: &'a dyn Provider, request: ApplyRequest<'_>) -> ApplyResponse<'a> {
    let resource = match resource(provider, request.type_name) {
        Ok(resource) => resource,
        Err(diags) => return ApplyResponse::refused(diags),
    };
    let (prior, planned) = match checked_change(resource, &request) {
        Ok(change) => change,
        Err(diags) => return ApplyResponse::refused(diags),
    };
    let creating = prior.is_null();
    let outcome = match (creating, planned.is_null()) {
        (true, _) => resource.create(ctx, &planned).await,
        (false, true) => {
            let diags = resource.delete(ctx, &prior).await;
            let state = if diags.has_errors() { prior } else { Value::Null };
            ApplyOutcome::failed(state, diags)
        }
        (false, false) => resource.update(ctx, &prior, &planned).await,
    };
    respond(resource, creating, outcome)
}

/// The answer when the apply panicked: whatever the operation recorded, else
/// the prior state Terraform sent.
pub fn after_panic<'a>(provider: &'a dyn Provider, type_name: &str, prior: &dyn Encoded, diags: Diagnostics, recorded: Option<Value>) -> ApplyResponse<'a> {
    let (Ok(resource), Some(state)) = (resource(provider, type_name), recorded) else {
        return ApplyResponse::refused(diags);
    };
    let creating = prior.decode(state_type(resource)).map(|p| p.is_null()).unwrap_or(false);
    respond(resource, creating, ApplyOutcome::failed(state, diags))
}

/// Decodes the change and checks it before anything is sent: the configuration
/// is wholly known (Terraform never applies an unknown one) and valid, and the
/// planned values pass the attributes' validators (they are what is sent).
fn checked_change(resource: &dyn Resource, request: &ApplyRequest<'_>) -> Result<(Value, Value), Diagnostics> {
    let ty = state_type(resource);
    let prior = decode(request.prior, ty, "prior state")?;
    let planned = decode(request.planned, ty, "planned state")?;
    if planned.is_null() {
        return Ok((prior, planned)); // a delete acts on the prior state: what the remote system reported
    }
    let config = decode(request.config, ty, "configuration")?;
    if !config.is_wholly_known() {
        return Err(Diagnostics::error(
            summary::UNKNOWN_VALUE_AT_APPLY,
            "The configuration holds a value that is not known yet. Terraform resolves every configured value before \
             it applies; this provider refuses to guess one (an unknown user would otherwise mean the caller).",
        ));
    }
    let mut diags = validate::resource_value(resource, &config);
    // The validators have just seen the configured values; of the plan, only what
    // the provider filled in (a computed user, say) is left to check.
    let filled_in = match &planned {
        Value::Object(attributes) => {
            Value::Object(attributes.iter().map(|(name, v)| (name.clone(), if config.get(name) == v { Value::Null } else { v.clone() })).collect())
        }
        other => other.clone(),
    };
    diags.extend(resource.schema().validate_planned(&filled_in));
    match diags.has_errors() {
        true => Err(diags),
        false => Ok((prior, planned)),
    }
}

/// The central checks after an apply, then the answer.
fn respond(resource: &dyn Resource, creating: bool, outcome: ApplyOutcome) -> ApplyResponse<'_> {
    let ApplyOutcome { mut state, mut diagnostics } = outcome;
    if creating && state.is_null() && !diagnostics.has_errors() {
        diagnostics.add_error(
            summary::MISSING_RESOURCE_STATE_AFTER_CREATE,
            "The provider reported success creating the object but returned no state for it. This is a bug in the provider.",
        );
    }
    if !state.is_wholly_known() {
        state = state.unknowns_to_null();
        diagnostics.add_error(
            summary::UNKNOWN_VALUE_AFTER_APPLY,
            "The provider left a value unknown after the apply; it is stored as null. This is a bug in the provider.",
        );
    }
    let reported = if state.is_null() { None } else { resource.identity(&state) };
    if reported.as_ref().is_some_and(|identity| !identity.is_wholly_known()) {
        diagnostics
            .add_error(summary::MISSING_RESOURCE_IDENTITY_AFTER_APPLY, "The provider could not tell the object's identity. This is a bug in the provider.");
    }
    let identity = identity_of(resource, &state);
    let failed_create = creating && diagnostics.has_errors() && !state.is_null();
    ApplyResponse { new_state: Some(Typed { value: state, ty: state_type(resource) }), failed_create, identity, diagnostics }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::server::testing::{config, Notes, NotesProvider, Quirk};
    use crate::value::AttributePath;

    fn note(id: &str, text: &str) -> Value {
        Value::object([("id", Value::string(id)), ("text", Value::string(text)), ("kind", Value::string("plain"))])
    }

    fn planned_create(text: &str) -> Value {
        Value::object([("id", Value::Unknown), ("text", Value::string(text)), ("kind", Value::string("plain"))])
    }

    async fn apply<'a>(provider: &'a NotesProvider, prior: Value, planned: Value, config: Value) -> ApplyResponse<'a> {
        let request = ApplyRequest { type_name: "notes_note", prior: &prior, planned: &planned, config: &config };
        apply_resource_change(&OpContext::default(), provider, request).await
    }

    fn summaries(response: &ApplyResponse<'_>) -> Vec<String> {
        response.diagnostics.iter().map(|d| d.summary.clone()).collect()
    }

    #[tokio::test]
    async fn create_update_delete() {
        let provider = Notes::provider();
        let created = apply(&provider, Value::Null, planned_create("a"), config("a")).await;
        assert!(created.diagnostics.is_empty() && !created.failed_create);
        let state = created.new_state.unwrap().value;
        assert_eq!(created.identity.unwrap().value.get("id"), state.get("id"));

        let updated = apply(&provider, state.clone(), note(state.get("id").as_str().unwrap(), "b"), config("b")).await;
        assert_eq!(updated.new_state.unwrap().value.get("text"), &Value::string("b"));

        let deleted = apply(&provider, state, Value::Null, Value::Null).await;
        assert_eq!(deleted.new_state.unwrap().value, Value::Null);
        assert!(provider.notes.store.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_failed_delete_keeps_the_object_in_state() {
        let provider = Notes::provider();
        *provider.notes.quirk.lock().unwrap() = Quirk::FailDelete;
        let response = apply(&provider, note("n1", "a"), Value::Null, Value::Null).await;
        assert_eq!(summaries(&response), ["Delete failed"]);
        assert_eq!(response.new_state.unwrap().value, note("n1", "a"));
    }

    #[tokio::test]
    async fn central_checks_after_apply() {
        let cases = [
            (Quirk::FailAfterCreate, vec!["Lost track"], true),
            (Quirk::ForgetState, vec!["Missing resource state after create"], false),
            (Quirk::LeaveUnknown, vec!["Unknown value after apply"], true),
            (Quirk::IncompleteIdentity, vec!["Missing resource identity after apply"], true),
        ];
        for (quirk, expected, tracked) in cases {
            let provider = Notes::provider();
            *provider.notes.quirk.lock().unwrap() = quirk;
            let response = apply(&provider, Value::Null, planned_create("a"), config("a")).await;
            assert_eq!(summaries(&response), expected, "{quirk:?}");
            let state = response.new_state.unwrap().value;
            assert!(state.is_wholly_known(), "{quirk:?}: no unknown reaches Terraform");
            assert_eq!(!state.is_null(), tracked, "{quirk:?}");
            assert_eq!(response.failed_create, tracked, "{quirk:?}: a create that failed with an object is marked");
        }
    }

    #[tokio::test]
    async fn nothing_is_sent_for_an_invalid_or_unknown_configuration() {
        let provider = Notes::provider();
        let unknown = Value::object([("id", Value::Null), ("text", Value::Unknown), ("kind", Value::Null)]);
        let cases = [(config("forbidden"), "Forbidden text"), (unknown, "Unknown value at apply")];
        for (config, summary) in cases {
            let response = apply(&provider, Value::Null, planned_create("x"), config).await;
            assert!(response.new_state.is_none(), "{summary}: the prior state stays");
            assert_eq!(summaries(&response), [summary]);
        }
        let mut planned = note("n1", "x");
        planned.set("text", Value::string(""));
        let filled_in = apply(&provider, note("n1", "x"), planned, config("x")).await;
        let refused = filled_in.diagnostics.first().unwrap();
        assert_eq!(
            (refused.summary.as_str(), refused.path.clone()),
            ("Invalid value for \"text\"", Some(AttributePath::root("text"))),
            "what the plan filled in is checked too"
        );
        assert!(provider.notes.store.lock().unwrap().is_empty(), "nothing was created");
    }

    #[test]
    fn after_a_panic_the_recorded_state_or_the_prior_one_comes_back() {
        let provider = Notes::provider();
        let panic = || Diagnostics::error("Provider internal error", "");
        let recorded = after_panic(&provider, "notes_note", &Value::Null, panic(), Some(note("n7", "a")));
        assert_eq!(recorded.new_state.unwrap().value, note("n7", "a"));
        assert!(recorded.failed_create);
        let nothing = after_panic(&provider, "notes_note", &note("n1", "a"), panic(), None);
        assert!(nothing.new_state.is_none(), "the prior state Terraform sent stays");
    }
}

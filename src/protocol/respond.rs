//! One converter per response message: a framework answer (and the parts of the
//! request that come back unchanged) to the generated wire type.

use super::convert::{diagnostics, encode, encode_into, encoded, identity, identity_change, path, Failed};
use super::wire;
use crate::framework::server::{apply::ApplyResponse, ephemeral::OpenedResult, import::Imported, list::ListedObject, plan::PlanResponse};
use crate::framework::server::{read::ReadResponse, Typed};
use crate::framework::{private_after_apply, FunctionError};
use crate::value::{Diagnostics, Type, Value};

/// A failed read keeps the state, identity and private data Terraform sent.
pub fn read(read: ReadResponse<'_>, r: &wire::read_resource::Request) -> wire::read_resource::Response {
    let mut diags = read.diagnostics;
    let new_state = encode_into(read.new_state.as_ref(), &mut diags).or_else(|| r.current_state.clone());
    let new_identity = identity_change(&read.identity, r.current_identity.clone());
    wire::read_resource::Response { new_state, new_identity, private: r.private.clone(), diagnostics: diagnostics(diags), ..Default::default() }
}

/// A data source's state with the warnings of its read, or why it failed.
pub fn data_source_read(read: Result<(Typed<'_>, Diagnostics), Diagnostics>) -> wire::read_data_source::Response {
    let (read, warnings) = match read {
        Ok((state, warnings)) => (Ok(state), warnings),
        Err(failure) => (Err(failure), Diagnostics::new()),
    };
    let (state, mut diags) = encoded(read);
    diags.extend(warnings);
    wire::read_data_source::Response { state, diagnostics: diagnostics(diags), ..Default::default() }
}

pub fn plan(plan: Result<PlanResponse<'_>, Diagnostics>, r: &wire::plan_resource_change::Request) -> wire::plan_resource_change::Response {
    let plan = match plan {
        Ok(plan) => plan,
        Err(diags) => return Failed::failed(diagnostics(diags)),
    };
    let mut diags = plan.diagnostics;
    wire::plan_resource_change::Response {
        planned_state: encode_into(Some(&plan.planned_state), &mut diags),
        requires_replace: plan.requires_replace.into_iter().map(path).collect(),
        planned_private: plan.planned_private,
        planned_identity: identity_change(&plan.identity, r.prior_identity.clone()),
        diagnostics: diagnostics(diags),
        ..Default::default()
    }
}

/// An apply that did nothing keeps the prior state; the private data is
/// `private_after_apply`'s.
pub fn apply(applied: ApplyResponse<'_>, r: &wire::apply_resource_change::Request) -> wire::apply_resource_change::Response {
    let mut diags = applied.diagnostics;
    wire::apply_resource_change::Response {
        new_state: encode_into(applied.new_state.as_ref(), &mut diags).or_else(|| r.prior_state.clone()),
        private: private_after_apply(&r.planned_private, applied.failed_create),
        new_identity: identity(applied.identity.as_ref()),
        diagnostics: diagnostics(diags),
        ..Default::default()
    }
}

pub fn import(imported: Result<Imported<'_>, Diagnostics>, type_name: &str) -> wire::import_resource_state::Response {
    let (imported, mut diags) = split(imported);
    let imported = imported.and_then(|imported| {
        let state = encode_into(Some(&imported.state), &mut diags)?;
        let identity = identity(imported.identity.as_ref());
        Some(wire::import_resource_state::ImportedResource { type_name: type_name.to_string(), state: Some(state), identity, ..Default::default() })
    });
    wire::import_resource_state::Response { imported_resources: imported.into_iter().collect(), diagnostics: diagnostics(diags), ..Default::default() }
}

pub fn moved(moved: Result<(Typed<'_>, Option<Typed<'_>>), Diagnostics>) -> wire::move_resource_state::Response {
    let (moved, mut diags) = split(moved);
    let target_state = encode_into(moved.as_ref().map(|(state, _)| state), &mut diags);
    let target_identity = identity(moved.as_ref().and_then(|(_, identity)| identity.as_ref()));
    wire::move_resource_state::Response { target_state, target_identity, diagnostics: diagnostics(diags), ..Default::default() }
}

pub fn upgraded_identity(upgraded: Result<Typed<'_>, Diagnostics>) -> wire::upgrade_resource_identity::Response {
    let (identity, diags) = encoded(upgraded);
    let upgraded_identity = identity.map(|identity| wire::ResourceIdentityData { identity_data: Some(identity) });
    wire::upgrade_resource_identity::Response { upgraded_identity, diagnostics: diagnostics(diags) }
}

pub fn opened(opened: Result<OpenedResult<'_>, Diagnostics>) -> wire::open_ephemeral_resource::Response {
    let (opened, mut diags) = split(opened);
    let result = encode_into(opened.as_ref().map(|o| &o.result), &mut diags);
    let private = result.as_ref().and(opened.map(|o| o.private));
    wire::open_ephemeral_resource::Response { result, private, diagnostics: diagnostics(diags), ..Default::default() }
}

/// One event carrying the warnings if there are any, then one per object (the
/// warnings first: Terraform stops reading at its limit, and skips an event
/// without identity that carries only warnings); a failure is one event
/// carrying the diagnostics.
pub fn listed(listed: Result<(Vec<ListedObject<'_>>, Diagnostics), Diagnostics>) -> Vec<wire::list_resource::Event> {
    let mut diags = Diagnostics::new();
    let mut warnings = Diagnostics::new();
    let events = listed.map(|(objects, listing_warnings)| {
        warnings = listing_warnings;
        let event = |o: ListedObject<'_>| wire::list_resource::Event {
            identity: identity(Some(&o.identity)),
            display_name: o.display_name,
            resource_object: encode_into(o.state.as_ref(), &mut diags),
            diagnostic: Vec::new(),
        };
        objects.into_iter().map(event).collect::<Vec<_>>()
    });
    match events {
        Ok(events) if !diags.has_errors() => {
            let warned = (!warnings.is_empty()).then(|| wire::list_resource::Event { diagnostic: diagnostics(warnings), ..Default::default() });
            warned.into_iter().chain(events).collect()
        }
        Ok(_) => list_failed(diags),
        Err(failure) => list_failed(failure),
    }
}

pub fn list_failed(diags: Diagnostics) -> Vec<wire::list_resource::Event> {
    vec![wire::list_resource::Event { diagnostic: diagnostics(diags), ..Default::default() }]
}

pub fn called(called: Result<(Value, Type), FunctionError>) -> wire::call_function::Response {
    let encoded = called.and_then(|(value, ty)| {
        encode(&Typed { value, ty: &ty }).map_err(|d| FunctionError { text: d.first().map(|d| d.detail.clone()).unwrap_or_default(), argument: None })
    });
    match encoded {
        Ok(result) => wire::call_function::Response { result: Some(result), error: None },
        // Terraform ends the sentence it wraps the text in with its own period.
        Err(e) => wire::call_function::Response {
            result: None,
            error: Some(wire::FunctionError { text: e.text.trim_end_matches('.').to_string(), function_argument: e.argument.map(|a| a as i64) }),
        },
    }
}

fn split<T>(result: Result<T, Diagnostics>) -> (Option<T>, Diagnostics) {
    match result {
        Ok(v) => (Some(v), Diagnostics::new()),
        Err(d) => (None, d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_error_leaves_the_final_period_to_terraform() {
        let response = called(Err(FunctionError { text: "\"mars-1\" is not an AWS region.".into(), argument: Some(1) }));
        let error = response.error.unwrap();
        assert_eq!((error.text.as_str(), error.function_argument), ("\"mars-1\" is not an AWS region", Some(1)));
    }
}

//! Answers to the RPCs of features this provider does not have (state stores): an
//! error diagnostic naming the type, never `Unimplemented`, so any
//! Terraform that calls one gets a readable answer.

use super::convert::diagnostics;
use super::wire;
use crate::framework::server::unknown_type;
use crate::value::summary;
use crate::value::Diagnostics;

fn no_state_store(type_name: &str) -> Vec<wire::Diagnostic> {
    diagnostics(unknown_type("state store", type_name))
}

pub fn validate_state_store(request: wire::validate_state_store::Request) -> wire::validate_state_store::Response {
    wire::validate_state_store::Response { diagnostics: no_state_store(&request.type_name) }
}

pub fn configure_state_store(request: wire::configure_state_store::Request) -> wire::configure_state_store::Response {
    wire::configure_state_store::Response { diagnostics: no_state_store(&request.type_name) }
}

pub fn read_state_bytes(request: wire::read_state_bytes::Request) -> wire::read_state_bytes::Response {
    wire::read_state_bytes::Response { diagnostics: no_state_store(&request.type_name), ..Default::default() }
}

pub fn write_state_bytes() -> wire::write_state_bytes::Response {
    wire::write_state_bytes::Response { diagnostics: diagnostics(Diagnostics::error(summary::NO_STATE_STORE, "This provider has no state store.")) }
}

pub fn get_states(request: wire::get_states::Request) -> wire::get_states::Response {
    wire::get_states::Response { state_id: Vec::new(), diagnostics: no_state_store(&request.type_name) }
}

pub fn delete_state(request: wire::delete_state::Request) -> wire::delete_state::Response {
    wire::delete_state::Response { diagnostics: no_state_store(&request.type_name) }
}

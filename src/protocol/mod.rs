//! The protocol layer: tfplugin6 and go-plugin over gRPC.
//!
//! The generated wire types stay inside this module (the protocol tests reach them
//! through `testing`). `codec` turns msgpack/JSON into the value model and back;
//! `convert` and `respond` hold one converter per message; `server` is the thin
//! gRPC service, the one module that calls into the framework server;
//! `unsupported` answers the RPCs of features this provider does not have;
//! `routes` sends each call to its service.

pub mod codec;
mod convert;
pub mod goplugin;
mod respond;
pub mod routes;
mod serve;
pub mod server;
mod unsupported;

#[cfg_attr(not(feature = "test-hooks"), allow(dead_code, reason = "generated: only the tests' clients build every message"))]
mod wire {
    tonic::include_proto!("tfplugin6");
}

/// Generated tfplugin6 client and messages, for tests that play Terraform's part.
#[cfg(feature = "test-hooks")]
pub mod testing {
    pub use super::wire::*;
}

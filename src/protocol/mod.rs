//! The protocol layer: tfplugin6 and go-plugin over gRPC.
//!
//! `value`, `codec` and `diagnostics` are its vocabulary, shared with the layers
//! below; the generated wire types stay inside this module (the protocol tests
//! reach them through `testing`). `server` is the one module that calls up into
//! the framework.

pub mod codec;
mod convert;
pub mod goplugin;
pub mod server;
mod unsupported;

mod wire {
    tonic::include_proto!("tfplugin6");
}

/// Generated tfplugin6 client and messages, for tests that play Terraform's part.
pub mod testing {
    pub use super::wire::*;
}

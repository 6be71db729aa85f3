//! terraform-provider-iamkey: a Terraform/OpenTofu provider for AWS IAM access keys.
//!
//! Layers (A → B: A uses B; nothing else, no cycles; `design/design.md` has the
//! command that checks it):
//! - `host` (plugin process: handshake, TLS, signals, logging) → `protocol`;
//! - `protocol` (wire types, codec, converters, thin gRPC service) → `framework`, `value`;
//! - `framework` (traits, schema, plan rules, the per-RPC rules in `framework::server`) → `value`;
//! - `resources` (the types served) → `framework`, `aws`, `crypto`, `value`;
//! - `functions` (provider functions) → `framework`, `crypto`, `value`;
//! - `provider` (configuration → AWS clients, handed to the resources as provider data)
//!   → `framework`, `resources`, `functions`, `aws`, `value`;
//! - `aws` (SDK wrappers) → `secret`; `crypto` (SES derivation, OpenPGP) → `secret`;
//! - leaves: `value` (Terraform's value model), `secret` (the redacting secret type),
//!   `testhooks` (fail points and the test clock's offset, inert without the
//!   `test-hooks` feature; any layer may call them).
//!
//! `main` sits on top (→ `host`, `provider`), and so does `docs`, the generator
//! the `iamkey-docs` binary runs (→ `framework`, `provider`, `value`).

pub mod aws;
pub mod crypto;
pub mod docs;
pub mod framework;
pub mod functions;
pub mod host;
pub mod protocol;
pub mod provider;
pub mod resources;
pub mod secret;
pub mod testhooks;
pub mod value;

/// The provider's registry address, for `required_providers` and reattach mode.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/iamkey/iamkey";

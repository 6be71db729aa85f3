//! terraform-provider-iamkey: a Terraform/OpenTofu provider for AWS IAM access keys.
//!
//! Layers, each depending only on the ones below it:
//! `host` (plugin process) → `protocol` (tfplugin6) → `framework` (schema, plan)
//! → `provider` (configuration) → `resources` → `aws` (SDK wrappers).

pub mod aws;
pub mod docs;
pub mod framework;
pub mod host;
pub mod protocol;
pub mod provider;
pub mod resources;
pub mod secret;
pub mod testhooks;
pub mod value;

/// The provider's registry address, for `required_providers` and reattach mode.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/iamkey/iamkey";

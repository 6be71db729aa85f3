//! End-to-end tests, one binary: a real `terraform` CLI against the built provider
//! and the IAM emulator on 127.0.0.1 (one emulator for the run; the tests that
//! need their own, such as the permission proofs, start it). One module per area.

#[path = "../support/mod.rs"]
mod support;

mod access_key;
mod actions;
mod call_counts;
mod compat;
mod discovery;
mod organization;
mod packaging;
mod permissions;
mod provider_config;
mod reliability;
mod secret_lifecycle;

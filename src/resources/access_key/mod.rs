//! `iamkey_access_key`: an IAM access key, at parity with hashicorp/aws's
//! `aws_iam_access_key` and past it (a key for the calling identity; input
//! validated before any AWS call; a created key is never orphaned).

//!
//! One module per concern: `schema` (the declaration and its validators), `model`
//! (the typed view the operations read and write through), `plan`
//! (rotation, the secret attributes' plan, the quota check), `secret` (what is
//! derived from the secret and where it goes), `crud` (the `Resource` operations),
//! `tests`.

mod crud;
mod model;
mod plan;
mod schema;
mod secret;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::framework::schema::Schema;
use crate::resources::Clients;
use crate::value::Value;
use schema::{identity_schema, schema};
pub use schema::{parse_import_id, validate_description, validate_status};

pub const TYPE_NAME: &str = "iamkey_access_key";

crate::framework::field::fields! {
    /// The key's attributes and blocks: `schema` declares each by its field, and
    /// the operations read and write through them.
    pub mod key {
        allow_root_key, create_date, description, encrypted_secret, encrypted_ses_smtp_password_v4,
        encrypted_ses_smtp_passwords_v4, id, key_fingerprint, last_used_date, last_used_region, last_used_service,
        pgp_key, refresh_last_used, rotation, secret, secret_destination, secret_destination_version,
        ses_smtp_password_v4, ses_smtp_passwords_v4, ses_smtp_regions, status, user, wait_until_usable,
    }
}

crate::framework::field::fields! {
    /// The `rotation` block.
    pub mod key_rotation { after_days, keepers }
}

crate::framework::field::fields! {
    /// The `secret_destination` block.
    pub mod key_destination { secretsmanager_secret_id, ssm_kms_key_id, ssm_parameter_name }
}

crate::framework::field::fields! {
    /// The key's resource identity.
    pub mod key_identity { access_key_id, account_id, user }
}

/// The identity of the key `state` describes, in `account_id`; None unless the
/// state names its user and key.
pub fn identity_in(account_id: &str, state: &Value) -> Option<Value> {
    let mut identity = Value::Null;
    key_identity::account_id.set(&mut identity, Value::string(account_id));
    key_identity::user.set(&mut identity, key::user.of(state).clone());
    key_identity::access_key_id.set(&mut identity, key::id.of(state).clone());
    Some(identity).filter(|identity| [key_identity::user, key_identity::access_key_id].iter().all(|f| f.str(identity).is_some()))
}

pub struct AccessKeyResource {
    schema: Schema,
    identity_schema: Schema,
    clients: Arc<Clients>,
    /// New keys this provider process has planned and not begun to create, per
    /// user (None: the root user). Terraform plans each resource on its own, and
    /// starts a provider process for each plan and each apply: these are the other
    /// keys the same plan creates, which the quota check counts. A create takes
    /// its key out when it begins, so at apply (which plans each create again just
    /// before creating it) a key is counted in IAM's listing or here, never in both.
    planned_creates: Mutex<HashMap<Option<String>, usize>>,
    /// Keys a failed create left in state, tainted, as refreshed by this process:
    /// the next apply deletes them, so the quota check does not count them.
    /// (Terraform plans a tainted object's replacement as a plain create.)
    leaving: Mutex<HashSet<String>>,
}

impl AccessKeyResource {
    pub fn new(clients: Arc<Clients>) -> Self {
        let schema = schema();
        AccessKeyResource { schema, identity_schema: identity_schema(), clients, planned_creates: Mutex::default(), leaving: Mutex::default() }
    }

    /// A key's attributes as the plan rules read them.
    fn view<'v>(&self, value: &'v Value) -> model::KeyValues<'v> {
        model::KeyValues::of(value)
    }
}

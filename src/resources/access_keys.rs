//! Data source `iamkey_access_keys`: every access key of a user (the caller when
//! no user is given), with age and last use, optionally filtered by status.

use std::sync::Arc;

use async_trait::async_trait;

use super::common::{iam_failure, validate_user_name, whose};
use super::inventory::{key_type, keys_with_last_use, KEY_ATTRIBUTES};
use crate::framework::schema::{Attribute, Block, Schema};
use crate::framework::{DataSource, OpContext};
use crate::resources::Clients;
use crate::value::summary;
use crate::value::Diagnostics;
use crate::value::{Type, Value};

pub const TYPE_NAME: &str = "iamkey_access_keys";

crate::framework::field::fields! {
    /// The data source's attributes.
    pub mod keys_data { access_keys, id, status, user }
}

pub struct AccessKeysDataSource {
    schema: Schema,
    clients: Arc<Clients>,
}

impl AccessKeysDataSource {
    pub fn new(clients: Arc<Clients>) -> Self {
        AccessKeysDataSource { schema: schema(), clients }
    }
}

/// A status filter: what IAM can report.
pub fn validate_status_filter(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some("Active" | "Inactive" | "Expired") => Ok(()),
        other => Err(format!("status must be \"Active\", \"Inactive\" or \"Expired\", not {other:?} (case matters).")),
    }
}

fn schema() -> Schema {
    Schema::new(
        0,
        Block::new(
            "Lists the access keys of an IAM user, with each key's age and last use. Secrets are never listed: IAM returns them only when a key is created.",
        )
        .attribute(Attribute::optional_computed(keys_data::user.into(), Type::String).validate(validate_user_name).describe(
            "IAM user whose keys to list. When omitted, the keys of the identity that signs the requests (an IAM user, or the root user), and set to its name.",
        ))
        .attribute(
            Attribute::optional(keys_data::status.into(), Type::String)
                .validate(validate_status_filter)
                .describe("Only keys with this status: `Active`, `Inactive` or `Expired`."),
        )
        .attribute(Attribute::computed(keys_data::id.into(), Type::String).describe("The user name, or `caller` when no user was given."))
        .attribute(
            Attribute::computed(keys_data::access_keys.into(), Type::List(Box::new(key_type())))
                .describe("The keys, oldest first.")
                .describe_fields(&KEY_ATTRIBUTES),
        ),
    )
}

#[async_trait]
impl DataSource for AccessKeysDataSource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, ctx: &OpContext, config: &Value) -> Result<Value, Diagnostics> {
        let clients = self.clients.get()?;
        // No user: the caller's keys; a role or federated caller has none to list.
        // The root user's keys may be listed (reading them mints nothing).
        let user = super::owner::user_or_caller(clients, keys_data::user.str(config), true).await?;
        let user = user.as_deref();
        let reports = keys_with_last_use(&clients.iam, user, &ctx.clock, &ctx.cancel).await.map_err(|e| {
            let summary = summary::COULD_NOT_LIST_THE_ACCESS_KEYS_OF.fill(&[("who", &whose(user))]);
            iam_failure(summary, &e, user.map(|_| keys_data::user.path()))
        })?;
        let wanted = keys_data::status.str(config);
        let keys: Vec<Value> = reports.iter().filter(|r| wanted.is_none_or(|s| r.key.status == s)).map(|r| r.to_value()).collect();
        let owner = user.map(str::to_string).or_else(|| reports.first().map(|r| r.key.user_name.clone()));
        let mut state = config.clone();
        keys_data::user.set(&mut state, Value::opt_string(owner));
        keys_data::id.set(&mut state, Value::string(keys_data::user.str(config).unwrap_or("caller")));
        keys_data::access_keys.set(&mut state, Value::List(keys));
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::caller::Caller;
    use crate::aws::fake::{self, FakeIam};

    #[test]
    fn the_fields_name_every_attribute_and_every_reported_key_attribute() {
        use crate::framework::field::declares_exactly;
        assert_eq!(declares_exactly(&schema().block, keys_data::NAMES), Ok(()));
        let mut reported: Vec<&str> = crate::resources::inventory::KEY_ATTRIBUTES.iter().map(|(name, _)| *name).collect();
        let mut declared = crate::resources::inventory::key_report::NAMES.to_vec();
        reported.sort_unstable();
        declared.sort_unstable();
        assert_eq!(reported, declared);
    }

    #[tokio::test]
    async fn with_no_user_the_callers_keys_are_listed_and_a_role_caller_is_refused() {
        let fake = FakeIam::start(|action, form, _| match action {
            // The user listed is the one the request names.
            "ListAccessKeys" => fake::listed(form.get("UserName").map_or("(caller)", String::as_str), &[], None),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let read = |caller| {
            let source = AccessKeysDataSource::new(Arc::new(Clients::configured(fake.clients_of(caller))));
            async move { source.read(&OpContext::default(), &Value::object([("status", Value::Null)])).await }
        };
        let alice = read(Caller::User("alice".into())).await.unwrap();
        assert_eq!((alice.get("user"), alice.get("id")), (&Value::string("alice"), &Value::string("caller")));
        let root = read(Caller::Root).await.expect("the root user's keys may be listed");
        assert_eq!(root.get("access_keys"), &Value::List(vec![]));
        assert_eq!(fake.calls("ListAccessKeys"), 2);
        let refused = read(Caller::Other { arn: "arn:aws:sts::123456789012:federated-user/bob".into() }).await.unwrap_err();
        assert_eq!(refused.first().unwrap().summary, "The caller is not an IAM user");
        assert_eq!(fake.calls("ListAccessKeys"), 2, "a refused caller costs no IAM call");
    }
}

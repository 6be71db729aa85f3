//! Data source `iamkey_access_keys`: every access key of a user (the caller when
//! no user is given), or of every user in every account of an AWS Organization,
//! with age, last use and control findings, optionally filtered by status.

use std::sync::Arc;

use async_trait::async_trait;

use super::common::{iam_failure, validate_user_name, whose};
use super::findings::{findings_of, findings_type, Finding, ThresholdArguments, Thresholds};
use super::inventory::{for_each_user, keys_of_user, keys_with_last_use, KeyReport};
use super::organization::{failed_accounts_type, in_each_account, Scope, FAILED_ACCOUNT_ATTRIBUTES};
use crate::aws::AwsClients;
use crate::framework::schema::{Attribute, Block, Schema};
use crate::framework::{DataSource, OpContext};
use crate::resources::Clients;
use crate::value::summary;
use crate::value::Diagnostics;
use crate::value::{Name, NameMap, Number, Type, Value};

pub const TYPE_NAME: &str = "iamkey_access_keys";

crate::framework::field::fields! {
    /// The data source's attributes.
    pub mod keys_data { access_keys, accounts_with_root_keys, failed_accounts, id, max_age_days, max_unused_days, organization, status, user }
}

crate::framework::field::fields! {
    /// One reported key.
    pub mod key_report { access_key_id, account_id, age_days, create_date, findings, last_used_date, last_used_region, last_used_service, status, user }
}

/// The attributes of one reported key, in the order the docs list them.
pub const KEY_ATTRIBUTES: [(&str, &str); 10] = [
    (key_report::access_key_id.name, "The access key ID."),
    (key_report::account_id.name, "The AWS account the key is in (null when the provider's account is unknown: `skip_credentials_validation`)."),
    (key_report::user.name, "The IAM user the key belongs to."),
    (key_report::status.name, "`Active`, `Inactive`, or what IAM reports (`Expired`)."),
    (key_report::create_date.name, "When the key was created (RFC 3339)."),
    (key_report::age_days.name, "Whole days since the key was created."),
    (key_report::last_used_date.name, "When the key last signed a request (RFC 3339); null if never."),
    (key_report::last_used_service.name, "The AWS service the key last called; null if never used."),
    (key_report::last_used_region.name, "The region the key was last used in; null if never used."),
    (
        key_report::findings.name,
        "The controls the key fails, each a `control` id and a `reason`: `IAM.3` (active and older than `max_age_days`), `IAM.22` (active and unused, or never used, for more than `max_unused_days`), `IAM.4` (a root user's key: the caller's own, when it is the root user; with `organization`, see `accounts_with_root_keys`), `TWO_ACTIVE_KEYS` (its user has two active keys). Empty when it fails none.",
    ),
];

/// The object type of one reported key.
pub fn key_type() -> Type {
    let type_of = |name: &str| match name {
        _ if name == key_report::age_days.name => Type::Number,
        _ if name == key_report::findings.name => findings_type(),
        _ => Type::String,
    };
    Type::Object(KEY_ATTRIBUTES.iter().map(|(name, _)| (Name::Borrowed(*name), type_of(name))).collect::<NameMap<_>>())
}

/// A reported key as the data source gives it.
fn key_value(report: &KeyReport, account_id: Option<&str>, findings: &[Finding]) -> Value {
    Value::object([
        (key_report::access_key_id.name, Value::string(&report.key.access_key_id)),
        (key_report::account_id.name, Value::opt_string(account_id)),
        (key_report::user.name, Value::string(&report.key.user_name)),
        (key_report::status.name, Value::string(&report.key.status)),
        (key_report::create_date.name, Value::opt_string(report.key.create_date.clone())),
        (key_report::age_days.name, report.age_days().map_or(Value::Null, |d| Value::Number(Number::Int(d)))),
        (key_report::last_used_date.name, Value::opt_string(report.last_used.date.clone())),
        (key_report::last_used_service.name, Value::opt_string(report.last_used.service.clone())),
        (key_report::last_used_region.name, Value::opt_string(report.last_used.region.clone())),
        (key_report::findings.name, super::findings::to_value(findings)),
    ])
}

/// The findings' limits, declared with the list resource's.
const THRESHOLDS: ThresholdArguments = ThresholdArguments { max_age_days: keys_data::max_age_days, max_unused_days: keys_data::max_unused_days };

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
    let block = Block::new(
        "Lists the access keys of an IAM user, or of every user in every account of an AWS Organization, with each key's age, last use and control findings. Secrets are never listed: IAM returns them only when a key is created.",
    )
    .attribute(Attribute::optional_computed(keys_data::user.into(), Type::String).validate(validate_user_name).describe(
        "IAM user whose keys to list. When omitted, the keys of the identity that signs the requests (an IAM user, or the root user), and set to its name; with `organization`, the keys of every user of each account.",
    ))
    .attribute(
        Attribute::optional(keys_data::status.into(), Type::String)
            .validate(validate_status_filter)
            .describe("Only keys with this status: `Active`, `Inactive` or `Expired`."),
    )
    .attribute(Attribute::computed(keys_data::id.into(), Type::String).describe("The user name, or `caller` when no user was given; prefixed `organization/` with `organization`."))
    .attribute(
        Attribute::computed(keys_data::access_keys.into(), Type::List(Box::new(key_type())))
            .describe("The keys, oldest first (account by account with `organization`, in the organization's order).")
            .describe_fields(&KEY_ATTRIBUTES),
    )
    .attribute(
        Attribute::computed(keys_data::failed_accounts.into(), failed_accounts_type())
            .describe("With `organization`: the accounts that could not be read (each also a warning), with why. Empty when every account was read; null without `organization`.")
            .describe_fields(&FAILED_ACCOUNT_ATTRIBUTES),
    )
    .attribute(Attribute::computed(keys_data::accounts_with_root_keys.into(), Type::List(Box::new(Type::String))).describe(
        "With `organization`: the accounts read whose root user holds an access key (IAM.4, from GetAccountSummary). A role cannot list the root user's keys, so they are not in `access_keys`. Empty when none does; null without `organization`.",
    ));
    Schema::new(0, super::organization::declared_in(THRESHOLDS.declared_in(block), keys_data::organization))
}

/// Every key of one account with its findings, those of `status` only.
fn reported(account_id: Option<&str>, reports: &[KeyReport], root_keys: bool, limits: &Thresholds, status: Option<&str>) -> Vec<Value> {
    let findings = findings_of(reports, root_keys, limits);
    reports.iter().zip(findings).filter(|(r, _)| status.is_none_or(|s| r.key.status == s)).map(|(r, f)| key_value(r, account_id, &f)).collect()
}

/// What an organization read sets: the keys, the accounts not read, and the
/// accounts whose root user holds a key.
struct OrganizationRead {
    keys: Vec<Value>,
    failed_accounts: Vec<Value>,
    accounts_with_root_keys: Vec<Value>,
}

impl AccessKeysDataSource {
    /// The keys of the user (or the caller) in the provider's own account.
    async fn own_account(
        &self,
        ctx: &OpContext,
        clients: &AwsClients,
        config: &Value,
        limits: &Thresholds,
    ) -> Result<(Option<String>, Vec<Value>), Diagnostics> {
        // No user: the caller's keys; a role or federated caller has none to list.
        // The root user's keys may be listed (reading them mints nothing).
        let user = super::owner::user_or_caller(clients, keys_data::user.str(config), true).await?;
        let user = user.as_deref();
        let reports = keys_with_last_use(&clients.iam, user, &ctx.clock, &ctx.cancel).await.map_err(|e| {
            let summary = summary::COULD_NOT_LIST_THE_ACCESS_KEYS_OF.fill(&[("who", &whose(user))]);
            iam_failure(summary, &e, user.map(|_| keys_data::user.path()))
        })?;
        let owner = user.map(str::to_string).or_else(|| reports.first().map(|r| r.key.user_name.clone()));
        let keys = reported(clients.account_id.as_deref(), &reports, user.is_none(), limits, keys_data::status.str(config));
        Ok((owner, keys))
    }

    /// The keys of every user (or of `user`) in each account `scope` chooses; the
    /// accounts that could not be read are warned about and listed.
    async fn organization(
        &self,
        ctx: &OpContext,
        clients: &AwsClients,
        config: &Value,
        scope: &Scope,
        limits: &Thresholds,
    ) -> Result<OrganizationRead, Diagnostics> {
        let user = keys_data::user.str(config);
        let per_account = in_each_account(clients, scope, &ctx.cancel, |_, iam| async move {
            let iam = &iam;
            for_each_user(iam, user, &ctx.cancel, |user| async move { keys_of_user(iam, &user, &ctx.clock, &ctx.cancel).await }).await
        })
        .await?;
        ctx.warnings.extend(per_account.warnings());
        let status = keys_data::status.str(config);
        let keys = per_account.found.iter().flat_map(|read| reported(Some(&read.account_id), &read.items, false, limits, status)).collect();
        Ok(OrganizationRead {
            keys,
            failed_accounts: per_account.failed.iter().map(|f| f.to_value()).collect(),
            accounts_with_root_keys: per_account.accounts_with_root_keys().into_iter().map(Value::string).collect(),
        })
    }
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
        let limits = THRESHOLDS.thresholds(config);
        let configured_user = keys_data::user.str(config);
        let mut state = config.clone();
        match Scope::configured(keys_data::organization.of(config)) {
            None => {
                let (owner, keys) = self.own_account(ctx, clients, config, &limits).await?;
                keys_data::user.set(&mut state, Value::opt_string(owner));
                keys_data::id.set(&mut state, Value::string(configured_user.unwrap_or("caller")));
                keys_data::access_keys.set(&mut state, Value::List(keys));
            }
            Some(scope) => {
                let read = self.organization(ctx, clients, config, &scope, &limits).await?;
                keys_data::id.set(&mut state, Value::string(format!("organization/{}", configured_user.unwrap_or("*"))));
                keys_data::access_keys.set(&mut state, Value::List(read.keys));
                keys_data::failed_accounts.set(&mut state, Value::List(read.failed_accounts));
                keys_data::accounts_with_root_keys.set(&mut state, Value::List(read.accounts_with_root_keys));
            }
        }
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
        let mut reported: Vec<&str> = KEY_ATTRIBUTES.iter().map(|(name, _)| *name).collect();
        let mut declared = key_report::NAMES.to_vec();
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

    #[tokio::test]
    async fn the_root_users_own_keys_are_found_under_iam_4_and_a_users_are_not() {
        let fake = FakeIam::start(|action, form, _| match action {
            "ListAccessKeys" => fake::listed(form.get("UserName").map_or("root", String::as_str), &[("AKIAFAKE00000000KEY1", "Inactive", &fake::now())], None),
            "GetAccessKeyLastUsed" => fake::never_used("root"),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let controls = |caller| {
            let source = AccessKeysDataSource::new(Arc::new(Clients::configured(fake.clients_of(caller))));
            async move {
                let state = source.read(&OpContext::default(), &Value::Null).await.unwrap();
                let key = &keys_data::access_keys.of(&state).as_list().unwrap()[0];
                key_report::findings.of(key).as_list().unwrap().iter().map(|f| f.get("control").as_str().unwrap().to_string()).collect::<Vec<_>>()
            }
        };
        assert_eq!(controls(Caller::Root).await, ["IAM.4"], "a root key, even inactive");
        assert!(controls(Caller::User("alice".into())).await.is_empty());
    }
}

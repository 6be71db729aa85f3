//! List resource `iamkey_access_key` (protocol 6.10, `terraform query`): finds the
//! access keys of one user or of every user, filtered by status, age and last
//! use, as objects of the managed resource (never with a secret: IAM has none to
//! give after creation).

use std::sync::Arc;

use async_trait::async_trait;

use super::access_key::{identity_in, key, TYPE_NAME};
use super::access_keys::validate_status_filter;
use super::common::iam_failure;
use super::findings::{controls, findings_of, ThresholdArguments, Thresholds};
use super::inventory::{for_each_user, keys_of_user, FilterArguments, KeyFilter, KeyReport};
use super::organization::{in_each_account, Scope};
use crate::aws::iam::{Iam, IamError};
use crate::framework::schema::{Attribute, Block, Schema};
use crate::framework::{ListResource, Listed, OpContext};
use crate::resources::Clients;
use crate::value::summary;
use crate::value::Diagnostics;
use crate::value::{Type, Value};

pub struct AccessKeyList {
    schema: Schema,
    clients: Arc<Clients>,
}

impl AccessKeyList {
    pub fn new(clients: Arc<Clients>) -> Self {
        AccessKeyList { schema: schema(), clients }
    }
}

crate::framework::field::fields! {
    /// The list resource's configuration (its filters, the findings' limits, the organization).
    mod filters { max_age_days, max_unused_days, older_than_days, organization, status, unused_for_days, user }
}

/// The arguments shared with the deactivation action.
const FILTERS: FilterArguments = FilterArguments { user: filters::user, older_than_days: filters::older_than_days, unused_for_days: filters::unused_for_days };
/// The findings' limits, declared with the data source's.
const THRESHOLDS: ThresholdArguments = ThresholdArguments { max_age_days: filters::max_age_days, max_unused_days: filters::max_unused_days };

fn schema() -> Schema {
    let block = Block::new(
        "Finds existing access keys, in the provider's account or in every account of an AWS Organization, for `terraform query`: to review them (each result's name shows the key's age, last use and control findings) or to bring them under management with `-generate-config-out`.",
    )
    .attribute(
        Attribute::optional(filters::status.into(), Type::String)
            .validate(validate_status_filter)
            .describe("Only keys with this status: `Active`, `Inactive` or `Expired`."),
    );
    Schema::new(0, super::organization::declared_in(THRESHOLDS.declared_in(FILTERS.declared_in(block)), filters::organization))
}

/// The managed resource's state for a listed key: what IAM tells about it.
fn state_of(report: &KeyReport, description: Option<&String>) -> Value {
    let mut state = Value::Null;
    key::id.set(&mut state, Value::string(&report.key.access_key_id));
    key::user.set(&mut state, Value::string(&report.key.user_name));
    key::status.set(&mut state, Value::string(&report.key.status));
    key::description.set(&mut state, Value::opt_string(description.cloned()));
    key::create_date.set(&mut state, Value::opt_string(report.key.create_date.clone()));
    key::last_used_date.set(&mut state, Value::opt_string(report.last_used.date.clone()));
    key::last_used_service.set(&mut state, Value::opt_string(report.last_used.service.clone()));
    key::last_used_region.set(&mut state, Value::opt_string(report.last_used.region.clone()));
    state
}

/// What one listing asks for: which keys, with which limits for findings.
struct Query<'a> {
    filter: KeyFilter<'a>,
    limits: Thresholds,
}

/// The listed keys of one user, with their descriptions and findings (the
/// findings count every key of the user, the filter then chooses); none if the
/// user disappeared while listing. In another account than the provider's
/// (`account`), the name starts with the account and the identity names it.
async fn keys_of(iam: &Iam, ctx: &OpContext, user: &str, query: &Query<'_>, account: Option<&str>) -> Result<Vec<Listed>, IamError> {
    let reports = keys_of_user(iam, user, &ctx.clock, &ctx.cancel).await?;
    let findings = findings_of(&reports, false, &query.limits);
    let kept: Vec<_> = reports.iter().zip(findings).filter(|(r, _)| query.filter.keeps(r)).collect();
    if kept.is_empty() {
        return Ok(Vec::new());
    }
    let tags = match iam.user_tags_for_read(user, &ctx.cancel).await {
        Err(e) if e.is_no_such_entity() => return Ok(Vec::new()),
        other => other?,
    };
    let listed = |(report, findings): (&KeyReport, Vec<_>)| {
        let found = if findings.is_empty() { String::new() } else { format!("; findings: {}", controls(&findings)) };
        let name = format!("{user}: {}{found}", report.summary());
        let state = state_of(report, tags.get(&report.key.access_key_id));
        match account {
            Some(account) => Listed { display_name: format!("{account}: {name}"), identity: identity_in(account, &state), state },
            None => Listed { display_name: name, state, identity: None },
        }
    };
    Ok(kept.into_iter().map(listed).collect())
}

/// The listed keys of `user`, else of every user, in one account (`account`: as
/// `keys_of`).
async fn listed_in(iam: &Iam, ctx: &OpContext, user: Option<&str>, query: &Query<'_>, account: Option<&str>) -> Result<Vec<Listed>, IamError> {
    for_each_user(iam, user, &ctx.cancel, |user| async move { keys_of(iam, ctx, &user, query, account).await }).await
}

#[async_trait]
impl ListResource for AccessKeyList {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn list(&self, ctx: &OpContext, config: &Value) -> Result<Vec<Listed>, Diagnostics> {
        let clients = self.clients.get()?;
        let query = &Query { filter: FILTERS.filter(config, filters::status.str(config)), limits: THRESHOLDS.thresholds(config) };
        let user = filters::user.str(config);
        let Some(scope) = Scope::configured(filters::organization.of(config)) else {
            let listed = listed_in(&clients.iam, ctx, user, query, None).await;
            return listed.map_err(|e| iam_failure(summary::COULD_NOT_LIST_ACCESS_KEYS, &e, None));
        };
        let per_account =
            in_each_account(clients, &scope, &ctx.cancel, |account, iam| async move { listed_in(&iam, ctx, user, query, Some(&account)).await }).await?;
        ctx.warnings.extend(per_account.warnings());
        ctx.warnings.extend(per_account.root_key_warnings());
        Ok(per_account.found.into_iter().flat_map(|read| read.items).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::fake::{self, FakeIam};
    use crate::framework::field::declares_exactly;
    use std::sync::Arc;

    #[test]
    fn the_filters_name_every_argument() {
        assert_eq!(declares_exactly(&schema().block, filters::NAMES), Ok(()));
    }

    /// alice: an old used key and a new Inactive one; bob: disappears while listed.
    async fn lister() -> (AccessKeyList, FakeIam) {
        let fake = FakeIam::start(|action, form, _| match (action, form.get("UserName").map(String::as_str)) {
            ("ListUsers", _) => fake::users(&["alice", "bob"]),
            ("ListAccessKeys", Some("alice")) => {
                fake::listed("alice", &[("AKIAFAKE0000000OLD01", "Active", "2020-01-01T00:00:00Z"), ("AKIAFAKE0000000NEW01", "Inactive", &fake::now())], None)
            }
            ("GetAccessKeyLastUsed", _) => fake::never_used("alice"),
            ("ListUserTags", Some("alice")) => fake::tags(&[("AKIAFAKE0000000OLD01", "deploy key")]),
            _ => fake::error(404, "NoSuchEntity"),
        })
        .await;
        (AccessKeyList::new(Arc::new(Clients::configured(fake.clients()))), fake)
    }

    #[tokio::test]
    async fn every_users_keys_are_listed_as_the_resource_states_them_and_filters_apply() {
        let (list, _fake) = lister().await;
        let all = list.list(&OpContext::default(), &Value::Null).await.unwrap();
        let ids: Vec<_> = all.iter().map(|l| key::id.str(&l.state).unwrap()).collect();
        assert_eq!(ids, ["AKIAFAKE0000000OLD01", "AKIAFAKE0000000NEW01"], "oldest first; bob, gone, has none");
        let old = &all[0];
        assert_eq!((key::user.str(&old.state), key::status.str(&old.state)), (Some("alice"), Some("Active")));
        assert_eq!(key::description.str(&old.state), Some("deploy key"), "the description comes from the user's tags");
        assert!(old.display_name.starts_with("alice: AKIAFAKE0000000OLD01 (Active, "), "{}", old.display_name);

        let mut config = Value::Null;
        filters::older_than_days.set(&mut config, Value::Number(crate::value::Number::Int(365)));
        let old_only = list.list(&OpContext::default(), &config).await.unwrap();
        assert_eq!(old_only.len(), 1);
        filters::status.set(&mut config, Value::string("Inactive"));
        assert!(list.list(&OpContext::default(), &config).await.unwrap().is_empty(), "filters combine");
    }
}

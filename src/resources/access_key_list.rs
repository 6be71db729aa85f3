//! List resource `iamkey_access_key` (protocol 6.10, `terraform query`): finds the
//! access keys of one user or of every user, filtered by status, age and last
//! use, as objects of the managed resource (never with a secret: IAM has none to
//! give after creation).

use std::sync::Arc;

use async_trait::async_trait;

use super::access_key::{key, TYPE_NAME};
use super::access_keys::validate_status_filter;
use super::common::iam_failure;
use super::inventory::{for_each_user, matching_keys, FilterArguments, KeyFilter, KeyReport};
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
    /// The list resource's configuration (its filters).
    mod filters { older_than_days, status, unused_for_days, user }
}

/// The arguments shared with the deactivation action.
const FILTERS: FilterArguments = FilterArguments { user: filters::user, older_than_days: filters::older_than_days, unused_for_days: filters::unused_for_days };

fn schema() -> Schema {
    Schema::new(
        0,
        FILTERS.declared_in(
            Block::new("Finds existing access keys for `terraform query`, to review them or to bring them under management with `-generate-config-out`.")
                .attribute(
                    Attribute::optional(filters::status.into(), Type::String)
                        .validate(validate_status_filter)
                        .describe("Only keys with this status: `Active`, `Inactive` or `Expired`."),
                ),
        ),
    )
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

/// The listed keys of one user, with their descriptions; none if the user
/// disappeared while listing.
async fn keys_of(iam: &Iam, ctx: &OpContext, user: &str, filter: &KeyFilter<'_>) -> Result<Vec<Listed>, IamError> {
    let kept = matching_keys(iam, user, filter, &ctx.clock, &ctx.cancel).await?;
    if kept.is_empty() {
        return Ok(Vec::new());
    }
    let tags = match iam.user_tags_for_read(user, &ctx.cancel).await {
        Err(e) if e.is_no_such_entity() => return Ok(Vec::new()),
        other => other?,
    };
    Ok(kept
        .iter()
        .map(|r| Listed { display_name: format!("{user}: {}", r.summary()), state: state_of(r, tags.get(&r.key.access_key_id)), identity: None })
        .collect())
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
        let failed = |e: IamError| iam_failure(summary::COULD_NOT_LIST_ACCESS_KEYS, &e, None);
        let filter = FILTERS.filter(config, filters::status.str(config));
        let iam = &clients.iam;
        let filter = &filter;
        for_each_user(iam, filters::user.str(config), &ctx.cancel, |user| async move { keys_of(iam, ctx, &user, filter).await }).await.map_err(failed)
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

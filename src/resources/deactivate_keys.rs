//! Action `iamkey_deactivate_keys` (protocol 6.10, Terraform 1.14+): turns off the
//! Active keys that the list resource's filters select, for one user or every user,
//! leaving out the keys named in `exclude`. It never deletes a key: deactivation is
//! undone with one call, a deletion is not. `terraform plan -invoke=...` says which
//! keys it would deactivate; `terraform apply -invoke=...` does it, one progress
//! line per key. A key that fails is reported and the others go on.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;

use super::common::{access_key_id, each_string, iam_failure};
use super::inventory::{for_each_user, matching_keys, FilterArguments, KeyFilter, KeyReport};
use crate::framework::field::fields;
use crate::framework::schema::{Attribute, Block, Schema};
use crate::framework::{Action, OpContext, Progress};
use crate::resources::Clients;
use crate::value::summary;
use crate::value::{Diagnostics, Type, Value};

pub const TYPE_NAME: &str = "iamkey_deactivate_keys";

fields! {
    /// The action's arguments.
    mod deactivate { exclude, older_than_days, unused_for_days, user }
}

pub struct DeactivateKeys {
    schema: Schema,
    clients: Arc<Clients>,
}

impl DeactivateKeys {
    pub fn new(clients: Arc<Clients>) -> Self {
        DeactivateKeys { schema: schema(), clients }
    }
}

fn key_ids(v: &Value) -> Result<(), String> {
    each_string(v, access_key_id)
}

/// The arguments shared with the list resource.
const FILTERS: FilterArguments =
    FilterArguments { user: deactivate::user, older_than_days: deactivate::older_than_days, unused_for_days: deactivate::unused_for_days };

fn schema() -> Schema {
    Schema::new(
        0,
        FILTERS.declared_in(
            Block::new(
                "Deactivates the Active access keys that are old or unused, for one IAM user or every user of the account. It never \
             deletes a key (`status` back to Active undoes it). At least one of `older_than_days` and `unused_for_days` is required, \
             so that no invocation turns off every key of the account. `terraform plan -invoke=action.iamkey_deactivate_keys.NAME` \
             lists the keys it would deactivate and changes nothing.",
            )
            .attribute(
                Attribute::optional(deactivate::exclude.into(), Type::Set(Box::new(Type::String)))
                    .validate(key_ids)
                    .describe("Access key IDs to leave alone, whatever their age (the key a rotation just made, a break-glass key)."),
            ),
        ),
    )
}

/// The keys one invocation deactivates: Active, kept by the filters, not excluded.
struct Selection<'c> {
    user: Option<&'c str>,
    filter: KeyFilter<'c>,
    exclude: BTreeSet<&'c str>,
}

impl<'c> Selection<'c> {
    fn of(config: &'c Value) -> Self {
        let exclude = deactivate::exclude.of(config).as_list().unwrap_or_default().iter().filter_map(Value::as_str).collect();
        Selection { user: deactivate::user.str(config), filter: FILTERS.filter(config, Some("Active")), exclude }
    }
}

impl DeactivateKeys {
    /// The selected keys of every user concerned, by user, oldest first.
    async fn selected(&self, ctx: &OpContext, selection: &Selection<'_>) -> Result<Vec<KeyReport>, Diagnostics> {
        let clients = self.clients.get()?;
        let failed = |e| iam_failure(summary::COULD_NOT_LIST_ACCESS_KEYS, &e, None);
        let (iam, filter) = (&clients.iam, &selection.filter);
        let keys = for_each_user(iam, selection.user, &ctx.cancel, |user| async move { matching_keys(iam, &user, filter, &ctx.clock, &ctx.cancel).await });
        Ok(keys.await.map_err(failed)?.into_iter().filter(|r| !selection.exclude.contains(r.key.access_key_id.as_str())).collect())
    }
}

/// One key as the plan and the progress name it.
fn described(report: &KeyReport) -> String {
    format!("{} {}", report.key.user_name, report.summary())
}

#[async_trait]
impl Action for DeactivateKeys {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Without an age or an idle time, every Active key of the account would go.
    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if deactivate::older_than_days.of(config).is_null() && deactivate::unused_for_days.of(config).is_null() {
            diags.add_error_at(
                deactivate::unused_for_days.path(),
                summary::NO_AGE_OR_IDLE_TIME,
                "Set older_than_days or unused_for_days (or both): without either this action would deactivate every Active key \
                 it can see.",
            );
        }
    }

    async fn plan(&self, ctx: &OpContext, config: &Value) -> Diagnostics {
        let keys = match self.selected(ctx, &Selection::of(config)).await {
            Ok(keys) => keys,
            Err(diags) => return diags,
        };
        let lines: Vec<String> = keys.iter().map(|k| format!("  - {}", described(k))).collect();
        let detail = match lines.is_empty() {
            true => "No Active key matches: invoking this action would change nothing.".to_string(),
            false => format!("Invoking this action would deactivate {} access key(s), and delete none:\n{}", lines.len(), lines.join("\n")),
        };
        let mut diags = Diagnostics::new();
        diags.add_warning(summary::KEYS_TO_DEACTIVATE, detail);
        diags
    }

    async fn invoke(&self, ctx: &OpContext, config: &Value, progress: &Progress) -> Diagnostics {
        let keys = match self.selected(ctx, &Selection::of(config)).await {
            Ok(keys) => keys,
            Err(diags) => return diags,
        };
        let clients = match self.clients.get() {
            Ok(clients) => clients,
            Err(diags) => return diags,
        };
        let mut failures = Vec::new();
        for key in &keys {
            let (user, id) = (&key.key.user_name, &key.key.access_key_id);
            match clients.iam.update_access_key(user, id, "Inactive", &ctx.cancel).await {
                Ok(()) => progress.report(format!("{user} {id}: Active → Inactive ({})", key.age_and_use())),
                Err(e) => {
                    progress.report(format!("{user} {id}: not deactivated: {e}"));
                    failures.push(format!("  - {user} {id}: {e}"));
                }
            }
        }
        progress.report(format!("deactivated {} of {} selected key(s)", keys.len() - failures.len(), keys.len()));
        match failures.is_empty() {
            true => Diagnostics::new(),
            false => Diagnostics::error(
                summary::COULD_NOT_DEACTIVATE_EVERY_KEY,
                format!("{} of {} keys are still Active:\n{}\n\nThe others were deactivated.", failures.len(), keys.len(), failures.join("\n")),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::fake::{self, FakeIam};
    use crate::framework::field::declares_exactly;
    use crate::value::{AttributePath, Number};

    #[test]
    fn the_fields_name_every_argument() {
        assert_eq!(declares_exactly(&schema().block, deactivate::NAMES), Ok(()));
    }

    fn days(field: crate::framework::field::Field, n: i64, config: &mut Value) {
        field.set(config, Value::Number(Number::Int(n)));
    }

    /// bob: an old Active key, an old Inactive key, a new Active key.
    async fn action() -> (DeactivateKeys, FakeIam) {
        let fake = FakeIam::start(|action, form, _| match action {
            "ListAccessKeys" => fake::listed(
                "bob",
                &[
                    ("AKIAFAKE0000000OLD01", "Active", "2020-01-01T00:00:00Z"),
                    ("AKIAFAKE0000000OLD02", "Inactive", "2020-01-02T00:00:00Z"),
                    ("AKIAFAKE0000000NEW01", "Active", &fake::now()),
                ],
                None,
            ),
            "GetAccessKeyLastUsed" => fake::never_used("bob"),
            "UpdateAccessKey" if form.get("AccessKeyId").is_some_and(|id| id == "AKIAFAKE0000000OLD01") => fake::empty_ok("UpdateAccessKey"),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        (DeactivateKeys::new(Arc::new(Clients::configured(fake.clients()))), fake)
    }

    fn config() -> Value {
        let mut config = Value::Null;
        deactivate::user.set(&mut config, Value::string("bob"));
        days(deactivate::older_than_days, 90, &mut config);
        config
    }

    #[tokio::test]
    async fn the_plan_lists_exactly_the_old_active_keys_and_changes_nothing() {
        let (action, fake) = action().await;
        let plan = action.plan(&OpContext::default(), &config()).await;
        let warning = plan.first().unwrap();
        assert!(!plan.has_errors() && warning.summary == "Keys to deactivate", "{plan:?}");
        assert!(
            warning.detail.contains("AKIAFAKE0000000OLD01") && !warning.detail.contains("OLD02") && !warning.detail.contains("NEW01"),
            "{}",
            warning.detail
        );
        assert_eq!(fake.calls("UpdateAccessKey"), 0);
    }

    async fn invoked(action: &DeactivateKeys, config: &Value) -> (Vec<String>, Diagnostics) {
        Progress::recording(|progress| async move { action.invoke(&OpContext::default(), config, &progress).await }).await
    }

    #[tokio::test]
    async fn an_invoke_deactivates_them_one_progress_line_each_and_leaves_the_others() {
        let (action, fake) = action().await;
        let (seen, diags) = invoked(&action, &config()).await;
        assert!(diags.is_empty(), "{diags:?}");
        assert!(seen[0].starts_with("bob AKIAFAKE0000000OLD01: Active → Inactive ("), "{seen:?}");
        assert_eq!(seen[1], "deactivated 1 of 1 selected key(s)");
        assert_eq!(fake.calls("UpdateAccessKey"), 1);

        let mut excluded = config();
        deactivate::exclude.set(&mut excluded, Value::List(vec![Value::string("AKIAFAKE0000000OLD01")]));
        assert!(invoked(&action, &excluded).await.1.is_empty());
        assert_eq!(fake.calls("UpdateAccessKey"), 1, "an excluded key is left alone");
    }

    #[tokio::test]
    async fn a_key_that_fails_is_reported_and_the_action_fails_after_the_others() {
        let (action, _fake) = action().await;
        let mut config = config();
        days(deactivate::older_than_days, 0, &mut config); // NEW01 too: its update fails
        let (seen, diags) = invoked(&action, &config).await;
        assert_eq!(diags.first().unwrap().summary, "Could not deactivate every key");
        assert!(seen.iter().any(|l| l.starts_with("bob AKIAFAKE0000000OLD01: Active → Inactive")), "{seen:?}");
        assert!(seen.iter().any(|l| l.starts_with("bob AKIAFAKE0000000NEW01: not deactivated")), "{seen:?}");
    }

    #[test]
    fn without_an_age_or_idle_time_or_with_a_bad_value_it_is_refused_at_the_attribute() {
        let action = DeactivateKeys::new(Arc::new(Clients::default()));
        let mut only_user = Value::Null;
        deactivate::user.set(&mut only_user, Value::string("bob"));
        let mut diags = Diagnostics::new();
        action.validate(&only_user, &mut diags);
        assert_eq!(diags.first().unwrap().path, Some(AttributePath::root("unused_for_days")));
        let mut negative = config();
        days(deactivate::unused_for_days, -1, &mut negative);
        assert_eq!(action.schema().validate(&negative).first().unwrap().path, Some(AttributePath::root("unused_for_days")));
        let mut bad_exclude = config();
        deactivate::exclude.set(&mut bad_exclude, Value::List(vec![Value::string("not-a-key")]));
        assert_eq!(action.schema().validate(&bad_exclude).first().unwrap().path, Some(AttributePath::root("exclude")));
    }
}

//! Action `iamkey_quarantine_key` (protocol 6.10, Terraform 1.14+): what a
//! responder does first with a leaked key, as one command. It reports the key's
//! last use (where it was used: the first clue), deactivates it, and attaches AWS's
//! managed policy `AWSCompromisedKeyQuarantineV3` to its user (the one AWS applies
//! to exposed keys: it denies the actions attackers use first). With `delete =
//! true` it then deletes the key. Invoking it again changes nothing.

use std::sync::Arc;

use async_trait::async_trait;

use super::common::{access_key_id, iam_diagnostic, iam_failure, validate_user_name};
use super::inventory::KeyReport;
use crate::aws::iam::{Iam, KeyMetadata};
use crate::framework::field::fields;
use crate::framework::schema::{Attribute, Block, Schema};
use crate::framework::{Action, OpContext, Progress};
use crate::resources::Clients;
use crate::value::summary;
use crate::value::{Diagnostics, Type, Value};

pub const TYPE_NAME: &str = "iamkey_quarantine_key";

/// AWS's managed policy for exposed keys, by name (its ARN depends on the partition).
pub const QUARANTINE_POLICY: &str = "AWSCompromisedKeyQuarantineV3";

fields! {
    /// The action's arguments.
    mod quarantine { access_key_id, delete, user }
}

pub struct QuarantineKey {
    schema: Schema,
    clients: Arc<Clients>,
}

impl QuarantineKey {
    pub fn new(clients: Arc<Clients>) -> Self {
        QuarantineKey { schema: schema(), clients }
    }
}

fn key_id(v: &Value) -> Result<(), String> {
    access_key_id(v.as_str().unwrap_or_default())
}

fn schema() -> Schema {
    Schema::new(
        0,
        Block::new(
            "Quarantines one access key, as a responder does when it leaked: reports where it was last used, deactivates it, and \
             attaches AWS's managed policy `AWSCompromisedKeyQuarantineV3` to its user. With `delete = true` it then deletes the key. \
             Invoking it again changes nothing.",
        )
        .attribute(Attribute::required(quarantine::access_key_id.into(), Type::String).validate(key_id).describe("The access key ID."))
        .attribute(
            Attribute::optional(quarantine::user.into(), Type::String)
                .validate(validate_user_name)
                .describe("The key's IAM user. When omitted, IAM is asked whose key it is (GetAccessKeyLastUsed)."),
        )
        .attribute(
            Attribute::optional(quarantine::delete.into(), Type::Bool).describe(
                "Delete the key after deactivating it. Default false: a deactivated key can be looked at, and turned back on if the alarm was false.",
            ),
        ),
    )
}

/// The ARN of AWS's managed policy in `partition`.
fn quarantine_policy_arn(partition: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/{QUARANTINE_POLICY}")
}

/// The key the configuration names, with its user and last use.
async fn find_key(iam: &Iam, ctx: &OpContext, config: &Value) -> Result<KeyReport, Diagnostics> {
    let id = quarantine::access_key_id.str(config).unwrap_or_default();
    let not_found = || {
        Diagnostics::error_at(
            quarantine::access_key_id.path(),
            summary::NO_SUCH_ACCESS_KEY,
            format!(
                "IAM has no access key {id}{} (deleted already, or in another account).",
                quarantine::user.str(config).map(|u| format!(" for user {u:?}")).unwrap_or_default()
            ),
        )
    };
    // One GetAccessKeyLastUsed gives the last use, and the owner when not given.
    let (owner, last_used) = match iam.owner_and_last_use(id, &ctx.cancel).await {
        Err(e) if e.is_no_such_entity() => return Err(not_found()),
        found => found.map_err(|e| iam_diagnostic(&e, Some(quarantine::access_key_id.path())))?,
    };
    let Some(user) = quarantine::user.str(config).map(str::to_string).or(owner) else { return Err(not_found()) };
    let keys = match iam.list_access_keys(Some(&user), &ctx.cancel).await {
        Err(e) if e.is_no_such_entity() => return Err(not_found()),
        keys => keys.map_err(|e| iam_failure(summary::COULD_NOT_LIST_ACCESS_KEYS, &e, None))?,
    };
    let key: KeyMetadata = keys.into_iter().find(|k| k.access_key_id == id).ok_or_else(not_found)?;
    Ok(KeyReport { key, last_used, as_of: ctx.clock.now_secs() })
}

/// Where the key was last used, in words.
fn last_use(report: &KeyReport) -> String {
    let used = &report.last_used;
    match (&used.date, &used.service, &used.region) {
        (Some(date), service, region) => {
            format!("last used {date} ({}, {})", service.as_deref().unwrap_or("service unknown"), region.as_deref().unwrap_or("region unknown"))
        }
        _ => "never used".to_string(),
    }
}

#[async_trait]
impl Action for QuarantineKey {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn plan(&self, ctx: &OpContext, config: &Value) -> Diagnostics {
        let clients = match self.clients.get() {
            Ok(clients) => clients,
            Err(diags) => return diags,
        };
        let report = match find_key(&clients.iam, ctx, config).await {
            Ok(report) => report,
            Err(diags) => return diags,
        };
        let (user, id) = (&report.key.user_name, &report.key.access_key_id);
        let delete = if quarantine::delete.is_true(config) { ", then delete the key" } else { "" };
        let mut diags = Diagnostics::new();
        diags.add_warning(
            summary::KEY_TO_QUARANTINE,
            format!(
                "Invoking this action would deactivate access key {id} of user {user:?} ({}, {}) and attach {QUARANTINE_POLICY} to the user{delete}.",
                report.key.status,
                last_use(&report)
            ),
        );
        diags
    }

    async fn invoke(&self, ctx: &OpContext, config: &Value, progress: &Progress) -> Diagnostics {
        let clients = match self.clients.get() {
            Ok(clients) => clients,
            Err(diags) => return diags,
        };
        let iam = &clients.iam;
        let report = match find_key(iam, ctx, config).await {
            Ok(report) => report,
            Err(diags) => return diags,
        };
        let (user, id) = (report.key.user_name.as_str(), report.key.access_key_id.as_str());
        progress.report(format!("{user} {id}: {}", last_use(&report)));
        match report.key.status.as_str() {
            "Inactive" => progress.report(format!("{user} {id}: already Inactive")),
            status => {
                if let Err(e) = iam.update_access_key(user, id, "Inactive", &ctx.cancel).await {
                    return iam_diagnostic(&e, Some(quarantine::access_key_id.path()));
                }
                progress.report(format!("{user} {id}: {status} → Inactive"));
            }
        }
        if let Err(e) = iam.attach_user_policy(user, &quarantine_policy_arn(&clients.partition), &ctx.cancel).await {
            return iam_diagnostic(&e, Some(quarantine::user.path()));
        }
        progress.report(format!("{user}: {QUARANTINE_POLICY} attached"));
        if quarantine::delete.is_true(config) {
            if let Err(e) = iam.delete_access_key(user, id, &ctx.cancel).await {
                return iam_diagnostic(&e, Some(quarantine::delete.path()));
            }
            progress.report(format!("{user} {id}: deleted"));
        }
        Diagnostics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::fake::{self, FakeIam};
    use crate::framework::field::declares_exactly;

    #[test]
    fn the_fields_name_every_argument_and_the_policy_follows_the_partition() {
        assert_eq!(declares_exactly(&schema().block, quarantine::NAMES), Ok(()));
        assert_eq!(quarantine_policy_arn("aws-cn"), "arn:aws-cn:iam::aws:policy/AWSCompromisedKeyQuarantineV3");
    }

    /// bob's key LEAK, Active (or Inactive after the first quarantine).
    async fn action(status: &'static str) -> (QuarantineKey, FakeIam) {
        let fake = FakeIam::start(move |action, form, _| match action {
            "GetAccessKeyLastUsed" => fake::never_used("bob"),
            "ListAccessKeys" => fake::listed("bob", &[("AKIAFAKE000000000LEAK", status, "2020-01-01T00:00:00Z")], None),
            "UpdateAccessKey" => fake::empty_ok("UpdateAccessKey"),
            "AttachUserPolicy" if form.get("PolicyArn").is_some_and(|arn| arn.ends_with("/AWSCompromisedKeyQuarantineV3")) => {
                fake::empty_ok("AttachUserPolicy")
            }
            "DeleteAccessKey" => fake::empty_ok("DeleteAccessKey"),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        (QuarantineKey::new(Arc::new(Clients::configured(fake.clients()))), fake)
    }

    fn config(delete: bool) -> Value {
        let mut config = Value::Null;
        quarantine::access_key_id.set(&mut config, Value::string("AKIAFAKE000000000LEAK"));
        quarantine::delete.set(&mut config, Value::Bool(delete));
        config
    }

    async fn invoked(action: &QuarantineKey, config: &Value) -> (Vec<String>, Diagnostics) {
        Progress::recording(|progress| async move { action.invoke(&OpContext::default(), config, &progress).await }).await
    }

    #[tokio::test]
    async fn a_leaked_key_is_found_reported_deactivated_and_its_user_quarantined() {
        let (action, fake) = action("Active").await;
        let plan = action.plan(&OpContext::default(), &config(false)).await;
        assert!(plan.first().unwrap().detail.contains("deactivate access key AKIAFAKE000000000LEAK of user \"bob\""), "{plan:?}");
        assert_eq!(fake.calls("UpdateAccessKey") + fake.calls("AttachUserPolicy"), 0, "a plan changes nothing");
        let (lines, diags) = invoked(&action, &config(false)).await;
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            lines,
            ["bob AKIAFAKE000000000LEAK: never used", "bob AKIAFAKE000000000LEAK: Active → Inactive", "bob: AWSCompromisedKeyQuarantineV3 attached"]
        );
        assert_eq!((fake.calls("UpdateAccessKey"), fake.calls("AttachUserPolicy"), fake.calls("DeleteAccessKey")), (1, 1, 0));
        assert_eq!(fake.calls("GetAccessKeyLastUsed"), 2, "one call for the plan's lookup and one for the invoke's: owner and last use together");
    }

    #[tokio::test]
    async fn a_second_quarantine_changes_nothing_and_delete_only_when_asked() {
        let (action, fake) = action("Inactive").await;
        let (lines, diags) = invoked(&action, &config(false)).await;
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(lines[1], "bob AKIAFAKE000000000LEAK: already Inactive");
        assert_eq!(fake.calls("UpdateAccessKey"), 0);
        let (lines, _) = invoked(&action, &config(true)).await;
        assert_eq!(lines.last().unwrap(), "bob AKIAFAKE000000000LEAK: deleted");
        assert_eq!(fake.calls("DeleteAccessKey"), 1);
    }
}

//! Ephemeral resource `iamkey_access_key` (Terraform 1.10+): a key that lives for
//! one plan or apply. Open creates it, Close deletes it; its secret never reaches
//! state or plan.
//!
//! Rules kept here:
//! - every key Open creates carries a marker (a user tag named after the key, as
//!   descriptions are) with its expiry, so a run that never closed it (a crash)
//!   leaves nothing for long: the next Open for that user deletes expired ones;
//! - Open that fails after creating its key deletes the key before returning;
//! - private data (handed back to Close) names the key, never its secret.

use std::sync::Arc;

use async_trait::async_trait;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

use super::common::{iam_failure, validate_user_name, whose, MAX_KEYS_PER_USER};
use super::inventory::describe_keys;
use super::owner;
use crate::aws::iam::{CreateFailure, Iam, IamError, KeyMetadata};
use crate::crypto::ses::ses_smtp_password_v4;
use crate::framework::schema::{Attribute, Block, Schema};
use crate::framework::{EphemeralResource, OpContext, Opened};
use crate::resources::access_key::TYPE_NAME;
use crate::resources::Clients;
use crate::value::summary;
use crate::value::Diagnostics;
use crate::value::{Type, Value};

const MARKER_PREFIX: &str = "iamkey-ephemeral expires=";
const DEFAULT_TTL_MINUTES: i64 = 60;

pub struct EphemeralAccessKey {
    schema: Schema,
    clients: Arc<Clients>,
}

impl EphemeralAccessKey {
    pub fn new(clients: Arc<Clients>) -> Self {
        EphemeralAccessKey { schema: schema(), clients }
    }
}

fn positive_minutes(v: &Value) -> Result<(), String> {
    match v.as_i64() {
        Some(n) if n >= 1 => Ok(()),
        _ => Err("ttl_minutes must be a whole number of minutes, 1 or more.".into()),
    }
}

crate::framework::field::fields! {
    /// The ephemeral key's attributes.
    mod ephemeral_key { allow_root_key, expires_at, id, secret, ses_smtp_password_v4, ttl_minutes, user, wait_until_usable }
}

fn schema() -> Schema {
    Schema::new(
        0,
        Block::new("An access key for the length of one Terraform run: created when the run opens it, deleted when the run ends. Its secret never reaches state or plan. Use it where ephemeral values are accepted: provider configuration, write-only arguments, other ephemeral resources.")
            .attribute(Attribute::optional_computed(ephemeral_key::user.into(), Type::String).validate(validate_user_name).describe("IAM user the key is for; the identity that signs the requests when omitted."))
            .attribute(Attribute::optional(ephemeral_key::allow_root_key.into(), Type::Bool).describe("Allow a key for the account's root user, when `user` is omitted and the provider's credentials are the root user's. Without it opening fails: AWS recommends never creating root access keys."))
            .attribute(Attribute::optional(ephemeral_key::ttl_minutes.into(), Type::Number).validate(positive_minutes).describe("How long the key may outlive a run that could not delete it (a crash): the next run that opens a key for the same user deletes it after this. Default 60."))
            .attribute(Attribute::optional(ephemeral_key::wait_until_usable.into(), Type::Bool).describe("Wait after creating the key until it authenticates (sts:GetCallerIdentity signed with it, with backoff, for up to 2 minutes), so that a provider configured with it can use it at once: a new IAM key takes seconds to work. Default true; set false when nothing uses the key in the same run."))
            .attribute(Attribute::computed(ephemeral_key::id.into(), Type::String).describe("The access key ID."))
            .attribute(Attribute::computed(ephemeral_key::secret.into(), Type::String).sensitive().describe("The secret access key."))
            .attribute(Attribute::computed(ephemeral_key::ses_smtp_password_v4.into(), Type::String).sensitive().describe("SES SMTP password for the provider's region."))
            .attribute(Attribute::computed(ephemeral_key::expires_at.into(), Type::String).describe("When a key left behind becomes eligible for deletion (RFC 3339).")),
    )
}

fn rfc3339(secs: i64) -> String {
    DateTime::from_secs(secs).fmt(Format::DateTime).unwrap_or_default()
}

/// The expiry a marker records, if `tag` is one.
fn marker_expiry(tag: &str) -> Option<i64> {
    let at = tag.strip_prefix(MARKER_PREFIX)?;
    DateTime::from_str(at, Format::DateTime).ok().map(|d| d.secs())
}

/// What Close needs: which key, of which user.
#[derive(serde::Serialize, serde::Deserialize)]
struct Handle {
    user: String,
    id: String,
}

/// Deletes a key and its marker; a key already gone counts as deleted.
async fn delete_key(iam: &Iam, user: &str, id: &str, ctx: &OpContext) -> Result<(), IamError> {
    iam.delete_access_key(user, id, &ctx.cancel).await?;
    iam.untag_user(user, id, &ctx.cancel).await
}

impl EphemeralAccessKey {
    /// Deletes this provider's expired ephemeral keys of the user; returns the
    /// keys that remain.
    async fn sweep_expired(&self, iam: &Iam, user: Option<&str>, ctx: &OpContext) -> Result<Vec<KeyMetadata>, IamError> {
        let keys = iam.list_access_keys(user, &ctx.cancel).await?;
        let Some(owner) = user.map(str::to_string).or_else(|| keys.first().map(|k| k.user_name.clone())) else {
            return Ok(keys);
        };
        let tags = iam.user_tags_for_read(&owner, &ctx.cancel).await?;
        let now = ctx.clock.now_secs();
        let mut remaining = Vec::new();
        for key in keys {
            match tags.get(&key.access_key_id).and_then(|t| marker_expiry(t)) {
                Some(expiry) if expiry <= now => {
                    tracing::info!(access_key_id = %key.access_key_id, "deleting an expired ephemeral key left behind by an earlier run");
                    delete_key(iam, &owner, &key.access_key_id, ctx).await?;
                }
                _ => remaining.push(key),
            }
        }
        Ok(remaining)
    }
}

#[async_trait]
impl EphemeralResource for EphemeralAccessKey {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn open(&self, ctx: &OpContext, config: &Value) -> Result<Opened, Diagnostics> {
        let clients = self.clients.get()?;
        let iam = &clients.iam;
        let user = owner::user_or_caller(clients, ephemeral_key::user.str(config), ephemeral_key::allow_root_key.is_true(config)).await?;
        let user = user.as_deref();
        let remaining = self.sweep_expired(iam, user, ctx).await.map_err(|e| iam_failure(summary::COULD_NOT_LIST_THE_USER_S_ACCESS_KEYS, &e, None))?;
        if remaining.len() >= MAX_KEYS_PER_USER {
            return Err(Diagnostics::error_at(
                ephemeral_key::user.path(),
                summary::NO_ROOM_FOR_AN_EPHEMERAL_KEY,
                format!(
                    "{} already has {} access keys, the most IAM allows, so no key can be opened for this run:\n{}\n\n\
                     Delete one of them, or open the ephemeral key for another user.",
                    whose(user),
                    remaining.len(),
                    describe_keys(iam, user, &ctx.clock).await
                ),
            ));
        }
        let created = match iam.create_access_key(user, &ctx.cancel).await {
            Ok(created) => created,
            Err(CreateFailure::NotCreated(e)) => return Err(iam_failure(summary::COULD_NOT_CREATE_THE_EPHEMERAL_ACCESS_KEY, &e, None)),
            Err(CreateFailure::Unattributable { appeared, cause }) => return Err(super::inventory::uncertain_create(user, &appeared, &cause)),
            Err(CreateFailure::CreatedWithoutSecret { key, cause }) => {
                // Useless without its secret: delete it now rather than leave it.
                let cleanup = delete_key(iam, &key.user_name, &key.access_key_id, ctx).await;
                let mut detail = format!("IAM's answer to CreateAccessKey was lost ({cause}).");
                if let Err(e) = cleanup {
                    detail.push_str(&format!(" The key it created, {}, could not be deleted: {e}.", key.access_key_id));
                }
                return Err(Diagnostics::error(summary::COULD_NOT_CREATE_THE_EPHEMERAL_ACCESS_KEY, detail));
            }
        };
        let key = &created.metadata;
        let expires = ctx.clock.now_secs() + 60 * ephemeral_key::ttl_minutes.i64(config).unwrap_or(DEFAULT_TTL_MINUTES);
        let marked = iam.tag_user(&key.user_name, &key.access_key_id, &format!("{MARKER_PREFIX}{}", rfc3339(expires)), &ctx.cancel).await;
        if let Err(e) = marked {
            // An unmarked key would never be swept: delete it now.
            let cleanup = delete_key(iam, &key.user_name, &key.access_key_id, ctx).await;
            let mut detail = format!("The new key could not be marked as ephemeral ({e}), so it was deleted.");
            if let Err(e) = cleanup {
                detail = format!("The new key {} could not be marked as ephemeral, nor deleted ({e}). Delete it by hand.", key.access_key_id);
            }
            return Err(Diagnostics::error(summary::COULD_NOT_OPEN_THE_EPHEMERAL_ACCESS_KEY, detail));
        }
        if ephemeral_key::wait_until_usable.of(config).as_bool() != Some(false) {
            if let Err(reason) = clients.wait_until_usable(&key.access_key_id, &created.secret, &ctx.cancel).await {
                // A key the run cannot use is no use after it either: delete it now.
                let mut detail = format!("Access key {} was created, but {reason}. It was deleted.", key.access_key_id);
                if let Err(e) = delete_key(iam, &key.user_name, &key.access_key_id, ctx).await {
                    detail = format!(
                        "Access key {} was created, but {reason}. It could not be deleted ({e}); the next run that opens a key for this user deletes it.",
                        key.access_key_id
                    );
                }
                return Err(Diagnostics::error_at(ephemeral_key::wait_until_usable.path(), summary::THE_EPHEMERAL_KEY_DOES_NOT_WORK_YET, detail));
            }
        }
        let handle = Handle { user: key.user_name.clone(), id: key.access_key_id.clone() };
        let mut result = config.clone();
        ephemeral_key::user.set(&mut result, Value::string(&key.user_name));
        ephemeral_key::id.set(&mut result, Value::string(&key.access_key_id));
        ephemeral_key::secret.set(&mut result, Value::string(created.secret.expose()));
        ephemeral_key::ses_smtp_password_v4.set(&mut result, Value::string(ses_smtp_password_v4(&created.secret, &clients.region).expose()));
        ephemeral_key::expires_at.set(&mut result, Value::string(rfc3339(expires)));
        let private = serde_json::to_vec(&handle).unwrap_or_default();
        Ok(Opened { result, private })
    }

    async fn close(&self, ctx: &OpContext, private: &[u8]) -> Diagnostics {
        let Ok(handle) = serde_json::from_slice::<Handle>(private) else {
            return Diagnostics::error(summary::INVALID_PRIVATE_DATA, "Terraform handed back private data this provider did not write.");
        };
        let clients = match self.clients.get() {
            Ok(c) => c,
            Err(d) => return d,
        };
        match delete_key(&clients.iam, &handle.user, &handle.id, ctx).await {
            Ok(()) => Diagnostics::new(),
            Err(e) => Diagnostics::error(
                summary::COULD_NOT_DELETE_THE_EPHEMERAL_ACCESS_KEY,
                format!("Access key {} of user {:?}: {e}. The next run that opens a key for this user deletes it once expired.", handle.id, handle.user),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_name_every_attribute() {
        assert_eq!(crate::framework::field::declares_exactly(&schema().block, ephemeral_key::NAMES), Ok(()));
    }

    #[test]
    fn markers_round_trip_and_other_tags_are_not_markers() {
        let marker = format!("{MARKER_PREFIX}{}", rfc3339(1_800_000_000));
        assert_eq!(marker_expiry(&marker), Some(1_800_000_000));
        assert_eq!(marker_expiry("CI deploy key"), None);
        assert_eq!(marker_expiry("iamkey-ephemeral expires=soon"), None);
        // Tag values allow only letters, digits, spaces and _.:/=+-@.
        assert!(super::super::access_key::validate_description(&Value::string(marker)).is_ok());
    }

    mod with_fake_iam {
        use super::*;
        use crate::aws::fake::{self, FakeIam, Reply};

        const SECRET: &str = "canarySecretcanarySecretcanarySecret1234";
        const NEW_KEY: &str = "AKIAFAKE000000000NEW";

        fn no_tags() -> Reply {
            Reply::Xml(
                200,
                "<ListUserTagsResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListUserTagsResult><Tags/>\
                 <IsTruncated>false</IsTruncated></ListUserTagsResult><ResponseMetadata><RequestId>r</RequestId>\
                 </ResponseMetadata></ListUserTagsResponse>"
                    .into(),
            )
        }

        /// Opens a key for bob against a fake IAM that refuses every TagUser (the
        /// marker), and answers DeleteAccessKey with `delete`.
        async fn open_without_marker(delete: fn() -> Reply) -> (Result<Opened, Diagnostics>, FakeIam) {
            let fake = FakeIam::start(move |action, _, _| match action {
                "ListAccessKeys" => fake::listed("bob", &[], None),
                "ListUserTags" => no_tags(),
                "CreateAccessKey" => fake::created("bob", NEW_KEY, SECRET, "2026-01-01T00:00:00Z"),
                "DeleteAccessKey" => delete(),
                "UntagUser" => fake::empty_ok("UntagUser"),
                _ => fake::error(500, "ServiceFailure"),
            })
            .await;
            let resource = EphemeralAccessKey::new(Arc::new(Clients::configured(fake.clients())));
            let opened = resource.open(&OpContext::default(), &Value::object([("user", Value::string("bob"))])).await;
            (opened, fake)
        }

        fn the_error(opened: Result<Opened, Diagnostics>) -> String {
            let Err(diags) = opened else { panic!("open must fail when the marker cannot be written") };
            assert!(diags.has_errors());
            let text = format!("{diags:?}");
            assert!(!text.contains(SECRET), "the secret never reaches a diagnostic");
            diags.first().unwrap().detail.clone()
        }

        #[tokio::test]
        async fn a_key_that_cannot_be_marked_is_deleted_before_open_fails() {
            let (opened, fake) = open_without_marker(|| fake::empty_ok("DeleteAccessKey")).await;
            let detail = the_error(opened);
            assert!(detail.contains("could not be marked as ephemeral") && detail.contains("so it was deleted"), "{detail}");
            assert!(fake.calls("TagUser") >= 1);
            assert_eq!(fake.calls("DeleteAccessKey"), 1, "the unmarked key is deleted at once");
        }

        #[tokio::test]
        async fn a_key_that_can_be_neither_marked_nor_deleted_is_named_for_the_user() {
            let (opened, fake) = open_without_marker(|| fake::error(403, "AccessDenied")).await;
            let detail = the_error(opened);
            assert!(detail.contains(NEW_KEY) && detail.contains("Delete it by hand"), "{detail}");
            assert_eq!(fake.calls("DeleteAccessKey"), 1);
        }

        #[tokio::test]
        async fn with_no_user_a_role_or_root_caller_opens_no_key() {
            use crate::aws::caller::Caller;
            let fake = FakeIam::start(|_, _, _| fake::error(400, "Unexpected")).await;
            let role = Caller::Other { arn: "arn:aws:sts::123456789012:assumed-role/deploy/ci".into() };
            for (caller, summary) in [(role, "The caller is not an IAM user"), (Caller::Root, "Refusing to create a root access key")] {
                let resource = EphemeralAccessKey::new(Arc::new(Clients::configured(fake.clients_of(caller))));
                let Err(diags) = resource.open(&OpContext::default(), &Value::object([("ttl_minutes", Value::Null)])).await else {
                    panic!("opened a key for a caller that must not get one");
                };
                assert_eq!((diags.first().unwrap().summary.as_str(), diags.first().unwrap().path.clone()), (summary, Some(ephemeral_key::user.path())));
            }
            assert_eq!(fake.calls("ListAccessKeys") + fake.calls("CreateAccessKey"), 0, "refused before any IAM call");
        }
    }
}

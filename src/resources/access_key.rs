//! `iamkey_access_key`: an IAM access key, at parity with hashicorp/aws's
//! `aws_iam_access_key` and past it (a key for the calling identity; input
//! validated before any AWS call; a created key is never orphaned).

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::inventory::{describe_keys, whose};
use super::owner;
use super::pgp::RecipientKey;
use super::ses::{check_region, ses_smtp_password_v4};
use crate::aws::destination::Destination;
use crate::aws::iam::{CreateFailure, IamError, KeyMetadata};
use crate::framework::schema::{Attribute, Block, Nesting, Schema};
use crate::framework::{ApplyOutcome, OpContext, Resource, SharedClock};
use crate::resources::Clients;
use crate::secret::Secret;
use crate::value::{AttributePath, Diagnostics};
use crate::value::{Type, Value};
use futures::future::OptionFuture;

pub const TYPE_NAME: &str = "iamkey_access_key";

/// The argument that turns on last use on every refresh (one call per key).
const REFRESH_LAST_USED: &str = "refresh_last_used";

/// IAM's quota of access keys per user (AccessKeysPerUser; Inactive keys count).
pub const MAX_KEYS_PER_USER: usize = 2;

pub struct AccessKeyResource {
    schema: Schema,
    identity_schema: Schema,
    clients: Arc<Clients>,
    /// Fingerprints of the configurations of the existing objects planned by this
    /// provider process (a set: a plan of hundreds of keys checks each in O(1)).
    /// Terraform plans a replacement as a change of the existing object, then as
    /// a create with the same configuration: a create whose configuration is here
    /// is the new half of a replacement, not one more key.
    planned_existing: Mutex<HashSet<u64>>,
    fingerprints: RandomState,
    /// Keys a failed create left in state, tainted, as refreshed by this process:
    /// the next apply deletes them, so the quota check does not count them.
    /// (Terraform plans a tainted object's replacement as a plain create.)
    leaving: Mutex<HashSet<String>>,
}

impl AccessKeyResource {
    pub fn new(clients: Arc<Clients>) -> Self {
        AccessKeyResource {
            schema: schema(),
            identity_schema: identity_schema(),
            clients,
            planned_existing: Mutex::default(),
            fingerprints: RandomState::new(),
            leaving: Mutex::default(),
        }
    }
}

/// The identity (protocol 6.9): which account, which user, which key. With the
/// user in it, an import by identity needs no lookup of the key's owner.
fn identity_schema() -> Schema {
    Schema::new(
        0,
        Block::new("")
            .attribute(Attribute::optional("account_id", Type::String).describe("AWS account of the key; the provider's account when omitted on import."))
            .attribute(Attribute::optional("user", Type::String).describe("IAM user the key belongs to; looked up when omitted on import."))
            .attribute(Attribute::required("access_key_id", Type::String).describe("The access key ID.")),
    )
}

/// IAM's user-name rule, with an explicit ASCII class (`\w` would be Unicode).
pub fn validate_user_name(v: &Value) -> Result<(), String> {
    let name = v.as_str().unwrap_or_default();
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    if name.is_empty() || name.chars().count() > 64 {
        return Err(format!("An IAM user name has 1 to 64 characters; this one has {}.", name.chars().count()));
    }
    match name.chars().find(|c| !allowed(*c)) {
        Some(c) => Err(format!("An IAM user name may contain only ASCII letters, digits and _+=,.@- ; {c:?} is not allowed.")),
        None => Ok(()),
    }
}

pub fn validate_status(v: &Value) -> Result<(), String> {
    match v.as_str() {
        Some("Active" | "Inactive") => Ok(()),
        Some(other) => Err(format!("status must be \"Active\" or \"Inactive\", not {other:?} (case matters).")),
        None => Err("status must be a string".into()),
    }
}

/// IAM's tag-value rule: up to 256 characters, letters, digits, spaces and `_.:/=+-@`.
pub fn validate_description(v: &Value) -> Result<(), String> {
    let text = v.as_str().unwrap_or_default();
    let allowed = |c: char| c.is_alphanumeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c);
    if text.chars().count() > 256 {
        return Err(format!("A description has at most 256 characters (it is an IAM tag value); this one has {}.", text.chars().count()));
    }
    match text.chars().find(|c| !allowed(*c)) {
        Some(c) => Err(format!("A description (an IAM tag value) may contain only letters, digits, spaces and _.:/=+-@ ; {c:?} is not allowed.")),
        None => Ok(()),
    }
}

fn validate_regions(v: &Value) -> Result<(), String> {
    v.as_list().unwrap_or_default().iter().filter_map(Value::as_str).try_for_each(check_region)
}

fn validate_pgp_key(v: &Value) -> Result<(), String> {
    super::pgp::RecipientKey::parse(v.as_str().unwrap_or_default()).map(|_| ())
}

/// An access key ID: 16 to 128 ASCII letters and digits (IAM's accessKeyIdType).
fn is_access_key_id(id: &str) -> bool {
    (16..=128).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Splits an import ID, `ACCESS_KEY_ID` or `USER/ACCESS_KEY_ID`, checking both parts.
pub fn parse_import_id(import_id: &str) -> Result<(Option<&str>, &str), String> {
    let (user, id) = match import_id.split_once('/') {
        Some((user, id)) => (Some(user), id),
        None => (None, import_id),
    };
    if !is_access_key_id(id) {
        return Err("An access key ID has 16 to 128 ASCII letters and digits.".into());
    }
    if let Some(user) = user {
        validate_user_name(&Value::string(user))?;
    }
    Ok((user, id))
}

fn schema() -> Schema {
    Schema::new(
        0,
        Block::new("Manages an IAM access key: an access key ID and its secret, for an IAM user or for the identity that signs the provider's requests.")
            .attribute(
                Attribute::optional_computed("user", Type::String)
                    .replace_on_change()
                    .validate(validate_user_name)
                    .describe("IAM user the key belongs to. When omitted, the key is created for the identity that signs the requests, and this is set from IAM's answer."),
            )
            .attribute(
                Attribute::optional(owner::ALLOW_ROOT_KEY, Type::Bool)
                    .describe("Allow a key for the account's root user, when `user` is omitted and the provider's credentials are the root user's. Without it such a plan fails: AWS recommends never creating root access keys. Has no effect when `user` is set."),
            )
            .attribute(
                Attribute::optional("status", Type::String)
                    .default(Value::string("Active"))
                    .validate(validate_status)
                    .describe("`Active` or `Inactive`. Changed in place; a status changed outside Terraform is set back on the next apply."),
            )
            .attribute(
                Attribute::optional("pgp_key", Type::String)
                    .replace_on_change()
                    .validate(validate_pgp_key)
                    .describe("OpenPGP public key, ASCII-armored (`gpg --armor --export KEYID`) or base64 of the binary key (`gpg --export KEYID | base64`). When set, the secret and the SES password are stored only encrypted to it, in `encrypted_secret` and `encrypted_ses_smtp_password_v4`."),
            )
            .attribute(
                Attribute::optional("description", Type::String)
                    .validate(validate_description)
                    .describe("Description of the key, kept where the AWS console keeps it: a tag of the user whose key is the access key ID. Changed in place, removed with the key. Up to 256 letters, digits, spaces and `_.:/=+-@`. The user's tags are read only for a key that has a description (and on import): a description added outside Terraform to a key without one is not noticed."),
            )
            .attribute(Attribute::computed("id", Type::String).describe("The access key ID."))
            .attribute(Attribute::computed("secret", Type::String).sensitive().describe("The secret access key. Null when `pgp_key` is set, and after import: IAM returns the secret only when the key is created."))
            .attribute(Attribute::computed("ses_smtp_password_v4", Type::String).sensitive().describe("SES SMTP password derived from the secret for the provider's region. Null when `pgp_key` is set, and after import."))
            .attribute(
                // No default: state written before this attribute existed (or moved
                // from aws_iam_access_key) must plan without a diff.
                Attribute::optional("wait_until_usable", Type::Bool)
                    .describe("When true, wait after creating the key until it authenticates (sts:GetCallerIdentity signed with it, with backoff, for up to 2 minutes), so that the next resource in the same apply can use it. Needs `status = \"Active\"`."),
            )
            .attribute(
                Attribute::optional("ses_smtp_regions", Type::Set(Box::new(Type::String)))
                    .validate(validate_regions)
                    .describe("Regions to derive SES SMTP passwords for, besides the provider's region, into `ses_smtp_passwords_v4` (or `encrypted_ses_smtp_passwords_v4` with `pgp_key`). Changed in place while the secret is in state."),
            )
            .attribute(Attribute::computed("ses_smtp_passwords_v4", Type::Map(Box::new(Type::String))).sensitive().describe("SES SMTP password for each region of `ses_smtp_regions`, by region. Null when `pgp_key` is set."))
            .attribute(Attribute::computed("encrypted_ses_smtp_passwords_v4", Type::Map(Box::new(Type::String))).describe("With `pgp_key`: the SES SMTP password for each region of `ses_smtp_regions`, as base64 OpenPGP messages, by region."))
            .attribute(Attribute::computed("encrypted_secret", Type::String).describe("The secret, as a base64 OpenPGP message to `pgp_key`. Decrypt with `base64 --decode | gpg --decrypt`."))
            .attribute(Attribute::computed("encrypted_ses_smtp_password_v4", Type::String).describe("The SES SMTP password, as a base64 OpenPGP message to `pgp_key`."))
            .attribute(Attribute::computed("key_fingerprint", Type::String).describe("Fingerprint (lowercase hex) of the PGP key the secret is encrypted to."))
            .attribute(Attribute::computed("create_date", Type::String).describe("When the key was created (RFC 3339)."))
            .attribute(
                Attribute::optional(REFRESH_LAST_USED, Type::Bool)
                    .describe("Refresh `last_used_date`, `last_used_service` and `last_used_region` on every read: one iam:GetAccessKeyLastUsed call per key and refresh, where a refresh otherwise costs one iam:ListAccessKeys per user. Default false: the three stay null. The data source and the list resource always report last use."),
            )
            .attribute(Attribute::computed("last_used_date", Type::String).describe("With `refresh_last_used`: when the key last signed a request (RFC 3339), from GetAccessKeyLastUsed; null if never. Refreshed on every read without showing as a change."))
            .attribute(Attribute::computed("last_used_service", Type::String).describe("The AWS service the key last called (for example `s3`); null if never used."))
            .attribute(Attribute::computed("last_used_region", Type::String).describe("The region the key was last used in; null if never used."))
            .attribute(Attribute::computed("secret_destination_version", Type::String).describe("With `secret_destination`: the version the secret was written as (the Secrets Manager version ID, or the SSM parameter version)."))
            .block(
                "secret_destination",
                Nesting::Single,
                Block::new("Write the secret to a secret store instead of Terraform state: `secret`, `ses_smtp_password_v4` and `ses_smtp_passwords_v4` then stay null, and state records only where the secret went and its version. The value written is JSON: `access_key_id`, `secret_access_key`, `ses_smtp_password_v4` and, with `ses_smtp_regions`, `ses_smtp_passwords_v4`. A replacement (rotation) writes the new key's secret as a new version; changing the destination replaces the key. The store keeps the last value when the key is destroyed.")
                    .attribute(Attribute::optional("secretsmanager_secret_id", Type::String).describe("Name or ARN of a Secrets Manager secret; created when it does not exist."))
                    .attribute(Attribute::optional("ssm_parameter_name", Type::String).describe("Name of an SSM parameter, written as a SecureString (overwritten)."))
                    .attribute(Attribute::optional("ssm_kms_key_id", Type::String).describe("KMS key for the SSM parameter; the account's default key for SSM when omitted.")),
            )
            .block(
                "rotation",
                Nesting::Single,
                Block::new("When to replace the key with a new one. With `lifecycle { create_before_destroy = true }` the new key exists before the old one is deleted, within IAM's 2 keys per user, so consumers can switch without downtime.")
                    .attribute(Attribute::optional("after_days", Type::Number).validate(validate_after_days).describe("Replace the key on the first plan once it is this many days old (counted from `create_date`)."))
                    .attribute(Attribute::optional("keepers", Type::Map(Box::new(Type::String))).describe("Arbitrary values; changing any of them replaces the key.")),
            ),
    )
}

/// The destination a configuration names, if any.
fn destination_of(config: &Value) -> Option<Destination> {
    let block = config.get("secret_destination");
    if let Some(secret_id) = block.get("secretsmanager_secret_id").as_str() {
        return Some(Destination::SecretsManager { secret_id: secret_id.to_string() });
    }
    block
        .get("ssm_parameter_name")
        .as_str()
        .map(|name| Destination::Ssm { name: name.to_string(), kms_key_id: block.get("ssm_kms_key_id").as_str().map(str::to_string) })
}

/// Exactly one store per destination; no pgp_key with it (the store is the protection).
fn validate_destination(config: &Value, diags: &mut Diagnostics) {
    let block = config.get("secret_destination");
    if block.is_null() || !block.is_wholly_known() {
        return;
    }
    let at = |name: &str| AttributePath::root("secret_destination").attribute(name);
    let (sm, ssm) = (block.get("secretsmanager_secret_id"), block.get("ssm_parameter_name"));
    if sm.is_null() == ssm.is_null() {
        diags.add_error_at(
            AttributePath::root("secret_destination"),
            "One secret store",
            "secret_destination needs exactly one of secretsmanager_secret_id and ssm_parameter_name.",
        );
    }
    if !block.get("ssm_kms_key_id").is_null() && ssm.is_null() {
        diags.add_error_at(at("ssm_kms_key_id"), "KMS key without SSM", "ssm_kms_key_id applies to ssm_parameter_name only.");
    }
    if !config.get("pgp_key").is_null() {
        diags.add_error_at(
            AttributePath::root("pgp_key"),
            "pgp_key and secret_destination together",
            "With secret_destination the secret is not in state, so there is nothing to encrypt to pgp_key: set one of them.",
        );
    }
}

fn validate_after_days(v: &Value) -> Result<(), String> {
    match v.as_i64() {
        Some(days) if days >= 1 => Ok(()),
        _ => Err("after_days must be a whole number of days, 1 or more.".into()),
    }
}

/// Whether a key created at `create_date` (RFC 3339) is at least `after_days` old.
fn is_due(create_date: &str, after_days: i64, now: i64) -> bool {
    aws_smithy_types::DateTime::from_str(create_date, aws_smithy_types::date_time::Format::DateTime)
        .is_ok_and(|created| now - created.secs() >= after_days * 86_400)
}

/// The state attributes IAM reports for a key; everything else carries over.
fn with_metadata(mut state: Value, key: &KeyMetadata) -> Value {
    state.set("id", Value::string(&key.access_key_id));
    state.set("user", Value::string(&key.user_name));
    state.set("status", Value::string(&key.status));
    if let Some(date) = &key.create_date {
        state.set("create_date", Value::string(date));
    }
    state
}

/// SES SMTP passwords for each region of `regions` (a set; null gives null),
/// each passed through `seal` (kept in clear, or encrypted).
fn regional_passwords(secret: &Secret, regions: &Value, seal: impl Fn(&Secret) -> Result<String, String>) -> Result<Value, String> {
    let Some(regions) = regions.as_list() else { return Ok(Value::Null) };
    let passwords = regions
        .iter()
        .filter_map(Value::as_str)
        .map(|region| Ok((region.to_string(), Value::string(seal(&ses_smtp_password_v4(secret, region))?))))
        .collect::<Result<BTreeMap<_, _>, String>>()?;
    Ok(Value::Map(passwords))
}

/// Every attribute derived from a new key's secret: in clear, or (with a
/// recipient) only encrypted to it. The error is an encryption failure.
fn secret_attributes(secret: &Secret, region: &str, regions: &Value, recipient: Option<&RecipientKey>) -> Result<Vec<(&'static str, Value)>, String> {
    let password = ses_smtp_password_v4(secret, region);
    let Some(key) = recipient else {
        return Ok(vec![
            ("secret", Value::string(secret.expose())),
            ("ses_smtp_password_v4", Value::string(password.expose())),
            ("ses_smtp_passwords_v4", regional_passwords(secret, regions, |p| Ok(p.expose().to_string()))?),
        ]);
    };
    if crate::testhooks::fail_point("pgp-encrypt") {
        return Err("OpenPGP encryption failed (a test fail point)".to_string());
    }
    Ok(vec![
        ("encrypted_secret", Value::string(key.encrypt(secret)?)),
        ("encrypted_ses_smtp_password_v4", Value::string(key.encrypt(&password)?)),
        ("encrypted_ses_smtp_passwords_v4", regional_passwords(secret, regions, |p| key.encrypt(p))?),
        ("key_fingerprint", Value::string(key.fingerprint())),
    ])
}

/// The one place IAM errors become diagnostics.
fn iam_diagnostic(error: &IamError, path: Option<AttributePath>) -> Diagnostics {
    let mut diags = Diagnostics::new();
    // The summary names the call; the detail adds only what the summary does not say.
    let (summary, detail) = match error {
        IamError::Service { operation, code, message } => (format!("IAM {operation} failed ({code})"), format!("IAM answered: {message}")),
        IamError::Transport { operation, reason, .. } => (format!("IAM {operation} failed"), format!("The call did not complete: {reason}.")),
        IamError::Cancelled { .. } => ("Operation cancelled".to_string(), error.to_string()),
    };
    match path {
        Some(path) => diags.add_error_at(path, summary, detail),
        None => diags.add_error(summary, detail),
    }
    diags
}

/// New SES regions are derived from the secret: refused, with the way out, when
/// the secret is not in state (pgp_key, or an imported key).
fn regions_change_needs_secret(prior: &Value, planned: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let in_place = planned.get("id") == prior.get("id");
    let regions = planned.get("ses_smtp_regions");
    if in_place && regions != prior.get("ses_smtp_regions") && !regions.is_null() && prior.get("secret").is_null() {
        diags.add_error_at(
            AttributePath::root("ses_smtp_regions"),
            "SES passwords need the secret",
            format!(
                "The secret of access key {} is not in state (pgp_key is set, or the key was imported), so SES passwords \
                 for new regions cannot be derived from it. Replace the key to get passwords for these regions \
                 (terraform apply -replace=...).",
                prior.get("id").as_str().unwrap_or("?")
            ),
        );
    }
    diags
}

impl AccessKeyResource {
    /// The IAM user a key with no `user` is for (None: the root user, allowed).
    async fn owner_of_callers_key(&self, planned: &Value) -> Result<Option<String>, Diagnostics> {
        let allow_root_key = planned.get(owner::ALLOW_ROOT_KEY).as_bool() == Some(true);
        owner::of_the_caller(self.clients.get()?, allow_root_key).await
    }

    async fn existing_keys(&self, user: Option<&str>, clock: &SharedClock) -> String {
        match self.clients.get() {
            Ok(clients) => describe_keys(&clients.iam, user, clock).await,
            Err(_) => String::new(),
        }
    }

    /// LimitExceeded at apply: name the user and list what they already have.
    async fn quota_diagnostic(&self, user: Option<&str>, error: &IamError, clock: &SharedClock) -> Diagnostics {
        let mut diags = Diagnostics::new();
        diags.add_error_at(
            AttributePath::root("user"),
            "Access key quota reached",
            format!(
                "IAM allows 2 access keys per user, and {} already has them:\n{}\n\n\
                 Delete or rotate out one of them, then apply again. ({error})",
                whose(user),
                self.existing_keys(user, clock).await
            ),
        );
        diags
    }

    /// The plan-time quota check for a key about to be created for `user`: IAM
    /// must have a free slot. (The new half of a replacement is not checked: it
    /// reuses the slot of the key it replaces, which Terraform deletes first
    /// unless create_before_destroy; then apply's own check catches it.)
    async fn check_quota(&self, ctx: &OpContext, user: Option<&str>) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let Ok(clients) = self.clients.get() else { return diags };
        let held = match clients.iam.keys_for_read(user, &ctx.cancel).await {
            Ok(keys) => {
                let leaving = self.leaving.lock().unwrap_or_else(|p| p.into_inner());
                keys.iter().filter(|k| !leaving.contains(&k.access_key_id)).count()
            }
            // No such user: one this apply creates, or a typo. Say which wait the
            // apply will do rather than let it fail silently two minutes later.
            Err(e) if e.is_no_such_entity() && user.is_some() => {
                diags.add_warning_at(
                    AttributePath::root("user"),
                    "IAM has no such user yet",
                    format!(
                        "IAM has no user {:?}. If this apply creates it (an aws_iam_user resource, say), nothing is wrong: \
                         the create waits up to {} s for the new user to become visible. Otherwise the apply waits that long \
                         and then fails: check the name.",
                        user.unwrap_or_default(),
                        crate::aws::iam::PROPAGATION_TIMEOUT.as_secs()
                    ),
                );
                return diags;
            }
            // Other failures are left to apply, which reports them with their cause.
            Err(e) => {
                tracing::debug!("quota check skipped: {e}");
                return diags;
            }
        };
        if held >= MAX_KEYS_PER_USER {
            diags.add_error_at(
                AttributePath::root("user"),
                "Access key quota would be exceeded",
                format!(
                    "This plan creates an access key for {}, who already has {held}, the most IAM allows:\n{}\n\n\
                     Delete one of them (or import it, so that this configuration manages and can replace it), then plan again.",
                    whose(user),
                    self.existing_keys(user, &ctx.clock).await
                ),
            );
        }
        diags
    }

    /// Writes a new key's secret and derived passwords, as JSON, to the store;
    /// returns the version written. On failure the key stays in state, tainted,
    /// and its secret is lost: the next apply replaces it.
    async fn write_to_destination(&self, destination: &Destination, id: &str, attributes: Vec<(&'static str, Value)>) -> Result<String, Diagnostics> {
        let clients = self.clients.get()?;
        let path = AttributePath::root("secret_destination");
        let Some(stores) = &clients.stores else {
            return Err(Diagnostics::error_at(path, "No secret store", "This provider has no Secrets Manager or SSM client."));
        };
        let mut document = serde_json::Map::new();
        document.insert("access_key_id".into(), serde_json::Value::String(id.to_string()));
        for (name, value) in attributes {
            let name = if name == "secret" { "secret_access_key" } else { name };
            match value {
                Value::String(text) => drop(document.insert(name.into(), serde_json::Value::String(text))),
                Value::Map(by_region) => {
                    let map = by_region.into_iter().filter_map(|(k, v)| Some((k, serde_json::Value::String(v.as_str()?.to_string())))).collect();
                    document.insert(name.into(), serde_json::Value::Object(map));
                }
                _ => {}
            }
        }
        let payload = Secret::new(serde_json::Value::Object(document).to_string());
        stores.write(destination, &payload).await.map_err(|e| {
            Diagnostics::error_at(
                path,
                "Could not write the secret to its destination",
                format!("{e}. Access key {id} is kept in state and marked tainted; its secret is not kept anywhere, so the next apply replaces it."),
            )
        })
    }

    /// Returns once the new key authenticates; an error (the key stays in state,
    /// tainted) if it does not within the propagation timeout.
    async fn wait_until_usable(&self, ctx: &OpContext, id: &str, secret: &Secret) -> Result<(), Diagnostics> {
        let clients = self.clients.get()?;
        let path = AttributePath::root("wait_until_usable");
        let Some(probe) = &clients.probe else {
            return Err(Diagnostics::error_at(path, "Cannot test the new key", "This provider has no STS client to test the key with."));
        };
        match probe.wait_until_usable(id, secret, crate::aws::iam::PROPAGATION_TIMEOUT, &ctx.cancel).await {
            Ok(attempts) => {
                tracing::info!(access_key_id = id, attempts, "the new key authenticates");
                Ok(())
            }
            Err(e) => Err(Diagnostics::error_at(
                path,
                "The new key does not work yet",
                format!("Access key {id} was created but {e}. It is kept in state and marked tainted; the next apply replaces it."),
            )),
        }
    }

    /// Writes (or, for null, removes) the description tag and records the result
    /// in `state`.
    async fn apply_description(&self, ctx: &OpContext, user: &str, id: &str, wanted: &Value, state: &mut Value) -> Result<(), Diagnostics> {
        let clients = self.clients.get()?;
        let result = match wanted.as_str() {
            Some(description) => clients.iam.tag_user(user, id, description, &ctx.cancel).await,
            None => clients.iam.untag_user(user, id, &ctx.cancel).await,
        };
        result.map_err(|e| iam_diagnostic(&e, Some(AttributePath::root("description"))))?;
        state.set("description", wanted.clone());
        Ok(())
    }
}

#[async_trait]
impl Resource for AccessKeyResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate_destination(config, diags);
        if config.get("wait_until_usable").as_bool() == Some(true) && config.get("status").as_str() == Some("Inactive") {
            diags.add_error_at(
                AttributePath::root("wait_until_usable"),
                "An Inactive key never becomes usable",
                "wait_until_usable waits until the new key authenticates, which an Inactive key never does. Create it Active, or leave wait_until_usable unset.",
            );
        }
    }

    /// Rotation: a key past `rotation.after_days`, or a change of
    /// `rotation.keepers`, is replaced.
    fn replacement_reasons(&self, ctx: &OpContext, prior: &Value, planned: &Value) -> Vec<AttributePath> {
        let rotation = planned.get("rotation");
        let mut reasons = Vec::new();
        // The secret is written once, when the key is made: a new destination needs a new key.
        if planned.get("secret_destination") != prior.get("secret_destination") {
            reasons.push(AttributePath::root("secret_destination"));
        }
        let keepers = rotation.get("keepers");
        let prior_keepers = prior.get("rotation").get("keepers");
        // Keepers set on an existing key (or removed) record a baseline: only a
        // change from one set of keepers to another replaces the key.
        if !prior_keepers.is_null() && !keepers.is_null() && keepers != prior_keepers {
            reasons.push(AttributePath::root("rotation").attribute("keepers"));
        }
        if let (Some(after_days), Some(created)) = (rotation.get("after_days").as_i64(), prior.get("create_date").as_str()) {
            // Terraform honours a replacement path only where the value changes:
            // create_date does (the new key gets a new one).
            if is_due(created, after_days, ctx.clock.now_secs()) {
                reasons.push(AttributePath::root("create_date"));
            }
        }
        reasons
    }

    /// Secrets in clear or encrypted: which of the two pairs stays null is known
    /// at plan time whenever `pgp_key` is.
    fn modify_plan(&self, prior: &Value, config: &Value, planned: &mut Value) {
        if !prior.is_null() && planned.get("id") == prior.get("id") {
            // In place, only the regional passwords can change: derived from the
            // secret in state (check_plan refuses the change when it is not there).
            if planned.get("ses_smtp_regions") != prior.get("ses_smtp_regions") {
                if let Some(secret) = prior.get("secret").as_str() {
                    let passwords = regional_passwords(&Secret::new(secret), planned.get("ses_smtp_regions"), |p| Ok(p.expose().to_string()));
                    planned.set("ses_smtp_passwords_v4", passwords.unwrap_or(Value::Unknown));
                }
            }
            return;
        }
        let regional = |pair: &Value| if config.get("ses_smtp_regions").is_null() { Value::Null } else { pair.clone() };
        let (clear, encrypted) = match config.get("pgp_key") {
            Value::Null => (Value::Unknown, Value::Null),
            Value::Unknown => (Value::Unknown, Value::Unknown),
            _ => (Value::Null, Value::Unknown),
        };
        // With a destination the secret goes there, never into state.
        let (clear, version) = match config.get("secret_destination") {
            Value::Null => (clear, Value::Null),
            _ => (Value::Null, Value::Unknown),
        };
        planned.set("secret_destination_version", version);
        for name in ["secret", "ses_smtp_password_v4"] {
            planned.set(name, clear.clone());
        }
        for name in ["encrypted_secret", "encrypted_ses_smtp_password_v4", "key_fingerprint"] {
            planned.set(name, encrypted.clone());
        }
        planned.set("ses_smtp_passwords_v4", regional(&clear));
        planned.set("encrypted_ses_smtp_passwords_v4", regional(&encrypted));
    }

    async fn check_plan(&self, ctx: &OpContext, prior: &Value, config: &Value, planned: &mut Value) -> Diagnostics {
        {
            let fingerprint = self.fingerprints.hash_one(config);
            let mut planned_existing = self.planned_existing.lock().unwrap_or_else(|p| p.into_inner());
            if !prior.is_null() {
                if !planned.is_null() {
                    planned_existing.insert(fingerprint);
                }
                return regions_change_needs_secret(prior, planned);
            }
            if planned_existing.contains(&fingerprint) {
                return Diagnostics::new(); // the new half of a replacement
            }
        }
        let user = match (planned.get("user"), config.get("user")) {
            (Value::String(user), _) => Some(user.clone()),
            // No user: the caller's own key, whose name the plan can show.
            (_, Value::Null) => match self.owner_of_callers_key(planned).await {
                Ok(Some(name)) => {
                    planned.set("user", Value::string(&name));
                    Some(name)
                }
                Ok(None) => None, // the root user, allowed
                Err(d) => return d,
            },
            _ => return Diagnostics::new(), // the user is not known until apply
        };
        self.check_quota(ctx, user.as_deref()).await
    }

    async fn create(&self, ctx: &OpContext, planned: &Value) -> ApplyOutcome {
        let clients = match self.clients.get() {
            Ok(c) => c,
            Err(d) => return ApplyOutcome::failed(Value::Null, d),
        };
        // Everything that can fail on input fails before the key exists.
        let recipient = match planned.get("pgp_key").as_str().map(super::pgp::RecipientKey::parse) {
            None => None,
            Some(Ok(key)) => Some(key),
            Some(Err(reason)) => {
                let mut d = Diagnostics::new();
                d.add_error_at(AttributePath::root("pgp_key"), "Invalid pgp_key", reason);
                return ApplyOutcome::failed(Value::Null, d);
            }
        };
        let callers_user;
        let user = match planned.get("user").as_str() {
            Some(user) => Some(user),
            None => match self.owner_of_callers_key(planned).await {
                Ok(name) => {
                    callers_user = name;
                    callers_user.as_deref()
                }
                Err(d) => return ApplyOutcome::failed(Value::Null, d),
            },
        };
        let created = match clients.iam.create_access_key(user, &ctx.cancel).await {
            Ok(created) => created,
            Err(CreateFailure::NotCreated(e)) if e.is_limit_exceeded() => {
                return ApplyOutcome::failed(Value::Null, self.quota_diagnostic(user, &e, &ctx.clock).await)
            }
            Err(CreateFailure::NotCreated(e)) if e.is_no_such_entity() && user.is_some() => {
                let mut d = iam_diagnostic(&e, Some(AttributePath::root("user")));
                d.append_detail(&format!(
                    "IAM has no user {:?} (waited {} s for a newly created user to become visible).",
                    user.unwrap_or_default(),
                    crate::aws::iam::PROPAGATION_TIMEOUT.as_secs()
                ));
                return ApplyOutcome::failed(Value::Null, d);
            }
            Err(CreateFailure::NotCreated(e)) => return ApplyOutcome::failed(Value::Null, iam_diagnostic(&e, None)),
            Err(CreateFailure::Unattributable { appeared, cause }) => {
                return ApplyOutcome::failed(Value::Null, super::inventory::uncertain_create(user, &appeared, &cause))
            }
            Err(CreateFailure::CreatedWithoutSecret { key, cause }) => {
                // The key exists but its secret is lost: track it (Terraform taints
                // it, and the next apply replaces it) rather than orphan it.
                let state = with_metadata(planned_without_unknowns(planned), &key);
                ctx.partial_state.record(state.clone());
                let mut d = Diagnostics::new();
                d.add_error(
                    "Access key created, but its secret was lost",
                    format!(
                        "IAM created access key {} but its answer did not arrive ({cause}). The key is kept in \
                         state and marked tainted, so the next apply replaces it with a key whose secret is known.",
                        key.access_key_id
                    ),
                );
                return ApplyOutcome::failed(state, d);
            }
        };
        // From here on the key exists: every exit returns it in state.
        let mut state = with_metadata(planned_without_unknowns(planned), &created.metadata);
        state.set("description", Value::Null); // until its tag is written
        ctx.partial_state.record(state.clone());
        crate::testhooks::panic_point("after-create");
        match secret_attributes(&created.secret, &clients.region, planned.get("ses_smtp_regions"), recipient.as_ref()) {
            Ok(attributes) => match destination_of(planned) {
                None => {
                    for (name, value) in attributes {
                        state.set(name, value);
                    }
                }
                Some(destination) => match self.write_to_destination(&destination, &created.metadata.access_key_id, attributes).await {
                    Ok(version) => state.set("secret_destination_version", Value::string(version)),
                    Err(d) => return ApplyOutcome::failed(state, d),
                },
            },
            Err(reason) => {
                let mut d = Diagnostics::new();
                d.add_error_at(
                    AttributePath::root("pgp_key"),
                    "Could not encrypt the secret",
                    format!("{reason}. The key {} is kept in state and marked tainted; the next apply replaces it.", created.metadata.access_key_id),
                );
                return ApplyOutcome::failed(state, d);
            }
        }
        ctx.partial_state.record(state.clone());
        let wanted = planned.get("status").as_str().unwrap_or("Active");
        if wanted != created.metadata.status {
            if let Err(e) = clients.iam.update_access_key(&created.metadata.user_name, &created.metadata.access_key_id, wanted, &ctx.cancel).await {
                // State keeps the status the key really has; Terraform taints it.
                return ApplyOutcome::failed(state, iam_diagnostic(&e, Some(AttributePath::root("status"))));
            }
            state.set("status", Value::string(wanted));
        }
        let key = &created.metadata;
        if planned.get("wait_until_usable").as_bool() == Some(true) {
            if let Err(d) = self.wait_until_usable(ctx, &key.access_key_id, &created.secret).await {
                return ApplyOutcome::failed(state, d);
            }
        }
        let description = planned.get("description");
        if !description.is_null() {
            if let Err(d) = self.apply_description(ctx, &key.user_name, &key.access_key_id, description, &mut state).await {
                return ApplyOutcome::failed(state, d);
            }
        }
        ApplyOutcome::ok(state)
    }

    fn refreshing_failed_create(&self, state: &Value) {
        if let Some(id) = state.get("id").as_str() {
            self.leaving.lock().unwrap_or_else(|p| p.into_inner()).insert(id.to_string());
        }
    }

    /// One ListAccessKeys per user (shared by its keys) is all a default refresh
    /// costs. Last use costs one GetAccessKeyLastUsed per key, only with
    /// `refresh_last_used`; the user's tags one ListUserTags per user, only for a key
    /// that manages a description, or an import stub (no create_date: never read)
    /// that may adopt one.
    async fn read(&self, ctx: &OpContext, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let clients = self.clients.get()?;
        let (Some(id), user) = (state.get("id").as_str(), state.get("user").as_str()) else {
            return Ok(None);
        };
        let wants_last_use = state.get(REFRESH_LAST_USED).as_bool() == Some(true);
        let wants_description = !state.get("description").is_null() || state.get("create_date").is_null();
        // The calls go out together, so a read waits for one round trip, not two
        // (the tags need the user's name: for the caller's own key it comes from
        // the listing).
        let (keys, last_used, named_user_tags) = tokio::join!(
            clients.iam.keys_for_read(user, &ctx.cancel),
            OptionFuture::from(wants_last_use.then(|| clients.iam.last_used(id, &ctx.cancel))),
            OptionFuture::from(user.filter(|_| wants_description).map(|u| clients.iam.user_tags_for_read(u, &ctx.cancel))),
        );
        let keys = match keys {
            Ok(keys) => keys,
            Err(e) if e.is_no_such_entity() => {
                tracing::warn!(access_key_id = id, "the key's user is gone; removing the key from state");
                return Ok(None);
            }
            Err(e) => return Err(iam_diagnostic(&e, None)),
        };
        let Some(key) = keys.iter().find(|k| k.access_key_id == id) else {
            tracing::warn!(access_key_id = id, "the key is gone; removing it from state");
            return Ok(None);
        };
        let mut new_state = with_metadata(state.clone(), key);
        match last_used {
            Some(Ok(used)) => {
                new_state.set("last_used_date", used.date.map_or(Value::Null, Value::string));
                new_state.set("last_used_service", used.service.map_or(Value::Null, Value::string));
                new_state.set("last_used_region", used.region.map_or(Value::Null, Value::string));
            }
            // Last use is information, not configuration: a caller without
            // iam:GetAccessKeyLastUsed keeps the values it had, and is told.
            Some(Err(e)) => {
                ctx.warnings.add("Last use not refreshed", format!("The last use of access key {id} could not be read, so the values in state are kept: {e}."))
            }
            // Not asked for: nothing stale is kept.
            None => {
                for name in ["last_used_date", "last_used_service", "last_used_region"] {
                    new_state.set(name, Value::Null);
                }
            }
        }
        if !wants_description {
            return Ok(Some(new_state));
        }
        let tags = match named_user_tags {
            Some(tags) => tags,
            None => clients.iam.user_tags_for_read(&key.user_name, &ctx.cancel).await,
        };
        match tags {
            Ok(tags) => new_state.set("description", tags.get(id).map_or(Value::Null, |d| Value::string(d.as_str()))),
            // An import stub has no description to lose: say what was not adopted.
            Err(e) if state.get("description").is_null() => ctx.warnings.add(
                "Description not read",
                format!("The tags of the user of access key {id} could not be read, so a description it has is not imported: {e}."),
            ),
            Err(e) => return Err(iam_diagnostic(&e, Some(AttributePath::root("description")))),
        }
        Ok(Some(new_state))
    }

    async fn update(&self, ctx: &OpContext, prior: &Value, planned: &Value) -> ApplyOutcome {
        let clients = match self.clients.get() {
            Ok(c) => c,
            Err(d) => return ApplyOutcome::failed(prior.clone(), d),
        };
        let (id, user, status) = (
            planned.get("id").as_str().unwrap_or_default(),
            planned.get("user").as_str().unwrap_or_default(),
            planned.get("status").as_str().unwrap_or("Active"),
        );
        // The state returned says what IAM has: each change lands in it once done.
        let mut state = prior.clone();
        if planned.get("status") != prior.get("status") {
            if let Err(e) = clients.iam.update_access_key(user, id, status, &ctx.cancel).await {
                return ApplyOutcome::failed(state, iam_diagnostic(&e, Some(AttributePath::root("status"))));
            }
            state.set("status", planned.get("status").clone());
        }
        if planned.get("description") != prior.get("description") {
            if let Err(d) = self.apply_description(ctx, user, id, planned.get("description"), &mut state).await {
                return ApplyOutcome::failed(state, d);
            }
        }
        ApplyOutcome::ok(planned.clone())
    }

    async fn delete(&self, ctx: &OpContext, prior: &Value) -> Diagnostics {
        let clients = match self.clients.get() {
            Ok(c) => c,
            Err(d) => return d,
        };
        let (id, user) = (prior.get("id").as_str().unwrap_or_default(), prior.get("user").as_str().unwrap_or_default());
        if let Err(e) = clients.iam.delete_access_key(user, id, &ctx.cancel).await {
            return iam_diagnostic(&e, None);
        }
        // The description goes with the key. If this fails the object stays in
        // state; the next destroy finds the key gone and removes the tag.
        if !prior.get("description").is_null() {
            if let Err(e) = clients.iam.untag_user(user, id, &ctx.cancel).await {
                return iam_diagnostic(&e, Some(AttributePath::root("description")));
            }
        }
        Diagnostics::new()
    }

    /// `moved { from = aws_iam_access_key.x  to = iamkey_access_key.x }`: every
    /// attribute of hashicorp/aws's resource (schema version 0) has the same name
    /// and meaning here, the secret included, so the key is adopted as it is.
    fn accepts_moved_state(&self, source_provider: &str, source_type: &str, source_version: i64) -> bool {
        source_provider.ends_with("hashicorp/aws") && source_type == "aws_iam_access_key" && source_version == 0
    }

    fn identity_schema(&self) -> Option<&Schema> {
        Some(&self.identity_schema)
    }

    fn identity(&self, state: &Value) -> Option<Value> {
        let account_id = self.clients.get().ok()?.account_id.clone()?;
        Some(Value::object([("account_id", Value::string(account_id)), ("user", state.get("user").clone()), ("access_key_id", state.get("id").clone())]))
            .filter(|identity| ["user", "access_key_id"].iter().all(|a| identity.get(a).as_str().is_some()))
    }

    async fn import_by_identity(&self, ctx: &OpContext, identity: &Value) -> Result<Value, Diagnostics> {
        let id = identity.get("access_key_id").as_str().unwrap_or_default();
        if let (Some(wanted), Some(ours)) = (identity.get("account_id").as_str(), self.clients.get()?.account_id.as_deref()) {
            if wanted != ours {
                return Err(Diagnostics::error(
                    "Identity is in another account",
                    format!("The identity names account {wanted}, but the provider's credentials are for account {ours}. Import with a provider configured for {wanted}."),
                ));
            }
        }
        let import_id = match identity.get("user").as_str() {
            Some(user) => format!("{user}/{id}"),
            None => id.to_string(),
        };
        self.import(ctx, &import_id).await
    }

    async fn import(&self, ctx: &OpContext, import_id: &str) -> Result<Value, Diagnostics> {
        let invalid =
            |reason: String| Diagnostics::error("Invalid import ID", format!("{reason}\n\nImport with the access key ID (AKIA…) or with USER/ACCESS_KEY_ID."));
        let (user, id) = parse_import_id(import_id).map_err(invalid)?;
        let user = match user {
            Some(user) => user.to_string(),
            None => {
                let clients = self.clients.get()?;
                match clients.iam.owner_of(id, &ctx.cancel).await {
                    Ok(Some(user)) => user,
                    Ok(None) => return Err(invalid(format!("IAM knows no user for access key {id}."))),
                    Err(e) if e.is_no_such_entity() => return Err(invalid(format!("IAM has no access key {id}."))),
                    Err(e) => return Err(iam_diagnostic(&e, None)),
                }
            }
        };
        let mut state = Value::Object(Default::default());
        state.set("id", Value::string(id));
        state.set("user", Value::string(user));
        Ok(state)
    }
}

/// The planned state with every unknown made null, as a base for the new state:
/// no unknown may reach Terraform after apply.
fn planned_without_unknowns(planned: &Value) -> Value {
    match planned {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), if v.is_unknown() { Value::Null } else { v.clone() })).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Age-based rotation reads the injected clock: due exactly at `after_days`.
    #[test]
    fn a_key_is_replaced_once_it_is_after_days_old_by_the_injected_clock() {
        let resource = AccessKeyResource::new(Arc::new(Clients::default()));
        let created = aws_smithy_types::DateTime::from_str("2026-01-01T00:00:00Z", aws_smithy_types::date_time::Format::DateTime).unwrap().secs();
        let mut prior = Value::object([("create_date", Value::string("2026-01-01T00:00:00Z"))]);
        prior.set("rotation", Value::object([("after_days", Value::Number(crate::value::Number::Int(30))), ("keepers", Value::Null)]));
        let reasons_at = |now: i64| {
            let ctx = OpContext { clock: crate::framework::SharedClock(Arc::new(crate::framework::clock::FixedClock(now))), ..Default::default() };
            resource.replacement_reasons(&ctx, &prior, &prior)
        };
        assert!(reasons_at(created + 30 * 86_400 - 1).is_empty(), "a second before 30 days: kept");
        assert_eq!(reasons_at(created + 30 * 86_400), vec![AttributePath::root("create_date")]);
    }

    /// The input table of reliability.md row 22: every case decided without AWS.
    #[test]
    fn user_names_follow_the_iam_rule_in_ascii() {
        let valid =
            ["a", "deploy-bot", "A_b+c=d,e.f@g-h", "x".repeat(64).as_str(), "_", "+", "=", ",", ".", "@", "-", "0", "user123", "UPPER", "a.b@example.com"]
                .map(str::to_string);
        let invalid = [
            String::new(),
            "x".repeat(65),
            "x".repeat(128),
            "x".repeat(129),
            "é".into(),
            "пользователь".into(),
            "has space".into(),
            "a/b".into(),
            "nul\0".into(),
            "tab\t".into(),
            "new\nline".into(),
            "🔑".into(),
            "semi;colon".into(),
            "colon:".into(),
            "star*".into(),
            "quote\"".into(),
            "back\\slash".into(),
            "hash#".into(),
            "percent%".into(),
            "caret^".into(),
            "amp&".into(),
            "paren(".into(),
            "brace{".into(),
            "bracket[".into(),
            "pipe|".into(),
            "tilde~".into(),
            "bang!".into(),
            "dollar$".into(),
            "question?".into(),
            "less<".into(),
            "greater>".into(),
            "apos'".into(),
            "grave`".into(),
            "ｆｕｌｌｗｉｄｔｈ".into(),
            "\u{200b}zero-width".into(),
            "ǅ".into(),
        ];
        for name in &valid {
            assert!(validate_user_name(&Value::string(name.clone())).is_ok(), "{name:?} should be valid");
        }
        for name in &invalid {
            assert!(validate_user_name(&Value::string(name.clone())).is_err(), "{name:?} should be invalid");
        }
        assert!(valid.len() + invalid.len() >= 40);
    }

    #[test]
    fn statuses_are_exactly_active_or_inactive() {
        for ok in ["Active", "Inactive"] {
            assert!(validate_status(&Value::string(ok)).is_ok());
        }
        for bad in ["Expired", "active", "", "ACTIVE", "Inactive "] {
            assert!(validate_status(&Value::string(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn descriptions_follow_the_iam_tag_value_rule() {
        for ok in ["", "CI deploy key", "rotated: 2026-11/a=b+c-d@e_f.g", "Schlüssel für München", "鍵", &"x".repeat(256)] {
            assert!(validate_description(&Value::string(ok)).is_ok(), "{ok:?}");
        }
        for bad in ["semi;colon", "new\nline", "tab\t", "quote\"", "star*", "comma,", &"x".repeat(257)] {
            assert!(validate_description(&Value::string(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn import_ids_are_checked_for_length_and_alphabet() {
        assert!(!is_access_key_id(&"A".repeat(15)));
        assert!(is_access_key_id(&"A".repeat(16)));
        assert!(is_access_key_id(&"A".repeat(128)));
        assert!(!is_access_key_id(&"A".repeat(129)));
        assert!(!is_access_key_id("AKIA-EXAMPLE-KEY-ID"));
    }

    #[test]
    fn create_plan_knows_which_secret_fields_stay_null() {
        let resource = AccessKeyResource::new(Arc::default());
        let mut planned = Value::Object(Default::default());
        resource.modify_plan(&Value::Null, &Value::object([("pgp_key", Value::Null)]), &mut planned);
        assert_eq!(planned.get("secret"), &Value::Unknown);
        assert_eq!(planned.get("encrypted_secret"), &Value::Null);
        let mut planned = Value::Object(Default::default());
        resource.modify_plan(&Value::Null, &Value::object([("pgp_key", Value::string("k"))]), &mut planned);
        assert_eq!(planned.get("secret"), &Value::Null);
        assert_eq!(planned.get("key_fingerprint"), &Value::Unknown);
    }

    #[test]
    fn in_place_plan_keeps_the_secret_known() {
        let resource = AccessKeyResource::new(Arc::default());
        let prior = Value::object([("id", Value::string("AKIA1")), ("secret", Value::string("s"))]);
        let mut planned = prior.clone();
        resource.modify_plan(&prior, &Value::object([]), &mut planned);
        assert_eq!(planned.get("secret"), &Value::string("s"));
    }

    mod against_a_fake_iam {
        use super::*;
        use crate::aws::fake::{self, FakeIam, Reply};
        use crate::aws::AwsClients;

        const SECRET: &str = "canarySecretcanarySecretcanarySecret1234";

        async fn resource(
            handler: impl Fn(&str, &std::collections::HashMap<String, String>, usize) -> Reply + Send + Sync + 'static,
        ) -> (AccessKeyResource, FakeIam) {
            let fake = FakeIam::start(handler).await;
            (AccessKeyResource::new(Arc::new(Clients::configured(fake.clients()))), fake)
        }

        /// Secret stores that refuse every write (the fake answers them with an error).
        fn refusing_stores(endpoint: &str) -> crate::aws::destination::SecretStores {
            let credentials = aws_sdk_secretsmanager::config::Credentials::new("AKIDTEST", "test-secret", None, None, "test");
            let secrets = aws_sdk_secretsmanager::Config::builder()
                .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
                .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
                .endpoint_url(endpoint)
                .credentials_provider(credentials.clone())
                .build();
            let ssm = aws_sdk_ssm::Config::builder()
                .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
                .region(aws_sdk_ssm::config::Region::new("us-east-1"))
                .endpoint_url(endpoint)
                .credentials_provider(credentials)
                .build();
            crate::aws::destination::SecretStores::new(aws_sdk_secretsmanager::Client::from_conf(secrets), aws_sdk_ssm::Client::from_conf(ssm))
        }

        #[tokio::test]
        async fn a_failed_write_to_the_destination_keeps_the_key_tainted_and_the_secret_nowhere() {
            let fake = FakeIam::start(|action, _, _| match action {
                "CreateAccessKey" => fake::created("bob", "AKIAFAKE000000000NEW", SECRET, &now()),
                "ListAccessKeys" => fake::listed("bob", &[], None),
                _ => fake::error(500, "ServiceFailure"),
            })
            .await;
            let clients = AwsClients { stores: Some(refusing_stores(&fake.endpoint)), ..fake.clients() };
            let resource = AccessKeyResource::new(Arc::new(Clients::configured(clients)));
            let mut planned = planned("Active");
            planned.set("secret_destination", Value::object([("ssm_parameter_name", Value::string("/ci/bob"))]));
            resource.modify_plan(&Value::Null, &planned.clone(), &mut planned);
            let outcome = resource.create(&OpContext::default(), &planned).await;
            assert!(outcome.diagnostics.has_errors());
            assert_eq!(outcome.diagnostics.first().unwrap().path, Some(AttributePath::root("secret_destination")));
            assert_eq!(outcome.state.get("id"), &Value::string("AKIAFAKE000000000NEW"), "the key is kept (tainted)");
            for attribute in ["secret", "ses_smtp_password_v4", "secret_destination_version"] {
                assert_eq!(outcome.state.get(attribute), &Value::Null, "{attribute}");
            }
            assert!(outcome.state.is_wholly_known());
            assert!(!format!("{:?}", outcome.diagnostics).contains(SECRET));
        }

        fn now() -> String {
            aws_smithy_types::DateTime::from(std::time::SystemTime::now()).fmt(aws_smithy_types::date_time::Format::DateTime).unwrap()
        }

        fn planned(status: &str) -> Value {
            Value::object([("user", Value::string("bob")), ("status", Value::string(status)), ("id", Value::Unknown), ("secret", Value::Unknown)])
        }

        #[tokio::test]
        async fn a_failed_status_update_after_create_still_returns_the_key() {
            let (resource, _fake) = resource(|action, _, _| match action {
                "CreateAccessKey" => fake::created("bob", "AKIAFAKE000000000NEW", SECRET, &now()),
                "ListAccessKeys" => fake::listed("bob", &[], None),
                _ => fake::error(400, "InvalidInput"),
            })
            .await;
            let ctx = OpContext::default();
            let outcome = resource.create(&ctx, &planned("Inactive")).await;
            assert!(outcome.diagnostics.has_errors());
            assert_eq!(outcome.diagnostics.first().unwrap().path, Some(AttributePath::root("status")));
            assert_eq!(outcome.state.get("id"), &Value::string("AKIAFAKE000000000NEW"));
            assert_eq!(outcome.state.get("status"), &Value::string("Active"), "state says what IAM has");
            assert!(outcome.state.is_wholly_known(), "no unknown reaches Terraform");
            assert_eq!(ctx.partial_state.take().unwrap().get("id"), &Value::string("AKIAFAKE000000000NEW"));
            let shown = format!("{:?}", outcome.diagnostics);
            assert!(!shown.contains(SECRET));
        }

        #[tokio::test]
        async fn a_failed_description_tag_after_create_still_returns_the_key() {
            let (resource, _fake) = resource(|action, _, _| match action {
                "CreateAccessKey" => fake::created("bob", "AKIAFAKE000000000NEW", SECRET, &now()),
                "ListAccessKeys" => fake::listed("bob", &[], None),
                _ => fake::error(500, "ServiceFailure"),
            })
            .await;
            let mut planned = planned("Active");
            planned.set("description", Value::string("CI key"));
            let outcome = resource.create(&OpContext::default(), &planned).await;
            assert!(outcome.diagnostics.has_errors());
            assert_eq!(outcome.diagnostics.first().unwrap().path, Some(AttributePath::root("description")));
            assert_eq!(outcome.state.get("id"), &Value::string("AKIAFAKE000000000NEW"), "the key is kept (tainted)");
            assert_eq!(outcome.state.get("description"), &Value::Null, "state says what IAM has");
            assert!(outcome.state.is_wholly_known());
        }

        #[tokio::test]
        async fn a_lost_create_answer_keeps_the_new_key_in_state_without_secret() {
            let (resource, fake) = resource(|action, _, before| match (action, before) {
                ("CreateAccessKey", _) => Reply::Drop,
                ("ListAccessKeys", 0) => fake::listed("bob", &[], None),
                ("ListAccessKeys", _) => fake::listed("bob", &[("AKIAFAKE000000000NEW", "Active", &now())], None),
                _ => fake::error(400, "Unexpected"),
            })
            .await;
            let outcome = resource.create(&OpContext::default(), &planned("Active")).await;
            assert!(outcome.diagnostics.has_errors());
            assert_eq!(outcome.state.get("id"), &Value::string("AKIAFAKE000000000NEW"));
            assert_eq!(outcome.state.get("secret"), &Value::Null);
            assert!(outcome.state.is_wholly_known());
            assert_eq!(fake.calls("CreateAccessKey"), 1);
        }

        #[tokio::test]
        async fn with_no_user_the_plan_names_the_callers_user_and_refuses_root_and_roles() {
            use crate::aws::caller::Caller;
            let fake = FakeIam::start(|action, form, _| match action {
                "ListAccessKeys" => fake::listed(form.get("UserName").map_or("root", String::as_str), &[], None),
                _ => fake::error(400, "Unexpected"),
            })
            .await;
            let role = "arn:aws:sts::123456789012:assumed-role/deploy/ci".to_string();
            let cases = [
                (Caller::User("alice".into()), false, Ok(Value::string("alice"))),
                (Caller::Root, false, Err("Refusing to create a root access key")),
                (Caller::Root, true, Ok(Value::Unknown)),
                (Caller::Other { arn: role.clone() }, true, Err("The caller is not an IAM user")),
            ];
            for (caller, allow_root_key, expected) in cases {
                let resource = AccessKeyResource::new(Arc::new(Clients::configured(fake.clients_of(caller.clone()))));
                let mut config = Value::object([("status", Value::string("Active"))]);
                if allow_root_key {
                    config.set(owner::ALLOW_ROOT_KEY, Value::Bool(true));
                }
                let mut planned = config.clone();
                planned.set("user", Value::Unknown);
                planned.set("id", Value::Unknown);
                let diags = resource.check_plan(&OpContext::default(), &Value::Null, &config, &mut planned).await;
                match expected {
                    Ok(user) => {
                        assert!(!diags.has_errors(), "{caller:?}: {diags:?}");
                        assert_eq!(planned.get("user"), &user, "{caller:?}");
                    }
                    Err(summary) => {
                        assert_eq!(diags.first().unwrap().summary, summary, "{caller:?}");
                        assert_eq!(diags.first().unwrap().path, Some(AttributePath::root("user")));
                    }
                }
            }
            assert_eq!(fake.calls("ListAccessKeys"), 2, "the quota is checked for alice and for the allowed root only");
            // Apply refuses the same way, before any IAM call.
            let resource = AccessKeyResource::new(Arc::new(Clients::configured(fake.clients_of(Caller::Root))));
            let planned = Value::object([("status", Value::string("Active")), ("user", Value::Unknown), ("id", Value::Unknown)]);
            let outcome = resource.create(&OpContext::default(), &planned).await;
            assert_eq!(outcome.diagnostics.first().unwrap().summary, "Refusing to create a root access key");
            assert_eq!(outcome.state, Value::Null);
            assert_eq!(fake.calls("CreateAccessKey"), 0);
        }

        #[tokio::test]
        async fn a_plan_for_a_user_iam_does_not_have_warns_and_says_how_long_apply_waits() {
            let (resource, _fake) = resource(|_, _, _| fake::error(404, "NoSuchEntity")).await;
            let config = Value::object([("user", Value::string("ghost")), ("status", Value::string("Active"))]);
            let mut planned = config.clone();
            planned.set("id", Value::Unknown);
            let diags = resource.check_plan(&OpContext::default(), &Value::Null, &config, &mut planned).await;
            assert!(!diags.has_errors(), "the user may be created by this apply: {diags:?}");
            let warning = &diags.first().unwrap();
            assert_eq!(warning.path, Some(AttributePath::root("user")));
            assert!(warning.detail.contains("\"ghost\"") && warning.detail.contains("120 s"), "{}", warning.detail);
        }

        #[tokio::test]
        async fn an_uncertain_create_records_nothing_and_names_the_keys_that_appeared() {
            let (resource, fake) = resource(|action, _, before| match (action, before) {
                ("CreateAccessKey", _) => Reply::Drop,
                ("ListAccessKeys", 0) => fake::listed("bob", &[], None),
                ("ListAccessKeys", _) => fake::listed("bob", &[("AKIAFAKE00000000OOB1", "Active", &now()), ("AKIAFAKE000000000NEW", "Active", &now())], None),
                _ => fake::error(400, "Unexpected"),
            })
            .await;
            let ctx = OpContext::default();
            let outcome = resource.create(&ctx, &planned("Active")).await;
            assert_eq!(outcome.state, Value::Null, "neither key is adopted");
            assert!(ctx.partial_state.take().is_none());
            let detail = &outcome.diagnostics.first().unwrap().detail;
            assert!(detail.contains("AKIAFAKE00000000OOB1 created") && detail.contains("AKIAFAKE000000000NEW created"), "{detail}");
            assert_eq!(fake.calls("DeleteAccessKey") + fake.calls("UpdateAccessKey"), 0, "nothing is deleted or deactivated");
        }

        #[tokio::test]
        async fn quota_error_lists_existing_keys_and_returns_no_state() {
            let (resource, _fake) = resource(|action, _, _| match action {
                "CreateAccessKey" => fake::error(409, "LimitExceeded"),
                "GetAccessKeyLastUsed" => fake::never_used("bob"),
                "ListAccessKeys" => fake::listed(
                    "bob",
                    &[("AKIAFAKE00000000OLD1", "Active", "2020-01-01T00:00:00Z"), ("AKIAFAKE00000000OLD2", "Inactive", "2021-01-01T00:00:00Z")],
                    None,
                ),
                _ => fake::error(400, "Unexpected"),
            })
            .await;
            let outcome = resource.create(&OpContext::default(), &planned("Active")).await;
            assert_eq!(outcome.state, Value::Null);
            let detail = &outcome.diagnostics.first().unwrap().detail;
            assert!(detail.contains("AKIAFAKE00000000OLD1 (Active") && detail.contains("AKIAFAKE00000000OLD2 (Inactive"), "{detail}");
        }

        #[tokio::test]
        async fn read_keeps_unknown_statuses_and_drops_keys_of_missing_users() {
            let (resource, _fake) = resource(|_, form, _| match form.get("UserName").map(String::as_str) {
                Some("bob") => fake::listed("bob", &[("AKIAFAKE000000000NEW", "Expired", "2020-01-01T00:00:00Z")], None),
                _ => fake::error(404, "NoSuchEntity"),
            })
            .await;
            let state = Value::object([("id", Value::string("AKIAFAKE000000000NEW")), ("user", Value::string("bob")), ("secret", Value::string("kept"))]);
            let read = resource.read(&OpContext::default(), &state).await.unwrap().unwrap();
            assert_eq!(read.get("status"), &Value::string("Expired"));
            assert_eq!(read.get("secret"), &Value::string("kept"), "secrets carry over from state");
            let mut gone = state.clone();
            gone.set("user", Value::string("ghost"));
            assert_eq!(resource.read(&OpContext::default(), &gone).await.unwrap(), None);
        }
    }
}

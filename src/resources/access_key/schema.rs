//! The schema of `iamkey_access_key`, declared once, and its validators.

use super::*;
use crate::aws::destination::Destination;
use crate::crypto::pgp::RecipientKey;
use crate::crypto::ses::check_region;
use crate::framework::schema::{Attribute, Block, Nesting, Schema};
use crate::resources::common::{is_access_key_id, validate_user_name};
use crate::value::summary;
use crate::value::{Diagnostics, Type, Value};

/// The identity (protocol 6.9): which account, which user, which key. With the
/// user in it, an import by identity needs no lookup of the key's owner.
pub(super) fn identity_schema() -> Schema {
    Schema::new(
        0,
        Block::new("")
            .attribute(
                Attribute::optional(key_identity::account_id.into(), Type::String)
                    .describe("AWS account of the key; the provider's account when omitted on import."),
            )
            .attribute(Attribute::optional(key_identity::user.into(), Type::String).describe("IAM user the key belongs to; looked up when omitted on import."))
            .attribute(Attribute::required(key_identity::access_key_id.into(), Type::String).describe("The access key ID.")),
    )
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

pub(super) fn validate_regions(v: &Value) -> Result<(), String> {
    v.as_list().unwrap_or_default().iter().filter_map(Value::as_str).try_for_each(check_region)
}

pub(super) fn validate_pgp_key(v: &Value) -> Result<(), String> {
    RecipientKey::parse(v.as_str().unwrap_or_default()).map(|_| ())
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

pub(super) fn schema() -> Schema {
    Schema::new(
        0,
        Block::new("Manages an IAM access key: an access key ID and its secret, for an IAM user or for the identity that signs the provider's requests.")
            .attribute(
                Attribute::optional_computed(key::user.into(), Type::String)
                    .replace_on_change()
                    .validate(validate_user_name)
                    .describe("IAM user the key belongs to. When omitted, the key is created for the identity that signs the requests, and this is set from IAM's answer."),
            )
            .attribute(
                Attribute::optional(key::allow_root_key.into(), Type::Bool)
                    .describe("Allow a key for the account's root user, when `user` is omitted and the provider's credentials are the root user's. Without it such a plan fails: AWS recommends never creating root access keys. Has no effect when `user` is set."),
            )
            .attribute(
                Attribute::optional(key::status.into(), Type::String)
                    .default_on_create(Value::string("Active"))
                    .validate(validate_status)
                    .describe("`Active` or `Inactive`, changed in place. When unset, a new key is Active and an existing key keeps the status IAM reports: a key someone deactivated (during an incident, say) stays Inactive through every later apply. When set, a status changed outside Terraform is set back on the next apply; turning an Inactive key back on this way also warns at plan."),
            )
            .attribute(
                Attribute::optional(key::pgp_key.into(), Type::String)
                    .validate(validate_pgp_key)
                    .describe("OpenPGP public key, ASCII-armored (`gpg --armor --export KEYID`) or base64 of the binary key (`gpg --export KEYID | base64`). When set, the secret and the SES password are stored only encrypted to it, in `encrypted_secret` and `encrypted_ses_smtp_password_v4`. Changing it replaces the key, except for a key whose secret was never known here (an imported key): that records the new value in place, with a warning, and encrypts nothing."),
            )
            .attribute(
                Attribute::optional(key::description.into(), Type::String)
                    .validate(validate_description)
                    .describe("Description of the key, kept where the AWS console keeps it: a tag of the user whose key is the access key ID. Changed in place, removed with the key. Up to 256 letters, digits, spaces and `_.:/=+-@`. The user's tags are read only for a key that has a description (and on import): a description added outside Terraform to a key without one is not noticed."),
            )
            .attribute(Attribute::computed(key::id.into(), Type::String).describe("The access key ID."))
            .attribute(Attribute::computed(key::secret.into(), Type::String).sensitive().describe("The secret access key. Null when `pgp_key` is set, and after import: IAM returns the secret only when the key is created."))
            .attribute(Attribute::computed(key::ses_smtp_password_v4.into(), Type::String).sensitive().describe("SES SMTP password derived from the secret for the provider's region. Null when `pgp_key` is set, and after import."))
            .attribute(
                // No default: state written before this attribute existed (or moved
                // from aws_iam_access_key) must plan without a diff.
                Attribute::optional(key::wait_until_usable.into(), Type::Bool)
                    .describe("When true, wait after creating the key until it authenticates (sts:GetCallerIdentity signed with it, with backoff, for up to 2 minutes), so that the next resource in the same apply can use it. Needs `status = \"Active\"`."),
            )
            .attribute(
                Attribute::optional(key::ses_smtp_regions.into(), Type::Set(Box::new(Type::String)))
                    .validate(validate_regions)
                    .describe("Regions to derive SES SMTP passwords for, besides the provider's region, into `ses_smtp_passwords_v4` (or `encrypted_ses_smtp_passwords_v4` with `pgp_key`). Changed in place while the secret is in state."),
            )
            .attribute(Attribute::computed(key::ses_smtp_passwords_v4.into(), Type::Map(Box::new(Type::String))).sensitive().describe("SES SMTP password for each region of `ses_smtp_regions`, by region. Null when `pgp_key` is set."))
            .attribute(Attribute::computed(key::encrypted_ses_smtp_passwords_v4.into(), Type::Map(Box::new(Type::String))).describe("With `pgp_key`: the SES SMTP password for each region of `ses_smtp_regions`, as base64 OpenPGP messages, by region."))
            .attribute(Attribute::computed(key::encrypted_secret.into(), Type::String).describe("The secret, as a base64 OpenPGP message to `pgp_key`. Decrypt with `base64 --decode | gpg --decrypt`."))
            .attribute(Attribute::computed(key::encrypted_ses_smtp_password_v4.into(), Type::String).describe("The SES SMTP password, as a base64 OpenPGP message to `pgp_key`."))
            .attribute(Attribute::computed(key::key_fingerprint.into(), Type::String).describe("Fingerprint (lowercase hex) of the PGP key the secret is encrypted to."))
            .attribute(Attribute::computed(key::create_date.into(), Type::String).describe("When the key was created (RFC 3339)."))
            .attribute(
                Attribute::optional(key::refresh_last_used.into(), Type::Bool)
                    .describe("Refresh `last_used_date`, `last_used_service` and `last_used_region` on every read: one iam:GetAccessKeyLastUsed call per key and refresh, where a refresh otherwise costs one iam:ListAccessKeys per user. Default false: the three stay null. The data source and the list resource always report last use."),
            )
            .attribute(Attribute::computed(key::last_used_date.into(), Type::String).describe("With `refresh_last_used`: when the key last signed a request (RFC 3339), from GetAccessKeyLastUsed; null if never. Refreshed on every read without showing as a change."))
            .attribute(Attribute::computed(key::last_used_service.into(), Type::String).describe("The AWS service the key last called (for example `s3`); null if never used."))
            .attribute(Attribute::computed(key::last_used_region.into(), Type::String).describe("The region the key was last used in; null if never used."))
            .attribute(Attribute::computed(key::secret_destination_version.into(), Type::String).describe("With `secret_destination`: the version the secret was written as (the Secrets Manager version ID, or the SSM parameter version)."))
            .block(
                key::secret_destination.into(),
                Nesting::Single,
                Block::new("Write the secret to a secret store instead of Terraform state: `secret`, `ses_smtp_password_v4` and `ses_smtp_passwords_v4` then stay null, and state records only where the secret went and its version. The value written is JSON: `access_key_id`, `secret_access_key`, `ses_smtp_password_v4` and, with `ses_smtp_regions`, `ses_smtp_passwords_v4`. A replacement (rotation) writes the new key's secret as a new version; changing the destination replaces the key. The store keeps the last value when the key is destroyed.")
                    .attribute(Attribute::optional(key_destination::secretsmanager_secret_id.into(), Type::String).describe("Name or ARN of a Secrets Manager secret; created when it does not exist."))
                    .attribute(Attribute::optional(key_destination::ssm_parameter_name.into(), Type::String).describe("Name of an SSM parameter, written as a SecureString (overwritten)."))
                    .attribute(Attribute::optional(key_destination::ssm_kms_key_id.into(), Type::String).describe("KMS key for the SSM parameter; the account's default key for SSM when omitted.")),
            )
            .block(
                key::rotation.into(),
                Nesting::Single,
                Block::new("When to replace the key with a new one. With `lifecycle { create_before_destroy = true }` the new key exists before the old one is deleted, within IAM's 2 keys per user, so consumers can switch without downtime.")
                    .attribute(Attribute::optional(key_rotation::after_days.into(), Type::Number).validate(validate_after_days).describe("Replace the key on the first plan once it is this many days old (counted from `create_date`)."))
                    .attribute(Attribute::optional(key_rotation::keepers.into(), Type::Map(Box::new(Type::String))).describe("Arbitrary values; changing any of them replaces the key.")),
            ),
    )
}

/// The destination a configuration names, if any.
pub(super) fn destination_of(config: &Value) -> Option<Destination> {
    let block = key::secret_destination.of(config);
    if let Some(secret_id) = key_destination::secretsmanager_secret_id.str(block) {
        return Some(Destination::SecretsManager { secret_id: secret_id.to_string() });
    }
    key_destination::ssm_parameter_name
        .str(block)
        .map(|name| Destination::Ssm { name: name.to_string(), kms_key_id: key_destination::ssm_kms_key_id.str(block).map(str::to_string) })
}

/// Exactly one store per destination; no pgp_key with it (the store is the protection).
pub(super) fn validate_destination(config: &Value, diags: &mut Diagnostics) {
    let block = key::secret_destination.of(config);
    if block.is_null() || !block.is_wholly_known() {
        return;
    }
    let (sm, ssm) = (key_destination::secretsmanager_secret_id.of(block), key_destination::ssm_parameter_name.of(block));
    if sm.is_null() == ssm.is_null() {
        diags.add_error_at(
            key::secret_destination.path(),
            summary::ONE_SECRET_STORE,
            "secret_destination needs exactly one of secretsmanager_secret_id and ssm_parameter_name.",
        );
    }
    if !key_destination::ssm_kms_key_id.of(block).is_null() && ssm.is_null() {
        diags.add_error_at(
            key::secret_destination.path().attribute(key_destination::ssm_kms_key_id.name),
            summary::KMS_KEY_WITHOUT_SSM,
            "ssm_kms_key_id applies to ssm_parameter_name only.",
        );
    }
    if !key::pgp_key.of(config).is_null() {
        diags.add_error_at(
            key::pgp_key.path(),
            summary::PGP_KEY_AND_SECRET_DESTINATION_TOGETHER,
            "With secret_destination the secret is not in state, so there is nothing to encrypt to pgp_key: set one of them.",
        );
    }
}

pub(super) fn validate_after_days(v: &Value) -> Result<(), String> {
    match v.as_i64() {
        Some(days) if days >= 1 => Ok(()),
        _ => Err("after_days must be a whole number of days, 1 or more.".into()),
    }
}

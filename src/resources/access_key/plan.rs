//! Plan rules of `iamkey_access_key`: rotation, which secret attributes a plan
//! knows, and the checks against IAM (the caller's name, the 2-keys quota).

use super::model::{KeyModel, KeyPlan, KeyValues, PlannedSecret, Status};
use super::secret::*;
use super::*;
use crate::aws::iam::IamError;
use crate::framework::{OpContext, PlanKind, SharedClock};
use crate::resources::common::{whose, MAX_KEYS_PER_USER};
use crate::resources::inventory::describe_keys;
use crate::resources::owner;
use crate::secret::Secret;
use crate::value::summary;
use crate::value::{AttributePath, Diagnostics, Value};

/// Whether a key created at `create_date` (RFC 3339) is at least `after_days` old.
pub(super) fn is_due(create_date: &str, after_days: i64, now: i64) -> bool {
    aws_smithy_types::DateTime::from_str(create_date, aws_smithy_types::date_time::Format::DateTime)
        .is_ok_and(|created| now - created.secs() >= after_days * 86_400)
}

/// New SES regions are derived from the secret: refused, with the way out, when
/// the secret is not in state (pgp_key, or an imported key).
/// Warns when an explicit `status = "Active"` turns back on a key IAM reports
/// Inactive: whoever deactivated it (a responder to a leak, say) should know
/// this apply undoes it. With `status` unset the key would stay Inactive.
pub(super) fn reactivation_warning(prior: &Value, config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let was = KeyModel::from_value(prior);
    if prior.is_null() || was.status != Status::Inactive || key::status.str(config) != Some(Status::Active.as_str()) {
        return diags;
    }
    let key = was.id.unwrap_or("(unknown id)");
    let owner = was.user.map_or_else(|| "the caller".to_string(), |u| format!("user {u}"));
    diags.add_warning_at(
        key::status.path(),
        summary::INACTIVE_KEY_TURNED_BACK_ON,
        format!(
            "IAM reports access key {key} of {owner} as Inactive, and status = \"Active\" in the configuration turns it back on in this apply. \
             If it was deactivated on purpose (for example because it leaked), set status = \"Inactive\", or remove status: \
             a key whose status is not configured keeps the status IAM reports."
        ),
    );
    diags
}

pub(super) fn regions_change_needs_secret(prior: &KeyValues, planned: &KeyValues) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let in_place = planned.id == prior.id;
    let regions = planned.ses_smtp_regions;
    if in_place && regions != prior.ses_smtp_regions && !regions.is_null() && prior.secret.is_null() {
        diags.add_error_at(
            key::ses_smtp_regions.path(),
            summary::SES_PASSWORDS_NEED_THE_SECRET,
            format!(
                "The secret of access key {} is not in state (pgp_key is set, or the key was imported), so SES passwords \
                 for new regions cannot be derived from it. Replace the key to get passwords for these regions \
                 (terraform apply -replace=...).",
                prior.id.as_str().unwrap_or("?")
            ),
        );
    }
    diags
}

/// The ways a secret is delivered that an in-place plan changed on a key whose
/// secret was never known here: recorded, with a warning that nothing is
/// encrypted or written until the key is replaced.
pub(super) fn delivery_change_without_secret(prior: &KeyValues, planned: &KeyValues) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if planned.id != prior.id || prior.secret_was_delivered() {
        return diags;
    }
    let ways = [
        (key::pgp_key.name, planned.pgp_key, prior.pgp_key, "nothing is encrypted to it"),
        (key::secret_destination.name, planned.secret_destination, prior.secret_destination, "nothing is written there"),
    ];
    for (name, now, before, what) in ways {
        if now != before && !now.is_null() {
            diags.add_warning_at(
                AttributePath::root(name),
                summary::NO_SECRET_TO_DELIVER_FOR_THIS_KEY,
                format!(
                    "IAM returns a key's secret only when the key is created, and access key {} was imported, so its secret \
                     is not known here: {name} is recorded and {what}. To get a secret delivered this way, replace the key \
                     (terraform apply -replace=ADDRESS).",
                    prior.id.as_str().unwrap_or("?")
                ),
            );
        }
    }
    diags
}

impl AccessKeyResource {
    /// The IAM user a key with no `user` is for (None: the root user, allowed).
    async fn callers_user(&self, allow_root_key: bool) -> Result<Option<String>, Diagnostics> {
        owner::of_the_caller(self.clients.get()?, allow_root_key).await
    }

    pub(super) async fn existing_keys(&self, user: Option<&str>, clock: &SharedClock) -> String {
        match self.clients.get() {
            Ok(clients) => describe_keys(&clients.iam, user, clock).await,
            Err(_) => String::new(),
        }
    }

    /// LimitExceeded at apply: name the user and list what they already have.
    pub(super) async fn quota_diagnostic(&self, user: Option<&str>, error: &IamError, clock: &SharedClock) -> Diagnostics {
        let mut diags = Diagnostics::new();
        diags.add_error_at(
            key::user.path(),
            summary::ACCESS_KEY_QUOTA_REACHED,
            format!(
                "IAM allows 2 access keys per user, and {} already has them:\n{}\n\n\
                 Delete or rotate out one of them, then apply again. ({error})",
                whose(user),
                self.existing_keys(user, clock).await
            ),
        );
        diags
    }

    /// The plan-time quota check for a new key for `user`: the keys IAM holds (but
    /// a failed create's, which the apply deletes first) and the other new keys this
    /// plan creates for the user must leave it a slot. The key is then counted for
    /// the next one. (The new half of a replacement is not checked: it takes the
    /// slot of the key it replaces, which Terraform deletes first unless
    /// create_before_destroy; then the create's own LimitExceeded names the keys.)
    pub(super) async fn check_quota(&self, ctx: &OpContext, user: Option<&str>) -> Diagnostics {
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
                    key::user.path(),
                    summary::IAM_HAS_NO_SUCH_USER_YET,
                    format!(
                        "IAM has no user {:?}. If this apply creates it (an aws_iam_user resource, say), nothing is wrong: \
                         the create waits up to {} s for the new user to become visible. Otherwise the apply waits that long \
                         and then fails: check the name.",
                        user.unwrap_or_default(),
                        crate::aws::iam::PROPAGATION_TIMEOUT.as_secs()
                    ),
                );
                self.count_planned_create(user);
                return diags;
            }
            // Other failures are left to apply, which reports them with their cause.
            Err(e) => {
                tracing::debug!("quota check skipped: {e}");
                return diags;
            }
        };
        let others = self.count_planned_create(user);
        if held + others >= MAX_KEYS_PER_USER {
            let also = match others {
                0 => String::new(),
                n => format!(", and this plan creates {n} other key{} for them too", if n == 1 { "" } else { "s" }),
            };
            diags.add_error_at(
                key::user.path(),
                summary::ACCESS_KEY_QUOTA_WOULD_BE_EXCEEDED,
                format!(
                    "This plan creates an access key for {}, who already has {held}{also}; IAM allows {MAX_KEYS_PER_USER} per user \
                     (Inactive keys count):\n{}\n\n\
                     Delete one of them (or import it, so that this configuration manages and can replace it), or create fewer keys, then plan again.",
                    whose(user),
                    self.existing_keys(user, &ctx.clock).await
                ),
            );
        }
        diags
    }

    /// Counts one more planned create for `user`; returns how many were planned before it.
    fn count_planned_create(&self, user: Option<&str>) -> usize {
        let mut planned = self.planned_creates.lock().unwrap_or_else(|p| p.into_inner());
        let count = planned.entry(user.map(str::to_string)).or_default();
        *count += 1;
        *count - 1
    }

    /// A create begins: its key is IAM's to count from now on.
    pub(super) fn begin_planned_create(&self, user: Option<&str>) {
        let mut planned = self.planned_creates.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = planned.get_mut(&user.map(str::to_string)) {
            *count = count.saturating_sub(1);
        }
    }

    /// Rotation: a key past `rotation.after_days`, or a change of
    /// `rotation.keepers`, is replaced.
    pub(super) fn reasons_to_replace(&self, ctx: &OpContext, prior: &Value, planned: &Value) -> Vec<AttributePath> {
        let (prior, planned) = (self.view(prior), self.view(planned));
        let mut reasons = Vec::new();
        // The secret is delivered once, when the key is made: a new way of delivering
        // it needs a new key. A key whose secret was never known here (imported)
        // has nothing to deliver, so it keeps its key (delivery_change_without_secret warns).
        if prior.secret_was_delivered() {
            let ways =
                [(key::secret_destination.name, planned.secret_destination, prior.secret_destination), (key::pgp_key.name, planned.pgp_key, prior.pgp_key)];
            for (name, now, before) in ways {
                if now != before {
                    reasons.push(AttributePath::root(name));
                }
            }
        }
        let (keepers, prior_keepers) = (planned.rotation_keepers, prior.rotation_keepers);
        // Keepers set on an existing key (or removed) record a baseline: only a
        // change from one set of keepers to another replaces the key.
        if !prior_keepers.is_null() && !keepers.is_null() && keepers != prior_keepers {
            reasons.push(key::rotation.path().attribute(key_rotation::keepers.name));
        }
        if let (Some(after_days), Some(created)) = (planned.rotation_after_days.as_i64(), prior.create_date.as_str()) {
            // Terraform honours a replacement path only where the value changes:
            // create_date does (the new key gets a new one).
            if is_due(created, after_days, ctx.clock.now_secs()) {
                reasons.push(key::create_date.path());
            }
        }
        reasons
    }

    /// Secrets in clear or encrypted: which of the two pairs stays null is known
    /// at plan time whenever `pgp_key` is.
    pub(super) fn plan_secret_attributes(&self, prior: &Value, config: &Value, planned: &mut Value) {
        let (before, wanted, after) = (self.view(prior), self.view(config), self.view(planned));
        if !prior.is_null() && after.id == before.id {
            // In place, only the regional passwords can change: derived from the
            // secret in state (check_plan refuses the change when it is not there).
            if let (true, Some(secret)) = (after.ses_smtp_regions != before.ses_smtp_regions, before.secret.as_str()) {
                let passwords = regional_passwords(&Secret::new(secret), after.ses_smtp_regions, |p| Ok(p.expose().to_string()));
                KeyPlan(planned).set_regional_passwords(passwords.unwrap_or(Value::Unknown));
            }
            return;
        }
        let (clear, encrypted) = match wanted.pgp_key {
            Value::Null => (Value::Unknown, Value::Null),
            Value::Unknown => (Value::Unknown, Value::Unknown),
            _ => (Value::Null, Value::Unknown),
        };
        // With a destination the secret goes there, never into state.
        let (clear, destination_version) = match wanted.secret_destination {
            Value::Null => (clear, Value::Null),
            _ => (Value::Null, Value::Unknown),
        };
        let regional = !wanted.ses_smtp_regions.is_null();
        KeyPlan(planned).set_secret(PlannedSecret { clear, encrypted, destination_version, regional });
    }

    /// A create needs the user (the caller's name filled in) and a free slot; an
    /// update of SES regions needs the secret in state.
    pub(super) async fn check_against_iam(&self, ctx: &OpContext, kind: PlanKind, prior: &Value, config: &Value, planned: &mut Value) -> Diagnostics {
        match kind {
            PlanKind::Existing => {
                let (prior, planned) = (self.view(prior), self.view(planned));
                let mut diags = regions_change_needs_secret(&prior, &planned);
                diags.extend(delivery_change_without_secret(&prior, &planned));
                return diags;
            }
            PlanKind::Replacement => return Diagnostics::new(),
            PlanKind::Create => {}
        }
        let (wanted, configured) = (self.view(planned), self.view(config));
        let user = match (wanted.user, configured.user) {
            (Value::String(user), _) => Some(user.clone()),
            // No user: the caller's own key, whose name the plan can show.
            (_, Value::Null) => match self.callers_user(wanted.allow_root_key.as_bool() == Some(true)).await {
                Ok(Some(name)) => {
                    KeyPlan(planned).set_user(&name);
                    Some(name)
                }
                Ok(None) => None, // the root user, allowed
                Err(d) => return d,
            },
            _ => return Diagnostics::new(), // the user is not known until apply
        };
        self.check_quota(ctx, user.as_deref()).await
    }
}

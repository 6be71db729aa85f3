//! The key's attributes as the operations read them, typed: decoded once from a
//! plan or a state (`KeyModel::from_value`), so create, read, update and delete
//! read fields, not strings. The plan rules compare values that may still be
//! unknown, so they read `KeyValues` (each field a Terraform value) and write the
//! plan through `KeyPlan`. What the operations learn goes back through the typed
//! writers below (`KeyState`); attributes no operation reads (rotation, keepers,
//! the secret store's block) ride along in the state untouched.

use crate::aws::destination::Destination;
use crate::aws::iam::{KeyMetadata, LastUsed};
use crate::framework::field::Field;
use crate::value::Value;

use super::schema::destination_of;
use super::{key, key_rotation};

/// Whether IAM lets the key sign requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    Active,
    Inactive,
}

impl Status {
    /// The schema's default (Active) for a null; validation allows nothing else.
    fn of(value: &Value) -> Status {
        match value.as_str() {
            Some("Inactive") => Status::Inactive,
            _ => Status::Active,
        }
    }

    pub(super) fn as_str(self) -> &'static str {
        match self {
            Status::Active => "Active",
            Status::Inactive => "Inactive",
        }
    }
}

/// A key as the operations read it (borrowed from the value it came from).
#[derive(Debug)]
pub(super) struct KeyModel<'v> {
    pub id: Option<&'v str>,
    /// None: the calling identity's own key (or not known yet).
    pub user: Option<&'v str>,
    pub status: Status,
    pub description: Option<&'v str>,
    pub pgp_key: Option<&'v str>,
    /// A set of region names, or null.
    pub ses_smtp_regions: &'v Value,
    pub wait_until_usable: bool,
    pub refresh_last_used: bool,
    /// Only for a key with no `user`: whether the root user may own it.
    pub allow_root_key: bool,
    /// None for a state that was never read (an import stub).
    pub create_date: Option<&'v str>,
    value: &'v Value,
}

impl<'v> KeyModel<'v> {
    pub(super) fn from_value(value: &'v Value) -> Self {
        KeyModel {
            id: key::id.str(value),
            user: key::user.str(value),
            status: Status::of(key::status.of(value)),
            description: key::description.str(value),
            pgp_key: key::pgp_key.str(value),
            ses_smtp_regions: key::ses_smtp_regions.of(value),
            wait_until_usable: key::wait_until_usable.is_true(value),
            refresh_last_used: key::refresh_last_used.is_true(value),
            allow_root_key: key::allow_root_key.is_true(value),
            create_date: key::create_date.str(value),
            value,
        }
    }

    /// The secret store the key's secret goes to, if any (decoded on demand: only a
    /// create needs it, and a refresh reads a model per key).
    pub(super) fn destination(&self) -> Option<Destination> {
        destination_of(self.value)
    }
}

/// A key's attributes as the plan rules compare them: by field, not by name, and
/// as Terraform values, since a planned attribute may still be unknown (which
/// `KeyModel`'s typed fields cannot say). Null where the value has no such
/// attribute (a create's prior state).
#[derive(Clone, Copy, Debug)]
pub(super) struct KeyValues<'v> {
    pub id: &'v Value,
    pub user: &'v Value,
    pub allow_root_key: &'v Value,
    pub create_date: &'v Value,
    pub pgp_key: &'v Value,
    pub secret_destination: &'v Value,
    pub ses_smtp_regions: &'v Value,
    pub secret: &'v Value,
    pub encrypted_secret: &'v Value,
    pub secret_destination_version: &'v Value,
    pub rotation_keepers: &'v Value,
    pub rotation_after_days: &'v Value,
}

impl<'v> KeyValues<'v> {
    /// Read by slot: a plan builds several views of its three values, and a lookup
    /// per field cost more than the rules themselves.
    pub(super) fn of(value: &'v Value) -> Self {
        let rotation = key::rotation.of(value);
        KeyValues {
            id: key::id.of(value),
            user: key::user.of(value),
            allow_root_key: key::allow_root_key.of(value),
            create_date: key::create_date.of(value),
            pgp_key: key::pgp_key.of(value),
            secret_destination: key::secret_destination.of(value),
            ses_smtp_regions: key::ses_smtp_regions.of(value),
            secret: key::secret.of(value),
            encrypted_secret: key::encrypted_secret.of(value),
            secret_destination_version: key::secret_destination_version.of(value),
            rotation_keepers: key_rotation::keepers.of(rotation),
            rotation_after_days: key_rotation::after_days.of(rotation),
        }
    }

    /// Whether the provider ever held this key's secret: in clear, encrypted to
    /// `pgp_key`, or written to a destination. An imported key's never was.
    pub(super) fn secret_was_delivered(&self) -> bool {
        [self.secret, self.encrypted_secret, self.secret_destination_version].iter().any(|v| !v.is_null())
    }
}

/// The secret attributes a plan knows: each pair of values (clear, encrypted) is
/// a value or unknown, or null where that form of the secret is not kept.
pub(super) struct PlannedSecret {
    pub clear: Value,
    pub encrypted: Value,
    /// Unknown when a destination is written (its version), else null.
    pub destination_version: Value,
    /// Whether the SES passwords per region are kept (`ses_smtp_regions` set).
    pub regional: bool,
}

/// A plan, written through typed setters.
pub(super) struct KeyPlan<'p>(pub &'p mut Value);

impl KeyPlan<'_> {
    /// The caller's own IAM user, for a key planned with no `user`.
    pub(super) fn set_user(&mut self, user: &str) {
        key::user.set(self.0, Value::string(user));
    }

    pub(super) fn set_regional_passwords(&mut self, passwords: Value) {
        key::ses_smtp_passwords_v4.set(self.0, passwords);
    }

    pub(super) fn set_secret(&mut self, planned: PlannedSecret) {
        let regional = |pair: &Value| if planned.regional { pair.clone() } else { Value::Null };
        key::ses_smtp_passwords_v4.set(self.0, regional(&planned.clear));
        key::encrypted_ses_smtp_passwords_v4.set(self.0, regional(&planned.encrypted));
        key::secret_destination_version.set(self.0, planned.destination_version);
        for field in [key::secret, key::ses_smtp_password_v4] {
            field.set(self.0, planned.clear.clone());
        }
        for field in [key::encrypted_secret, key::encrypted_ses_smtp_password_v4, key::key_fingerprint] {
            field.set(self.0, planned.encrypted.clone());
        }
    }
}

/// The state an operation returns, written through typed setters.
pub(super) struct KeyState(pub Value);

impl KeyState {
    /// The state of a key just created from `planned`: what the plan knew, every
    /// value it left unknown null until the operation learns it.
    pub(super) fn from_plan(planned: &Value) -> Self {
        KeyState(planned.clone().unknowns_to_null())
    }

    /// What IAM reports for the key; everything else carries over.
    pub(super) fn set_metadata(&mut self, key: &KeyMetadata) {
        let state = &mut self.0;
        key::id.set(state, Value::string(&key.access_key_id));
        key::user.set(state, Value::string(&key.user_name));
        key::status.set(state, Value::string(&key.status));
        if let Some(date) = &key.create_date {
            key::create_date.set(state, Value::string(date));
        }
    }

    pub(super) fn set_status(&mut self, status: Status) {
        key::status.set(&mut self.0, Value::string(status.as_str()));
    }

    pub(super) fn set_description(&mut self, description: Option<&str>) {
        key::description.set(&mut self.0, Value::opt_string(description));
    }

    /// Last use as IAM reports it; None clears it (not asked for: nothing stale is kept).
    pub(super) fn set_last_used(&mut self, used: Option<LastUsed>) {
        let used = used.unwrap_or_default();
        key::last_used_date.set(&mut self.0, Value::opt_string(used.date));
        key::last_used_service.set(&mut self.0, Value::opt_string(used.service));
        key::last_used_region.set(&mut self.0, Value::opt_string(used.region));
    }

    pub(super) fn set_destination_version(&mut self, version: String) {
        key::secret_destination_version.set(&mut self.0, Value::string(version));
    }

    /// The attributes derived from the secret (clear or encrypted).
    pub(super) fn set_secret_attributes(&mut self, attributes: Vec<(Field, Value)>) {
        for (field, value) in attributes {
            field.set(&mut self.0, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_reads_as_typed_fields_with_the_schema_defaults() {
        let mut planned = Value::object([("id", Value::Unknown), ("user", Value::string("ci")), ("status", Value::Null)]);
        planned.set("wait_until_usable", Value::Bool(true));
        planned.set("secret_destination", Value::object([("secretsmanager_secret_id", Value::string("ci/key"))]));
        let key = KeyModel::from_value(&planned);
        assert_eq!((key.id, key.user, key.status, key.description), (None, Some("ci"), Status::Active, None));
        assert!(key.wait_until_usable && !key.refresh_last_used);
        assert!(matches!(key.destination(), Some(Destination::SecretsManager { ref secret_id }) if secret_id == "ci/key"));
    }

    #[test]
    fn the_plan_view_keeps_unknown_apart_from_null_and_reads_rotation_inside_its_block() {
        let mut planned = Value::object([("id", Value::Unknown), ("user", Value::Null)]);
        planned.set("rotation", Value::object([("after_days", Value::Number(crate::value::Number::Int(30))), ("keepers", Value::Null)]));
        let key = KeyValues::of(&planned);
        assert_eq!((key.id, key.user, key.rotation_after_days.as_i64()), (&Value::Unknown, &Value::Null, Some(30)));
        assert!(!key.secret_was_delivered());
        planned.set("encrypted_secret", Value::string("wcBMA"));
        assert!(KeyValues::of(&planned).secret_was_delivered(), "a secret encrypted to pgp_key was delivered");
        let mut plan = planned.clone();
        KeyPlan(&mut plan).set_secret(PlannedSecret { clear: Value::Null, encrypted: Value::Unknown, destination_version: Value::Null, regional: false });
        assert_eq!(
            (plan.get("secret"), plan.get("key_fingerprint"), plan.get("encrypted_ses_smtp_passwords_v4")),
            (&Value::Null, &Value::Unknown, &Value::Null)
        );
    }

    #[test]
    fn writers_set_what_iam_reported_and_clear_what_was_not_asked_for() {
        let mut state = KeyState(Value::object([("last_used_date", Value::string("2026-01-01T00:00:00Z")), ("rotation", Value::string("kept"))]));
        state.set_status(Status::Inactive);
        state.set_description(Some("ci"));
        state.set_last_used(None);
        let key = KeyModel::from_value(&state.0);
        assert_eq!((key.status, key.description), (Status::Inactive, Some("ci")));
        assert_eq!(state.0.get("last_used_date"), &Value::Null);
        assert_eq!(state.0.get("rotation"), &Value::string("kept"), "attributes no operation reads ride along");
    }
}

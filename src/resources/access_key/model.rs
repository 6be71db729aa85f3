//! The key's attributes as the operations read them, typed: decoded once from a
//! plan or a state (`KeyModel::from_value`), so create, read, update and delete
//! read fields, not strings. The plan rules compare values that may still be
//! unknown, so they read `KeyValues` (each field a Terraform value) and write the
//! plan through `KeyPlan`. What the operations learn goes back through the typed
//! writers below (`KeyState`); attributes no operation reads (rotation, keepers,
//! the secret store's block) ride along in the state untouched.

use crate::aws::destination::Destination;
use crate::aws::iam::{KeyMetadata, LastUsed};
use crate::framework::schema::{Block, FieldSlot};
use crate::value::Value;

use super::schema::destination_of;
use super::REFRESH_LAST_USED;
use crate::resources::owner::ALLOW_ROOT_KEY;

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
            id: value.get("id").as_str(),
            user: value.get("user").as_str(),
            status: Status::of(value.get("status")),
            description: value.get("description").as_str(),
            pgp_key: value.get("pgp_key").as_str(),
            ses_smtp_regions: value.get("ses_smtp_regions"),
            wait_until_usable: value.get("wait_until_usable").as_bool() == Some(true),
            refresh_last_used: value.get(REFRESH_LAST_USED).as_bool() == Some(true),
            allow_root_key: value.get(ALLOW_ROOT_KEY).as_bool() == Some(true),
            create_date: value.get("create_date").as_str(),
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
    /// Read by slot (`Value::get_at`): a plan builds several views of its three
    /// values, and a lookup per field cost more than the rules themselves.
    pub(super) fn of(value: &'v Value, slots: &KeyValueSlots) -> Self {
        let rotation = slots.rotation.of(value);
        KeyValues {
            id: slots.id.of(value),
            user: slots.user.of(value),
            allow_root_key: slots.allow_root_key.of(value),
            create_date: slots.create_date.of(value),
            pgp_key: slots.pgp_key.of(value),
            secret_destination: slots.secret_destination.of(value),
            ses_smtp_regions: slots.ses_smtp_regions.of(value),
            secret: slots.secret.of(value),
            encrypted_secret: slots.encrypted_secret.of(value),
            secret_destination_version: slots.secret_destination_version.of(value),
            rotation_keepers: rotation.get("keepers"),
            rotation_after_days: rotation.get("after_days"),
        }
    }

    /// Whether the provider ever held this key's secret: in clear, encrypted to
    /// `pgp_key`, or written to a destination. An imported key's never was.
    pub(super) fn secret_was_delivered(&self) -> bool {
        [self.secret, self.encrypted_secret, self.secret_destination_version].iter().any(|v| !v.is_null())
    }
}

/// Where the attributes `KeyValues` reads sit in a value of the key's schema type.
pub(super) struct KeyValueSlots {
    id: FieldSlot,
    user: FieldSlot,
    allow_root_key: FieldSlot,
    create_date: FieldSlot,
    pgp_key: FieldSlot,
    secret_destination: FieldSlot,
    ses_smtp_regions: FieldSlot,
    secret: FieldSlot,
    encrypted_secret: FieldSlot,
    secret_destination_version: FieldSlot,
    rotation: FieldSlot,
}

impl KeyValueSlots {
    /// The slots `schema` (the key's) gave these attributes.
    pub(super) fn new(schema: &Block) -> Self {
        // A name the schema lacked would get no slot, and `get_at` would look it up by name.
        let slot = |name: &'static str| schema.slot_of(name).unwrap_or(FieldSlot { at: usize::MAX, name });
        KeyValueSlots {
            id: slot("id"),
            user: slot("user"),
            allow_root_key: slot(ALLOW_ROOT_KEY),
            create_date: slot("create_date"),
            pgp_key: slot("pgp_key"),
            secret_destination: slot("secret_destination"),
            ses_smtp_regions: slot("ses_smtp_regions"),
            secret: slot("secret"),
            encrypted_secret: slot("encrypted_secret"),
            secret_destination_version: slot("secret_destination_version"),
            rotation: slot("rotation"),
        }
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
        self.0.set("user", Value::string(user));
    }

    pub(super) fn set_regional_passwords(&mut self, passwords: Value) {
        self.0.set("ses_smtp_passwords_v4", passwords);
    }

    pub(super) fn set_secret(&mut self, planned: PlannedSecret) {
        let regional = |pair: &Value| if planned.regional { pair.clone() } else { Value::Null };
        self.0.set("ses_smtp_passwords_v4", regional(&planned.clear));
        self.0.set("encrypted_ses_smtp_passwords_v4", regional(&planned.encrypted));
        self.0.set("secret_destination_version", planned.destination_version);
        for name in ["secret", "ses_smtp_password_v4"] {
            self.0.set(name, planned.clear.clone());
        }
        for name in ["encrypted_secret", "encrypted_ses_smtp_password_v4", "key_fingerprint"] {
            self.0.set(name, planned.encrypted.clone());
        }
    }
}

/// The state an operation returns, written through typed setters.
pub(super) struct KeyState(pub Value);

impl KeyState {
    /// What IAM reports for the key; everything else carries over.
    pub(super) fn set_metadata(&mut self, key: &KeyMetadata) {
        let state = &mut self.0;
        state.set("id", Value::string(&key.access_key_id));
        state.set("user", Value::string(&key.user_name));
        state.set("status", Value::string(&key.status));
        if let Some(date) = &key.create_date {
            state.set("create_date", Value::string(date));
        }
    }

    pub(super) fn set_status(&mut self, status: Status) {
        self.0.set("status", Value::string(status.as_str()));
    }

    pub(super) fn set_description(&mut self, description: Option<&str>) {
        self.0.set("description", Value::opt_string(description));
    }

    /// Last use as IAM reports it; None clears it (not asked for: nothing stale is kept).
    pub(super) fn set_last_used(&mut self, used: Option<LastUsed>) {
        let used = used.unwrap_or_default();
        self.0.set("last_used_date", Value::opt_string(used.date));
        self.0.set("last_used_service", Value::opt_string(used.service));
        self.0.set("last_used_region", Value::opt_string(used.region));
    }

    pub(super) fn set_destination_version(&mut self, version: String) {
        self.0.set("secret_destination_version", Value::string(version));
    }

    /// The attributes derived from the secret (clear or encrypted).
    pub(super) fn set_secret_attributes(&mut self, attributes: Vec<(&'static str, Value)>) {
        for (name, value) in attributes {
            self.0.set(name, value);
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
        let slots = KeyValueSlots::new(&super::super::schema::schema().block);
        let key = KeyValues::of(&planned, &slots);
        assert_eq!((key.id, key.user, key.rotation_after_days.as_i64()), (&Value::Unknown, &Value::Null, Some(30)));
        assert!(!key.secret_was_delivered());
        planned.set("encrypted_secret", Value::string("wcBMA"));
        assert!(KeyValues::of(&planned, &slots).secret_was_delivered(), "a secret encrypted to pgp_key was delivered");
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

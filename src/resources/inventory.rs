//! What IAM holds for a user, as the data source, the list resource and the
//! plan-time quota check all report it: each key with its age and last use.

use crate::aws::iam::{Iam, IamError, KeyMetadata, LastUsed};
use crate::framework::SharedClock;
use crate::value::{Name, NameMap, Number, Type, Value};
use futures::stream::{self, StreamExt};
use tokio_util::sync::CancellationToken;

/// IAM calls in flight at once when listing many keys or users: IAM's rate limits
/// are low, and the SDK retries what they refuse.
pub const CONCURRENT_CALLS: usize = 8;

/// One key and when it was last used.
#[derive(Clone, Debug)]
pub struct KeyReport {
    pub key: KeyMetadata,
    pub last_used: LastUsed,
    /// When the report was made (seconds since the epoch): ages count from it.
    pub as_of: i64,
}

/// Every key of `user` (the caller when None), oldest first, with last use.
pub async fn keys_with_last_use(iam: &Iam, user: Option<&str>, clock: &SharedClock, cancel: &CancellationToken) -> Result<Vec<KeyReport>, IamError> {
    let mut keys = iam.list_access_keys(user, cancel).await?;
    keys.sort_by(|a, b| (&a.create_date, &a.access_key_id).cmp(&(&b.create_date, &b.access_key_id)));
    // Collected first: a lazy map held across the await would not be Send.
    let calls: Vec<_> = keys.iter().map(|k| iam.last_used(&k.access_key_id, cancel)).collect();
    let used: Vec<_> = stream::iter(calls).buffered(CONCURRENT_CALLS).collect().await;
    let as_of = clock.now_secs();
    keys.into_iter().zip(used).map(|(key, last_used)| Ok(KeyReport { key, last_used: last_used?, as_of })).collect()
}

/// The keys `user` has, one line each with age and last use (never a secret),
/// for diagnostics about the 2-keys quota.
pub async fn describe_keys(iam: &Iam, user: Option<&str>, clock: &SharedClock) -> String {
    match keys_with_last_use(iam, user, clock, &CancellationToken::new()).await {
        Ok(reports) => reports.iter().map(|r| format!("  - {}", r.summary())).collect::<Vec<_>>().join("\n"),
        Err(e) => format!("  (the existing keys could not be listed: {e})"),
    }
}

/// Who a key is for, in words.
pub fn whose(user: Option<&str>) -> String {
    user.map_or("the calling identity".to_string(), |u| format!("user {u:?}"))
}

/// A create that may or may not have happened, and keys that appeared that
/// cannot be attributed to it: nothing was adopted, changed or deleted.
pub fn uncertain_create(user: Option<&str>, appeared: &[KeyMetadata], cause: &IamError) -> crate::value::Diagnostics {
    let who = whose(user);
    let keys = if appeared.is_empty() {
        "  (the keys could not be listed to find out)".to_string()
    } else {
        appeared
            .iter()
            .map(|k| format!("  - {} created {}", k.access_key_id, k.create_date.as_deref().unwrap_or("at an unknown time")))
            .collect::<Vec<_>>()
            .join("\n")
    };
    crate::value::Diagnostics::error(
        "Access key creation uncertain",
        format!(
            "CreateAccessKey for {who} failed in a way that may or may not have created a key ({cause}), and the keys of \
             {who} cannot tell which key, if any, this create made. Keys that appeared since just before the call:\n{keys}\n\n\
             None of them was adopted, changed or deleted, and nothing was recorded in state. If one was made by this \
             apply, delete it (or import it); then apply again."
        ),
    )
}

/// The attributes of one reported key, in the order the docs list them.
pub const KEY_ATTRIBUTES: [(&str, &str); 8] = [
    ("access_key_id", "The access key ID."),
    ("user", "The IAM user the key belongs to."),
    ("status", "`Active`, `Inactive`, or what IAM reports (`Expired`)."),
    ("create_date", "When the key was created (RFC 3339)."),
    ("age_days", "Whole days since the key was created."),
    ("last_used_date", "When the key last signed a request (RFC 3339); null if never."),
    ("last_used_service", "The AWS service the key last called; null if never used."),
    ("last_used_region", "The region the key was last used in; null if never used."),
];

/// The object type of one reported key.
pub fn key_type() -> Type {
    Type::Object(
        KEY_ATTRIBUTES.iter().map(|(name, _)| (Name::Borrowed(*name), if *name == "age_days" { Type::Number } else { Type::String })).collect::<NameMap<_>>(),
    )
}

impl KeyReport {
    /// Whole days since the key was created, by the clock that ages keys.
    pub fn age_days(&self) -> Option<i64> {
        self.key.age_days(self.as_of)
    }

    /// Whole days since the key was last used; since it was created if never.
    pub fn unused_days(&self) -> Option<i64> {
        let now = self.as_of;
        match &self.last_used.date {
            Some(date) => {
                aws_smithy_types::DateTime::from_str(date, aws_smithy_types::date_time::Format::DateTime).ok().map(|d| (now - d.secs()).max(0) / 86_400)
            }
            None => self.age_days(),
        }
    }

    pub fn to_value(&self) -> Value {
        Value::object([
            ("access_key_id", Value::string(&self.key.access_key_id)),
            ("user", Value::string(&self.key.user_name)),
            ("status", Value::string(&self.key.status)),
            ("create_date", Value::opt_string(self.key.create_date.clone())),
            ("age_days", self.age_days().map_or(Value::Null, |d| Value::Number(Number::Int(d)))),
            ("last_used_date", Value::opt_string(self.last_used.date.clone())),
            ("last_used_service", Value::opt_string(self.last_used.service.clone())),
            ("last_used_region", Value::opt_string(self.last_used.region.clone())),
        ])
    }

    /// One line for a diagnostic: id, status, age and last use (never a secret).
    pub fn summary(&self) -> String {
        let age = self.age_days().map_or("age unknown".to_string(), |d| format!("{d} days old"));
        let used = match (&self.last_used.date, &self.last_used.service) {
            (Some(date), Some(service)) => format!("last used {date} ({service})"),
            (Some(date), None) => format!("last used {date}"),
            _ => "never used".to_string(),
        };
        format!("{} ({}, {age}, {used})", self.key.access_key_id, self.key.status)
    }
}

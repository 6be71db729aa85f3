//! What IAM holds for a user, as the data source, the list resource and the
//! plan-time quota check all report it: each key with its age and last use.

use crate::aws::iam::{Iam, IamError, KeyMetadata, LastUsed};
use crate::framework::field::Field;
use crate::framework::schema::{Attribute, Block};
use crate::framework::SharedClock;
use crate::resources::common::{validate_user_name, whose};
use crate::value::summary;
use crate::value::{Type, Value};
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
    let keys = oldest_first(iam.list_access_keys(user, cancel).await?);
    with_last_use(iam, keys, clock, cancel).await
}

fn oldest_first(mut keys: Vec<KeyMetadata>) -> Vec<KeyMetadata> {
    keys.sort_by(|a, b| (&a.create_date, &a.access_key_id).cmp(&(&b.create_date, &b.access_key_id)));
    keys
}

/// `keys`, each with its last use (one GetAccessKeyLastUsed each).
async fn with_last_use(iam: &Iam, keys: Vec<KeyMetadata>, clock: &SharedClock, cancel: &CancellationToken) -> Result<Vec<KeyReport>, IamError> {
    // Collected first: a lazy map held across the await would not be Send.
    let calls: Vec<_> = keys.iter().map(|k| iam.last_used(&k.access_key_id, cancel)).collect();
    let used: Vec<_> = stream::iter(calls).buffered(CONCURRENT_CALLS).collect().await;
    let as_of = clock.now_secs();
    keys.into_iter().zip(used).map(|(key, last_used)| Ok(KeyReport { key, last_used: last_used?, as_of })).collect()
}

/// Which keys a listing keeps: by status, age and last use (the list resource's
/// filters, and the deactivation action's).
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyFilter<'a> {
    pub status: Option<&'a str>,
    pub older_than_days: Option<i64>,
    pub unused_for_days: Option<i64>,
}

impl KeyFilter<'_> {
    pub fn keeps(&self, report: &KeyReport) -> bool {
        let at_least = |limit: Option<i64>, days: Option<i64>| limit.is_none_or(|l| days.is_some_and(|d| d >= l));
        self.status.is_none_or(|s| report.key.status == s)
            && at_least(self.older_than_days, report.age_days())
            && at_least(self.unused_for_days, report.unused_days())
    }
}

/// The arguments that choose keys, declared once for every type that selects
/// keys (the list resource, the deactivation action): `user`, `older_than_days`
/// and `unused_for_days`, named by each type's own fields.
pub struct FilterArguments {
    pub user: Field,
    pub older_than_days: Field,
    pub unused_for_days: Field,
}

impl FilterArguments {
    /// `block` with the three arguments.
    pub fn declared_in(&self, block: Block) -> Block {
        block
            .attribute(
                Attribute::optional(self.user.into(), Type::String)
                    .validate(validate_user_name)
                    .describe("Only the keys of this IAM user. When omitted, the keys of every user in the account (ListUsers)."),
            )
            .attribute(
                Attribute::optional(self.older_than_days.into(), Type::Number)
                    .validate(validate_whole_days)
                    .describe("Only keys at least this many whole days old (counted from creation)."),
            )
            .attribute(
                Attribute::optional(self.unused_for_days.into(), Type::Number)
                    .validate(validate_whole_days)
                    .describe("Only keys not used for at least this many whole days (counted from creation for a key never used)."),
            )
    }

    /// The filter a configuration sets (and `status`, which only the caller knows).
    pub fn filter<'c>(&self, config: &'c Value, status: Option<&'c str>) -> KeyFilter<'c> {
        KeyFilter { status, older_than_days: self.older_than_days.i64(config), unused_for_days: self.unused_for_days.i64(config) }
    }
}

/// A filter's day counts: whole days, 0 or more.
pub fn validate_whole_days(v: &Value) -> Result<(), String> {
    match v.as_i64() {
        Some(n) if n >= 0 => Ok(()),
        _ => Err("must be a whole number of days, 0 or more".into()),
    }
}

/// What `per_user` finds for each user a listing covers (the one named, else every
/// user of the account: ListUsers), users in parallel (at most CONCURRENT_CALLS),
/// in the order the users come.
pub async fn for_each_user<T, F, Fut>(iam: &Iam, user: Option<&str>, cancel: &CancellationToken, per_user: F) -> Result<Vec<T>, IamError>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, IamError>>,
{
    let users = match user {
        Some(user) => vec![user.to_string()],
        None => iam.list_users(cancel).await?,
    };
    let found: Vec<_> = stream::iter(users.into_iter().map(per_user)).buffered(CONCURRENT_CALLS).collect().await;
    let mut all = Vec::new();
    for items in found {
        all.extend(items?);
    }
    Ok(all)
}

/// Every key of `user`, oldest first, with last use; none if the user
/// disappeared while listing (a listing over users never fails for that).
pub async fn keys_of_user(iam: &Iam, user: &str, clock: &SharedClock, cancel: &CancellationToken) -> Result<Vec<KeyReport>, IamError> {
    match keys_with_last_use(iam, Some(user), clock, cancel).await {
        Err(e) if e.is_no_such_entity() => Ok(Vec::new()),
        reports => reports,
    }
}

/// The keys of `user` that `filter` keeps, as `keys_of_user`.
pub async fn matching_keys(iam: &Iam, user: &str, filter: &KeyFilter<'_>, clock: &SharedClock, cancel: &CancellationToken) -> Result<Vec<KeyReport>, IamError> {
    Ok(keys_of_user(iam, user, clock, cancel).await?.into_iter().filter(|r| filter.keeps(r)).collect())
}

/// The keys `user` has, one line each with age and last use (never a secret),
/// for diagnostics about the 2-keys quota. Without last use (GetAccessKeyLastUsed
/// denied, say: the core policy does not grant it) the lines show age only, and a
/// note says why.
pub async fn describe_keys(iam: &Iam, user: Option<&str>, clock: &SharedClock) -> String {
    let cancel = CancellationToken::new();
    let keys = match iam.list_access_keys(user, &cancel).await {
        Ok(keys) => oldest_first(keys),
        Err(e) => return format!("  (the existing keys could not be listed: {e})"),
    };
    let lines = |reports: &[KeyReport], summary: fn(&KeyReport) -> String| reports.iter().map(|r| format!("  - {}", summary(r))).collect::<Vec<_>>().join("\n");
    match with_last_use(iam, keys.clone(), clock, &cancel).await {
        Ok(reports) => lines(&reports, KeyReport::summary),
        Err(e) => {
            let as_of = clock.now_secs();
            let reports: Vec<KeyReport> = keys.into_iter().map(|key| KeyReport { key, last_used: LastUsed::default(), as_of }).collect();
            format!("{}\n  (last use not shown: {e})", lines(&reports, KeyReport::age_summary))
        }
    }
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
        summary::ACCESS_KEY_CREATION_UNCERTAIN,
        format!(
            "CreateAccessKey for {who} failed in a way that may or may not have created a key ({cause}), and the keys of \
             {who} cannot tell which key, if any, this create made. Keys that appeared since just before the call:\n{keys}\n\n\
             None of them was adopted, changed or deleted, and nothing was recorded in state. If one was made by this \
             apply, delete it (or import it); then apply again."
        ),
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

    /// One line for a diagnostic without last use: id, status and age.
    pub fn age_summary(&self) -> String {
        format!("{} ({}, {})", self.key.access_key_id, self.key.status, self.age_words())
    }

    fn age_words(&self) -> String {
        self.age_days().map_or("age unknown".to_string(), |d| format!("{d} days old"))
    }

    /// One line for a diagnostic: id, status, age and last use (never a secret).
    pub fn summary(&self) -> String {
        format!("{} ({}, {})", self.key.access_key_id, self.key.status, self.age_and_use())
    }

    /// Age and last use, in words: `40 days old, last used 2026-01-01T00:00:00Z (s3)`.
    pub fn age_and_use(&self) -> String {
        let used = match (&self.last_used.date, &self.last_used.service) {
            (Some(date), Some(service)) => format!("last used {date} ({service})"),
            (Some(date), None) => format!("last used {date}"),
            _ => "never used".to_string(),
        };
        format!("{}, {used}", self.age_words())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::fake::{self, FakeIam};

    #[tokio::test]
    async fn the_quota_listing_shows_age_only_when_last_use_is_denied() {
        let fake = FakeIam::start(|action, _, _| match action {
            "ListAccessKeys" => fake::listed(
                "bob",
                &[("AKIAFAKE00000000NEW2", "Inactive", "2021-01-01T00:00:00Z"), ("AKIAFAKE00000000OLD1", "Active", "2020-01-01T00:00:00Z")],
                None,
            ),
            _ => fake::error(403, "AccessDenied"),
        })
        .await;
        let listing = describe_keys(&fake.clients().iam, Some("bob"), &SharedClock::default()).await;
        let lines: Vec<&str> = listing.lines().collect();
        assert!(lines[0].starts_with("  - AKIAFAKE00000000OLD1 (Active, ") && lines[0].ends_with(" days old)"), "oldest first, with age: {listing}");
        assert!(lines[1].starts_with("  - AKIAFAKE00000000NEW2 (Inactive, "), "{listing}");
        assert!(lines[2].contains("last use not shown") && lines[2].contains("GetAccessKeyLastUsed") && lines[2].contains("AccessDenied"), "{listing}");
        assert!(!listing.contains("never used"), "a denied read is not reported as never used: {listing}");
    }

    #[tokio::test]
    async fn the_quota_listing_shows_last_use_when_it_can() {
        let fake = FakeIam::start(|action, _, _| match action {
            "ListAccessKeys" => fake::listed("bob", &[("AKIAFAKE00000000OLD1", "Active", "2020-01-01T00:00:00Z")], None),
            "GetAccessKeyLastUsed" => fake::never_used("bob"),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let listing = describe_keys(&fake.clients().iam, Some("bob"), &SharedClock::default()).await;
        assert!(listing.starts_with("  - AKIAFAKE00000000OLD1 (Active, ") && listing.ends_with("never used)"), "{listing}");
    }
}

//! CreateAccessKey, the one call that is not idempotent: sent with SDK retries
//! off, retried only on throttling (which proves nothing was executed), and after
//! a failure that may have executed, reconciled against the user's keys.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_smithy_types::retry::RetryConfig;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::aws::retry::backoff;
use crate::secret::Secret;

/// A key just created, with its secret.
#[derive(Debug)]
pub struct CreatedKey {
    pub metadata: KeyMetadata,
    pub secret: Secret,
}

/// The outcome of a CreateAccessKey that did not return a key.
#[derive(Debug)]
pub enum CreateFailure {
    /// Nothing was created.
    NotCreated(IamError),
    /// IAM created this key but its secret never arrived.
    CreatedWithoutSecret { key: KeyMetadata, cause: IamError },
    /// The call may or may not have executed, and the user's listing cannot tell:
    /// `appeared` are the keys that are new since just before the call and that
    /// no other create of this provider made. None of them is adopted, changed or
    /// deleted: an operator decides.
    Unattributable { appeared: Vec<KeyMetadata>, cause: IamError },
}

/// How old the listing taken as a create's "keys before the call" may be. In an
/// apply, Terraform plans each resource again just before applying it, and that
/// plan's quota check lists the user: a create reuses that listing (no extra call)
/// when it is this fresh and no write to the user came since; otherwise it lists.
pub(super) const BASELINE_MAX_AGE: Duration = Duration::from_secs(5);

/// How far IAM's clock (a key's CreateDate) may be behind this machine's.
pub(super) const CLOCK_SKEW: Duration = Duration::from_secs(300);

impl Iam {
    pub fn with_propagation_timeout(mut self, timeout: Duration) -> Self {
        self.propagation_timeout = timeout;
        self
    }

    /// Creates a key for `user`, or for the calling identity when `user` is None.
    ///
    /// Costs one CreateAccessKey, plus one ListAccessKeys when no listing of the
    /// user from the last few seconds is at hand (see BASELINE_MAX_AGE), plus one
    /// more only when the answer is lost.
    pub async fn create_access_key(&self, user: Option<&str>, cancel: &CancellationToken) -> Result<CreatedKey, CreateFailure> {
        let lock = self.create_lock(user);
        let _one_create_per_user = lock.lock().await;
        let result = match self.keys_before_create(user, cancel).await {
            Ok(before) => self.create_once_or_reconcile(user, &before, cancel).await,
            Err(e) => Err(CreateFailure::NotCreated(e)),
        };
        self.reads.invalidate(user);
        let made = match &result {
            Ok(created) => Some(&created.metadata),
            Err(CreateFailure::CreatedWithoutSecret { key, .. }) => Some(key),
            Err(_) => None,
        };
        if let Some(key) = made {
            self.reads.invalidate(Some(&key.user_name));
            self.created_here.lock().unwrap_or_else(|p| p.into_inner()).insert(key.access_key_id.clone());
        }
        result
    }

    pub(super) fn create_lock(&self, user: Option<&str>) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.create_locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(user.map(str::to_string)).or_default().clone()
    }

    /// The ids of the user's keys just before a create. A user IAM does not show
    /// (yet) has none. Any other failure stops the create: a create whose lost
    /// answer could not be reconciled must not be sent.
    pub(super) async fn keys_before_create(&self, user: Option<&str>, cancel: &CancellationToken) -> Result<HashSet<String>, IamError> {
        match self.keys_listed_within(user, BASELINE_MAX_AGE, cancel).await {
            Ok(keys) => Ok(keys.iter().map(|k| k.access_key_id.clone()).collect()),
            Err(e) if e.is_no_such_entity() && user.is_some() => Ok(HashSet::new()),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn create_once_or_reconcile(
        &self,
        user: Option<&str>,
        before: &HashSet<String>,
        cancel: &CancellationToken,
    ) -> Result<CreatedKey, CreateFailure> {
        const OP: &str = "CreateAccessKey";
        let started = SystemTime::now();
        let waiting_since = std::time::Instant::now();
        let (mut attempt, mut propagation_waits) = (0, 0);
        loop {
            attempt += 1;
            if cancel.is_cancelled() {
                return Err(CreateFailure::NotCreated(IamError::Cancelled { operation: OP }));
            }
            let sent = self
                .client
                .create_access_key()
                .set_user_name(user.map(str::to_string))
                .customize()
                .config_override(aws_sdk_iam::config::Config::builder().retry_config(RetryConfig::disabled()))
                .send()
                .await;
            let err = match sent {
                Ok(output) => {
                    let Some(key) = output.access_key() else {
                        let cause = IamError::service(OP, "EmptyResponse", "no key in the response");
                        return Err(self.reconcile_lost_create(user, before, started, cause).await);
                    };
                    return Ok(CreatedKey {
                        metadata: KeyMetadata {
                            access_key_id: key.access_key_id().to_string(),
                            user_name: key.user_name().to_string(),
                            status: key.status().as_str().to_string(),
                            create_date: key.create_date().and_then(rfc3339),
                            create_secs: key.create_date().map(|d| d.secs()),
                        },
                        secret: Secret::new(key.secret_access_key()),
                    });
                }
                Err(e) => IamError::from_sdk(OP, e),
            };
            if err.is_throttling() && attempt < self.max_attempts {
                tokio::time::sleep(backoff(attempt)).await;
                continue;
            }
            // NoSuchEntity proves nothing was created; for a named user it may only
            // mean the user is not visible yet.
            if err.is_no_such_entity() && user.is_some() && waiting_since.elapsed() < self.propagation_timeout {
                propagation_waits += 1;
                tokio::select! {
                    _ = cancel.cancelled() => return Err(CreateFailure::NotCreated(err)),
                    _ = tokio::time::sleep(backoff(propagation_waits)) => continue,
                }
            }
            if err.maybe_executed() {
                return Err(self.reconcile_lost_create(user, before, started, err).await);
            }
            return Err(CreateFailure::NotCreated(err));
        }
    }

    /// After a CreateAccessKey that may have executed, lists the user's keys and
    /// attributes to this create at most one of them (see `attribute`).
    pub(super) async fn reconcile_lost_create(&self, user: Option<&str>, before: &HashSet<String>, started: SystemTime, cause: IamError) -> CreateFailure {
        // Reconciliation always completes (bounded by the timeouts): it is what keeps
        // a created key from being orphaned.
        match self.list_access_keys(user, &CancellationToken::new()).await {
            Ok(keys) => {
                let created_here = self.created_here.lock().unwrap_or_else(|p| p.into_inner()).clone();
                let appeared = keys.into_iter().filter(|k| !before.contains(&k.access_key_id) && !created_here.contains(&k.access_key_id)).collect();
                attribute(appeared, started, cause)
            }
            Err(list_error) => {
                tracing::warn!("could not list keys after a lost CreateAccessKey response: {list_error}");
                CreateFailure::Unattributable { appeared: Vec::new(), cause }
            }
        }
    }
}

/// Decides what a create whose answer was lost made, from the keys that
/// `appeared` (listed now, absent just before the call, not made by another create
/// of this provider). The one such key, created at or after the call started
/// (less the clock skew), is the one this create made; no such key means nothing
/// was created; anything else (two new keys, or a key the listing before the call
/// should have shown) cannot be attributed and is left alone.
pub(super) fn attribute(appeared: Vec<KeyMetadata>, started: SystemTime, cause: IamError) -> CreateFailure {
    let since = started.checked_sub(CLOCK_SKEW).and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs() as i64);
    let made_since_the_call = |k: &KeyMetadata| k.create_secs.is_some_and(|s| s >= since);
    match appeared.as_slice() {
        [] => CreateFailure::NotCreated(cause),
        [key] if made_since_the_call(key) => CreateFailure::CreatedWithoutSecret { key: key.clone(), cause },
        _ => CreateFailure::Unattributable { appeared, cause },
    }
}

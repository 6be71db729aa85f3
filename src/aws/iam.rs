//! Thin wrappers over aws-sdk-iam for access keys: error mapping, pagination,
//! and the one deliberate retry loop (CreateAccessKey, which is not idempotent).
//!
//! Rules kept here:
//! - CreateAccessKey is sent with SDK retries off. Only an answer that proves the
//!   call did nothing (throttling) is retried. When the call may have executed
//!   but its answer was lost, the user's keys are listed to find the new one, and
//!   a key is adopted only if this create provably made it (see `attribute`).
//! - Every other call uses the SDK's retry policy, configured by the provider.
//! - Errors carry the operation, IAM's code and message; never a request or
//!   response body, so never a secret.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures::future::{BoxFuture, FutureExt, Shared};

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::StatusType;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::retry::RetryConfig;
use tokio_util::sync::CancellationToken;

use crate::secret::Secret;

/// Error codes with which IAM says it refused a call without executing it.
const THROTTLING_CODES: &[&str] = &["Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"];

#[derive(Clone, Debug, thiserror::Error)]
pub enum IamError {
    #[error("IAM {operation} failed: {code}: {message}")]
    Service { operation: &'static str, code: String, message: String },
    #[error("IAM {operation} failed: {reason}")]
    Transport { operation: &'static str, reason: String, maybe_executed: bool },
    #[error("IAM {operation} was cancelled: Terraform asked the provider to stop")]
    Cancelled { operation: &'static str },
}

impl IamError {
    pub fn code(&self) -> Option<&str> {
        match self {
            IamError::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn is_no_such_entity(&self) -> bool {
        self.code() == Some("NoSuchEntity")
    }

    pub fn is_limit_exceeded(&self) -> bool {
        self.code() == Some("LimitExceeded")
    }

    fn is_throttling(&self) -> bool {
        self.code().is_some_and(|c| THROTTLING_CODES.contains(&c))
    }

    fn from_sdk<E: ProvideErrorMetadata>(operation: &'static str, err: SdkError<E, HttpResponse>) -> Self {
        match &err {
            // An error body the SDK cannot read (moto's auth errors are EC2-shaped):
            // its Code and Message, else, for a 403, a refusal of this action.
            SdkError::ServiceError(se) if err.code().is_none() => {
                let body = se.raw().body().bytes().map(String::from_utf8_lossy).unwrap_or_default();
                let element = |name: &str| {
                    let start = body.find(&format!("<{name}>"))? + name.len() + 2;
                    let end = start + body[start..].find(&format!("</{name}>"))?;
                    Some(body[start..end].chars().take(300).collect::<String>())
                };
                let denied = se.raw().status().as_u16() == 403;
                IamError::Service {
                    operation,
                    code: element("Code").unwrap_or_else(|| if denied { "AccessDenied" } else { "Unknown" }.into()),
                    message: match element("Message") {
                        Some(message) => message,
                        None if denied => format!("the credentials are not allowed iam:{operation}"),
                        None => "no message".into(),
                    },
                }
            }
            SdkError::ServiceError(_) => {
                IamError::Service { operation, code: err.code().unwrap_or("Unknown").to_string(), message: err.message().unwrap_or("no message").to_string() }
            }
            SdkError::ConstructionFailure(_) => IamError::Transport { operation, reason: "the request could not be built".into(), maybe_executed: false },
            SdkError::TimeoutError(_) => IamError::Transport { operation, reason: "timed out waiting for IAM".into(), maybe_executed: true },
            SdkError::DispatchFailure(failure) => IamError::Transport {
                operation,
                reason: if failure.is_timeout() { "timed out connecting to IAM".into() } else { "the connection to IAM failed".into() },
                // A connection that failed after the request was written may have
                // reached IAM; only a failed connect proves it did not.
                maybe_executed: !failure.is_timeout(),
            },
            SdkError::ResponseError(_) => IamError::Transport { operation, reason: "IAM's response could not be read".into(), maybe_executed: true },
            _ => IamError::Transport { operation, reason: "unexpected SDK error".into(), maybe_executed: true },
        }
    }

    /// A failure after which the call may have been carried out by IAM.
    fn maybe_executed(&self) -> bool {
        match self {
            IamError::Transport { maybe_executed, .. } => *maybe_executed,
            IamError::Service { code, .. } => code == "ServiceFailure" || code == "InternalFailure",
            IamError::Cancelled { .. } => false,
        }
    }
}

/// An access key as IAM lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyMetadata {
    pub access_key_id: String,
    pub user_name: String,
    /// As IAM reports it: `Active`, `Inactive`, or a value this provider doesn't know.
    pub status: String,
    /// RFC 3339, whole seconds.
    pub create_date: Option<String>,
    create_secs: Option<i64>,
}

impl KeyMetadata {
    /// Whole days since the key was created, as of `now` (seconds since the epoch).
    pub fn age_days(&self, now: i64) -> Option<i64> {
        self.create_secs.map(|created| (now - created).max(0) / 86_400)
    }
}

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

/// Runs an idempotent call unless Terraform asks the provider to stop first: a
/// StopProvider abandons it (its effect, if any, is found again by the next run).
async fn unless_cancelled<T>(
    operation: &'static str,
    cancel: &CancellationToken,
    call: impl std::future::Future<Output = Result<T, IamError>>,
) -> Result<T, IamError> {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(IamError::Cancelled { operation }),
        result = call => result,
    }
}

fn rfc3339(date: &aws_smithy_types::DateTime) -> Option<String> {
    aws_smithy_types::DateTime::from_secs(date.secs()).fmt(Format::DateTime).ok()
}

/// One listing call for a user, shared by every read that wants it.
type SharedFetch<T> = Shared<BoxFuture<'static, Result<Arc<T>, IamError>>>;

/// How long a listing serves reads. A provider process lives for one Terraform
/// command, so in practice: one call per user and listing kind per refresh.
const READ_CACHE_TTL: Duration = Duration::from_secs(30);

/// Listings by user (None: the caller), reused by reads until a write to that
/// user. Concurrent reads of one user wait for the same call; a failed listing is
/// not kept.
struct ReadCache<T>(Mutex<CachedListings<T>>);

/// By user: when the listing was started, and the listing.
type CachedListings<T> = HashMap<Option<String>, (std::time::Instant, SharedFetch<T>)>;

impl<T> Default for ReadCache<T> {
    fn default() -> Self {
        ReadCache(Mutex::default())
    }
}

impl<T> std::fmt::Debug for ReadCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadCache")
    }
}

impl<T: Send + Sync + 'static> ReadCache<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, CachedListings<T>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn invalidate(&self, user: Option<&str>) {
        self.lock().remove(&user.map(str::to_string));
    }

    /// The listing of `user`, from the cache if it was started less than
    /// `max_age` ago (and no write to the user since), else from `fetch`.
    async fn get(
        &self,
        operation: &'static str,
        user: Option<&str>,
        max_age: Duration,
        cancel: &CancellationToken,
        fetch: impl FnOnce(Option<String>) -> BoxFuture<'static, Result<T, IamError>>,
    ) -> Result<Arc<T>, IamError> {
        let key = user.map(str::to_string);
        let listing = {
            let mut cache = self.lock();
            match cache.get(&key) {
                Some((at, listing)) if at.elapsed() < max_age => listing.clone(),
                _ => {
                    let listing = fetch(key.clone()).map(|r| r.map(Arc::new)).boxed().shared();
                    cache.insert(key.clone(), (std::time::Instant::now(), listing.clone()));
                    listing
                }
            }
        };
        let result = unless_cancelled(operation, cancel, listing.clone()).await;
        if result.is_err() {
            let mut cache = self.lock();
            if cache.get(&key).is_some_and(|(_, cached)| cached.ptr_eq(&listing)) {
                cache.remove(&key);
            }
        }
        result
    }
}

/// When and where a key was last used; all None for a key never used.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LastUsed {
    /// RFC 3339, whole seconds.
    pub date: Option<String>,
    pub service: Option<String>,
    pub region: Option<String>,
}

/// How long a user created moments ago may stay invisible to CreateAccessKey
/// (IAM is eventually consistent); hashicorp/aws waits as long.
pub const PROPAGATION_TIMEOUT: Duration = Duration::from_secs(120);

/// How old the listing taken as a create's "keys before the call" may be. In an
/// apply, Terraform plans each resource again just before applying it, and that
/// plan's quota check lists the user: a create reuses that listing (no extra call)
/// when it is this fresh and no write to the user came since; otherwise it lists.
const BASELINE_MAX_AGE: Duration = Duration::from_secs(5);

/// How far IAM's clock (a key's CreateDate) may be behind this machine's.
const CLOCK_SKEW: Duration = Duration::from_secs(300);

/// Keys of one user at one moment, keyed by user (None: the caller).
type KeyCache = ReadCache<Vec<KeyMetadata>>;

/// One lock per user (None: the caller).
type UserLocks = Mutex<HashMap<Option<String>, Arc<tokio::sync::Mutex<()>>>>;

#[derive(Clone, Debug)]
pub struct Iam {
    client: aws_sdk_iam::Client,
    max_attempts: u32,
    propagation_timeout: Duration,
    reads: Arc<KeyCache>,
    tags: Arc<ReadCache<HashMap<String, String>>>,
    /// One create at a time per user, so that the listing taken before a create
    /// is the user's key set as it stood just before that call.
    create_locks: Arc<UserLocks>,
    /// Every key this provider created or adopted: never attributed to another create.
    created_here: Arc<Mutex<HashSet<String>>>,
}

impl Iam {
    pub fn new(client: aws_sdk_iam::Client, max_attempts: u32) -> Self {
        Iam {
            client,
            max_attempts: max_attempts.max(1),
            propagation_timeout: PROPAGATION_TIMEOUT,
            reads: Arc::default(),
            tags: Arc::default(),
            create_locks: Arc::default(),
            created_here: Arc::default(),
        }
    }

    /// The keys of `user` for a Read: one ListAccessKeys per user, shared by the
    /// reads of its keys until a write to that user.
    pub async fn keys_for_read(&self, user: Option<&str>, cancel: &CancellationToken) -> Result<Arc<Vec<KeyMetadata>>, IamError> {
        self.keys_listed_within(user, READ_CACHE_TTL, cancel).await
    }

    async fn keys_listed_within(&self, user: Option<&str>, max_age: Duration, cancel: &CancellationToken) -> Result<Arc<Vec<KeyMetadata>>, IamError> {
        let client = self.client.clone();
        self.reads.get("ListAccessKeys", user, max_age, cancel, move |owner| async move { list_all_pages(&client, owner.as_deref()).await }.boxed()).await
    }

    /// The tags of `user` for a Read, shared the same way (ListUserTags).
    pub async fn user_tags_for_read(&self, user: &str, cancel: &CancellationToken) -> Result<Arc<HashMap<String, String>>, IamError> {
        let client = self.client.clone();
        self.tags
            .get("ListUserTags", Some(user), READ_CACHE_TTL, cancel, move |owner| {
                async move { list_user_tags(&client, owner.as_deref().unwrap_or_default()).await }.boxed()
            })
            .await
    }

    /// Sets one tag of a user (TagUser replaces a tag with the same key).
    pub async fn tag_user(&self, user: &str, key: &str, value: &str, cancel: &CancellationToken) -> Result<(), IamError> {
        let tag = aws_sdk_iam::types::Tag::builder().key(key).value(value).build().map_err(|_| IamError::Transport {
            operation: "TagUser",
            reason: "the request could not be built".into(),
            maybe_executed: false,
        })?;
        let result = write("TagUser", cancel, self.client.tag_user().user_name(user).tags(tag).send()).await;
        self.tags.invalidate(Some(user));
        result
    }

    /// Removes one tag of a user; a user that is gone has no tags left.
    pub async fn untag_user(&self, user: &str, key: &str, cancel: &CancellationToken) -> Result<(), IamError> {
        let result = already_gone_is_done(write("UntagUser", cancel, self.client.untag_user().user_name(user).tag_keys(key).send()).await);
        self.tags.invalidate(Some(user));
        result
    }

    /// The names of every IAM user in the account, all pages (ListUsers).
    pub async fn list_users(&self, cancel: &CancellationToken) -> Result<Vec<String>, IamError> {
        let listing = all_items("ListUsers", self.client.list_users().into_paginator().items().send());
        let users = unless_cancelled("ListUsers", cancel, listing).await?;
        Ok(users.iter().map(|u| u.user_name().to_string()).collect())
    }

    /// When, where and with which service a key was last used (GetAccessKeyLastUsed).
    pub async fn last_used(&self, access_key_id: &str, cancel: &CancellationToken) -> Result<LastUsed, IamError> {
        let call = self.client.get_access_key_last_used().access_key_id(access_key_id).send();
        unless_cancelled("GetAccessKeyLastUsed", cancel, async {
            let output = call.await.map_err(|e| IamError::from_sdk("GetAccessKeyLastUsed", e))?;
            // IAM reports "N/A" for a key that was never used.
            let known = |s: Option<&str>| s.filter(|s| !s.is_empty() && *s != "N/A").map(str::to_string);
            let used = output.access_key_last_used();
            Ok(LastUsed {
                date: used.and_then(|u| u.last_used_date()).and_then(rfc3339),
                service: known(used.map(|u| u.service_name())),
                region: known(used.map(|u| u.region())),
            })
        })
        .await
    }

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

    fn create_lock(&self, user: Option<&str>) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.create_locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(user.map(str::to_string)).or_default().clone()
    }

    /// The ids of the user's keys just before a create. A user IAM does not show
    /// (yet) has none. Any other failure stops the create: a create whose lost
    /// answer could not be reconciled must not be sent.
    async fn keys_before_create(&self, user: Option<&str>, cancel: &CancellationToken) -> Result<HashSet<String>, IamError> {
        match self.keys_listed_within(user, BASELINE_MAX_AGE, cancel).await {
            Ok(keys) => Ok(keys.iter().map(|k| k.access_key_id.clone()).collect()),
            Err(e) if e.is_no_such_entity() && user.is_some() => Ok(HashSet::new()),
            Err(e) => Err(e),
        }
    }

    async fn create_once_or_reconcile(&self, user: Option<&str>, before: &HashSet<String>, cancel: &CancellationToken) -> Result<CreatedKey, CreateFailure> {
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
                        let cause = IamError::Service { operation: OP, code: "EmptyResponse".into(), message: "no key in the response".into() };
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
    async fn reconcile_lost_create(&self, user: Option<&str>, before: &HashSet<String>, started: SystemTime, cause: IamError) -> CreateFailure {
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

    /// Every key of `user` (or of the caller), all pages.
    pub async fn list_access_keys(&self, user: Option<&str>, cancel: &CancellationToken) -> Result<Vec<KeyMetadata>, IamError> {
        unless_cancelled("ListAccessKeys", cancel, list_all_pages(&self.client, user)).await
    }

    /// Sets a key's status. Listings of the user made before it completes are dropped.
    pub async fn update_access_key(&self, user: &str, access_key_id: &str, status: &str, cancel: &CancellationToken) -> Result<(), IamError> {
        let call = self.client.update_access_key().user_name(user).access_key_id(access_key_id).status(StatusType::from(status)).send();
        let result = write("UpdateAccessKey", cancel, call).await;
        self.reads.invalidate(Some(user));
        result
    }

    /// Deletes a key; a key (or user) that is already gone counts as deleted.
    pub async fn delete_access_key(&self, user: &str, access_key_id: &str, cancel: &CancellationToken) -> Result<(), IamError> {
        let call = self.client.delete_access_key().user_name(user).access_key_id(access_key_id).send();
        let result = already_gone_is_done(write("DeleteAccessKey", cancel, call).await);
        self.reads.invalidate(Some(user));
        result
    }

    /// The user that owns a key (GetAccessKeyLastUsed, which needs no user name).
    pub async fn owner_of(&self, access_key_id: &str, cancel: &CancellationToken) -> Result<Option<String>, IamError> {
        let call = self.client.get_access_key_last_used().access_key_id(access_key_id).send();
        unless_cancelled("GetAccessKeyLastUsed", cancel, async {
            let output = call.await.map_err(|e| IamError::from_sdk("GetAccessKeyLastUsed", e))?;
            Ok(output.user_name().map(str::to_string))
        })
        .await
    }
}

/// Decides what a create whose answer was lost made, from the keys that
/// `appeared` (listed now, absent just before the call, not made by another create
/// of this provider). The one such key, created at or after the call started
/// (less the clock skew), is the one this create made; no such key means nothing
/// was created; anything else (two new keys, or a key the listing before the call
/// should have shown) cannot be attributed and is left alone.
fn attribute(appeared: Vec<KeyMetadata>, started: SystemTime, cause: IamError) -> CreateFailure {
    let since = started.checked_sub(CLOCK_SKEW).and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs() as i64);
    let made_since_the_call = |k: &KeyMetadata| k.create_secs.is_some_and(|s| s >= since);
    match appeared.as_slice() {
        [] => CreateFailure::NotCreated(cause),
        [key] if made_since_the_call(key) => CreateFailure::CreatedWithoutSecret { key: key.clone(), cause },
        _ => CreateFailure::Unattributable { appeared, cause },
    }
}

/// An idempotent write (status, tags, delete), sent unless Terraform asks the
/// provider to stop first; its answer carries nothing the callers need. Callers
/// drop the cached listing the write changed.
async fn write<O, E: ProvideErrorMetadata>(
    operation: &'static str,
    cancel: &CancellationToken,
    call: impl std::future::Future<Output = Result<O, SdkError<E, HttpResponse>>>,
) -> Result<(), IamError> {
    unless_cancelled(operation, cancel, async { call.await.map(|_| ()).map_err(|e| IamError::from_sdk(operation, e)) }).await
}

/// A removal whose target (or its user) is already gone has done its work.
fn already_gone_is_done(result: Result<(), IamError>) -> Result<(), IamError> {
    match result {
        Err(e) if e.is_no_such_entity() => Ok(()),
        other => other,
    }
}

/// Every item of a paginated IAM listing, through the SDK's paginator.
async fn all_items<T, E: ProvideErrorMetadata>(
    operation: &'static str,
    items: aws_smithy_async::future::pagination_stream::PaginationStream<Result<T, SdkError<E, HttpResponse>>>,
) -> Result<Vec<T>, IamError> {
    items.try_collect().await.map_err(|e| IamError::from_sdk(operation, e))
}

/// Every key of `user` (or of the caller), all pages.
async fn list_all_pages(client: &aws_sdk_iam::Client, user: Option<&str>) -> Result<Vec<KeyMetadata>, IamError> {
    let listed = all_items("ListAccessKeys", client.list_access_keys().set_user_name(user.map(str::to_string)).into_paginator().items().send()).await?;
    Ok(listed
        .iter()
        .map(|k| KeyMetadata {
            access_key_id: k.access_key_id().unwrap_or_default().to_string(),
            user_name: k.user_name().or(user).unwrap_or_default().to_string(),
            status: k.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            create_date: k.create_date().and_then(rfc3339),
            create_secs: k.create_date().map(|d| d.secs()),
        })
        .collect())
}

/// Every tag of `user`, all pages.
async fn list_user_tags(client: &aws_sdk_iam::Client, user: &str) -> Result<HashMap<String, String>, IamError> {
    let tags = all_items("ListUserTags", client.list_user_tags().user_name(user).into_paginator().items().send()).await?;
    Ok(tags.into_iter().map(|t| (t.key().to_string(), t.value().to_string())).collect())
}

/// Exponential backoff from 100 ms, capped at 5 s, with up to 100 ms of random jitter
/// (so that creates throttled together do not retry together).
pub(crate) fn backoff(attempt: u32) -> Duration {
    use rand::Rng;
    let base = Duration::from_millis(100).saturating_mul(1 << attempt.min(6)).min(Duration::from_secs(5));
    base + Duration::from_millis(rand::thread_rng().gen_range(0..100))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::fake::{self, FakeIam, Reply};

    const USER: &str = "bob";
    const NEW_ID: &str = "AKIAFAKE000000000NEW";
    const OLD_ID: &str = "AKIAFAKE000000000OLD";
    const SECRET: &str = "canarySecretcanarySecretcanarySecret1234";

    fn now() -> String {
        aws_smithy_types::DateTime::from(SystemTime::now()).fmt(Format::DateTime).unwrap()
    }

    async fn iam(fake: &FakeIam) -> Iam {
        Iam::new(fake.client(Duration::from_secs(5)), 3)
    }

    #[tokio::test]
    async fn create_retries_throttling_and_creates_exactly_one_key() {
        let fake = FakeIam::start(|action, _, before| match (action, before) {
            ("CreateAccessKey", 0 | 1) => fake::error(400, "Throttling"),
            ("CreateAccessKey", _) => fake::created(USER, NEW_ID, SECRET, &now()),
            ("ListAccessKeys", _) => fake::listed(USER, &[], None),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let created = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap();
        assert_eq!(created.metadata.access_key_id, NEW_ID);
        assert_eq!(created.secret.expose(), SECRET);
        assert_eq!(fake.calls("CreateAccessKey"), 3);
        assert!(!format!("{created:?}").contains(SECRET), "Debug redacts the secret");
    }

    #[tokio::test]
    async fn throttling_past_the_attempt_limit_fails_without_creating() {
        let fake = FakeIam::start(|action, _, _| match action {
            "CreateAccessKey" => fake::error(400, "Throttling"),
            "ListAccessKeys" => fake::listed(USER, &[], None),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let err = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
        assert!(matches!(err, CreateFailure::NotCreated(ref e) if e.code() == Some("Throttling")), "{err:?}");
        assert_eq!(fake.calls("CreateAccessKey"), 3);
        assert_eq!(fake.calls("ListAccessKeys"), 1, "the listing before the call; a throttled call executed nothing: no reconcile");
    }

    #[tokio::test]
    async fn a_lost_create_answer_is_not_retried_and_the_new_key_is_found() {
        let fake = FakeIam::start(|action, _, before| match (action, before) {
            ("CreateAccessKey", _) => Reply::Drop,
            ("ListAccessKeys", 0) => fake::listed(USER, &[(OLD_ID, "Active", "2020-01-01T00:00:00Z")], None),
            ("ListAccessKeys", _) => fake::listed(USER, &[(OLD_ID, "Active", "2020-01-01T00:00:00Z"), (NEW_ID, "Active", &now())], None),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let err = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
        match err {
            CreateFailure::CreatedWithoutSecret { key, .. } => assert_eq!(key.access_key_id, NEW_ID),
            other => panic!("expected the new key to be found, got {other:?}"),
        }
        assert_eq!(fake.calls("CreateAccessKey"), 1, "never retried blindly");
    }

    #[tokio::test]
    async fn a_lost_create_answer_with_no_new_key_reports_nothing_created() {
        let fake = FakeIam::start(|action, _, _| match action {
            "CreateAccessKey" => Reply::Drop,
            "ListAccessKeys" => fake::listed(USER, &[(OLD_ID, "Active", "2020-01-01T00:00:00Z")], None),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let err = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
        assert!(matches!(err, CreateFailure::NotCreated(IamError::Transport { .. })), "{err:?}");
        assert_eq!(fake.calls("CreateAccessKey"), 1);
    }

    #[tokio::test]
    async fn service_failure_on_create_is_reconciled_not_retried() {
        let fake = FakeIam::start(|action, _, before| match (action, before) {
            ("CreateAccessKey", _) => fake::error(500, "ServiceFailure"),
            ("ListAccessKeys", 0) => fake::listed(USER, &[], None),
            ("ListAccessKeys", _) => fake::listed(USER, &[(NEW_ID, "Active", &now())], None),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let err = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
        assert!(matches!(err, CreateFailure::CreatedWithoutSecret { .. }), "{err:?}");
        assert_eq!(fake.calls("CreateAccessKey"), 1);
    }

    #[tokio::test]
    async fn quota_is_not_retried() {
        let fake = FakeIam::start(|action, _, _| match action {
            "ListAccessKeys" => fake::listed(USER, &[], None),
            _ => fake::error(409, "LimitExceeded"),
        })
        .await;
        let err = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
        assert!(matches!(err, CreateFailure::NotCreated(ref e) if e.is_limit_exceeded()), "{err:?}");
        assert_eq!(fake.calls("CreateAccessKey"), 1);
        assert_eq!(fake.calls("ListAccessKeys"), 1, "only the listing before the call");
    }

    #[tokio::test]
    async fn a_user_not_yet_visible_is_waited_for() {
        let fake = FakeIam::start(|_, _, before| match before {
            0 | 1 => fake::error(404, "NoSuchEntity"),
            _ => fake::created(USER, NEW_ID, SECRET, &now()),
        })
        .await;
        let iam = iam(&fake).await.with_propagation_timeout(Duration::from_secs(30));
        iam.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap();
        assert_eq!(fake.calls("CreateAccessKey"), 3);
    }

    #[tokio::test]
    async fn a_user_that_never_appears_fails_after_the_propagation_timeout() {
        let fake = FakeIam::start(|_, _, _| fake::error(404, "NoSuchEntity")).await;
        let iam = iam(&fake).await.with_propagation_timeout(Duration::from_millis(500));
        let started = std::time::Instant::now();
        let err = iam.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
        assert!(matches!(err, CreateFailure::NotCreated(ref e) if e.is_no_such_entity()), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(3), "bounded wait");
        assert!(fake.calls("CreateAccessKey") >= 2);
        // The caller's own identity has no propagation to wait for: one call.
        let fake = FakeIam::start(|action, _, _| match action {
            "ListAccessKeys" => fake::listed(USER, &[], None),
            _ => fake::error(404, "NoSuchEntity"),
        })
        .await;
        let _ = self::iam(&fake).await.create_access_key(None, &CancellationToken::new()).await.unwrap_err();
        assert_eq!(fake.calls("CreateAccessKey"), 1);
    }

    #[tokio::test]
    async fn a_cancelled_create_sends_nothing() {
        let fake = FakeIam::start(|_, _, _| fake::created(USER, NEW_ID, SECRET, &now())).await;
        let cancel = CancellationToken::new();
        cancel.cancel();
        let err = iam(&fake).await.create_access_key(Some(USER), &cancel).await.unwrap_err();
        assert!(matches!(err, CreateFailure::NotCreated(IamError::Cancelled { .. })));
        assert_eq!(fake.calls("CreateAccessKey"), 0);
    }

    type Listed = Vec<(&'static str, &'static str, String)>;

    /// A fake whose CreateAccessKey fails with `fault` and whose ListAccessKeys
    /// answers `before` first and `after` from then on.
    async fn lost_create(fault: fn() -> Reply, before: Listed, after: Listed) -> FakeIam {
        let page = |keys: &Listed| {
            let rows: Vec<(&str, &str, &str)> = keys.iter().map(|(id, status, date)| (*id, *status, date.as_str())).collect();
            fake::listed(USER, &rows, None)
        };
        FakeIam::start(move |action, _, n| match (action, n) {
            ("CreateAccessKey", _) => fault(),
            ("ListAccessKeys", 0) => page(&before),
            ("ListAccessKeys", _) => page(&after),
            _ => fake::error(400, "Unexpected"),
        })
        .await
    }

    fn service_failure() -> Reply {
        fake::error(500, "ServiceFailure")
    }

    #[tokio::test]
    async fn a_failed_create_never_adopts_a_key_the_user_already_had() {
        // The sibling key is seconds old: only the listing before the call tells it apart.
        for fault in [service_failure as fn() -> Reply, || Reply::Drop] {
            let sibling = vec![(OLD_ID, "Active", now())];
            let fake = lost_create(fault, sibling.clone(), sibling).await;
            let err = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
            assert!(matches!(err, CreateFailure::NotCreated(_)), "{err:?}");
            assert_eq!(fake.calls("CreateAccessKey"), 1);
        }
    }

    #[tokio::test]
    async fn two_new_keys_after_a_lost_answer_are_left_alone() {
        let fake = lost_create(|| Reply::Drop, vec![], vec![("AKIAFAKE00OUTOFBAND1", "Active", now()), (NEW_ID, "Active", now())]).await;
        let err = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
        match err {
            CreateFailure::Unattributable { appeared, .. } => {
                let ids: Vec<&str> = appeared.iter().map(|k| k.access_key_id.as_str()).collect();
                assert_eq!(ids, ["AKIAFAKE00OUTOFBAND1", NEW_ID]);
            }
            other => panic!("expected no adoption, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_new_key_older_than_the_call_is_not_adopted() {
        let fake = lost_create(service_failure, vec![], vec![(OLD_ID, "Active", "2020-01-01T00:00:00Z".into())]).await;
        let err = iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
        assert!(matches!(err, CreateFailure::Unattributable { ref appeared, .. } if appeared.len() == 1), "{err:?}");
    }

    #[tokio::test]
    async fn a_key_another_create_returned_is_never_adopted() {
        // The caller's listing (user None) cannot show the key just created for the
        // caller by name; the provider remembers it.
        let fake = FakeIam::start(|action, form, n| match (action, n) {
            ("CreateAccessKey", 0) => fake::created(USER, NEW_ID, SECRET, &now()),
            ("CreateAccessKey", _) => service_failure(),
            ("ListAccessKeys", _) if form.contains_key("UserName") || n < 2 => fake::listed(USER, &[], None),
            ("ListAccessKeys", _) => fake::listed(USER, &[(NEW_ID, "Active", &now())], None),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let iam = iam(&fake).await;
        iam.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap();
        let err = iam.create_access_key(None, &CancellationToken::new()).await.unwrap_err();
        assert!(matches!(err, CreateFailure::NotCreated(_)), "{err:?}");
    }

    #[tokio::test]
    async fn two_creates_for_one_user_each_get_their_own_key_when_one_answer_is_lost() {
        // IAM as a tiny state machine: what was created is listed.
        let keys: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let held = keys.clone();
        let fake = FakeIam::start(move |action, _, n| match action {
            "CreateAccessKey" => {
                let id = format!("AKIAFAKE0000000NEW{n:02}");
                held.lock().unwrap().push((id.clone(), now()));
                if n == 0 {
                    fake::created(USER, &id, SECRET, &now())
                } else {
                    Reply::Drop
                }
            }
            "ListAccessKeys" => {
                let listed = held.lock().unwrap().clone();
                let rows: Vec<(&str, &str, &str)> = listed.iter().map(|(id, date)| (id.as_str(), "Active", date.as_str())).collect();
                fake::listed(USER, &rows, None)
            }
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let iam = iam(&fake).await;
        let cancel = CancellationToken::new();
        let (a, b) = tokio::join!(iam.create_access_key(Some(USER), &cancel), iam.create_access_key(Some(USER), &cancel));
        let mut ids = Vec::new();
        for outcome in [a, b] {
            match outcome {
                Ok(created) => ids.push(created.metadata.access_key_id),
                Err(CreateFailure::CreatedWithoutSecret { key, .. }) => ids.push(key.access_key_id),
                Err(other) => panic!("each create accounts for its own key: {other:?}"),
            }
        }
        ids.sort();
        assert_eq!(ids, ["AKIAFAKE0000000NEW00", "AKIAFAKE0000000NEW01"], "no key adopted twice");
    }

    #[tokio::test]
    async fn a_create_reuses_a_listing_of_the_last_seconds_and_refuses_without_one() {
        let fake = FakeIam::start(|action, _, _| match action {
            "ListAccessKeys" => fake::listed(USER, &[], None),
            "CreateAccessKey" => fake::created(USER, NEW_ID, SECRET, &now()),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let iam = iam(&fake).await;
        iam.keys_for_read(Some(USER), &CancellationToken::new()).await.unwrap(); // the plan's quota check
        iam.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap();
        assert_eq!(fake.calls("ListAccessKeys"), 1, "the create reused the plan's listing");

        let fake = FakeIam::start(|action, _, _| match action {
            "ListAccessKeys" => fake::error(403, "AccessDenied"),
            _ => fake::created(USER, NEW_ID, SECRET, &now()),
        })
        .await;
        let err = self::iam(&fake).await.create_access_key(Some(USER), &CancellationToken::new()).await.unwrap_err();
        assert!(matches!(err, CreateFailure::NotCreated(ref e) if e.code() == Some("AccessDenied")), "{err:?}");
        assert_eq!(fake.calls("CreateAccessKey"), 0, "a create whose loss could not be reconciled is not sent");
    }

    #[tokio::test]
    async fn listing_follows_every_page() {
        let fake = FakeIam::start(|action, form, before| match (action, before) {
            ("ListAccessKeys", 0) => fake::listed(USER, &[("AKIAFAKE0000000PAGE1", "Active", "2020-01-01T00:00:00Z")], Some("next")),
            ("ListAccessKeys", _) if form.get("Marker").map(String::as_str) == Some("next") => {
                fake::listed(USER, &[("AKIAFAKE0000000PAGE2", "Expired", "2020-01-02T00:00:00Z")], None)
            }
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let keys = iam(&fake).await.list_access_keys(Some(USER), &CancellationToken::new()).await.unwrap();
        let ids: Vec<&str> = keys.iter().map(|k| k.access_key_id.as_str()).collect();
        assert_eq!(ids, ["AKIAFAKE0000000PAGE1", "AKIAFAKE0000000PAGE2"]);
        assert_eq!(keys[1].status, "Expired", "a status the provider does not know is kept as it is");
        assert_eq!(keys[0].create_date.as_deref(), Some("2020-01-01T00:00:00Z"));
    }

    #[tokio::test]
    async fn reads_are_retried_on_throttling_and_server_errors() {
        let fake = FakeIam::start(|action, _, before| match (action, before) {
            ("ListAccessKeys", 0) => fake::error(400, "Throttling"),
            ("ListAccessKeys", 1) => fake::error(500, "ServiceFailure"),
            ("ListAccessKeys", _) => fake::listed(USER, &[], None),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        assert!(iam(&fake).await.list_access_keys(Some(USER), &CancellationToken::new()).await.unwrap().is_empty());
        assert_eq!(fake.calls("ListAccessKeys"), 3);
    }

    #[tokio::test]
    async fn deleting_a_key_that_is_gone_succeeds() {
        let fake = FakeIam::start(|_, _, _| fake::error(404, "NoSuchEntity")).await;
        iam(&fake).await.delete_access_key(USER, NEW_ID, &CancellationToken::new()).await.unwrap();
        let fake = FakeIam::start(|_, _, _| fake::error(409, "DeleteConflict")).await;
        let err = iam(&fake).await.delete_access_key(USER, NEW_ID, &CancellationToken::new()).await.unwrap_err();
        assert_eq!(err.to_string(), "IAM DeleteAccessKey failed: DeleteConflict: DeleteConflict from the fake");
    }

    #[tokio::test]
    async fn a_silent_endpoint_times_out_instead_of_hanging() {
        let fake = FakeIam::start(|_, _, _| Reply::Hang).await;
        let iam = Iam::new(fake.client(Duration::from_millis(300)), 1);
        let started = std::time::Instant::now();
        let err = iam.list_access_keys(Some(USER), &CancellationToken::new()).await.unwrap_err();
        assert!(err.to_string().contains("timed out"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test]
    async fn stop_abandons_a_read_in_flight() {
        let fake = FakeIam::start(|_, _, _| Reply::Hang).await;
        let iam = iam(&fake).await;
        let cancel = CancellationToken::new();
        let stopper = cancel.clone();
        let read = tokio::spawn(async move { iam.list_access_keys(Some(USER), &cancel).await });
        while fake.calls("ListAccessKeys") == 0 {
            tokio::task::yield_now().await;
        }
        stopper.cancel();
        let err = read.await.unwrap().unwrap_err();
        assert!(matches!(err, IamError::Cancelled { operation: "ListAccessKeys" }), "{err:?}");
    }

    #[tokio::test]
    async fn reads_of_one_user_share_one_listing_until_a_write() {
        let fake = FakeIam::start(|action, _, _| match action {
            "ListAccessKeys" => fake::listed(USER, &[(NEW_ID, "Active", "2020-01-01T00:00:00Z")], None),
            "UpdateAccessKey" => fake::empty_ok("UpdateAccessKey"),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let iam = iam(&fake).await;
        let cancel = CancellationToken::new();
        let reads: Vec<_> = (0..10).map(|_| iam.keys_for_read(Some(USER), &cancel)).collect();
        for keys in futures::future::join_all(reads).await {
            assert_eq!(keys.unwrap()[0].access_key_id, NEW_ID);
        }
        iam.keys_for_read(Some(USER), &cancel).await.unwrap();
        assert_eq!(fake.calls("ListAccessKeys"), 1, "ten concurrent reads and a later one: one call");
        iam.keys_for_read(Some("someone-else"), &cancel).await.unwrap();
        assert_eq!(fake.calls("ListAccessKeys"), 2, "another user: another call");
        iam.update_access_key(USER, NEW_ID, "Inactive", &cancel).await.unwrap();
        iam.keys_for_read(Some(USER), &cancel).await.unwrap();
        assert_eq!(fake.calls("ListAccessKeys"), 3, "a write to the user invalidates its listing");
    }

    #[tokio::test]
    async fn a_failed_listing_is_not_kept() {
        let fake = FakeIam::start(|action, _, before| match (action, before) {
            ("ListAccessKeys", 0) => fake::error(400, "AccessDenied"),
            ("ListAccessKeys", _) => fake::listed(USER, &[], None),
            _ => fake::error(400, "Unexpected"),
        })
        .await;
        let iam = iam(&fake).await;
        assert!(iam.keys_for_read(Some(USER), &CancellationToken::new()).await.is_err());
        assert!(iam.keys_for_read(Some(USER), &CancellationToken::new()).await.unwrap().is_empty());
        assert_eq!(fake.calls("ListAccessKeys"), 2);
    }

    #[tokio::test]
    async fn a_refusal_the_sdk_cannot_read_still_names_the_action() {
        // moto's auth errors are EC2-shaped: the awsQuery parser finds no code in them.
        let body = "<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/op is not \
                    authorized to perform: iam:ListAccessKeys</Message></Error></Errors></ErrorResponse>";
        let fake = FakeIam::start(move |_, _, _| Reply::Xml(403, body.into())).await;
        let err = iam(&fake).await.list_access_keys(Some(USER), &CancellationToken::new()).await.unwrap_err();
        assert_eq!(err.code(), Some("AccessDenied"));
        assert!(err.to_string().ends_with("not authorized to perform: iam:ListAccessKeys"), "{err}");
        // No body at all: a 403 is still a refusal of this action.
        let fake = FakeIam::start(move |_, _, _| Reply::Xml(403, String::new())).await;
        let err = iam(&fake).await.list_access_keys(Some(USER), &CancellationToken::new()).await.unwrap_err();
        assert_eq!(err.to_string(), "IAM ListAccessKeys failed: AccessDenied: the credentials are not allowed iam:ListAccessKeys");
    }

    #[tokio::test]
    async fn update_sends_the_status_and_maps_errors() {
        let fake = FakeIam::start(|action, form, _| match (action, form.get("Status").map(String::as_str)) {
            ("UpdateAccessKey", Some("Inactive")) => fake::empty_ok("UpdateAccessKey"),
            _ => fake::error(400, "InvalidInput"),
        })
        .await;
        let iam = iam(&fake).await;
        iam.update_access_key(USER, NEW_ID, "Inactive", &CancellationToken::new()).await.unwrap();
        assert_eq!(iam.update_access_key(USER, NEW_ID, "Active", &CancellationToken::new()).await.unwrap_err().code(), Some("InvalidInput"));
    }
}

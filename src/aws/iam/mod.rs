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
use std::time::Duration;

use futures::future::FutureExt;

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::{StatusType, SummaryKeyType};
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::date_time::Format;
use tokio_util::sync::CancellationToken;

mod cache;
mod create;
mod error;
#[cfg(test)]
mod tests;

use cache::*;
pub use create::{CreateFailure, CreatedKey};
pub use error::IamError;

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
    /// A key created at `created` (seconds since the epoch).
    pub fn created_at(access_key_id: &str, user_name: &str, status: &str, created: i64) -> Self {
        let date = aws_smithy_types::DateTime::from_secs(created);
        KeyMetadata {
            access_key_id: access_key_id.into(),
            user_name: user_name.into(),
            status: status.into(),
            create_date: rfc3339(&date),
            create_secs: Some(created),
        }
    }

    /// Whole days since the key was created, as of `now` (seconds since the epoch).
    pub fn age_days(&self, now: i64) -> Option<i64> {
        self.create_secs.map(|created| (now - created).max(0) / 86_400)
    }
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
        Ok(self.owner_and_last_use(access_key_id, cancel).await?.1)
    }

    /// The user that owns a key, and its last use: one GetAccessKeyLastUsed, which
    /// needs no user name.
    pub async fn owner_and_last_use(&self, access_key_id: &str, cancel: &CancellationToken) -> Result<(Option<String>, LastUsed), IamError> {
        let call = self.client.get_access_key_last_used().access_key_id(access_key_id).send();
        unless_cancelled("GetAccessKeyLastUsed", cancel, async {
            let output = call.await.map_err(|e| IamError::from_sdk("GetAccessKeyLastUsed", e))?;
            // IAM reports "N/A" for a key that was never used.
            let known = |s: Option<&str>| s.filter(|s| !s.is_empty() && *s != "N/A").map(str::to_string);
            let used = output.access_key_last_used();
            let last_use = LastUsed {
                date: used.and_then(|u| u.last_used_date()).and_then(rfc3339),
                service: known(used.map(|u| u.service_name())),
                region: known(used.map(|u| u.region())),
            };
            Ok((output.user_name().map(str::to_string), last_use))
        })
        .await
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

    /// Attaches a managed policy to a user; attaching one already attached changes nothing.
    pub async fn attach_user_policy(&self, user: &str, policy_arn: &str, cancel: &CancellationToken) -> Result<(), IamError> {
        write("AttachUserPolicy", cancel, self.client.attach_user_policy().user_name(user).policy_arn(policy_arn).send()).await
    }

    /// Whether the account's root user holds an access key (GetAccountSummary's
    /// AccountAccessKeysPresent): the one way to learn it through a role, which
    /// cannot list the root user's keys.
    pub async fn root_access_keys_present(&self, cancel: &CancellationToken) -> Result<bool, IamError> {
        let call = self.client.get_account_summary().send();
        unless_cancelled("GetAccountSummary", cancel, async {
            let output = call.await.map_err(|e| IamError::from_sdk("GetAccountSummary", e))?;
            let present = output.summary_map().and_then(|summary| summary.get(&SummaryKeyType::AccountAccessKeysPresent));
            Ok(present.is_some_and(|count| *count > 0))
        })
        .await
    }

    /// The user that owns a key (GetAccessKeyLastUsed, which needs no user name).
    pub async fn owner_of(&self, access_key_id: &str, cancel: &CancellationToken) -> Result<Option<String>, IamError> {
        Ok(self.owner_and_last_use(access_key_id, cancel).await?.0)
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

//! Listings shared by concurrent reads of one user until a write to that user.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt, Shared};

use tokio_util::sync::CancellationToken;

use super::*;

/// One listing call for a user, shared by every read that wants it.
pub(super) type SharedFetch<T> = Shared<BoxFuture<'static, Result<Arc<T>, IamError>>>;

/// How long a listing serves reads. A provider process lives for one Terraform
/// command, so in practice: one call per user and listing kind per refresh.
pub(super) const READ_CACHE_TTL: Duration = Duration::from_secs(30);

/// Listings by user (None: the caller), reused by reads until a write to that
/// user. Concurrent reads of one user wait for the same call; a failed listing is
/// not kept.
pub(super) struct ReadCache<T>(Mutex<CachedListings<T>>);

/// By user: when the listing was started, and the listing.
pub(super) type CachedListings<T> = HashMap<Option<String>, (std::time::Instant, SharedFetch<T>)>;

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
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, CachedListings<T>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn invalidate(&self, user: Option<&str>) {
        self.lock().remove(&user.map(str::to_string));
    }

    /// The listing of `user`, from the cache if it was started less than
    /// `max_age` ago (and no write to the user since), else from `fetch`.
    pub(super) async fn get(
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

//! Retries of our own: the SDK's standard or adaptive mode for every call (set
//! up in `aws::ClientSettings`), and this backoff for the one loop the SDK cannot
//! run (CreateAccessKey, which must never be retried after it may have executed)
//! and the new-key probe.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};

/// Retries after the first attempt, as hashicorp/aws counts them and with its
/// default: IAM's rate limit is per account and shared by every pipeline, so a
/// fleet's refresh must outlast throttling. `operation_timeout` still bounds each call.
pub const DEFAULT_MAX_RETRIES: u32 = 25;

/// Attempts in all for `max_retries` retries (the default when None).
pub fn max_attempts(max_retries: Option<u32>) -> u32 {
    max_retries.unwrap_or(DEFAULT_MAX_RETRIES) + 1
}

/// The longest pause between two attempts, in the SDK's retries and in ours. IAM's
/// rate limit refills continuously, so a long pause leaves it idle while the calls
/// that wait on it sleep: with the SDK's default (20 s), a fleet throttled at 20
/// requests/s took 1.44-1.62x the time the limit itself imposes, most of it in the
/// last calls' long pauses (design/benchmarks.md). Still exponential with jitter
/// below it, so throttled calls spread out.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// The SDK's retry policy for every call but CreateAccessKey: standard (token
/// bucket, exponential backoff with full jitter, capped at `MAX_BACKOFF`) or
/// adaptive (adds client-side rate limiting after throttling).
pub fn sdk_retry_config(adaptive: bool, max_attempts: u32) -> RetryConfig {
    let mode = if adaptive { RetryConfig::adaptive() } else { RetryConfig::standard() };
    mode.with_max_attempts(max_attempts).with_max_backoff(MAX_BACKOFF)
}

/// The retry partition of one service's clients: the SDK's retry quota (a token
/// bucket that each retry drains and only a success refills) is unlimited, so retries
/// are bounded by `max_retries` and `operation_timeout` alone. hashicorp/aws disables
/// that quota too (aws-sdk-go-base#977): under throttling a large plan drained it and
/// failed with "retry quota exceeded", as a throttled apply of 500 keys did here
/// (design/benchmarks.md). Clients built from one service configuration share its
/// partition, and with it adaptive mode's client-side rate limiter.
pub fn retry_partition(service: &'static str) -> RetryPartition {
    RetryPartition::custom(service).token_bucket(TokenBucket::unlimited()).build()
}

/// Exponential backoff from 100 ms, capped at `MAX_BACKOFF`, with up to 100 ms of
/// random jitter (so that creates throttled together do not retry together).
pub fn backoff(attempt: u32) -> Duration {
    use rand::Rng;
    let base = Duration::from_millis(100).saturating_mul(1 << attempt.min(6)).min(MAX_BACKOFF);
    base + Duration::from_millis(rand::thread_rng().gen_range(0..100))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::fake::{self, FakeIam};

    /// IAM answering Throttling nine times out of ten, and `operations` ListAccessKeys
    /// in a row through a client with `partition`; how many succeeded.
    async fn throttled_listings(partition: Option<RetryPartition>, operations: usize) -> usize {
        let fake = FakeIam::start(|_, _, before| if before % 10 == 9 { fake::listed("u", &[], None) } else { fake::error(400, "Throttling") }).await;
        let mut config = fake
            .client(Duration::from_secs(30))
            .config()
            .to_builder()
            .retry_config(sdk_retry_config(false, 26).with_initial_backoff(Duration::from_millis(1)).with_max_backoff(Duration::from_millis(1)));
        if let Some(partition) = partition {
            config = config.retry_partition(partition);
        }
        let client = aws_sdk_iam::Client::from_conf(config.build());
        let mut succeeded = 0;
        for _ in 0..operations {
            succeeded += usize::from(client.list_access_keys().user_name("u").send().await.is_ok());
        }
        succeeded
    }

    #[tokio::test]
    async fn throttling_retries_are_bounded_by_attempts_not_by_the_sdk_retry_quota() {
        // Each listing succeeds at its tenth attempt: 9 throttled retries, 45 of the
        // default quota's 500 tokens that the success does not give back.
        assert!(throttled_listings(None, 15).await < 15, "the SDK's default quota runs out (the premise)");
        assert_eq!(throttled_listings(Some(retry_partition("iam")), 15).await, 15);
    }
}

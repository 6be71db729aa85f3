//! Retries of our own: the SDK's standard or adaptive mode for every call (set
//! up in `aws::ClientSettings`), and this backoff for the one loop the SDK cannot
//! run (CreateAccessKey, which must never be retried after it may have executed)
//! and the new-key probe.

use std::time::Duration;

use aws_config::retry::RetryConfig;

/// Retries after the first attempt, as hashicorp/aws counts them and with its
/// default: IAM's rate limit is per account and shared by every pipeline, so a
/// fleet's refresh must outlast throttling. `operation_timeout` still bounds each call.
pub const DEFAULT_MAX_RETRIES: u32 = 25;

/// Attempts in all for `max_retries` retries (the default when None).
pub fn max_attempts(max_retries: Option<u32>) -> u32 {
    max_retries.unwrap_or(DEFAULT_MAX_RETRIES) + 1
}

/// The SDK's retry policy for every call but CreateAccessKey: standard (token
/// bucket, exponential backoff with jitter) or adaptive (adds client-side rate
/// limiting after throttling).
pub fn sdk_retry_config(adaptive: bool, max_attempts: u32) -> RetryConfig {
    let mode = if adaptive { RetryConfig::adaptive() } else { RetryConfig::standard() };
    mode.with_max_attempts(max_attempts)
}

/// Exponential backoff from 100 ms, capped at 5 s, with up to 100 ms of random jitter
/// (so that creates throttled together do not retry together).
pub fn backoff(attempt: u32) -> Duration {
    use rand::Rng;
    let base = Duration::from_millis(100).saturating_mul(1 << attempt.min(6)).min(Duration::from_secs(5));
    base + Duration::from_millis(rand::thread_rng().gen_range(0..100))
}

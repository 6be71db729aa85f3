//! Failure points for the reliability tests, compiled only with the `test-hooks`
//! feature (the test suite's): other builds carry no way to trigger them.
//!
//! `IAMKEY_TEST_PANIC_AT=<point>[,<point>…]` panics at the named points;
//! `IAMKEY_TEST_FAIL_AT=<point>[,…]` makes `fail_point` report a failure there.
//! Points: an RPC name (`ReadResource`, …), `after-create`, `pgp-encrypt`.
//! `IAMKEY_TEST_DAYS_AHEAD=<n>` moves the clock that ages keys n days ahead.

#[cfg(feature = "test-hooks")]
fn armed(variable: &str, point: &str) -> bool {
    std::env::var(variable).is_ok_and(|points| points.split(',').any(|p| p.trim() == point))
}

/// Panics when the tests armed this point.
pub fn panic_point(point: &str) {
    #[cfg(feature = "test-hooks")]
    if armed("IAMKEY_TEST_PANIC_AT", point) {
        panic!("panic injected at {point} by IAMKEY_TEST_PANIC_AT");
    }
    #[cfg(not(feature = "test-hooks"))]
    let _ = point;
}

/// True when the tests want this point to fail.
pub fn fail_point(point: &str) -> bool {
    #[cfg(feature = "test-hooks")]
    return armed("IAMKEY_TEST_FAIL_AT", point);
    #[cfg(not(feature = "test-hooks"))]
    {
        let _ = point;
        false
    }
}

/// Days the tests move the clock ahead (`IAMKEY_TEST_DAYS_AHEAD`), so they can age
/// a key without waiting; always 0 in builds without test hooks.
pub fn days_ahead() -> i64 {
    #[cfg(feature = "test-hooks")]
    if let Some(days) = std::env::var("IAMKEY_TEST_DAYS_AHEAD").ok().and_then(|d| d.parse::<i64>().ok()) {
        return days;
    }
    0
}

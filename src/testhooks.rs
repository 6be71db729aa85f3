//! Failure points for the reliability tests, compiled only into debug builds:
//! release binaries carry no way to trigger them.
//!
//! `IAMKEY_TEST_PANIC_AT=<point>[,<point>…]` panics at the named points;
//! `IAMKEY_TEST_FAIL_AT=<point>[,…]` makes `fail_point` report a failure there.
//! Points: an RPC name (`ReadResource`, …), `after-create`, `pgp-encrypt`.
//! `IAMKEY_TEST_DAYS_AHEAD=<n>` moves the clock that ages keys n days ahead.

#[cfg(debug_assertions)]
fn armed(variable: &str, point: &str) -> bool {
    std::env::var(variable).is_ok_and(|points| points.split(',').any(|p| p.trim() == point))
}

/// Panics when the tests armed this point.
pub fn panic_point(point: &str) {
    #[cfg(debug_assertions)]
    if armed("IAMKEY_TEST_PANIC_AT", point) {
        panic!("panic injected at {point} by IAMKEY_TEST_PANIC_AT");
    }
    #[cfg(not(debug_assertions))]
    let _ = point;
}

/// True when the tests want this point to fail.
pub fn fail_point(point: &str) -> bool {
    #[cfg(debug_assertions)]
    return armed("IAMKEY_TEST_FAIL_AT", point);
    #[cfg(not(debug_assertions))]
    {
        let _ = point;
        false
    }
}

/// Seconds since the epoch: the clock that ages keys. Debug builds add
/// `IAMKEY_TEST_DAYS_AHEAD` days, so tests can age a key without waiting.
pub fn now_secs() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    #[cfg(debug_assertions)]
    if let Some(days) = std::env::var("IAMKEY_TEST_DAYS_AHEAD").ok().and_then(|d| d.parse::<i64>().ok()) {
        return now + days * 86_400;
    }
    now
}

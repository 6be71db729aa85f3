//! The clock operations read (a key's age, an ephemeral key's expiry), injected
//! through `OpContext` so that tests can move it instead of waiting.

/// Seconds since the Unix epoch.
pub trait Clock: Send + Sync {
    fn now_secs(&self) -> i64;
}

/// The system clock, moved ahead by `ahead_secs` (0 in production; test builds
/// let the end-to-end tests age keys by days).
#[derive(Debug, Default)]
pub struct SystemClock {
    pub ahead_secs: i64,
}

impl Clock for SystemClock {
    fn now_secs(&self) -> i64 {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        now + self.ahead_secs
    }
}

/// A clock that stands still, for unit tests.
#[derive(Debug)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_secs(&self) -> i64 {
        self.0
    }
}

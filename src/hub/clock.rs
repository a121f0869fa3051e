//! The hub's clock. Deadlines and consent periods are judged by it, so tests
//! can move time forward instead of waiting.

use std::sync::Mutex;

use time::OffsetDateTime;

/// Where the hub gets "now".
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that moves only when told (for tests and rehearsals).
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// Starting at the system time.
    pub fn new() -> Self {
        Self(Mutex::new(OffsetDateTime::now_utc()))
    }

    /// The time this clock shows (same as [`Clock::now`], without the trait).
    pub fn now_for_test(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Move forward.
    pub fn advance(&self, by: time::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

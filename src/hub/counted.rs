//! A warning for refusals that a flood could repeat thousands of times:
//! logged at most once a minute with the count since the last one (each
//! refusal itself is logged at debug level where it is decided). A TLS scan,
//! a handshake flood or a runaway sender would otherwise write a line each.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(crate) struct CountedWarning {
    what: &'static str,
    /// Since the last warning, and when that was.
    state: Mutex<(u64, Option<Instant>)>,
}

impl CountedWarning {
    const EVERY: Duration = Duration::from_secs(60);

    /// A warning that says `what` was refused.
    pub(crate) const fn new(what: &'static str) -> Self {
        Self {
            what,
            state: Mutex::new((0, None)),
        }
    }

    /// Count one refusal, the latest for `last`.
    pub(crate) fn note(&self, last: &'static str) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 += 1;
        if state.1.is_none_or(|at| at.elapsed() >= Self::EVERY) {
            tracing::warn!(
                count = state.0,
                last,
                "{} (counted; logged at most once a minute, each one at debug level)",
                self.what
            );
            *state = (0, Some(Instant::now()));
        }
    }
}

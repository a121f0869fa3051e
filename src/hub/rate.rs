//! Per-agency send rates: envelopes per second and bytes per second, each
//! with a burst above the sustained rate (GCRA, from `governor`).
//!
//! Checked before anything else is done with a submission, so an agency
//! over its rate costs the hub a map lookup: no parsing, no signature
//! check, no database write. Not audited for the same reason: the audit is a
//! database write per request, which is the very load the limit sheds. The
//! refusal is logged, counted, at most once a minute per hub.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::counted::CountedWarning;
use super::{HubError, Limits};
use crate::protocol::{AgencyId, ErrorCode};

/// The hub's send limiters; a rate of 0 has none.
pub(crate) struct SendRate {
    envelopes: Option<DefaultKeyedRateLimiter<AgencyId>>,
    bytes: Option<DefaultKeyedRateLimiter<AgencyId>>,
    clock: DefaultClock,
    warning: CountedWarning,
    /// Since the hub started.
    total: std::sync::atomic::AtomicU64,
}

impl SendRate {
    pub(crate) fn new(limits: &Limits) -> Self {
        // A burst smaller than the largest envelope would refuse that
        // envelope for ever, whatever the wait.
        let largest = u32::try_from(limits.max_body_bytes()).unwrap_or(u32::MAX);
        Self {
            envelopes: limiter(
                limits.send_envelopes_per_second,
                limits.send_envelopes_burst,
            ),
            bytes: limiter(
                limits.send_bytes_per_second,
                limits.send_bytes_burst.max(largest),
            ),
            clock: DefaultClock::default(),
            warning: CountedWarning::new("sends refused over an agency's rate limit"),
            total: Default::default(),
        }
    }

    /// Room for one more envelope of `bytes` from `agency`, or a refusal
    /// that says when to retry.
    pub(crate) fn check(&self, agency: &AgencyId, bytes: usize) -> Result<(), HubError> {
        let now = self.clock.now();
        if let Some(envelopes) = &self.envelopes
            && let Err(not_until) = envelopes.check_key(agency)
        {
            return Err(self.refuse(agency, not_until.wait_time_from(now)));
        }
        let Some(limiter) = &self.bytes else {
            return Ok(());
        };
        let n =
            NonZeroU32::new(u32::try_from(bytes).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN);
        match limiter.check_key_n(agency, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(self.refuse(agency, not_until.wait_time_from(now))),
            // Larger than the burst: only a body over the size limit, which
            // the size check refuses by its own code.
            Err(_) => Ok(()),
        }
    }

    fn refuse(&self, agency: &AgencyId, wait: Duration) -> HubError {
        // Whole seconds (the header's unit), rounded up, at least one: a
        // node that waits what it was told finds room.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let secs = secs.max(1);
        tracing::debug!(%agency, retry_after = secs, "send rate exceeded");
        self.count();
        HubError::new(
            ErrorCode::RateLimited,
            format!("送信が多すぎます。{secs} 秒後に再送してください（何も保存されていません）。"),
            format!("too many sends from this agency; nothing was stored, retry in {secs} s"),
        )
        .retry_after(secs)
    }

    /// Sends refused over a rate since the hub started.
    pub(crate) fn refused(&self) -> u64 {
        self.total.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn count(&self) {
        self.total
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.warning.note("rate limited");
    }
}

fn limiter(per_second: u32, burst: u32) -> Option<DefaultKeyedRateLimiter<AgencyId>> {
    let rate = NonZeroU32::new(per_second)?;
    let burst = NonZeroU32::new(burst).unwrap_or(rate).max(rate);
    Some(DefaultKeyedRateLimiter::keyed(
        Quota::per_second(rate).allow_burst(burst),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(envelopes: u32, bytes: u32) -> Limits {
        Limits {
            send_envelopes_per_second: envelopes,
            send_envelopes_burst: envelopes,
            send_bytes_per_second: bytes,
            send_bytes_burst: bytes,
            max_envelope_bytes: 1024,
            ..Limits::default()
        }
    }

    #[test]
    fn past_its_burst_an_agency_is_refused_with_a_retry_after_and_others_are_not() {
        let rate = SendRate::new(&limits(2, 0));
        let a: AgencyId = "sakura-clinic".parse().unwrap();
        let b: AgencyId = "minato-center".parse().unwrap();
        rate.check(&a, 10).unwrap();
        rate.check(&a, 10).unwrap();
        let refused = rate.check(&a, 10).unwrap_err();
        assert_eq!(refused.code, ErrorCode::RateLimited);
        assert_eq!(refused.retry_after, Some(1));
        rate.check(&b, 10).unwrap();
    }

    #[test]
    fn bytes_are_counted_and_a_rate_of_zero_is_no_limit() {
        let rate = SendRate::new(&limits(0, 200_000));
        let a: AgencyId = "sakura-clinic".parse().unwrap();
        rate.check(&a, 150_000).unwrap();
        assert!(rate.check(&a, 150_000).is_err());
        let unlimited = SendRate::new(&limits(0, 0));
        for _ in 0..10_000 {
            unlimited.check(&a, 1 << 20).unwrap();
        }
    }
}

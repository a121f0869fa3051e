//! The deadline lease: several hub processes on one database share the
//! deadline and reminder checks, and only the holder of this lease does
//! them. The store's conditional updates already make a check idempotent
//! (two hubs never escalate one miss twice), but without the lease every hub
//! would read every due row and race for it on each tick.
//!
//! A lease (a row: holder, expiry) rather than a PostgreSQL advisory lock:
//! an advisory lock belongs to one database session, and a pooled
//! connection that is recycled, or silently reconnected, drops it (or keeps
//! it on a connection the hub no longer uses). A row works the same on
//! SQLite and PostgreSQL, and its expiry bounds how long a dead holder
//! blocks the others: the holder renews it on each of its checks; a hub that
//! dies stops renewing, and another takes it over on its first check after
//! the expiry.

use std::sync::Mutex;

use super::Hub;
use crate::protocol::Timestamp;
use crate::store::StoreError;

/// The lease's name in `hub_leases`.
pub(crate) const DEADLINE_LEASE: &str = "deadline-checks";

/// This process's name as a lease holder, and who held the lease when it
/// last looked (to log changes only).
pub(super) struct Holder {
    name: String,
    last_seen: Mutex<Option<String>>,
}

impl Holder {
    /// A name unique to this process: host, process id and a random part
    /// (a restarted hub on the same host may get the same pid back).
    pub(super) fn new() -> Self {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_default();
        let host = if host.is_empty() {
            "hub".to_owned()
        } else {
            host
        };
        let random = uuid::Uuid::new_v4().simple().to_string();
        Self {
            name: format!("{host}/{}/{}", std::process::id(), &random[..8]),
            last_seen: Mutex::new(None),
        }
    }

    /// Log at info when the holder changed since the last look.
    fn observe(&self, holder: &str) {
        let mut last = self.last_seen.lock().unwrap_or_else(|e| e.into_inner());
        if last.as_deref() == Some(holder) {
            return;
        }
        if holder == self.name {
            tracing::info!(hub = %self.name, "deadline checks: this hub holds the lease and runs them");
        } else {
            tracing::info!(hub = %self.name, holder, "deadline checks: another hub holds the lease");
        }
        *last = Some(holder.to_owned());
    }
}

impl Hub {
    /// This hub process's name as a lease holder (in logs and `hub_leases`).
    pub fn instance(&self) -> &str {
        &self.holder.name
    }

    /// Take or renew the deadline lease as of the hub clock; whether this
    /// hub holds it now.
    pub(super) async fn hold_deadline_lease(&self) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let until = now + self.deadlines.lease();
        let lease = self
            .store
            .take_lease(
                DEADLINE_LEASE,
                &self.holder.name,
                &Timestamp::from_datetime(now),
                &Timestamp::from_datetime(until),
            )
            .await?;
        self.holder.observe(&lease.holder);
        Ok(lease.holder == self.holder.name)
    }

    /// Give the lease up on a graceful stop, so another hub takes over on
    /// its next check rather than after the expiry.
    pub(super) async fn release_deadline_lease(&self) {
        if let Err(e) = self
            .store
            .release_lease(DEADLINE_LEASE, &self.holder.name)
            .await
        {
            tracing::warn!(error = %e, "could not release the deadline lease; another hub takes it when it expires");
        }
    }
}

//! Who may hold what before and after the TLS handshake.
//!
//! A handshake in progress is unauthenticated: anyone who can reach the
//! port can start one. So handshakes get their own budget, overall and per
//! source address, and hold no `max_connections` permit: a flood of
//! half-open handshakes fills its own budget (and, from one address, only
//! that address's share of it) while agencies keep connecting. A
//! connection takes a `max_connections` permit once its handshake succeeded,
//! i.e. once a certificate of our CA has been verified, and a slot of its
//! agency's share.
//!
//! Over a budget the connection is closed at once rather than queued: a
//! queue would make agencies wait behind the flood, and a closed connection
//! costs the flooder more than it costs us.

use std::net::IpAddr;
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Limits;
use super::counted::CountedWarning;
use super::metrics::{Held, Metrics};
use super::slots::{Slot, Slots};
use crate::protocol::AgencyId;

/// The budgets of one listening hub.
pub(super) struct Admission {
    /// `None`: no overall limit (`max_handshakes = 0`).
    handshakes: Option<Arc<Semaphore>>,
    per_address: Arc<Slots<IpAddr>>,
    connections: Arc<Semaphore>,
    per_agency: Arc<Slots<Option<AgencyId>>>,
    /// Connections closed before they could send a request: handshakes
    /// refused or timed out, budgets full.
    pub(super) refusals: CountedWarning,
    pub(super) metrics: Arc<Metrics>,
}

/// A handshake's place in the budget, held until it ends.
pub(super) struct HandshakeTicket {
    _overall: Option<OwnedSemaphorePermit>,
    _address: Slot<IpAddr>,
    _counted: Held,
}

/// An authenticated connection's place, held until it closes.
pub(super) struct ConnectionTicket {
    _overall: OwnedSemaphorePermit,
    _agency: Slot<Option<AgencyId>>,
}

/// Why a connection was not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Over {
    /// Too many handshakes in progress overall.
    Handshakes,
    /// Too many handshakes in progress from this address.
    Address,
    /// `max_connections` connections are open.
    Connections,
    /// The agency holds `max_connections_per_agency` connections.
    Agency,
}

impl Over {
    fn what(self) -> &'static str {
        match self {
            Over::Handshakes => "over max_handshakes",
            Over::Address => "over max_handshakes_per_address",
            Over::Connections => "over max_connections",
            Over::Agency => "over max_connections_per_agency",
        }
    }

    /// The metric's label.
    fn reason(self) -> &'static str {
        match self {
            Over::Handshakes => "max_handshakes",
            Over::Address => "max_handshakes_per_address",
            Over::Connections => "max_connections",
            Over::Agency => "max_connections_per_agency",
        }
    }
}

impl Admission {
    pub(super) fn new(limits: &Limits, metrics: Arc<Metrics>) -> Self {
        let (connections, handshakes) =
            descriptor_budget(limits.max_connections, limits.max_handshakes);
        Self {
            handshakes: (handshakes != 0).then(|| Arc::new(Semaphore::new(handshakes))),
            per_address: Slots::new(limits.max_handshakes_per_address),
            connections: Arc::new(Semaphore::new(connections)),
            per_agency: Slots::new(limits.max_connections_per_agency),
            refusals: CountedWarning::new("TLS handshakes refused or timed out"),
            metrics,
        }
    }

    /// A place for a handshake from `address`, or why there is none.
    pub(super) fn handshake(&self, address: IpAddr) -> Result<HandshakeTicket, Over> {
        // The address first: a flood from one address must not use up the
        // overall budget it is refused from.
        let address = self.per_address.try_take(&address).ok_or(Over::Address)?;
        let overall = match &self.handshakes {
            Some(budget) => Some(
                budget
                    .clone()
                    .try_acquire_owned()
                    .map_err(|_| Over::Handshakes)?,
            ),
            None => None,
        };
        Ok(HandshakeTicket {
            _overall: overall,
            _address: address,
            _counted: self.metrics.handshake(),
        })
    }

    /// A place for an authenticated connection of `agency` (`None`: a
    /// certificate of our CA that the directory does not list; those share
    /// one agency's share).
    pub(super) fn connection(&self, agency: &Option<AgencyId>) -> Result<ConnectionTicket, Over> {
        let overall = self
            .connections
            .clone()
            .try_acquire_owned()
            .map_err(|_| Over::Connections)?;
        let agency = self.per_agency.try_take(agency).ok_or(Over::Agency)?;
        Ok(ConnectionTicket {
            _overall: overall,
            _agency: agency,
        })
    }

    /// Count a connection closed for `over`.
    pub(super) fn note(&self, over: Over) {
        self.refusals.note(over.what());
        self.metrics.handshake_refused(over.reason());
    }

    /// Count a handshake that failed: `what` for the log, `reason` for the
    /// metric.
    pub(super) fn failed(&self, what: &'static str, reason: &'static str) {
        self.refusals.note(what);
        self.metrics.handshake_refused(reason);
    }
}

/// Descriptors kept for what is not a connection: the database, the
/// listener, the runtime, logs.
const RESERVED_FILES: u64 = 64;

/// How many connections and handshakes the hub can hold open: as
/// configured, unless the process's file limit (raised to its hard limit
/// first) cannot honour both — then fewer, with a warning naming the fix.
/// Accepting past the limit would fail every accept with EMFILE.
fn descriptor_budget(connections: usize, handshakes: usize) -> (usize, usize) {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the file limit; keeping max_connections");
            return (connections, handshakes);
        }
    };
    let honourable = usize::try_from(limit.saturating_sub(RESERVED_FILES))
        .unwrap_or(usize::MAX)
        .max(2);
    split_budget(connections, handshakes, honourable, limit)
}

fn split_budget(
    connections: usize,
    handshakes: usize,
    honourable: usize,
    limit: u64,
) -> (usize, usize) {
    if connections.saturating_add(handshakes) <= honourable {
        return (connections, handshakes);
    }
    // Handshakes keep at most a quarter: authenticated agencies come first.
    // Unlimited ones (0) stay unlimited: the operator chose that, and the
    // accept backoff is what then holds.
    let handshakes = match handshakes {
        0 => 0,
        n => n.min(honourable / 4).max(1),
    };
    let connections = connections.min(honourable - handshakes).max(1);
    tracing::warn!(
        file_limit = limit,
        capped = connections,
        handshakes,
        "max_connections exceeds what the file limit allows: capped (raise LimitNOFILE / ulimit -n to keep it)"
    );
    (connections, handshakes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_the_file_limit_cannot_hold_keeps_a_quarter_for_handshakes() {
        assert_eq!(split_budget(100, 20, 1000, 1064), (100, 20));
        assert_eq!(split_budget(10_000, 256, 96, 160), (72, 24));
        assert_eq!(split_budget(10_000, 0, 96, 160), (96, 0));
    }
}

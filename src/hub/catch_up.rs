//! Catch-up: the safety net under LISTEN/NOTIFY. A hub that misses a
//! notification (its listener connection stalled or was dropped, or a bug)
//! would leave a socket it holds asleep with a delivery waiting. Every
//! `catch_up_interval_secs` the hub reads every agency's highest assigned
//! sequence number in ONE query (a row per agency, not per socket: a hub may
//! hold 10 000 sockets) and wakes the agencies whose head moved since its
//! previous read. A missed notification so delays a delivery by at most one
//! interval and loses nothing.
//!
//! Why comparing heads is enough: a session reads its pending deliveries
//! after every wakeup; a commit it did not see landed after that read, so
//! after this hub's previous head read too or not — either way the next read
//! differs from the previous one (a head only changes by a commit) and
//! wakes the agency. The first read is taken before the hub accepts any
//! connection, so no session predates it.

use std::collections::HashMap;

use tokio::time::MissedTickBehavior;

use super::Hub;
use crate::protocol::{AgencyId, Seq};
use crate::store::StoreError;

/// The heads of the previous read.
#[derive(Debug, Default)]
pub(super) struct Heads(HashMap<AgencyId, Seq>);

impl Heads {
    /// Take the heads just read; return the agencies whose head differs from
    /// the previous read (new agencies included). Any difference counts, not
    /// only growth: a database restored from an older backup moves heads
    /// back, and its sockets must look again too.
    pub(super) fn advance(&mut self, read: Vec<(AgencyId, Seq)>) -> Vec<AgencyId> {
        let mut moved = Vec::new();
        let mut next = HashMap::with_capacity(read.len());
        for (agency, seq) in read {
            if self.0.get(&agency) != Some(&seq) {
                moved.push(agency.clone());
            }
            next.insert(agency, seq);
        }
        self.0 = next;
        moved
    }
}

/// Read the first heads now (before the hub accepts a connection), then
/// compare every interval until shutdown.
pub(super) async fn spawn(hub: &Hub) -> Result<(), StoreError> {
    let mut heads = Heads::default();
    heads.advance(hub.store.delivery_heads().await?);
    let hub = hub.clone();
    let every = hub.limits.catch_up_interval();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => catch_up(&hub, &mut heads).await,
                _ = hub.shutdown.cancelled() => return,
            }
        }
    });
    Ok(())
}

async fn catch_up(hub: &Hub, heads: &mut Heads) {
    match hub.store.delivery_heads().await {
        Ok(read) => {
            let moved = heads.advance(read);
            if !moved.is_empty() {
                tracing::debug!(
                    agencies = moved.len(),
                    "catch-up: waking agencies with new deliveries"
                );
            }
            for agency in &moved {
                hub.wake.notify(agency);
            }
        }
        // The heads of the last good read stay: the next good read compares
        // against them, so nothing committed meanwhile is passed over.
        Err(e) => tracing::warn!(error = %e, "catch-up read failed; trying again next interval"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heads(pairs: &[(&str, u64)]) -> Vec<(AgencyId, Seq)> {
        pairs
            .iter()
            .map(|(a, s)| (a.parse().unwrap(), Seq(*s)))
            .collect()
    }

    #[test]
    fn only_agencies_whose_head_moved_are_woken() {
        let mut h = Heads::default();
        let first = h.advance(heads(&[("minato-center", 3), ("sakura-clinic", 1)]));
        assert_eq!(first.len(), 2, "the first read sees every agency as new");
        assert!(
            h.advance(heads(&[("minato-center", 3), ("sakura-clinic", 1)]))
                .is_empty()
        );
        let moved = h.advance(heads(&[
            ("minato-center", 4),
            ("sakura-clinic", 1),
            ("hikari-nursery", 1),
        ]));
        let names: Vec<&str> = moved.iter().map(|a| a.as_str()).collect();
        assert_eq!(names, ["minato-center", "hikari-nursery"]);
    }

    #[test]
    fn a_head_that_moves_back_wakes_its_agency_too() {
        let mut h = Heads::default();
        h.advance(heads(&[("minato-center", 9)]));
        let moved = h.advance(heads(&[("minato-center", 2)]));
        assert_eq!(moved.len(), 1);
    }
}

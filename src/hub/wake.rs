//! Wakes the sockets of an agency when a delivery for it is committed.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

use crate::protocol::AgencyId;

/// One watch channel per agency; its value only counts commits.
#[derive(Default)]
pub(crate) struct Wakeups {
    channels: Mutex<HashMap<AgencyId, watch::Sender<u64>>>,
}

impl Wakeups {
    /// A receiver that changes whenever `agency` gets a new delivery.
    pub(crate) fn subscribe(&self, agency: &AgencyId) -> watch::Receiver<u64> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels
            .entry(agency.clone())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// Tell `agency`'s sockets that new deliveries are committed.
    pub(crate) fn notify(&self, agency: &AgencyId) {
        let channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = channels.get(agency) {
            tx.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Wake every socket (after notifications may have been lost).
    pub(crate) fn notify_all(&self) {
        let channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        for tx in channels.values() {
            tx.send_modify(|n| *n = n.wrapping_add(1));
        }
    }
}

//! A hub restored from a backup, as the node sees it: the epoch in
//! `welcome` changed. The node then resumes from what the restored hub
//! holds (its `hello` carried the old epoch, so the hub already ignored
//! its cursor and resends everything unacknowledged, which the node
//! stores once by envelope id), sends again what the hub may have lost,
//! and records the restore. The hub's audit chain is now shorter than the
//! one it signed before: that is the restore, recorded with both lengths,
//! not silent tampering; the older checkpoints stay as the evidence.

use crate::protocol::epoch::HubEpoch;
use crate::store::StoreError;
use crate::store::records::{RestoreRow, Welcomed};

use super::{Node, NodeEvent};

/// How long before the restored database's `since` the node starts
/// sending again what it had sent: the node's and the hub's clocks differ,
/// and a resend the hub holds is only answered `duplicate`.
pub const DEFAULT_RESEND_MARGIN_SECS: u64 = 3600;

impl Node {
    /// Act on the epoch a `welcome` carried, before the first delivery.
    pub(super) async fn welcomed(&self, epoch: Option<&HubEpoch>) -> Result<(), StoreError> {
        let Some(epoch) = epoch else {
            return Ok(());
        };
        match self.records.welcomed(epoch, self.resend_margin).await? {
            Welcomed::Same => {}
            Welcomed::First => {
                tracing::info!(agency = %self.id, epoch = %epoch.id, "the hub's database epoch, first seen");
            }
            Welcomed::Restored(restore) => {
                tracing::warn!(
                    agency = %self.id,
                    from = %restore.from_epoch,
                    to = %restore.to_epoch,
                    since = %restore.since,
                    resent = restore.resent,
                    "the hub's database epoch changed: resuming from what the restored hub holds and sending again what it accepted since the backup"
                );
                self.outbox.reconnected();
            }
        }
        Ok(())
    }

    /// The first checkpoint after a restore: the chain's lengths are known.
    pub(super) fn restore_checkpointed(&self, restore: RestoreRow) {
        let before = restore
            .chain_before
            .map_or_else(|| "?".to_owned(), |n| n.to_string());
        let after = restore.chain_after.unwrap_or_default();
        tracing::warn!(
            agency = %self.id,
            "the hub was restored from a backup: epoch {} → {}, chain {before} → {after}; entries after the backup are gone from the hub (kept checkpoints: `tsunagu agency checkpoints show`)",
            restore.from_epoch,
            restore.to_epoch,
        );
        let _ = self.events.send(NodeEvent::HubRestored(restore));
    }
}

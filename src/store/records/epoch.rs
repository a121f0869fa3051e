//! The hub database's epoch as this node last saw it, and what the node
//! does when it changes (the hub was restored from a backup): its cursor
//! restarts at the hub's view, what it had sent since the backup is queued
//! to be sent again, and the restore is recorded. All in one transaction,
//! before the first delivery of the new epoch is read.

use std::time::Duration;

use super::Records;
use crate::protocol::Timestamp;
use crate::protocol::epoch::{EpochId, HubEpoch};
use crate::store::StoreError;

/// What the epoch in a `welcome` meant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Welcomed {
    /// The epoch of the last `welcome`.
    Same,
    /// The first epoch seen (a new node, or a hub that just gained epochs):
    /// adopted, with the checkpoints held so far.
    First,
    /// Another epoch: the hub was restored from a backup.
    Restored(RestoreRow),
}

/// A restore the node noticed.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RestoreRow {
    pub from_epoch: String,
    pub to_epoch: String,
    pub since: Timestamp,
    /// The longest audit chain a checkpoint showed before (if any held).
    pub chain_before: Option<i64>,
    /// The chain's length in the new epoch's first checkpoint.
    pub chain_after: Option<i64>,
    /// The node's highest sequence when it noticed.
    pub cursor_before: i64,
    /// Sent envelopes queued to be sent again.
    pub resent: i64,
    pub detected_at: Timestamp,
}

impl Records {
    /// The epoch of the last `welcome`, sent back in `hello`.
    pub async fn hub_epoch(&self) -> Result<Option<EpochId>, StoreError> {
        let (epoch,): (Option<String>,) =
            sqlx::query_as("SELECT epoch FROM stream_cursor WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        epoch
            .map(|e| {
                e.parse()
                    .map_err(|e: crate::protocol::epoch::EpochIdError| {
                        StoreError::Corrupt(e.to_string())
                    })
            })
            .transpose()
    }

    /// Record the epoch a `welcome` carried. On a change, restart the
    /// cursor at the hub's view (numbering on from the highest sequence
    /// held), and queue again every envelope the hub accepted from
    /// `margin` before the epoch's `since` on: the restored hub may not
    /// hold them, and it answers `duplicate` for those it does.
    pub async fn welcomed(
        &self,
        epoch: &HubEpoch,
        margin: Duration,
    ) -> Result<Welcomed, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let (seen, last_seq): (Option<String>, i64) =
            sqlx::query_as("SELECT epoch, last_seq FROM stream_cursor WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        let new = epoch.id.as_str();
        let Some(old) = seen else {
            sqlx::query("UPDATE stream_cursor SET epoch = ? WHERE id = 1")
                .bind(new)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE hub_checkpoints SET epoch = ? WHERE epoch IS NULL")
                .bind(new)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Welcomed::First);
        };
        if old == new {
            return Ok(Welcomed::Same);
        }
        let (chain_before,): (Option<i64>,) = sqlx::query_as(
            "SELECT MAX(count) FROM hub_checkpoints WHERE epoch IS ? AND contradicts IS NULL",
        )
        .bind(&old)
        .fetch_one(&mut *tx)
        .await?;
        let margin_ms = i64::try_from(margin.as_millis()).unwrap_or(i64::MAX);
        let from = Timestamp::from_unix_millis(epoch.since.unix_millis().saturating_sub(margin_ms))
            .unwrap_or(epoch.since);
        let resent = sqlx::query(
            "UPDATE outbox SET status = 'pending', detail = NULL, attempts = 0, next_attempt_at = 0 \
             WHERE status = 'accepted' AND updated_at >= ?",
        )
        .bind(from)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("UPDATE stream_cursor SET epoch = ?, seq_offset = last_seq WHERE id = 1")
            .bind(new)
            .execute(&mut *tx)
            .await?;
        let row = RestoreRow {
            from_epoch: old,
            to_epoch: new.to_owned(),
            since: epoch.since,
            chain_before,
            chain_after: None,
            cursor_before: last_seq,
            resent: i64::try_from(resent).unwrap_or(i64::MAX),
            detected_at: Timestamp::now(),
        };
        sqlx::query(
            "INSERT INTO hub_restores (from_epoch, to_epoch, since, chain_before, cursor_before, \
             resent, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&row.from_epoch)
        .bind(&row.to_epoch)
        .bind(row.since)
        .bind(row.chain_before)
        .bind(row.cursor_before)
        .bind(row.resent)
        .bind(row.detected_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Welcomed::Restored(row))
    }

    /// Every restore noticed, oldest first.
    pub async fn restores(&self) -> Result<Vec<RestoreRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT from_epoch, to_epoch, since, chain_before, chain_after, cursor_before, \
             resent, detected_at FROM hub_restores ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

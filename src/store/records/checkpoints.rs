//! Signed checkpoints of the hub's audit chain, held by the node. Stored
//! only after the node verified the hub's signature; each new one is
//! compared with those held, in the same transaction as it is stored.

use super::Records;
use crate::protocol::Timestamp;
use crate::protocol::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::store::StoreError;

/// A checkpoint the node holds.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CheckpointRow {
    pub count: i64,
    /// The head hash, hex.
    pub head: String,
    /// The signed JSON text, as received.
    pub checkpoint: String,
    pub signature: Vec<u8>,
    pub received_at: Timestamp,
    /// Why it contradicts a checkpoint held before it, if it does.
    pub contradicts: Option<String>,
}

impl CheckpointRow {
    /// As the hub signed it, for export.
    pub fn signed(&self) -> SignedCheckpoint {
        SignedCheckpoint {
            checkpoint: self.checkpoint.clone(),
            signature: self.signature.clone(),
        }
    }
}

/// What storing a checkpoint found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckpointOutcome {
    /// A new checkpoint, consistent with every one held.
    New,
    /// Held already (the hub repeats its head after each `welcome`).
    Known,
    /// Stored as evidence: the hub's chain is not the one it signed before.
    Contradicts(String),
    /// The first checkpoint since the hub was restored from a backup (its
    /// epoch changed): stored, and the restore's chain lengths recorded.
    Restored(super::RestoreRow),
}

impl Records {
    /// Store a checkpoint whose signature the caller verified, unless it is
    /// held already, and say whether it contradicts those held: a shorter
    /// chain than one signed before, or another head at the same length,
    /// means the hub's history was rewritten.
    pub async fn store_checkpoint(
        &self,
        signed: &SignedCheckpoint,
        checkpoint: &Checkpoint,
    ) -> Result<CheckpointOutcome, StoreError> {
        let count = i64::try_from(checkpoint.count)
            .map_err(|_| StoreError::Corrupt(format!("checkpoint count {}", checkpoint.count)))?;
        let head = hex::encode(checkpoint.head);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        // Compared within the hub's current epoch: a restored hub's chain
        // is shorter than the one it signed before the restore, and only
        // the restore's own row says so (with both lengths). Up to the
        // chain's length at the restore, the restored chain must still be
        // the one signed before: a backup is a copy of that history.
        let (epoch,): (Option<String>,) =
            sqlx::query_as("SELECT epoch FROM stream_cursor WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
        let restored = restore_point(&mut tx, epoch.as_deref(), count).await?;
        let cross_epoch = restored
            .as_ref()
            .and_then(|(r, _)| r.chain_after)
            .is_some_and(|at| count <= at);
        let same_count: Vec<(String,)> = sqlx::query_as(
            "SELECT head FROM hub_checkpoints WHERE count = ? AND contradicts IS NULL \
             AND (epoch IS ? OR ?) ORDER BY epoch IS ? DESC",
        )
        .bind(count)
        .bind(epoch.as_deref())
        .bind(cross_epoch)
        .bind(epoch.as_deref())
        .fetch_all(&mut *tx)
        .await?;
        if same_count.iter().all(|(h,)| *h == head) && !same_count.is_empty() {
            tx.commit().await?;
            return Ok(outcome_after(restored, CheckpointOutcome::Known));
        }
        let (longest,): (Option<i64>,) = sqlx::query_as(
            "SELECT MAX(count) FROM hub_checkpoints WHERE contradicts IS NULL AND epoch IS ?",
        )
        .bind(epoch.as_deref())
        .fetch_one(&mut *tx)
        .await?;
        let same_count: Vec<_> = same_count.into_iter().filter(|(h,)| *h != head).collect();
        let contradicts = if let Some((held,)) = same_count.first() {
            Some(format!(
                "entry {count} of the hub's audit chain had hash {held} in a checkpoint held before; now {head}"
            ))
        } else {
            longest.filter(|&l| l > count).map(|l| {
                format!(
                    "the hub's audit chain had {l} entries in a checkpoint held before; now {count}"
                )
            })
        };
        let inserted = sqlx::query(
            "INSERT INTO hub_checkpoints (count, head, checkpoint, signature, received_at, contradicts, epoch) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (count, head) DO NOTHING",
        )
        .bind(count)
        .bind(&head)
        .bind(&signed.checkpoint)
        .bind(&signed.signature)
        .bind(Timestamp::now())
        .bind(contradicts.as_deref())
        .bind(epoch.as_deref())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(match contradicts {
            Some(why) => CheckpointOutcome::Contradicts(why),
            None if inserted == 0 => outcome_after(restored, CheckpointOutcome::Known),
            None => outcome_after(restored, CheckpointOutcome::New),
        })
    }

    /// Every checkpoint held, in the order received.
    pub async fn checkpoints(&self) -> Result<Vec<CheckpointRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT count, head, checkpoint, signature, received_at, contradicts \
             FROM hub_checkpoints ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

/// What a checkpoint's store is reported as: the restore's, for the first
/// checkpoint after it.
fn outcome_after(
    restored: Option<(super::RestoreRow, bool)>,
    outcome: CheckpointOutcome,
) -> CheckpointOutcome {
    match restored {
        Some((restore, true)) => CheckpointOutcome::Restored(restore),
        _ => outcome,
    }
}

/// The restore into `epoch`, if there was one; the first checkpoint after
/// it (`chain_after` still empty) records its length there, once.
async fn restore_point(
    tx: &mut sqlx::SqliteConnection,
    epoch: Option<&str>,
    count: i64,
) -> Result<Option<(super::RestoreRow, bool)>, sqlx::Error> {
    let found: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM hub_restores WHERE to_epoch IS ? ORDER BY id DESC LIMIT 1")
            .bind(epoch)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((id,)) = found else {
        return Ok(None);
    };
    let first =
        sqlx::query("UPDATE hub_restores SET chain_after = ? WHERE id = ? AND chain_after IS NULL")
            .bind(count)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
    let restore: super::RestoreRow = sqlx::query_as(
        "SELECT from_epoch, to_epoch, since, chain_before, chain_after, cursor_before, \
         resent, detected_at FROM hub_restores WHERE id = ?",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    Ok(Some((restore, first)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::generate_signing_key;

    async fn records() -> (Records, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::store::testing::sqlite_url(dir.path(), "node.db");
        (Records::open(&url).await.unwrap(), dir)
    }

    fn at(count: u64, head: u8) -> (SignedCheckpoint, Checkpoint) {
        let checkpoint = Checkpoint {
            count,
            head: [head; 32],
            at: Timestamp::now(),
        };
        (
            crate::crypto::hub_signed::sign_checkpoint(&generate_signing_key(), &checkpoint),
            checkpoint,
        )
    }

    #[tokio::test]
    async fn a_shorter_chain_or_another_head_at_the_same_length_is_a_contradiction() {
        let (records, _dir) = records().await;
        let store = |(s, c): (SignedCheckpoint, Checkpoint)| {
            let records = records.clone();
            async move { records.store_checkpoint(&s, &c).await.unwrap() }
        };
        assert_eq!(store(at(5, 1)).await, CheckpointOutcome::New);
        assert_eq!(store(at(5, 1)).await, CheckpointOutcome::Known);
        assert_eq!(store(at(9, 2)).await, CheckpointOutcome::New);
        let CheckpointOutcome::Contradicts(why) = store(at(7, 3)).await else {
            panic!("a shorter chain must contradict");
        };
        assert!(
            why.contains("had 9 entries") && why.contains("now 7"),
            "{why}"
        );
        let CheckpointOutcome::Contradicts(why) = store(at(5, 4)).await else {
            panic!("another head at 5 must contradict");
        };
        assert!(why.contains(&hex::encode([1u8; 32])), "{why}");
        let held = records.checkpoints().await.unwrap();
        assert_eq!(held.len(), 4, "the contradictions are kept as evidence");
        assert_eq!(held.iter().filter(|c| c.contradicts.is_some()).count(), 2);
    }

    #[tokio::test]
    async fn after_a_restore_a_shorter_chain_is_the_restore_but_another_past_is_not() {
        use crate::protocol::epoch::{EpochId, HubEpoch};
        let (records, _dir) = records().await;
        let epoch = |id: &EpochId| HubEpoch {
            id: id.clone(),
            since: Timestamp::now(),
        };
        let (first, second) = (EpochId::generate(), EpochId::generate());
        let margin = std::time::Duration::ZERO;
        assert_eq!(
            records.welcomed(&epoch(&first), margin).await.unwrap(),
            super::super::Welcomed::First
        );
        let store = |(s, c): (SignedCheckpoint, Checkpoint)| {
            let records = records.clone();
            async move { records.store_checkpoint(&s, &c).await.unwrap() }
        };
        assert_eq!(store(at(5, 1)).await, CheckpointOutcome::New);
        assert_eq!(store(at(9, 2)).await, CheckpointOutcome::New);
        let super::super::Welcomed::Restored(_) =
            records.welcomed(&epoch(&second), margin).await.unwrap()
        else {
            panic!("another epoch is a restore");
        };
        let CheckpointOutcome::Restored(restore) = store(at(7, 3)).await else {
            panic!("the first checkpoint after a restore records it");
        };
        assert_eq!(
            (restore.chain_before, restore.chain_after),
            (Some(9), Some(7))
        );
        assert_eq!(
            store(at(8, 4)).await,
            CheckpointOutcome::New,
            "the new epoch grows on"
        );
        // Up to the restore point the chain must be the one signed before.
        let CheckpointOutcome::Contradicts(why) = store(at(5, 6)).await else {
            panic!("another head at 5, before the restore point, must contradict");
        };
        assert!(why.contains(&hex::encode([1u8; 32])), "{why}");
        let held = records.checkpoints().await.unwrap();
        assert!(
            held.iter().any(|c| c.count == 9),
            "the old checkpoint is kept as evidence"
        );
        assert_eq!(records.restores().await.unwrap().len(), 1);
    }
}

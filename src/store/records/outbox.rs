//! The node's durable outbox: every envelope staff send is written here
//! before it goes to the hub, and stays `pending` until the hub has answered.
//! The running node retries what is due (see `agency::outbox`); a sending
//! command holds a short lease on its own entry while it submits, so the two
//! do not race for it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Records;
use crate::protocol::{Envelope, EnvelopeId, Timestamp};
use crate::store::{StoreError, parse_envelope_id};

/// An envelope this agency sent.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxRow {
    pub envelope_id: String,
    /// JSON array of agency ids.
    pub recipients: String,
    pub kind: String,
    pub case_id: Option<String>,
    pub urgency: String,
    pub created_at: Timestamp,
    /// `pending`, `accepted` or `refused`.
    pub status: String,
    /// The hub's reason when refused; the last failure while pending.
    pub detail: Option<String>,
    pub payload: String,
    /// Failed attempts so far.
    pub attempts: i64,
}

/// Where an outbox entry stands with the hub.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboxStatus {
    /// Not yet accepted by the hub; the running node retries it.
    Pending,
    /// Durably committed by the hub.
    Accepted,
    /// Refused by the hub; `detail` says why.
    Refused,
}

impl OutboxStatus {
    fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Accepted => "accepted",
            OutboxStatus::Refused => "refused",
        }
    }
}

/// A pending entry due for (re)submission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueEntry {
    pub id: EnvelopeId,
    /// The envelope as signed, sent as is.
    pub envelope: Vec<u8>,
}

/// Milliseconds since the Unix epoch: the outbox schedules retries by the
/// node's own clock, as an integer SQLite orders exactly.
fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Records {
    /// Record an envelope about to be sent, as pending: its bytes as
    /// sealed, which every (re)submission sends unchanged. The caller submits it
    /// itself within `lease`; only after that does the running node's worker
    /// consider it (so a sending command that dies is covered, and one that
    /// lives is not raced).
    pub async fn add_outbox(
        &self,
        envelope: &Envelope,
        payload_json: &str,
        lease: Duration,
    ) -> Result<(), StoreError> {
        let meta = envelope.meta();
        let recipients = serde_json::to_string(&meta.recipients).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "INSERT INTO outbox (envelope_id, recipients, kind, case_id, urgency, created_at, \
             envelope, payload, status, updated_at, next_attempt_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
        )
        .bind(meta.id.to_string())
        .bind(recipients)
        .bind(meta.kind.as_str())
        .bind(meta.case_id.as_ref().map(|c| c.as_str()))
        .bind(meta.urgency.as_str())
        .bind(meta.created_at)
        .bind(envelope.bytes())
        .bind(payload_json)
        .bind(Timestamp::now())
        .bind(millis(SystemTime::now() + lease))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Record what the hub said about an outbox entry.
    ///
    /// "Accepted" is committed without waiting for the disk: lost to a
    /// power cut, the entry is pending again, resent, and the hub answers
    /// `duplicate`, which marks it accepted. That saves one of the sending
    /// node's two fsyncs per envelope (the entry itself must be durable
    /// before it is sent). A refusal waits for the disk: resent, the same
    /// envelope could be judged again on changed facts.
    pub async fn set_outbox_status(
        &self,
        id: EnvelopeId,
        status: OutboxStatus,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        let pool = match status {
            OutboxStatus::Accepted => &self.relaxed,
            OutboxStatus::Pending | OutboxStatus::Refused => &self.pool,
        };
        sqlx::query(
            "UPDATE outbox SET status = ?, detail = ?, updated_at = ? WHERE envelope_id = ?",
        )
        .bind(status.as_str())
        .bind(detail)
        .bind(Timestamp::now())
        .bind(id.to_string())
        .execute(pool)
        .await?;
        Ok(())
    }

    /// A pending entry could not reach the hub: count the attempt, keep the
    /// reason for staff, and make it due again after `delay` (zero: now).
    pub async fn retry_outbox(
        &self,
        id: EnvelopeId,
        delay: Duration,
        reason: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, detail = ?, next_attempt_at = ?, \
             updated_at = ? WHERE envelope_id = ? AND status = 'pending'",
        )
        .bind(reason)
        .bind(millis(SystemTime::now() + delay))
        .bind(Timestamp::now())
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The sender leaves `id` to the running node without trying it (older
    /// entries wait ahead of it): due now, no attempt counted.
    pub async fn release_outbox(&self, id: EnvelopeId) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET next_attempt_at = 0 WHERE envelope_id = ? AND status = 'pending'",
        )
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Pending entries due now, in the order they were written (rowid: the
    /// outbox is never deleted from, so rowids only grow), at most `limit`.
    pub async fn due_outbox(&self, limit: u32) -> Result<Vec<DueEntry>, StoreError> {
        let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
            "SELECT envelope_id, envelope FROM outbox \
             WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY rowid LIMIT ?",
        )
        .bind(millis(SystemTime::now()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        due_entries(rows)
    }

    /// A pending entry, to send now (whatever its lease).
    pub async fn pending_entry(&self, id: EnvelopeId) -> Result<Option<DueEntry>, StoreError> {
        let row: Option<(String, Vec<u8>)> = sqlx::query_as(
            "SELECT envelope_id, envelope FROM outbox WHERE envelope_id = ? AND status = 'pending'",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(due_entries(row.into_iter().collect())?.pop())
    }

    /// How many entries written before `id` wait for the running node:
    /// pending and due (they failed, or their sender died). Entries another
    /// sender is submitting right now (within their lease) do not count:
    /// concurrent sends are concurrent by the caller's choice.
    pub async fn waiting_before(&self, id: EnvelopeId) -> Result<u64, StoreError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? \
             AND rowid < (SELECT rowid FROM outbox WHERE envelope_id = ?)",
        )
        .bind(millis(SystemTime::now()))
        .bind(id.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// How long until the next pending entry is due (zero if one is due
    /// now), or `None` when nothing is pending.
    pub async fn next_outbox_due(&self) -> Result<Option<Duration>, StoreError> {
        let (next,): (Option<i64>,) =
            sqlx::query_as("SELECT MIN(next_attempt_at) FROM outbox WHERE status = 'pending'")
                .fetch_one(&self.pool)
                .await?;
        Ok(next.map(|at| {
            let wait = at.saturating_sub(millis(SystemTime::now())).max(0);
            Duration::from_millis(u64::try_from(wait).unwrap_or(0))
        }))
    }

    /// The outbox, newest first.
    pub async fn outbox(&self) -> Result<Vec<OutboxRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT envelope_id, recipients, kind, case_id, urgency, created_at, status, detail, \
             payload, attempts FROM outbox ORDER BY rowid DESC",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// One outbox entry.
    pub async fn outbox_item(&self, id: EnvelopeId) -> Result<Option<OutboxRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT envelope_id, recipients, kind, case_id, urgency, created_at, status, detail, \
             payload, attempts FROM outbox WHERE envelope_id = ?",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?)
    }
}

fn due_entries(rows: Vec<(String, Vec<u8>)>) -> Result<Vec<DueEntry>, StoreError> {
    rows.into_iter()
        .map(|(id, envelope)| {
            Ok(DueEntry {
                id: parse_envelope_id(&id)?,
                envelope,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only the "accepted" mark skips waiting for the disk; every other
    /// commit of the node's records waits for it.
    #[tokio::test]
    async fn only_the_accepted_mark_commits_without_waiting_for_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::store::testing::sqlite_url(dir.path(), "node.db");
        let records = Records::open(&url).await.unwrap();
        let synchronous = |pool: &sqlx::SqlitePool| {
            let pool = pool.clone();
            async move {
                let (level,): (i64,) = sqlx::query_as("PRAGMA synchronous")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                level
            }
        };
        // SQLite's levels: 1 NORMAL, 2 FULL.
        assert_eq!(synchronous(&records.pool).await, 2);
        assert_eq!(synchronous(&records.relaxed).await, 1);
        records.close().await;
    }
}

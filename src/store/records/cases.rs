//! What the case view is read from: the cases this node holds records
//! about, every record of one case (received, or sent — refused ones too,
//! so staff see what did not go), and the hub's notices with their time.

use super::Records;
use crate::protocol::{CaseId, Notice, Timestamp};
use crate::store::StoreError;

/// A case and its latest activity here.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CaseRow {
    pub case_id: String,
    /// When its latest record was written.
    pub last_at: Timestamp,
    /// That record's kind (wire name).
    pub last_kind: String,
    /// How many records this node holds about it.
    pub records: i64,
}

/// One record of a case, received or sent.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CaseRecord {
    pub envelope_id: String,
    /// Whether this node sent it.
    pub sent: bool,
    /// The sender (this node, when sent).
    pub sender: String,
    pub kind: String,
    pub urgency: String,
    pub created_at: Timestamp,
    /// Sent: `pending`, `accepted` or `refused`.
    pub status: Option<String>,
    /// Sent and refused: the hub's answer (JSON); pending: the last failure.
    pub detail: Option<String>,
    /// The envelope as signed.
    pub envelope: Vec<u8>,
    /// Decrypted payload JSON.
    pub payload: String,
    /// Received: `withdrawn` or `expired` once its consent ended.
    pub consent_end_reason: Option<String>,
}

impl Records {
    /// Every case this node holds a record about, latest activity first.
    pub async fn cases(&self) -> Result<Vec<CaseRow>, StoreError> {
        // SQLite returns the bare `kind` of the row holding the MAX.
        Ok(sqlx::query_as(
            "SELECT case_id, MAX(created_at) AS last_at, kind AS last_kind, \
               COUNT(*) AS records FROM ( \
               SELECT case_id, created_at, kind FROM inbox WHERE case_id IS NOT NULL \
               UNION ALL \
               SELECT case_id, created_at, kind FROM outbox WHERE case_id IS NOT NULL \
             ) GROUP BY case_id ORDER BY last_at DESC, case_id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every record of `case`, oldest first.
    pub async fn case_records(&self, case: &CaseId) -> Result<Vec<CaseRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT envelope_id, FALSE AS sent, sender, kind, urgency, created_at, \
               NULL AS status, NULL AS detail, envelope, payload, consent_end_reason, \
               seq AS n, 0 AS side \
               FROM inbox WHERE case_id = ?1 \
             UNION ALL \
             SELECT envelope_id, TRUE, '', kind, urgency, created_at, status, detail, \
               envelope, payload, NULL, rowid, 1 FROM outbox WHERE case_id = ?1 \
             ORDER BY created_at, side, n",
        )
        .bind(case.as_str())
        .fetch_all(&self.pool)
        .await?)
    }

    /// The hub's notices with when they arrived, oldest first.
    pub async fn timed_notices(&self) -> Result<Vec<(Timestamp, Notice)>, StoreError> {
        let rows: Vec<(Timestamp, String)> =
            sqlx::query_as("SELECT received_at, notice FROM notices ORDER BY seq")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(at, json)| {
                let notice = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("notice: {e}")))?;
                Ok((at, notice))
            })
            .collect()
    }
}

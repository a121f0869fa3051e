//! Envelopes of given kinds this node holds, sent (and not refused) or
//! received, with their signed bytes and decrypted payload: what meetings,
//! plans and the ledger are folded from.

use sqlx::QueryBuilder;

use super::Records;
use crate::protocol::{Envelope, MessageKind, Timestamp};
use crate::store::StoreError;

/// One envelope this node holds.
#[derive(Clone, Debug)]
pub struct Held {
    /// The envelope, as signed (its metadata names the action).
    pub envelope: Envelope,
    /// The decrypted payload (JSON).
    pub payload: String,
    /// Whether this node sent it.
    pub sent: bool,
    /// When the sender wrote it.
    pub created_at: Timestamp,
}

impl Records {
    /// Every envelope of `kinds` held, oldest first (by when it was
    /// written, then by id for a stable order).
    pub async fn held(&self, kinds: &[MessageKind]) -> Result<Vec<Held>, StoreError> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::new(
            "SELECT envelope, payload, sent, created_at FROM (\
             SELECT envelope, payload, 0 AS sent, created_at, envelope_id, kind FROM inbox \
             UNION ALL SELECT envelope, payload, 1 AS sent, created_at, envelope_id, kind \
             FROM outbox WHERE status <> 'refused') WHERE kind IN (",
        );
        let mut list = q.separated(", ");
        for k in kinds {
            list.push_bind(k.as_str());
        }
        q.push(") ORDER BY created_at, envelope_id");
        let rows: Vec<(Vec<u8>, String, bool, Timestamp)> =
            q.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|(bytes, payload, sent, created_at)| {
                let envelope = Envelope::parse(bytes)
                    .map_err(|e| StoreError::Corrupt(format!("held envelope: {e}")))?;
                Ok(Held {
                    envelope,
                    payload,
                    sent,
                    created_at,
                })
            })
            .collect()
    }
}

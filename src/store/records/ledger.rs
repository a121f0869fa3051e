//! What the 進行管理台帳 is read from: the envelopes this node holds about
//! registrations, meetings and plans, and the 調整機関's own entries.

use super::Records;
use crate::protocol::{CaseId, Timestamp};
use crate::store::StoreError;

/// An envelope this node received, or sent and the hub did not refuse: its
/// bytes as signed and its decrypted payload.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct HeldEnvelope {
    /// Whether this node sent it.
    pub sent: bool,
    /// Sent, and not yet taken by the hub (the running node retries it):
    /// it has changed nothing at the hub yet.
    pub pending: bool,
    /// The envelope as signed.
    pub envelope: Vec<u8>,
    /// Decrypted payload JSON.
    pub payload: String,
    /// Received: `withdrawn` or `expired` once the consent it was shared
    /// under ended.
    pub consent_end_reason: Option<String>,
}

/// The 調整機関's own entry about a case, as stored. Enumerations are their
/// wire names; days are `YYYY-MM-DD`.
#[derive(Clone, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct LedgerEntryRow {
    pub case_id: String,
    pub case_number: Option<String>,
    pub received_on: Option<String>,
    pub route: Option<String>,
    /// JSON array of wire names.
    pub abuse_types: String,
    pub risk: Option<String>,
    pub policy: String,
    pub status: String,
    pub status_reason: String,
    pub next_review: Option<String>,
    pub updated_at: Option<Timestamp>,
}

/// Another case already carries this case number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("case number {number} is already used for case {case_id}")]
pub struct NumberTaken {
    pub number: String,
    pub case_id: String,
}

/// The columns of `ledger_entries`, in [`LedgerEntryRow`]'s order (a macro:
/// `concat!` builds the statements as literals).
macro_rules! entry_columns {
    () => {
        "case_id, case_number, received_on, route, abuse_types, risk, policy, status, \
         status_reason, next_review, updated_at"
    };
}

impl Records {
    /// Every envelope of these kinds this node received, or sent and the hub
    /// did not refuse (a refused one was never shared), oldest first. Those
    /// still pending are marked: what the hub must have accepted to count
    /// (a meeting, a registration) skips them.
    pub async fn held_of_kinds(&self, kinds: &[&str]) -> Result<Vec<HeldEnvelope>, StoreError> {
        let kinds = serde_json::to_string(kinds).unwrap_or_else(|_| "[]".into());
        Ok(sqlx::query_as(
            "SELECT sent, pending, envelope, payload, consent_end_reason FROM ( \
               SELECT FALSE AS sent, FALSE AS pending, envelope, payload, consent_end_reason, \
                 created_at, rowid AS n FROM inbox \
                 WHERE kind IN (SELECT value FROM json_each(?1)) \
               UNION ALL \
               SELECT TRUE, status = 'pending', envelope, payload, NULL, created_at, rowid \
                 FROM outbox WHERE status IN ('accepted', 'pending') \
                 AND kind IN (SELECT value FROM json_each(?1)) \
             ) ORDER BY created_at, n",
        )
        .bind(kinds)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Whether this node holds anything at all about `case`.
    pub async fn holds_case(&self, case: &CaseId) -> Result<bool, StoreError> {
        let (held,): (bool,) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM inbox WHERE case_id = ?1) \
                 OR EXISTS (SELECT 1 FROM outbox WHERE case_id = ?1)",
        )
        .bind(case.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(held)
    }

    /// Every ledger entry.
    pub async fn ledger_entries(&self) -> Result<Vec<LedgerEntryRow>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            entry_columns!(),
            " FROM ledger_entries ORDER BY case_id"
        ))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Change the entry of `case` in one transaction: `merge` gets the entry
    /// as stored (if any) and returns it as it should be.
    pub async fn update_ledger_entry<E>(
        &self,
        case: &CaseId,
        merge: impl FnOnce(Option<LedgerEntryRow>) -> Result<LedgerEntryRow, E>,
    ) -> Result<LedgerEntryRow, E>
    where
        E: From<StoreError> + From<NumberTaken>,
    {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(StoreError::from)?;
        let current: Option<LedgerEntryRow> = sqlx::query_as(concat!(
            "SELECT ",
            entry_columns!(),
            " FROM ledger_entries WHERE case_id = ?"
        ))
        .bind(case.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(StoreError::from)?;
        let mut row = merge(current)?;
        row.case_id = case.as_str().to_owned();
        row.updated_at = Some(Timestamp::now());
        if let Some(number) = &row.case_number {
            let holder: Option<(String,)> = sqlx::query_as(
                "SELECT case_id FROM ledger_entries WHERE case_number = ? AND case_id <> ?",
            )
            .bind(number)
            .bind(case.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            if let Some((case_id,)) = holder {
                return Err(NumberTaken {
                    number: number.clone(),
                    case_id,
                }
                .into());
            }
        }
        upsert(&mut tx, &row).await.map_err(StoreError::from)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(row)
    }
}

async fn upsert(conn: &mut sqlx::SqliteConnection, row: &LedgerEntryRow) -> sqlx::Result<()> {
    sqlx::query(concat!(
        "INSERT INTO ledger_entries (",
        entry_columns!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (case_id) DO UPDATE SET case_number = excluded.case_number, \
         received_on = excluded.received_on, route = excluded.route, \
         abuse_types = excluded.abuse_types, risk = excluded.risk, policy = excluded.policy, \
         status = excluded.status, status_reason = excluded.status_reason, \
         next_review = excluded.next_review, updated_at = excluded.updated_at"
    ))
    .bind(&row.case_id)
    .bind(&row.case_number)
    .bind(&row.received_on)
    .bind(&row.route)
    .bind(&row.abuse_types)
    .bind(&row.risk)
    .bind(&row.policy)
    .bind(&row.status)
    .bind(&row.status_reason)
    .bind(&row.next_review)
    .bind(row.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(
        number: &str,
    ) -> impl FnOnce(Option<LedgerEntryRow>) -> Result<LedgerEntryRow, LedgerTestError> {
        let number = number.to_owned();
        move |stored| {
            let mut row = stored.unwrap_or_else(|| LedgerEntryRow {
                abuse_types: "[]".into(),
                status: "received".into(),
                ..LedgerEntryRow::default()
            });
            row.case_number = Some(number);
            Ok(row)
        }
    }

    #[derive(Debug, thiserror::Error)]
    enum LedgerTestError {
        #[error(transparent)]
        Store(#[from] StoreError),
        #[error(transparent)]
        Taken(#[from] NumberTaken),
    }

    #[tokio::test]
    async fn an_entry_is_kept_by_case_and_a_case_number_is_used_once() {
        let dir = tempfile::tempdir().unwrap();
        let records = Records::open(&crate::store::testing::sqlite_url(dir.path(), "node.db"))
            .await
            .unwrap();
        let (one, two): (CaseId, CaseId) = ("c-1".parse().unwrap(), "c-2".parse().unwrap());
        records
            .update_ledger_entry(&one, numbered("2026-012"))
            .await
            .unwrap();
        let taken = records
            .update_ledger_entry(&two, numbered("2026-012"))
            .await;
        match taken {
            Err(LedgerTestError::Taken(t)) => assert_eq!(t.case_id, "c-1"),
            other => panic!("expected the number taken, got {other:?}"),
        }
        // Renumbering a case with its own number is no conflict.
        records
            .update_ledger_entry(&one, numbered("2026-012"))
            .await
            .unwrap();
        let all = records.ledger_entries().await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].case_id, "c-1");
        assert!(all[0].updated_at.is_some());
        // The table refuses what the ledger could not read back.
        let bad = records
            .update_ledger_entry(&two, |_| -> Result<_, LedgerTestError> {
                Ok(LedgerEntryRow {
                    abuse_types: "[]".into(),
                    status: "received".into(),
                    received_on: Some("2026-13-01".into()),
                    ..LedgerEntryRow::default()
                })
            })
            .await;
        assert!(matches!(bad, Err(LedgerTestError::Store(_))), "{bad:?}");
        records.close().await;
    }
}

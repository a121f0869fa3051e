//! Purges and legal holds, inside their caller's transaction. A purge
//! empties envelope bodies and deletes acknowledged notices; it never
//! touches the audit chain, and it keeps each envelope's row (id, digest,
//! metadata), which replay protection, the referral loop, meetings, plans
//! and the disclosure record still read.

use sqlx::ColumnIndex;
use sqlx::{Decode, Encode, Executor, IntoArguments, Type};

use super::{Backend, Sql};
use crate::protocol::{CaseId, Timestamp};
use crate::store::model::AuditEvent;
use crate::store::retention::{HoldOutcome, LegalHold, PurgeScope, ReleaseOutcome};
use crate::store::rows::parse;

type Result<T> = std::result::Result<T, sqlx::Error>;

/// The envelopes of kind `$1` a purge with cutoff `$2` may empty: accepted
/// by then, every delivery acknowledged by then (an unacknowledged or
/// cancelled delivery keeps the envelope: it may still have to be sent, or
/// be acknowledged late), not already purged, not in a held case.
macro_rules! purgeable_envelopes {
    () => {
        "FROM envelopes e WHERE e.kind = $1 AND e.purged_at IS NULL AND e.accepted_at <= $2 \
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.envelope_id = e.id \
             AND (d.acked_at IS NULL OR d.acked_at > $2)) \
         AND NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.case_id = e.case_id)"
    };
}

/// Acknowledged hub notices acknowledged at or before `$1`.
macro_rules! purgeable_notices {
    () => {
        "FROM deliveries WHERE notice IS NOT NULL AND acked_at IS NOT NULL AND acked_at <= $1"
    };
}

// The sqlx bounds of the shared SQL, stated on each impl block: Rust does
// not yet carry a trait's where-clauses to its users (implied bounds).
impl<DB> Sql<'_, DB>
where
    DB: Backend,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<&'q str>: Encode<'q, DB>,
    for<'q> Timestamp: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<Timestamp>: Encode<'q, DB>,
{
    /// Purge at most `limit` of what `scope` names, oldest first; how many.
    /// A row purged meanwhile by another hub process is skipped, not
    /// counted twice (the outer `purged_at IS NULL` is checked again on
    /// the locked row).
    pub(in crate::store) async fn purge_batch(
        &mut self,
        scope: PurgeScope,
        cutoff: &Timestamp,
        limit: u32,
        now: &Timestamp,
    ) -> Result<u64> {
        let done = match scope {
            PurgeScope::Kind(kind) => {
                sqlx::query(concat!(
                    "UPDATE envelopes SET body = $4, purged_at = $5 \
                     WHERE purged_at IS NULL AND id IN (SELECT e.id ",
                    purgeable_envelopes!(),
                    " ORDER BY e.accepted_at LIMIT $3)"
                ))
                .bind(kind.as_str())
                .bind(*cutoff)
                .bind(i64::from(limit))
                .bind(&[][..])
                .bind(*now)
                .execute(&mut *self.0)
                .await?
            }
            PurgeScope::Notices => {
                sqlx::query(concat!(
                    "DELETE FROM deliveries WHERE notice IS NOT NULL \
                     AND (recipient, seq) IN (SELECT recipient, seq ",
                    purgeable_notices!(),
                    " ORDER BY acked_at LIMIT $2)"
                ))
                .bind(*cutoff)
                .bind(i64::from(limit))
                .execute(&mut *self.0)
                .await?
            }
        };
        Ok(DB::rows_affected(&done))
    }

    /// How many a purge with `cutoff` would remove now.
    pub(in crate::store) async fn purgeable(
        &mut self,
        scope: PurgeScope,
        cutoff: &Timestamp,
    ) -> Result<u64> {
        let (n,): (i64,) = match scope {
            PurgeScope::Kind(kind) => {
                sqlx::query_as(concat!("SELECT COUNT(*) ", purgeable_envelopes!()))
                    .bind(kind.as_str())
                    .bind(*cutoff)
                    .fetch_one(&mut *self.0)
                    .await?
            }
            PurgeScope::Notices => {
                sqlx::query_as(concat!("SELECT COUNT(*) ", purgeable_notices!()))
                    .bind(*cutoff)
                    .fetch_one(&mut *self.0)
                    .await?
            }
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Place a hold on a known case, audited with who placed it (never the
    /// reason: free text may name people, and the chain is never edited).
    pub(in crate::store) async fn add_hold(
        &mut self,
        case_id: &CaseId,
        reason: &str,
        operator: &str,
        now: &Timestamp,
    ) -> Result<HoldOutcome> {
        if self.case(case_id).await?.is_none() {
            return Ok(HoldOutcome::UnknownCase);
        }
        let placed = sqlx::query(
            "INSERT INTO legal_holds (case_id, reason, held_by, held_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (case_id) DO NOTHING",
        )
        .bind(case_id.as_str())
        .bind(reason)
        .bind(operator)
        .bind(*now)
        .execute(&mut *self.0)
        .await?;
        if DB::rows_affected(&placed) == 0 {
            return Ok(HoldOutcome::AlreadyHeld);
        }
        self.append_audit(&hold_event("legal_hold_added", case_id, operator))
            .await?;
        Ok(HoldOutcome::Held)
    }

    /// Release a hold, audited with who released it.
    pub(in crate::store) async fn release_hold(
        &mut self,
        case_id: &CaseId,
        operator: &str,
    ) -> Result<ReleaseOutcome> {
        let released = sqlx::query("DELETE FROM legal_holds WHERE case_id = $1")
            .bind(case_id.as_str())
            .execute(&mut *self.0)
            .await?;
        if DB::rows_affected(&released) == 0 {
            return Ok(ReleaseOutcome::NotHeld);
        }
        self.append_audit(&hold_event("legal_hold_released", case_id, operator))
            .await?;
        Ok(ReleaseOutcome::Released)
    }

    /// Every hold in force, oldest first.
    pub(in crate::store) async fn holds(&mut self) -> Result<Vec<LegalHold>> {
        let rows: Vec<(String, String, String, Timestamp)> = sqlx::query_as(
            "SELECT case_id, reason, held_by, held_at FROM legal_holds ORDER BY held_at, case_id",
        )
        .fetch_all(&mut *self.0)
        .await?;
        rows.into_iter()
            .map(|(case_id, reason, held_by, held_at)| {
                Ok(LegalHold {
                    case_id: parse(&case_id, "case id")?,
                    reason,
                    held_by,
                    held_at,
                })
            })
            .collect()
    }
}

fn hold_event(event: &str, case_id: &CaseId, operator: &str) -> AuditEvent {
    let detail = serde_json::json!({ "operator": operator });
    AuditEvent::new(event, None, Some(case_id.to_string()), detail)
}

//! Reads, on a pooled connection or inside a write transaction. The rows
//! become model types in `store::rows`.

use sqlx::ColumnIndex;
use sqlx::{Decode, Encode, Executor, IntoArguments, Type};

use super::{Backend, Sql};
use crate::protocol::{AgencyId, CaseId, ConsentId, EnvelopeId, Seq, Timestamp};
use crate::store::audit::AuditEntry;
use crate::store::model::{
    CaseRecord, ConsentRecord, Disclosure, DueReferral, ReferralRecord, StatutoryUse,
};
use crate::store::rows::{
    AuditRow, CaseRow, ConsentRow, DeliveryRow, DisclosureRow, DueRow, ReferralRow, StateRow,
    StatutoryRow, Violation, ViolationRow, audit_entry_from_row, case_from_row, consent_from_row,
    delivery_from_row, disclosure_from_row, due_referral_from_row, is_referral, parse,
    referral_from_row, registered_in, statutory_use_from_row, violation_from_row,
};
use crate::store::{Delivery, StoreError, seq_from_db, seq_to_db};

type Result<T> = std::result::Result<T, sqlx::Error>;

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
    /// Unacknowledged, uncancelled deliveries for `agency` after `after`.
    pub(in crate::store) async fn pending(
        &mut self,
        agency: &AgencyId,
        after: Seq,
        limit: u32,
    ) -> std::result::Result<Vec<Delivery>, StoreError> {
        let rows: Vec<DeliveryRow> = sqlx::query_as(
            "SELECT d.seq, d.envelope_id, e.body, d.notice FROM deliveries d \
             LEFT JOIN envelopes e ON e.id = d.envelope_id \
             WHERE d.recipient = $1 AND d.seq > $2 \
             AND d.acked_at IS NULL AND d.cancelled_at IS NULL \
             ORDER BY d.seq LIMIT $3",
        )
        .bind(agency.as_str())
        .bind(seq_to_db(after))
        .bind(i64::from(limit))
        .fetch_all(&mut *self.0)
        .await?;
        rows.into_iter().map(delivery_from_row).collect()
    }

    pub(in crate::store) async fn last_seq(&mut self, agency: &AgencyId) -> Result<Seq> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT last_seq FROM agency_cursors WHERE agency = $1")
                .bind(agency.as_str())
                .fetch_optional(&mut *self.0)
                .await?;
        Ok(row.map(|(s,)| seq_from_db(s)).unwrap_or_default())
    }

    pub(in crate::store) async fn envelope_body(
        &mut self,
        id: EnvelopeId,
    ) -> Result<Option<Vec<u8>>> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as("SELECT body FROM envelopes WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(row.map(|(body,)| body))
    }

    pub(in crate::store) async fn case(&mut self, case_id: &CaseId) -> Result<Option<CaseRecord>> {
        let row: Option<CaseRow> = sqlx::query_as(
            "SELECT case_id, opened_by, classification, lead, members, closed_at \
             FROM cases WHERE case_id = $1",
        )
        .bind(case_id.as_str())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(case_from_row).transpose()
    }

    pub(in crate::store) async fn consent(
        &mut self,
        id: ConsentId,
    ) -> Result<Option<ConsentRecord>> {
        let row: Option<ConsentRow> = sqlx::query_as(
            "SELECT scope, recorded_by, ended_at, end_reason FROM consents WHERE consent_id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(consent_from_row).transpose()
    }

    /// The agency that recorded the consent, every sender of envelopes
    /// under it and every agency that acknowledged one, in order.
    pub(in crate::store) async fn consent_concerned(
        &mut self,
        id: ConsentId,
    ) -> Result<Vec<AgencyId>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT recorded_by FROM consents WHERE consent_id = $1 \
             UNION SELECT sender FROM envelopes WHERE consent_id = $1 \
             UNION SELECT d.recipient FROM deliveries d JOIN envelopes e ON e.id = d.envelope_id \
             WHERE e.consent_id = $1 AND d.acked_at IS NOT NULL \
             ORDER BY 1",
        )
        .bind(id.to_string())
        .fetch_all(&mut *self.0)
        .await?;
        rows.into_iter()
            .map(|(a,)| parse(&a, "agency id"))
            .collect()
    }

    pub(in crate::store) async fn referral(
        &mut self,
        id: EnvelopeId,
    ) -> Result<Option<ReferralRecord>> {
        let row: Option<ReferralRow> = sqlx::query_as(
            "SELECT sender, case_id, categories, urgency, kind FROM envelopes WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(&mut *self.0)
        .await?;
        let Some(row) = row.filter(is_referral) else {
            return Ok(None);
        };
        let states: Vec<StateRow> = sqlx::query_as(
            "SELECT recipient, state FROM referral_states WHERE referral = $1 ORDER BY recipient",
        )
        .bind(id.to_string())
        .fetch_all(&mut *self.0)
        .await?;
        referral_from_row(id, row, states).map(Some)
    }

    pub(in crate::store) async fn involved(
        &mut self,
        case_id: &CaseId,
        agency: &AgencyId,
    ) -> Result<bool> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM cases WHERE case_id = $1 AND opened_by = $2) \
                  + (SELECT COUNT(*) FROM envelopes WHERE case_id = $1 AND sender = $2) \
                  + (SELECT COUNT(*) FROM deliveries d JOIN envelopes e ON e.id = d.envelope_id \
                     WHERE e.case_id = $1 AND d.recipient = $2)",
        )
        .bind(case_id.as_str())
        .bind(agency.as_str())
        .fetch_one(&mut *self.0)
        .await?;
        if n > 0 {
            return Ok(true);
        }
        Ok(registered_in(self.case(case_id).await?, agency))
    }

    pub(in crate::store) async fn due_referrals(
        &mut self,
        now: &Timestamp,
    ) -> Result<Vec<DueReferral>> {
        let rows: Vec<DueRow> = sqlx::query_as(
            "SELECT rs.referral, e.sender, rs.recipient, e.case_id, e.urgency, rs.deadline_at, \
             rs.escalations FROM referral_states rs JOIN envelopes e ON e.id = rs.referral \
             WHERE rs.state = 'sent' AND rs.deadline_at IS NOT NULL AND rs.deadline_at <= $1 \
             ORDER BY rs.deadline_at, rs.referral, rs.recipient",
        )
        .bind(*now)
        .fetch_all(&mut *self.0)
        .await?;
        rows.into_iter().map(due_referral_from_row).collect()
    }

    pub(in crate::store) async fn due_consents(
        &mut self,
        now: &Timestamp,
    ) -> Result<Vec<ConsentId>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT consent_id FROM consents \
             WHERE ended_at IS NULL AND valid_until IS NOT NULL AND valid_until <= $1",
        )
        .bind(*now)
        .fetch_all(&mut *self.0)
        .await?;
        rows.into_iter()
            .map(|(id,)| parse(&id, "consent id"))
            .collect()
    }

    pub(in crate::store) async fn disclosures(
        &mut self,
        case_id: &CaseId,
    ) -> Result<Vec<Disclosure>> {
        let rows: Vec<DisclosureRow> = sqlx::query_as(
            "SELECT e.id, e.sender, d.recipient, e.kind, e.categories, e.basis, e.consent_id, e.accepted_at, \
             d.acked_at, d.cancelled_at FROM deliveries d JOIN envelopes e ON e.id = d.envelope_id \
             WHERE e.case_id = $1 ORDER BY e.accepted_at, d.recipient, d.seq",
        )
        .bind(case_id.as_str())
        .fetch_all(&mut *self.0)
        .await?;
        rows.into_iter().map(disclosure_from_row).collect()
    }

    pub(in crate::store) async fn statutory_uses(&mut self) -> Result<Vec<StatutoryUse>> {
        let rows: Vec<StatutoryRow> = sqlx::query_as(
            "SELECT id, sender, recipients, case_id, basis, categories, urgency, accepted_at \
             FROM envelopes WHERE basis IS NOT NULL AND basis <> 'consent' \
             ORDER BY accepted_at DESC",
        )
        .fetch_all(&mut *self.0)
        .await?;
        rows.into_iter().map(statutory_use_from_row).collect()
    }

    pub(in crate::store) async fn violations(&mut self) -> Result<Vec<Violation>> {
        let rows: Vec<ViolationRow> = sqlx::query_as(
            "SELECT envelope_id, reported_by, detail, reported_at FROM violations ORDER BY id DESC",
        )
        .fetch_all(&mut *self.0)
        .await?;
        rows.into_iter().map(violation_from_row).collect()
    }

    /// Entries with `from <= at < to`, in chain order. One statement per
    /// combination of bounds, so neither dialect has to type a NULL parameter.
    pub(in crate::store) async fn audit_entries(
        &mut self,
        from: Option<&Timestamp>,
        to: Option<&Timestamp>,
    ) -> Result<Vec<AuditEntry>> {
        let query = match (from, to) {
            (None, None) => sqlx::query_as(
                "SELECT seq, at, event, agency, subject, detail, prev_hash, hash FROM audit_log \
                 ORDER BY seq",
            ),
            (Some(from), None) => sqlx::query_as(
                "SELECT seq, at, event, agency, subject, detail, prev_hash, hash FROM audit_log \
                 WHERE at >= $1 ORDER BY seq",
            )
            .bind(*from),
            (None, Some(to)) => sqlx::query_as(
                "SELECT seq, at, event, agency, subject, detail, prev_hash, hash FROM audit_log \
                 WHERE at < $1 ORDER BY seq",
            )
            .bind(*to),
            (Some(from), Some(to)) => sqlx::query_as(
                "SELECT seq, at, event, agency, subject, detail, prev_hash, hash FROM audit_log \
                 WHERE at >= $1 AND at < $2 ORDER BY seq",
            )
            .bind(*from)
            .bind(*to),
        };
        let rows: Vec<AuditRow> = query.fetch_all(&mut *self.0).await?;
        Ok(rows.into_iter().map(audit_entry_from_row).collect())
    }

    /// The last entry's seq and hash. A hash that is not 32 bytes means the
    /// table was altered behind the hub's back.
    pub(in crate::store) async fn audit_head(
        &mut self,
    ) -> std::result::Result<Option<(u64, [u8; 32])>, StoreError> {
        let row: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *self.0)
                .await?;
        let Some((seq, hash)) = row else {
            return Ok(None);
        };
        let hash = <[u8; 32]>::try_from(hash.as_slice())
            .map_err(|_| StoreError::Corrupt(format!("audit entry {seq} has no 32-byte hash")))?;
        Ok(Some((u64::try_from(seq).unwrap_or(0), hash)))
    }
}

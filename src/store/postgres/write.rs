//! Changes, each run inside its caller's transaction (see `PgStore::write`).
//!
//! Several hub processes may write at once, so where SQLite relies on its
//! single writer this takes locks, always in the same order: the fact rows
//! the policy reads (referral states, case, consent), then recipients'
//! cursor rows (sorted by agency), then the audit chain's tail.

use std::collections::BTreeMap;

use sqlx::PgConnection;

use super::{DELIVERY_CHANNEL, read};
use crate::protocol::notice::ConsentEnd;
use crate::protocol::{AgencyId, CaseId, ConsentId, EnvelopeId, Notice, Seq, Timestamp};
use crate::store::model::{
    AuditEvent, CaseChange, DueReferral, Effects, Facts, FactsQuery, Policy,
};
use crate::store::rows::{
    ConsentDeliveryRow, ConsentEnding, LateRow, Undelivered, accepted_event, acked_event,
    acked_through_event, case_opened_event, end_reason, escalation_event, late_notice,
    next_audit_entry, parse, refused_event, resent, violation_event,
};
use crate::store::{
    AcceptOutcome, AckOutcome, NewEnvelope, categories_json, seq_from_db, seq_to_db,
};

type Conn = PgConnection;
type Result<T> = std::result::Result<T, sqlx::Error>;

/// The transaction-scoped advisory lock that makes appends to the audit
/// chain one at a time ("tsunagu" + 1), so no two entries share a parent.
const AUDIT_CHAIN_LOCK: i64 = 0x7473_756e_6167_7501;

pub(super) async fn accept(
    c: &mut Conn,
    e: &NewEnvelope,
    query: &FactsQuery,
    policy: &Policy,
) -> Result<AcceptOutcome> {
    let meta = e.envelope.meta();
    let id = meta.id.to_string();
    let existing: Option<(Vec<u8>,)> = sqlx::query_as("SELECT digest FROM envelopes WHERE id = $1")
        .bind(&id)
        .fetch_optional(&mut *c)
        .await?;
    if let Some((digest,)) = existing {
        return Ok(resent(&digest, e));
    }
    let facts = load_facts(c, query).await?;
    let effects = match policy(&facts) {
        Ok(effects) => effects,
        Err(refusal) => {
            append_audit(c, &refused_event(meta, &refusal)).await?;
            return Ok(AcceptOutcome::Refused(refusal));
        }
    };
    insert_envelope(c, e).await?;
    let seqs = queue_envelope(c, &id, &meta.recipients).await?;
    apply_effects(
        c,
        meta.id,
        meta.case_id.as_ref(),
        &meta.recipients,
        &effects,
    )
    .await?;
    append_audit(c, &accepted_event(meta)).await?;
    for event in &effects.audit {
        append_audit(c, event).await?;
    }
    Ok(AcceptOutcome::Stored(seqs))
}

/// Load the facts, locking their rows until commit so that no concurrent
/// withdrawal, closure or state change can slip between the policy's check
/// and the write it permits. `FOR NO KEY UPDATE` rather than `FOR SHARE`:
/// the same transaction may go on to update the row (a withdrawal, a case
/// change), and two share locks upgrading at once would deadlock.
async fn load_facts(c: &mut Conn, q: &FactsQuery) -> Result<Facts> {
    let referral = match q.referral {
        Some(id) => {
            lock(c, "SELECT 1 FROM referral_states WHERE referral = $1 ORDER BY recipient FOR NO KEY UPDATE", &id.to_string()).await?;
            read::referral(&mut *c, id).await?
        }
        None => None,
    };
    let case_id = q
        .case_id
        .clone()
        .or_else(|| referral.as_ref().and_then(|r| r.case_id.clone()));
    let case = match &case_id {
        Some(id) => {
            lock(
                c,
                "SELECT 1 FROM cases WHERE case_id = $1 FOR NO KEY UPDATE",
                id.as_str(),
            )
            .await?;
            read::case(&mut *c, id).await?
        }
        None => None,
    };
    let consent = match q.consent_id {
        Some(id) => {
            lock(
                c,
                "SELECT 1 FROM consents WHERE consent_id = $1 FOR NO KEY UPDATE",
                &id.to_string(),
            )
            .await?;
            read::consent(&mut *c, id).await?
        }
        None => None,
    };
    Ok(Facts {
        case,
        consent,
        referral,
    })
}

async fn lock(c: &mut Conn, sql: &'static str, key: &str) -> Result<()> {
    sqlx::query(sql).bind(key).fetch_all(c).await?;
    Ok(())
}

async fn insert_envelope(c: &mut Conn, e: &NewEnvelope) -> Result<()> {
    let meta = e.envelope.meta();
    let consent_id = match &meta.basis {
        Some(crate::protocol::LegalBasis::Consent { consent_id }) => Some(consent_id.to_string()),
        _ => None,
    };
    sqlx::query(
        "INSERT INTO envelopes (id, sender, case_id, kind, urgency, categories, created_at, \
         accepted_at, digest, body, basis, consent_id, purpose, recipients) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(meta.id.to_string())
    .bind(meta.sender.as_str())
    .bind(meta.case_id.as_ref().map(|c| c.as_str()))
    .bind(meta.kind.as_str())
    .bind(meta.urgency.as_str())
    .bind(categories_json(&e.envelope))
    .bind(meta.created_at.as_str())
    .bind(Timestamp::now().as_str())
    .bind(&e.digest[..])
    .bind(&e.body)
    .bind(meta.basis.as_ref().map(|b| b.as_str()))
    .bind(consent_id)
    .bind(meta.purpose.map(|p| p.as_str()))
    .bind(serde_json::to_string(&meta.recipients).unwrap_or_default())
    .execute(c)
    .await?;
    Ok(())
}

/// Queue the envelope for every recipient, taking their cursor rows in one
/// global order so two senders never deadlock; answer in the envelope's
/// recipient order, as SQLite does.
async fn queue_envelope(
    c: &mut Conn,
    id: &str,
    recipients: &[AgencyId],
) -> Result<Vec<(AgencyId, Seq)>> {
    let mut sorted: Vec<&AgencyId> = recipients.iter().collect();
    sorted.sort();
    let mut assigned = BTreeMap::new();
    for recipient in sorted {
        assigned.insert(recipient, queue(c, recipient, Some(id), None).await?);
    }
    Ok(recipients
        .iter()
        .map(|r| (r.clone(), assigned[r]))
        .collect())
}

/// Give `recipient` its next sequence number for an envelope or a notice,
/// and wake whichever hub process holds its socket (on commit only).
async fn queue(
    c: &mut Conn,
    recipient: &AgencyId,
    envelope: Option<&str>,
    notice: Option<&Notice>,
) -> Result<Seq> {
    let (seq,): (i64,) = sqlx::query_as(
        "INSERT INTO agency_cursors (agency, last_seq) VALUES ($1, 1) \
         ON CONFLICT (agency) DO UPDATE SET last_seq = agency_cursors.last_seq + 1 RETURNING last_seq",
    )
    .bind(recipient.as_str())
    .fetch_one(&mut *c)
    .await?;
    sqlx::query(
        "INSERT INTO deliveries (recipient, seq, envelope_id, notice) VALUES ($1, $2, $3, $4)",
    )
    .bind(recipient.as_str())
    .bind(seq)
    .bind(envelope)
    .bind(notice.map(|n| serde_json::to_string(n).unwrap_or_default()))
    .execute(&mut *c)
    .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(DELIVERY_CHANNEL)
        .bind(recipient.as_str())
        .execute(&mut *c)
        .await?;
    Ok(seq_from_db(seq))
}

/// Queue notices grouped by recipient (cursor rows in sorted order), each
/// recipient's notices in the order given.
async fn queue_notices(c: &mut Conn, mut notices: Vec<(AgencyId, Notice)>) -> Result<()> {
    notices.sort_by(|a, b| a.0.cmp(&b.0));
    for (to, notice) in &notices {
        queue(c, to, None, Some(notice)).await?;
    }
    Ok(())
}

async fn apply_effects(
    c: &mut Conn,
    envelope: EnvelopeId,
    case_id: Option<&CaseId>,
    recipients: &[AgencyId],
    fx: &Effects,
) -> Result<()> {
    let now = Timestamp::now();
    if let Some(scope) = &fx.record_consent {
        sqlx::query(
            "INSERT INTO consents (consent_id, case_id, recorded_by, scope, valid_until, recorded_at) \
             SELECT $1, $2, sender, $3, $4, $5 FROM envelopes WHERE id = $6",
        )
        .bind(scope.consent_id.to_string())
        .bind(scope.case_id.as_str())
        .bind(serde_json::to_string(scope).unwrap_or_default())
        .bind(scope.valid_until.as_ref().map(|t| Timestamp::from_datetime(t.datetime()).to_string()))
        .bind(now.as_str())
        .bind(envelope.to_string())
        .execute(&mut *c)
        .await?;
    }
    if let Some((consent, reason)) = fx.end_consent {
        end_consent(c, consent, reason, &now).await?;
    }
    if let Some(deadline) = &fx.open_referral {
        open_referral(c, envelope, recipients, deadline, &now).await?;
    }
    if let Some((referral, states)) = &fx.update_referral {
        for (recipient, state) in states {
            sqlx::query(
                "UPDATE referral_states SET state = $1, updated_at = $2, deadline_at = NULL \
                 WHERE referral = $3 AND recipient = $4",
            )
            .bind(state.as_str())
            .bind(now.as_str())
            .bind(referral.to_string())
            .bind(recipient.as_str())
            .execute(&mut *c)
            .await?;
        }
    }
    if let (Some(change), Some(case_id)) = (&fx.case_change, case_id) {
        change_case(c, case_id, change, &now).await?;
    }
    Ok(())
}

async fn open_referral(
    c: &mut Conn,
    envelope: EnvelopeId,
    recipients: &[AgencyId],
    deadline: &Timestamp,
    now: &Timestamp,
) -> Result<()> {
    for r in recipients {
        sqlx::query(
            "INSERT INTO referral_states (referral, recipient, state, updated_at, deadline_at) \
             VALUES ($1, $2, 'sent', $3, $4)",
        )
        .bind(envelope.to_string())
        .bind(r.as_str())
        .bind(now.as_str())
        .bind(deadline.as_str())
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

async fn change_case(
    c: &mut Conn,
    case_id: &CaseId,
    change: &CaseChange,
    now: &Timestamp,
) -> Result<()> {
    let query = match change {
        CaseChange::Register(r) => sqlx::query(
            "UPDATE cases SET classification = $1, lead = $2, members = $3, registered_at = $4, closed_at = NULL \
             WHERE case_id = $5",
        )
        .bind(r.classification.as_str())
        .bind(r.lead.as_str())
        .bind(serde_json::to_string(&r.members).unwrap_or_default())
        .bind(now.as_str()),
        CaseChange::Reclassify(class) => {
            sqlx::query("UPDATE cases SET classification = $1 WHERE case_id = $2").bind(class.as_str())
        }
        CaseChange::Close => sqlx::query("UPDATE cases SET closed_at = $1 WHERE case_id = $2").bind(now.as_str()),
    };
    query.bind(case_id.as_str()).execute(c).await?;
    Ok(())
}

/// End a consent: cancel what is queued but not delivered (telling each
/// sender), and tell every agency that already holds data under it.
/// Returns false if it had already ended.
pub(super) async fn end_consent(
    c: &mut Conn,
    consent: ConsentId,
    reason: ConsentEnd,
    now: &Timestamp,
) -> Result<bool> {
    let ended: Option<(String,)> = sqlx::query_as(
        "UPDATE consents SET ended_at = $1, end_reason = $2 WHERE consent_id = $3 AND ended_at IS NULL \
         RETURNING case_id",
    )
    .bind(now.as_str())
    .bind(end_reason(reason))
    .bind(consent.to_string())
    .fetch_optional(&mut *c)
    .await?;
    let Some((case_id,)) = ended else {
        return Ok(false);
    };
    let case_id: CaseId = parse(&case_id, "case id")?;
    let ending = consent_deliveries(c, consent).await?;
    let mut notices = Vec::with_capacity(ending.undelivered.len());
    for undelivered in &ending.undelivered {
        cancel_delivery(c, undelivered, now).await?;
        notices.push(undelivered.notice(consent));
    }
    notices.extend(ending.holder_notices(consent, &case_id, reason));
    queue_notices(c, notices).await?;
    append_audit(c, &ending.event(consent, reason)).await?;
    Ok(true)
}

/// The deliveries, not yet cancelled, of envelopes relying on `consent`,
/// locked until commit.
async fn consent_deliveries(c: &mut Conn, consent: ConsentId) -> Result<ConsentEnding> {
    let rows: Vec<ConsentDeliveryRow> = sqlx::query_as(
        "SELECT d.recipient, d.seq, d.envelope_id, e.sender, d.acked_at FROM deliveries d \
         JOIN envelopes e ON e.id = d.envelope_id \
         WHERE e.consent_id = $1 AND d.cancelled_at IS NULL \
         ORDER BY d.recipient COLLATE \"C\", d.seq FOR UPDATE OF d",
    )
    .bind(consent.to_string())
    .fetch_all(&mut *c)
    .await?;
    ConsentEnding::from_rows(rows)
}

async fn cancel_delivery(c: &mut Conn, d: &Undelivered, now: &Timestamp) -> Result<()> {
    sqlx::query("UPDATE deliveries SET cancelled_at = $1 WHERE recipient = $2 AND seq = $3")
        .bind(now.as_str())
        .bind(d.recipient.as_str())
        .bind(d.seq)
        .execute(&mut *c)
        .await?;
    // A referral that never reached the recipient has no 受理 to wait for.
    sqlx::query(
        "UPDATE referral_states SET state = 'cancelled', updated_at = $1, deadline_at = NULL \
         WHERE referral = $2 AND recipient = $3 AND state = 'sent'",
    )
    .bind(now.as_str())
    .bind(d.envelope_id.to_string())
    .bind(d.recipient.as_str())
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub(super) async fn escalate(
    c: &mut Conn,
    due: &DueReferral,
    next: &Timestamp,
    notices: &[(AgencyId, Notice)],
) -> Result<bool> {
    let changed = sqlx::query(
        "UPDATE referral_states SET escalations = escalations + 1, deadline_at = $1 \
         WHERE referral = $2 AND recipient = $3 AND state = 'sent' AND escalations = $4",
    )
    .bind(next.as_str())
    .bind(due.referral.to_string())
    .bind(due.recipient.as_str())
    .bind(i64::from(due.escalations))
    .execute(&mut *c)
    .await?
    .rows_affected();
    if changed == 0 {
        return Ok(false);
    }
    queue_notices(c, notices.to_vec()).await?;
    append_audit(c, &escalation_event(due, notices)).await?;
    Ok(true)
}

pub(super) async fn ack(c: &mut Conn, agency: &AgencyId, seq: Seq) -> Result<AckOutcome> {
    // FOR UPDATE: two sockets acking the same delivery record one ack.
    let row: Option<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT acked_at, envelope_id, cancelled_at FROM deliveries WHERE recipient = $1 AND seq = $2 FOR UPDATE",
    )
    .bind(agency.as_str())
    .bind(seq_to_db(seq))
    .fetch_optional(&mut *c)
    .await?;
    Ok(match row {
        None => AckOutcome::Unknown,
        Some((Some(_), _, _)) => AckOutcome::AlreadyAcked,
        Some((None, envelope, cancelled)) => {
            sqlx::query("UPDATE deliveries SET acked_at = $1, cancelled_at = NULL WHERE recipient = $2 AND seq = $3")
                .bind(Timestamp::now().as_str())
                .bind(agency.as_str())
                .bind(seq_to_db(seq))
                .execute(&mut *c)
                .await?;
            if let (Some(_), Some(envelope)) = (&cancelled, &envelope) {
                late_delivery(c, agency, envelope).await?;
            }
            let event = acked_event(agency, seq, envelope, cancelled.is_some());
            append_audit(c, &event).await?;
            if cancelled.is_some() {
                AckOutcome::AckedAfterCancel
            } else {
                AckOutcome::Acked
            }
        }
    })
}

/// The node stored a delivery that was cancelled after it was pushed: it
/// holds the data after all, so its records must show the consent ended.
async fn late_delivery(c: &mut Conn, agency: &AgencyId, envelope: &str) -> Result<()> {
    let row: Option<LateRow> = sqlx::query_as(
        "SELECT c.consent_id, c.case_id, c.end_reason FROM envelopes e \
         JOIN consents c ON c.consent_id = e.consent_id WHERE e.id = $1",
    )
    .bind(envelope)
    .fetch_optional(&mut *c)
    .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let notice = late_notice(row, envelope)?;
    queue(c, agency, None, Some(&notice)).await.map(|_| ())
}

pub(super) async fn ack_through(c: &mut Conn, agency: &AgencyId, seq: Seq) -> Result<u64> {
    let n = sqlx::query(
        "UPDATE deliveries SET acked_at = $1 \
         WHERE recipient = $2 AND seq <= $3 AND acked_at IS NULL AND cancelled_at IS NULL",
    )
    .bind(Timestamp::now().as_str())
    .bind(agency.as_str())
    .bind(seq_to_db(seq))
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n > 0 {
        append_audit(c, &acked_through_event(agency, seq, n)).await?;
    }
    Ok(n)
}

pub(super) async fn open_case(c: &mut Conn, case_id: &CaseId, agency: &AgencyId) -> Result<()> {
    sqlx::query("INSERT INTO cases (case_id, opened_by, opened_at) VALUES ($1, $2, $3)")
        .bind(case_id.as_str())
        .bind(agency.as_str())
        .bind(Timestamp::now().as_str())
        .execute(&mut *c)
        .await?;
    append_audit(c, &case_opened_event(case_id, agency)).await
}

pub(super) async fn record_violation(
    c: &mut Conn,
    envelope: EnvelopeId,
    by: &AgencyId,
    detail: &serde_json::Value,
) -> Result<()> {
    sqlx::query("INSERT INTO violations (envelope_id, reported_by, detail, reported_at) VALUES ($1, $2, $3, $4)")
        .bind(envelope.to_string())
        .bind(by.as_str())
        .bind(detail.to_string())
        .bind(Timestamp::now().as_str())
        .execute(&mut *c)
        .await?;
    append_audit(c, &violation_event(envelope, by, detail)).await
}

/// Append to the audit chain, linked to the last entry. The advisory lock
/// is held until commit, so the next appender reads this entry as its
/// parent (READ COMMITTED reads the latest commit at each statement).
pub(super) async fn append_audit(c: &mut Conn, e: &AuditEvent) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_CHAIN_LOCK)
        .execute(&mut *c)
        .await?;
    let last: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *c)
            .await?;
    let entry = next_audit_entry(last, e);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, event, agency, subject, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(entry.seq)
    .bind(entry.at)
    .bind(entry.event)
    .bind(entry.agency)
    .bind(entry.subject)
    .bind(entry.detail)
    .bind(entry.prev_hash)
    .bind(entry.hash)
    .execute(c)
    .await?;
    Ok(())
}

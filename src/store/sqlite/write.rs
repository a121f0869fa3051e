//! Changes, each run on the writer's connection inside a savepoint of the
//! current group-commit transaction.

use sqlx::SqliteConnection;

use super::read;
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

type Conn = SqliteConnection;
type Result<T> = std::result::Result<T, sqlx::Error>;

pub(super) async fn accept(
    c: &mut Conn,
    e: &NewEnvelope,
    query: &FactsQuery,
    policy: &Policy,
) -> Result<AcceptOutcome> {
    let meta = e.envelope.meta();
    let id = meta.id.to_string();
    let existing: Option<(Vec<u8>,)> = sqlx::query_as("SELECT digest FROM envelopes WHERE id = ?")
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
    let mut seqs = Vec::with_capacity(meta.recipients.len());
    for recipient in &meta.recipients {
        let seq = queue(c, recipient, Some(&id), None).await?;
        seqs.push((recipient.clone(), seq));
    }
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

async fn load_facts(c: &mut Conn, q: &FactsQuery) -> Result<Facts> {
    let referral = match q.referral {
        Some(id) => read::referral(&mut *c, id).await?,
        None => None,
    };
    let case_id = q
        .case_id
        .clone()
        .or_else(|| referral.as_ref().and_then(|r| r.case_id.clone()));
    let case = match &case_id {
        Some(id) => read::case(&mut *c, id).await?,
        None => None,
    };
    let consent = match q.consent_id {
        Some(id) => read::consent(&mut *c, id).await?,
        None => None,
    };
    Ok(Facts {
        case,
        consent,
        referral,
    })
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
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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

/// Give `recipient` its next sequence number for an envelope or a notice.
pub(super) async fn queue(
    c: &mut Conn,
    recipient: &AgencyId,
    envelope: Option<&str>,
    notice: Option<&Notice>,
) -> Result<Seq> {
    let (seq,): (i64,) = sqlx::query_as(
        "INSERT INTO agency_cursors (agency, last_seq) VALUES (?, 1) \
         ON CONFLICT (agency) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
    )
    .bind(recipient.as_str())
    .fetch_one(&mut *c)
    .await?;
    sqlx::query("INSERT INTO deliveries (recipient, seq, envelope_id, notice) VALUES (?, ?, ?, ?)")
        .bind(recipient.as_str())
        .bind(seq)
        .bind(envelope)
        .bind(notice.map(|n| serde_json::to_string(n).unwrap_or_default()))
        .execute(&mut *c)
        .await?;
    Ok(seq_from_db(seq))
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
             SELECT ?, ?, sender, ?, ?, ? FROM envelopes WHERE id = ?",
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
                "UPDATE referral_states SET state = ?, updated_at = ?, deadline_at = NULL \
                 WHERE referral = ? AND recipient = ?",
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
             VALUES (?, ?, 'sent', ?, ?)",
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
            "UPDATE cases SET classification = ?, lead = ?, members = ?, registered_at = ?, closed_at = NULL \
             WHERE case_id = ?",
        )
        .bind(r.classification.as_str())
        .bind(r.lead.as_str())
        .bind(serde_json::to_string(&r.members).unwrap_or_default())
        .bind(now.as_str()),
        CaseChange::Reclassify(class) => sqlx::query("UPDATE cases SET classification = ? WHERE case_id = ?").bind(class.as_str()),
        CaseChange::Close => sqlx::query("UPDATE cases SET closed_at = ? WHERE case_id = ?").bind(now.as_str()),
    };
    query.bind(case_id.as_str()).execute(c).await?;
    Ok(())
}

/// End a consent: cancel what is queued but not delivered (telling each
/// sender), and tell every agency that already holds data under it.
pub(super) async fn end_consent(
    c: &mut Conn,
    consent: ConsentId,
    reason: ConsentEnd,
    now: &Timestamp,
) -> Result<bool> {
    let ended = sqlx::query("UPDATE consents SET ended_at = ?, end_reason = ? WHERE consent_id = ? AND ended_at IS NULL")
        .bind(now.as_str())
        .bind(end_reason(reason))
        .bind(consent.to_string())
        .execute(&mut *c)
        .await?
        .rows_affected();
    if ended == 0 {
        return Ok(false);
    }
    let (case_id,): (String,) = sqlx::query_as("SELECT case_id FROM consents WHERE consent_id = ?")
        .bind(consent.to_string())
        .fetch_one(&mut *c)
        .await?;
    let ending = consent_deliveries(c, consent).await?;
    for undelivered in &ending.undelivered {
        cancel_delivery(c, undelivered, now).await?;
        let (sender, notice) = undelivered.notice(consent);
        queue(c, &sender, None, Some(&notice)).await?;
    }
    let case_id: CaseId = parse(&case_id, "case id")?;
    for (holder, notice) in ending.holder_notices(consent, &case_id, reason) {
        queue(c, &holder, None, Some(&notice)).await?;
    }
    append_audit(c, &ending.event(consent, reason)).await?;
    Ok(true)
}

/// The deliveries, not yet cancelled, of envelopes relying on `consent`.
async fn consent_deliveries(c: &mut Conn, consent: ConsentId) -> Result<ConsentEnding> {
    let rows: Vec<ConsentDeliveryRow> = sqlx::query_as(
        "SELECT d.recipient, d.seq, d.envelope_id, e.sender, d.acked_at FROM deliveries d \
         JOIN envelopes e ON e.id = d.envelope_id \
         WHERE e.consent_id = ? AND d.cancelled_at IS NULL ORDER BY d.recipient, d.seq",
    )
    .bind(consent.to_string())
    .fetch_all(&mut *c)
    .await?;
    ConsentEnding::from_rows(rows)
}

async fn cancel_delivery(c: &mut Conn, d: &Undelivered, now: &Timestamp) -> Result<()> {
    sqlx::query("UPDATE deliveries SET cancelled_at = ? WHERE recipient = ? AND seq = ?")
        .bind(now.as_str())
        .bind(d.recipient.as_str())
        .bind(d.seq)
        .execute(&mut *c)
        .await?;
    // A referral that never reached the recipient has no 受理 to wait for.
    sqlx::query(
        "UPDATE referral_states SET state = 'cancelled', updated_at = ?, deadline_at = NULL \
         WHERE referral = ? AND recipient = ? AND state = 'sent'",
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
        "UPDATE referral_states SET escalations = escalations + 1, deadline_at = ? \
         WHERE referral = ? AND recipient = ? AND state = 'sent' AND escalations = ?",
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
    for (to, notice) in notices {
        queue(c, to, None, Some(notice)).await?;
    }
    append_audit(c, &escalation_event(due, notices)).await?;
    Ok(true)
}

pub(super) async fn ack(c: &mut Conn, agency: &AgencyId, seq: Seq) -> Result<AckOutcome> {
    let row: Option<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT acked_at, envelope_id, cancelled_at FROM deliveries WHERE recipient = ? AND seq = ?",
    )
    .bind(agency.as_str())
    .bind(seq_to_db(seq))
    .fetch_optional(&mut *c)
    .await?;
    Ok(match row {
        None => AckOutcome::Unknown,
        Some((Some(_), _, _)) => AckOutcome::AlreadyAcked,
        Some((None, envelope, cancelled)) => {
            sqlx::query("UPDATE deliveries SET acked_at = ?, cancelled_at = NULL WHERE recipient = ? AND seq = ?")
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
         JOIN consents c ON c.consent_id = e.consent_id WHERE e.id = ?",
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
    // A cancelled delivery was never sent: the node's cursor passing it does
    // not mean it holds it, and the disclosure record must not say so.
    let n = sqlx::query(
        "UPDATE deliveries SET acked_at = ? \
         WHERE recipient = ? AND seq <= ? AND acked_at IS NULL AND cancelled_at IS NULL",
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
    sqlx::query("INSERT INTO cases (case_id, opened_by, opened_at) VALUES (?, ?, ?)")
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
    sqlx::query("INSERT INTO violations (envelope_id, reported_by, detail, reported_at) VALUES (?, ?, ?, ?)")
        .bind(envelope.to_string())
        .bind(by.as_str())
        .bind(detail.to_string())
        .bind(Timestamp::now().as_str())
        .execute(&mut *c)
        .await?;
    append_audit(c, &violation_event(envelope, by, detail)).await
}

/// Append to the audit chain, linked to the last entry.
pub(super) async fn append_audit(c: &mut Conn, e: &AuditEvent) -> Result<()> {
    let last: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *c)
            .await?;
    let entry = next_audit_entry(last, e);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, event, agency, subject, detail, prev_hash, hash) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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

//! Reads, on a pooled connection or inside a write transaction. Text is
//! compared and ordered with `COLLATE "C"` (bytewise), as SQLite does, so
//! both backends sort agency ids and timestamps alike whatever the
//! database's default collation.

use sqlx::PgConnection;

use crate::protocol::case::{CaseClassification, Registration};
use crate::protocol::consent::ConsentScope;
use crate::protocol::notice::ConsentEnd;
use crate::protocol::{
    AgencyId, CaseId, ConsentId, EnvelopeId, InfoCategory, ReferralState, Seq, Timestamp, Urgency,
};
use crate::store::audit::AuditEntry;
use crate::store::model::{
    CaseRecord, ConsentRecord, Disclosure, DueReferral, ReferralRecord, StatutoryUse,
};
use crate::store::{Delivery, StoreError, delivery, seq_from_db, seq_to_db};

type Conn = PgConnection;
type Result<T> = std::result::Result<T, sqlx::Error>;

fn corrupt(what: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!("stored {what} does not parse"))
}

fn parse<T: std::str::FromStr>(text: &str, what: &str) -> Result<T> {
    text.parse().map_err(|_| corrupt(what))
}

fn json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|_| corrupt(what))
}

fn timestamp(text: String) -> Result<Timestamp> {
    Timestamp::try_from(text).map_err(|_| corrupt("timestamp"))
}

fn urgency(text: &str) -> Result<Urgency> {
    Urgency::parse(text).ok_or_else(|| corrupt("urgency"))
}

/// seq, envelope id and body, or notice.
type DeliveryRow = (i64, Option<String>, Option<Vec<u8>>, Option<String>);

pub(super) async fn pending(
    c: &mut Conn,
    agency: &AgencyId,
    after: Seq,
    limit: u32,
) -> std::result::Result<Vec<Delivery>, StoreError> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(
        "SELECT d.seq, d.envelope_id, e.body, d.notice FROM deliveries d \
         LEFT JOIN envelopes e ON e.id = d.envelope_id \
         WHERE d.recipient = $1 AND d.seq > $2 AND d.acked_at IS NULL AND d.cancelled_at IS NULL \
         ORDER BY d.seq LIMIT $3",
    )
    .bind(agency.as_str())
    .bind(seq_to_db(after))
    .bind(i64::from(limit))
    .fetch_all(c)
    .await?;
    rows.into_iter()
        .map(|(seq, id, body, notice)| delivery(seq, id, body, notice))
        .collect()
}

pub(super) async fn last_seq(c: &mut Conn, agency: &AgencyId) -> Result<Seq> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT last_seq FROM agency_cursors WHERE agency = $1")
            .bind(agency.as_str())
            .fetch_optional(c)
            .await?;
    Ok(row.map(|(s,)| seq_from_db(s)).unwrap_or_default())
}

pub(super) async fn envelope_body(c: &mut Conn, id: EnvelopeId) -> Result<Option<Vec<u8>>> {
    let row: Option<(Vec<u8>,)> = sqlx::query_as("SELECT body FROM envelopes WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(c)
        .await?;
    Ok(row.map(|(body,)| body))
}

type CaseRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub(super) async fn case(c: &mut Conn, case_id: &CaseId) -> Result<Option<CaseRecord>> {
    let row: Option<CaseRow> = sqlx::query_as(
        "SELECT case_id, opened_by, classification, lead, members, closed_at FROM cases WHERE case_id = $1",
    )
    .bind(case_id.as_str())
    .fetch_optional(c)
    .await?;
    let Some((id, opened_by, classification, lead, members, closed_at)) = row else {
        return Ok(None);
    };
    let registration = match (classification, lead, members) {
        (Some(class), Some(lead), Some(members)) => Some(Registration {
            classification: CaseClassification::parse(&class)
                .ok_or_else(|| corrupt("classification"))?,
            lead: parse(&lead, "agency id")?,
            members: json(&members, "members")?,
        }),
        _ => None,
    };
    Ok(Some(CaseRecord {
        case_id: parse(&id, "case id")?,
        opened_by: parse(&opened_by, "agency id")?,
        registration,
        closed_at: closed_at.map(timestamp).transpose()?,
    }))
}

pub(super) async fn consent(c: &mut Conn, id: ConsentId) -> Result<Option<ConsentRecord>> {
    let row: Option<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT scope, recorded_by, ended_at, end_reason FROM consents WHERE consent_id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(c)
    .await?;
    let Some((scope, recorded_by, ended_at, end_reason)) = row else {
        return Ok(None);
    };
    let ended = match (ended_at, end_reason.as_deref()) {
        (Some(at), Some("expired")) => Some((timestamp(at)?, ConsentEnd::Expired)),
        (Some(at), _) => Some((timestamp(at)?, ConsentEnd::Withdrawn)),
        _ => None,
    };
    Ok(Some(ConsentRecord {
        scope: json::<ConsentScope>(&scope, "consent scope")?,
        recorded_by: parse(&recorded_by, "agency id")?,
        ended,
    }))
}

pub(super) async fn referral(c: &mut Conn, id: EnvelopeId) -> Result<Option<ReferralRecord>> {
    let row: Option<(String, Option<String>, String, String, String)> = sqlx::query_as(
        "SELECT sender, case_id, categories, urgency, kind FROM envelopes WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *c)
    .await?;
    let Some((sender, case_id, categories, urgency_text, kind)) = row else {
        return Ok(None);
    };
    if kind != "referral" {
        return Ok(None);
    }
    let states: Vec<(String, String)> = sqlx::query_as(
        "SELECT recipient, state FROM referral_states WHERE referral = $1 ORDER BY recipient COLLATE \"C\"",
    )
    .bind(id.to_string())
    .fetch_all(&mut *c)
    .await?;
    Ok(Some(ReferralRecord {
        referral: id,
        sender: parse(&sender, "agency id")?,
        case_id: case_id.map(|c| parse(&c, "case id")).transpose()?,
        categories: json::<Vec<InfoCategory>>(&categories, "categories")?,
        urgency: urgency(&urgency_text)?,
        states: states
            .into_iter()
            .map(|(r, s)| {
                Ok((
                    parse(&r, "agency id")?,
                    ReferralState::parse(&s).ok_or_else(|| corrupt("state"))?,
                ))
            })
            .collect::<Result<_>>()?,
    }))
}

pub(super) async fn involved(c: &mut Conn, case_id: &CaseId, agency: &AgencyId) -> Result<bool> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM cases WHERE case_id = $1 AND opened_by = $2) \
              + (SELECT COUNT(*) FROM envelopes WHERE case_id = $1 AND sender = $2) \
              + (SELECT COUNT(*) FROM deliveries d JOIN envelopes e ON e.id = d.envelope_id \
                 WHERE e.case_id = $1 AND d.recipient = $2)",
    )
    .bind(case_id.as_str())
    .bind(agency.as_str())
    .fetch_one(&mut *c)
    .await?;
    if n > 0 {
        return Ok(true);
    }
    let registered = case(c, case_id).await?.and_then(|c| c.registration);
    Ok(registered.is_some_and(|r| &r.lead == agency || r.members.contains(agency)))
}

type DueRow = (String, String, String, Option<String>, String, String, i64);

pub(super) async fn due_referrals(c: &mut Conn, now: &Timestamp) -> Result<Vec<DueReferral>> {
    let rows: Vec<DueRow> = sqlx::query_as(
        "SELECT rs.referral, e.sender, rs.recipient, e.case_id, e.urgency, rs.deadline_at, rs.escalations \
         FROM referral_states rs JOIN envelopes e ON e.id = rs.referral \
         WHERE rs.state = 'sent' AND rs.deadline_at IS NOT NULL AND rs.deadline_at COLLATE \"C\" <= $1 \
         ORDER BY rs.deadline_at COLLATE \"C\", rs.referral COLLATE \"C\", rs.recipient COLLATE \"C\"",
    )
    .bind(now.as_str())
    .fetch_all(c)
    .await?;
    rows.into_iter()
        .map(
            |(referral, sender, recipient, case_id, urgency_text, deadline, escalations)| {
                Ok(DueReferral {
                    referral: parse(&referral, "envelope id")?,
                    sender: parse(&sender, "agency id")?,
                    recipient: parse(&recipient, "agency id")?,
                    case_id: case_id.map(|c| parse(&c, "case id")).transpose()?,
                    urgency: urgency(&urgency_text)?,
                    deadline: timestamp(deadline)?,
                    escalations: u8::try_from(escalations).unwrap_or(u8::MAX),
                })
            },
        )
        .collect()
}

pub(super) async fn due_consents(c: &mut Conn, now: &Timestamp) -> Result<Vec<ConsentId>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT consent_id FROM consents \
         WHERE ended_at IS NULL AND valid_until IS NOT NULL AND valid_until COLLATE \"C\" <= $1",
    )
    .bind(now.as_str())
    .fetch_all(c)
    .await?;
    rows.into_iter()
        .map(|(id,)| parse(&id, "consent id"))
        .collect()
}

type DisclosureRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

pub(super) async fn disclosures(c: &mut Conn, case_id: &CaseId) -> Result<Vec<Disclosure>> {
    let rows: Vec<DisclosureRow> = sqlx::query_as(
        "SELECT e.id, e.sender, d.recipient, e.kind, e.categories, e.basis, e.accepted_at, d.acked_at, d.cancelled_at \
         FROM deliveries d JOIN envelopes e ON e.id = d.envelope_id \
         WHERE e.case_id = $1 ORDER BY e.accepted_at COLLATE \"C\", d.recipient COLLATE \"C\", d.seq",
    )
    .bind(case_id.as_str())
    .fetch_all(c)
    .await?;
    rows.into_iter()
        .map(
            |(
                id,
                sender,
                recipient,
                kind,
                categories,
                basis,
                accepted_at,
                acked_at,
                cancelled_at,
            )| {
                Ok(Disclosure {
                    envelope_id: parse(&id, "envelope id")?,
                    sender: Some(parse(&sender, "agency id")?),
                    recipient: parse(&recipient, "agency id")?,
                    kind,
                    categories: json(&categories, "categories")?,
                    basis,
                    accepted_at: timestamp(accepted_at)?,
                    delivered_at: acked_at.map(timestamp).transpose()?,
                    cancelled: cancelled_at.is_some(),
                })
            },
        )
        .collect()
}

type StatutoryRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
);

pub(super) async fn statutory_uses(c: &mut Conn) -> Result<Vec<StatutoryUse>> {
    let rows: Vec<StatutoryRow> = sqlx::query_as(
        "SELECT id, sender, recipients, case_id, basis, categories, urgency, accepted_at FROM envelopes \
         WHERE basis IS NOT NULL AND basis <> 'consent' ORDER BY accepted_at COLLATE \"C\" DESC",
    )
    .fetch_all(c)
    .await?;
    rows.into_iter()
        .map(
            |(id, sender, recipients, case_id, basis, categories, urgency_text, accepted_at)| {
                Ok(StatutoryUse {
                    envelope_id: parse(&id, "envelope id")?,
                    sender: Some(parse(&sender, "agency id")?),
                    recipients: json(&recipients, "recipients")?,
                    case_id: case_id.map(|c| parse(&c, "case id")).transpose()?,
                    basis,
                    categories: json(&categories, "categories")?,
                    urgency: urgency(&urgency_text)?,
                    accepted_at: timestamp(accepted_at)?,
                })
            },
        )
        .collect()
}

pub(super) async fn violations(
    c: &mut Conn,
) -> Result<Vec<(EnvelopeId, AgencyId, serde_json::Value, Timestamp)>> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT envelope_id, reported_by, detail, reported_at FROM violations ORDER BY id DESC",
    )
    .fetch_all(c)
    .await?;
    rows.into_iter()
        .map(|(id, by, detail, at)| {
            Ok((
                parse(&id, "envelope id")?,
                parse(&by, "agency id")?,
                json(&detail, "detail")?,
                timestamp(at)?,
            ))
        })
        .collect()
}

type AuditRow = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    Vec<u8>,
    Vec<u8>,
);

pub(super) async fn audit_entries(
    c: &mut Conn,
    from: Option<&Timestamp>,
    to: Option<&Timestamp>,
) -> Result<Vec<AuditEntry>> {
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT seq, at, event, agency, subject, detail, prev_hash, hash FROM audit_log \
         WHERE ($1::TEXT IS NULL OR at COLLATE \"C\" >= $1) AND ($2::TEXT IS NULL OR at COLLATE \"C\" < $2) \
         ORDER BY seq",
    )
    .bind(from.map(|t| t.as_str()))
    .bind(to.map(|t| t.as_str()))
    .fetch_all(c)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(seq, at, event, agency, subject, detail, prev_hash, hash)| AuditEntry {
                seq,
                at,
                event,
                agency,
                subject,
                detail,
                prev_hash,
                hash,
            },
        )
        .collect())
}

//! Stored rows to model types, notices and audit entries: what `sql` does
//! with the tuples it fetches, kept apart from the SQL itself.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::audit::{AuditEntry, GENESIS};
use super::model::{
    AuditEvent, CaseRecord, ConsentRecord, Disclosure, DueReferral, ReferralRecord, StatutoryUse,
};
use super::{AcceptOutcome, Delivery, DeliveryItem, NewEnvelope, StoreError};
use super::{parse_envelope_id, seq_from_db};
use crate::protocol::case::{CaseClassification, Registration};
use crate::protocol::notice::ConsentEnd;
use crate::protocol::{
    AgencyId, CaseId, ConsentId, EnvelopeId, ErrorBody, LegalBasis, Metadata, Notice,
    ReferralState, Seq, Timestamp, Urgency,
};

type Result<T> = std::result::Result<T, sqlx::Error>;

fn corrupt(what: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!("stored {what} does not parse"))
}

/// A stored id (or other text with `FromStr`); `what` names it in the error.
pub(super) fn parse<T: std::str::FromStr>(text: &str, what: &str) -> Result<T> {
    text.parse().map_err(|_| corrupt(what))
}

pub(super) fn json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|_| corrupt(what))
}

fn urgency(text: &str) -> Result<Urgency> {
    Urgency::parse(text).ok_or_else(|| corrupt("urgency"))
}

fn legal_basis(name: &str, consent_id: Option<ConsentId>) -> Result<LegalBasis> {
    LegalBasis::from_parts(name, consent_id).ok_or_else(|| corrupt("legal basis"))
}

fn case_id(text: Option<String>) -> Result<Option<CaseId>> {
    text.map(|c| parse(&c, "case id")).transpose()
}

/// How a consent's end is stored (`consents.end_reason`).
pub(super) fn end_reason(reason: ConsentEnd) -> &'static str {
    match reason {
        ConsentEnd::Withdrawn => "withdrawn",
        ConsentEnd::Expired => "expired",
    }
}

fn consent_end(stored: Option<&str>) -> ConsentEnd {
    if stored == Some("expired") {
        ConsentEnd::Expired
    } else {
        ConsentEnd::Withdrawn
    }
}

/// case_id, opened_by, classification, lead, members, closed_at.
pub(super) type CaseRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Timestamp>,
);

pub(super) fn case_from_row(row: CaseRow) -> Result<CaseRecord> {
    let (id, opened_by, classification, lead, members, closed_at) = row;
    let registration = match (classification, lead, members) {
        (Some(class), Some(lead), Some(members)) => Some(Registration {
            classification: CaseClassification::parse(&class)
                .ok_or_else(|| corrupt("classification"))?,
            lead: parse(&lead, "agency id")?,
            members: json(&members, "members")?,
        }),
        _ => None,
    };
    Ok(CaseRecord {
        case_id: parse(&id, "case id")?,
        opened_by: parse(&opened_by, "agency id")?,
        registration,
        closed_at,
    })
}

/// Whether `agency` leads or is a member of the case's registration.
pub(super) fn registered_in(case: Option<CaseRecord>, agency: &AgencyId) -> bool {
    let registration = case.and_then(|c| c.registration);
    registration.is_some_and(|r| &r.lead == agency || r.members.contains(agency))
}

/// scope, recorded_by, ended_at, end_reason.
pub(super) type ConsentRow = (String, String, Option<Timestamp>, Option<String>);

pub(super) fn consent_from_row(row: ConsentRow) -> Result<ConsentRecord> {
    let (scope, recorded_by, ended_at, end_reason) = row;
    let ended = ended_at.map(|at| (at, consent_end(end_reason.as_deref())));
    Ok(ConsentRecord {
        scope: json(&scope, "consent scope")?,
        recorded_by: parse(&recorded_by, "agency id")?,
        ended,
    })
}

/// An envelope's sender, case_id, categories, urgency, kind.
pub(super) type ReferralRow = (String, Option<String>, String, String, String);
/// A referral's recipient and its state.
pub(super) type StateRow = (String, String);

/// Whether the envelope is a referral (others have no referral record).
pub(super) fn is_referral(row: &ReferralRow) -> bool {
    row.4 == "referral"
}

pub(super) fn referral_from_row(
    referral: EnvelopeId,
    row: ReferralRow,
    states: Vec<StateRow>,
) -> Result<ReferralRecord> {
    let (sender, case, categories, urgency_text, _kind) = row;
    Ok(ReferralRecord {
        referral,
        sender: parse(&sender, "agency id")?,
        case_id: case_id(case)?,
        categories: json(&categories, "categories")?,
        urgency: urgency(&urgency_text)?,
        states: states
            .into_iter()
            .map(state_from_row)
            .collect::<Result<_>>()?,
    })
}

fn state_from_row((recipient, state): StateRow) -> Result<(AgencyId, ReferralState)> {
    Ok((
        parse(&recipient, "agency id")?,
        ReferralState::parse(&state).ok_or_else(|| corrupt("state"))?,
    ))
}

/// referral, sender, recipient, case_id, urgency, deadline_at, escalations.
pub(super) type DueRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    Timestamp,
    i64,
);

pub(super) fn due_referral_from_row(row: DueRow) -> Result<DueReferral> {
    let (referral, sender, recipient, case, urgency_text, deadline, escalations) = row;
    Ok(DueReferral {
        referral: parse(&referral, "envelope id")?,
        sender: parse(&sender, "agency id")?,
        recipient: parse(&recipient, "agency id")?,
        case_id: case_id(case)?,
        urgency: urgency(&urgency_text)?,
        deadline,
        escalations: u8::try_from(escalations).unwrap_or(u8::MAX),
    })
}

/// envelope id, sender, recipient, kind, categories, basis, consent_id,
/// accepted_at, acked_at, cancelled_at.
pub(super) type DisclosureRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Timestamp,
    Option<Timestamp>,
    Option<Timestamp>,
);

pub(super) fn disclosure_from_row(row: DisclosureRow) -> Result<Disclosure> {
    let (
        id,
        sender,
        recipient,
        kind,
        categories,
        basis,
        consent_id,
        accepted_at,
        acked_at,
        cancelled_at,
    ) = row;
    Ok(Disclosure {
        envelope_id: parse(&id, "envelope id")?,
        sender: Some(parse(&sender, "agency id")?),
        recipient: parse(&recipient, "agency id")?,
        kind,
        categories: json(&categories, "categories")?,
        basis: match basis {
            Some(name) => Some(legal_basis(
                &name,
                consent_id.map(|c| parse(&c, "consent id")).transpose()?,
            )?),
            None => None,
        },
        accepted_at,
        delivered_at: acked_at,
        cancelled: cancelled_at.is_some(),
    })
}

/// id, sender, recipients, case_id, basis, categories, urgency, accepted_at.
pub(super) type StatutoryRow = (
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    Timestamp,
);

pub(super) fn statutory_use_from_row(row: StatutoryRow) -> Result<StatutoryUse> {
    let (id, sender, recipients, case, basis, categories, urgency_text, accepted_at) = row;
    Ok(StatutoryUse {
        envelope_id: parse(&id, "envelope id")?,
        sender: Some(parse(&sender, "agency id")?),
        recipients: json(&recipients, "recipients")?,
        case_id: case_id(case)?,
        basis: legal_basis(&basis, None)?,
        categories: json(&categories, "categories")?,
        urgency: urgency(&urgency_text)?,
        accepted_at,
    })
}

/// envelope_id, reported_by, detail, reported_at.
pub(super) type ViolationRow = (String, String, String, Timestamp);
/// A reported violation: envelope, reporter, detail, time.
pub(super) type Violation = (EnvelopeId, AgencyId, serde_json::Value, Timestamp);

pub(super) fn violation_from_row((id, by, detail, at): ViolationRow) -> Result<Violation> {
    Ok((
        parse(&id, "envelope id")?,
        parse(&by, "agency id")?,
        json(&detail, "detail")?,
        at,
    ))
}

/// seq, at, event, agency, subject, detail, prev_hash, hash.
pub(super) type AuditRow = (
    i64,
    Timestamp,
    String,
    Option<String>,
    Option<String>,
    String,
    Vec<u8>,
    Vec<u8>,
);

/// Audit rows are kept as stored (verifying the chain is the caller's job).
pub(super) fn audit_entry_from_row(row: AuditRow) -> AuditEntry {
    let (seq, at, event, agency, subject, detail, prev_hash, hash) = row;
    AuditEntry {
        seq,
        at,
        event,
        agency,
        subject,
        detail,
        prev_hash,
        hash,
    }
}

/// seq, envelope id and body, or notice.
pub(super) type DeliveryRow = (i64, Option<String>, Option<Vec<u8>>, Option<String>);

/// A delivery row: an envelope (id and body) or a notice (JSON).
pub(super) fn delivery_from_row(row: DeliveryRow) -> std::result::Result<Delivery, StoreError> {
    let (seq, envelope_id, body, notice) = row;
    let item = match (envelope_id, body, notice) {
        (Some(id), Some(body), None) => DeliveryItem::Envelope {
            id: parse_envelope_id(&id)?,
            body,
        },
        (None, None, Some(notice)) => DeliveryItem::Notice(
            serde_json::from_str(&notice)
                .map_err(|e| StoreError::Corrupt(format!("notice at seq {seq}: {e}")))?,
        ),
        _ => {
            return Err(StoreError::Corrupt(format!(
                "delivery {seq} is neither an envelope nor a notice"
            )));
        }
    };
    Ok(Delivery {
        seq: seq_from_db(seq),
        item,
    })
}

/// What an envelope id already stored with `digest` means for a resend.
pub(super) fn resent(digest: &[u8], e: &NewEnvelope) -> AcceptOutcome {
    if digest == e.digest {
        AcceptOutcome::Duplicate
    } else {
        AcceptOutcome::IdReused
    }
}

/// The consent an envelope relied on: consent_id, case_id, end_reason.
pub(super) type LateRow = (String, String, Option<String>);

/// The `ConsentEnded` notice for a node that acknowledged `envelope` after
/// its delivery was cancelled.
pub(super) fn late_notice(row: LateRow, envelope: &str) -> Result<Notice> {
    let (consent, case, reason) = row;
    Ok(Notice::ConsentEnded {
        consent_id: parse(&consent, "consent id")?,
        case_id: parse(&case, "case id")?,
        reason: consent_end(reason.as_deref()),
        envelopes: vec![parse(envelope, "envelope id")?],
        sent: Vec::new(),
        ended_by: None,
        withdrawal: None,
    })
}

/// A delivery of an envelope relying on an ended consent:
/// recipient, seq, envelope_id, sender, acked_at.
pub(super) type ConsentDeliveryRow = (String, i64, String, String, Option<Timestamp>);

/// A delivery not yet acknowledged when its consent ended: to be cancelled.
pub(super) struct Undelivered {
    pub(super) recipient: AgencyId,
    pub(super) seq: i64,
    pub(super) envelope_id: EnvelopeId,
    pub(super) sender: AgencyId,
}

impl Undelivered {
    /// The notice telling the sender its delivery was cancelled.
    pub(super) fn notice(&self, consent: ConsentId) -> (AgencyId, Notice) {
        let notice = Notice::DeliveryCancelled {
            envelope_id: self.envelope_id,
            recipient: self.recipient.clone(),
            consent_id: consent,
        };
        (self.sender.clone(), notice)
    }
}

/// What ending a consent finds: deliveries to cancel, in row order, the
/// envelopes each recipient already holds under it, and the envelopes each
/// sender shared under it.
pub(super) struct ConsentEnding {
    pub(super) undelivered: Vec<Undelivered>,
    held: BTreeMap<AgencyId, Vec<EnvelopeId>>,
    sent: BTreeMap<AgencyId, Vec<EnvelopeId>>,
}

impl ConsentEnding {
    pub(super) fn from_rows(rows: Vec<ConsentDeliveryRow>) -> Result<Self> {
        let mut ending = Self {
            undelivered: Vec::new(),
            held: BTreeMap::new(),
            sent: BTreeMap::new(),
        };
        for (recipient, seq, envelope_id, sender, acked_at) in rows {
            let envelope_id = parse(&envelope_id, "envelope id")?;
            let recipient: AgencyId = parse(&recipient, "agency id")?;
            let sender: AgencyId = parse(&sender, "agency id")?;
            let sent = ending.sent.entry(sender.clone()).or_default();
            if !sent.contains(&envelope_id) {
                sent.push(envelope_id);
            }
            if acked_at.is_some() {
                ending.held.entry(recipient).or_default().push(envelope_id);
                continue;
            }
            ending.undelivered.push(Undelivered {
                recipient,
                seq,
                envelope_id,
                sender,
            });
        }
        Ok(ending)
    }

    /// Every agency the ending concerns, in agency order: each holder, each
    /// sender and the agency that recorded the consent.
    pub(super) fn concerned(&self, recorded_by: &AgencyId) -> BTreeSet<AgencyId> {
        self.held
            .keys()
            .chain(self.sent.keys())
            .chain([recorded_by])
            .cloned()
            .collect()
    }

    /// One `ConsentEnded` notice per agency concerned, in agency order, each
    /// naming the case, what that agency received and sent under the consent
    /// and, for a withdrawal, where she withdrew and the envelope carrying
    /// her words.
    pub(super) fn ended_notices(
        &self,
        consent: ConsentId,
        case_id: &CaseId,
        reason: ConsentEnd,
        concerned: &BTreeSet<AgencyId>,
        withdrawal: Option<&(EnvelopeId, AgencyId)>,
    ) -> Vec<(AgencyId, Notice)> {
        let of = |map: &BTreeMap<AgencyId, Vec<EnvelopeId>>, a: &AgencyId| {
            map.get(a).cloned().unwrap_or_default()
        };
        concerned
            .iter()
            .map(|a| {
                let notice = Notice::ConsentEnded {
                    consent_id: consent,
                    case_id: case_id.clone(),
                    reason,
                    envelopes: of(&self.held, a),
                    sent: of(&self.sent, a),
                    ended_by: withdrawal.map(|(_, by)| by.clone()),
                    withdrawal: withdrawal.map(|(id, _)| *id),
                };
                (a.clone(), notice)
            })
            .collect()
    }

    /// The audit entry for the ending: a withdrawal names the agency where
    /// she withdrew (an expiry has no agency).
    pub(super) fn event(
        &self,
        consent: ConsentId,
        reason: ConsentEnd,
        ended_by: Option<&AgencyId>,
        notified: usize,
    ) -> AuditEvent {
        let reason = end_reason(reason);
        let detail = json!({
            "reason": reason,
            "cancelled_deliveries": self.undelivered.len(),
            "holders_notified": self.held.len(),
            "agencies_notified": notified,
        });
        let event = format!("consent_{reason}");
        AuditEvent::new(&event, ended_by, Some(consent.to_string()), detail)
    }
}

// Audit events, one builder each, so both backends record the same detail.

pub(super) fn refused_event(meta: &Metadata, refusal: &ErrorBody) -> AuditEvent {
    let detail =
        json!({ "code": refusal.code, "reason": refusal.message_en, "kind": meta.kind.as_str() });
    AuditEvent::new(
        "refused",
        Some(&meta.sender),
        Some(meta.id.to_string()),
        detail,
    )
}

pub(super) fn accepted_event(meta: &Metadata) -> AuditEvent {
    let detail = json!({
        "kind": meta.kind.as_str(),
        "recipients": meta.recipients,
        "categories": meta.categories,
        "basis": meta.basis.as_ref().map(|b| b.as_str()),
        "purpose": meta.purpose.map(|p| p.as_str()),
        "case_id": meta.case_id,
    });
    let subject = Some(meta.id.to_string());
    AuditEvent::new("envelope_accepted", Some(&meta.sender), subject, detail)
}

pub(super) fn escalation_event(due: &DueReferral, notices: &[(AgencyId, Notice)]) -> AuditEvent {
    let notified: Vec<&str> = notices.iter().map(|(a, _)| a.as_str()).collect();
    let detail = json!({
        "recipient": due.recipient, "level": due.escalations + 1, "deadline": due.deadline, "notified": notified,
    });
    AuditEvent::new("escalation", None, Some(due.referral.to_string()), detail)
}

pub(super) fn acked_event(
    agency: &AgencyId,
    seq: Seq,
    envelope: Option<String>,
    after_cancel: bool,
) -> AuditEvent {
    let detail = json!({ "seq": seq.0, "after_cancel": after_cancel });
    AuditEvent::new("delivery_acked", Some(agency), envelope, detail)
}

pub(super) fn acked_through_event(agency: &AgencyId, seq: Seq, count: u64) -> AuditEvent {
    let detail = json!({ "through": seq.0, "count": count });
    AuditEvent::new("delivery_acked", Some(agency), None, detail)
}

pub(super) fn case_opened_event(case_id: &CaseId, agency: &AgencyId) -> AuditEvent {
    AuditEvent::new(
        "case_opened",
        Some(agency),
        Some(case_id.to_string()),
        json!({}),
    )
}

pub(super) fn violation_event(
    envelope: EnvelopeId,
    by: &AgencyId,
    detail: &serde_json::Value,
) -> AuditEvent {
    let subject = Some(envelope.to_string());
    AuditEvent::new("violation_reported", Some(by), subject, detail.clone())
}

/// The entry appending `e` to the audit chain after its tail (`last`: seq and
/// hash; `None` for an empty chain), stamped now.
pub(super) fn next_audit_entry(last: Option<(i64, Vec<u8>)>, e: &AuditEvent) -> AuditEntry {
    let (prev_seq, prev_hash) = last.unwrap_or((0, GENESIS.to_vec()));
    let mut entry = AuditEntry {
        seq: prev_seq + 1,
        at: Timestamp::now(),
        event: e.event.clone(),
        agency: e.agency.as_ref().map(|a| a.as_str().to_owned()),
        subject: e.subject.clone(),
        detail: e.detail.to_string(),
        prev_hash,
        hash: Vec::new(),
    };
    entry.hash = entry.expected_hash(&entry.prev_hash).to_vec();
    entry
}

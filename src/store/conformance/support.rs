//! Builders and probes shared by the conformance tests.

use std::sync::Arc;

use crate::protocol::consent::{
    ConsentDecision, ConsentGiver, ConsentMethod, ConsentRecipient, ConsentScope,
};
use crate::protocol::{
    AgencyId, CaseId, ConsentId, Envelope, EnvelopeId, ErrorBody, ErrorCode, InfoCategory,
    LegalBasis, MessageKind, Metadata, Notice, Purpose, Seq, Timestamp, Urgency,
};
use crate::store::audit::{self, AuditEntry};
use crate::store::model::{Effects, FactsQuery, Policy};
use crate::store::{AcceptOutcome, DeliveryItem, HubStore, NewEnvelope};

pub fn agency(id: &str) -> AgencyId {
    id.parse().unwrap()
}

pub fn case_id(id: &str) -> CaseId {
    id.parse().unwrap()
}

pub fn at(text: &str) -> Timestamp {
    Timestamp::try_from(text.to_owned()).unwrap()
}

/// A policy that allows everything and changes nothing else.
pub fn allow() -> Policy {
    Arc::new(|_facts| Ok(Effects::default()))
}

/// A policy that allows with these effects.
pub fn with(effects: Effects) -> Policy {
    Arc::new(move |_facts| Ok(effects.clone()))
}

pub fn refusal() -> ErrorBody {
    ErrorBody {
        code: ErrorCode::ConsentWithdrawn,
        message: "同意が撤回されています".into(),
        message_en: "the consent was withdrawn".into(),
    }
}

/// A policy that refuses everything.
pub fn refuse() -> Policy {
    Arc::new(|_facts| Err(refusal()))
}

/// Referral metadata from `sender` to `recipients`, no case, no basis.
pub fn meta(sender: &str, recipients: &[&str]) -> Metadata {
    Metadata {
        id: EnvelopeId::new(),
        sender: agency(sender),
        recipients: recipients.iter().map(|r| agency(r)).collect(),
        case_id: None,
        kind: MessageKind::Referral,
        categories: vec![InfoCategory::Basic],
        urgency: Urgency::Early,
        created_at: Timestamp::now(),
        basis: None,
        purpose: None,
        action: None,
    }
}

/// Metadata relying on a consent for `case`.
pub fn under_consent(
    sender: &str,
    recipients: &[&str],
    case: &CaseId,
    consent_id: ConsentId,
) -> Metadata {
    Metadata {
        case_id: Some(case.clone()),
        basis: Some(LegalBasis::Consent { consent_id }),
        purpose: Some(Purpose::Referral),
        ..meta(sender, recipients)
    }
}

/// An envelope as the hub would hand it to the store.
pub fn sealed(meta: Metadata, ciphertext: &[u8]) -> NewEnvelope {
    // The store never checks signatures: a zero one will do.
    let envelope = Envelope::seal(meta, ciphertext.to_vec(), |_| vec![0; 64]);
    NewEnvelope {
        digest: envelope.digest(),
        body: envelope.bytes().to_vec(),
        envelope,
    }
}

/// A referral from the clinic.
pub fn envelope(recipients: &[&str], ciphertext: &[u8]) -> NewEnvelope {
    sealed(meta("clinic", recipients), ciphertext)
}

/// A granted consent for `case` covering the center.
pub fn scope(consent_id: ConsentId, case: &CaseId, valid_until: Option<Timestamp>) -> ConsentScope {
    ConsentScope {
        consent_id,
        case_id: case.clone(),
        given_by: ConsentGiver::Person,
        method: ConsentMethod::Written,
        decision: ConsentDecision::Granted,
        recipients: vec![ConsentRecipient::Agency(agency("center"))],
        categories: vec![InfoCategory::Basic],
        purposes: vec![Purpose::Referral],
        valid_from: at("2026-01-01T00:00:00.000Z"),
        valid_until,
    }
}

/// Accept with no facts and `policy`; the sequence numbers it was stored with.
pub async fn stored(
    store: &Arc<dyn HubStore>,
    e: &NewEnvelope,
    policy: Policy,
) -> Vec<(AgencyId, Seq)> {
    match store
        .accept(e.clone(), FactsQuery::default(), policy)
        .await
        .unwrap()
    {
        AcceptOutcome::Stored(seqs) => seqs,
        other => panic!("expected Stored, got {other:?}"),
    }
}

/// Record a consent for `case` through a `consent_record` envelope.
pub async fn record_consent(
    store: &Arc<dyn HubStore>,
    case: &CaseId,
    valid_until: Option<Timestamp>,
) -> ConsentId {
    let consent_id = ConsentId::new();
    let e = sealed(
        Metadata {
            kind: MessageKind::ConsentRecord,
            case_id: Some(case.clone()),
            ..meta("clinic", &["center"])
        },
        b"consent",
    );
    let effects = Effects {
        record_consent: Some(scope(consent_id, case, valid_until)),
        ..Effects::default()
    };
    stored(store, &e, with(effects)).await;
    consent_id
}

/// Everything queued for `who`, not acknowledged or cancelled.
pub async fn pending_items(store: &Arc<dyn HubStore>, who: &str) -> Vec<DeliveryItem> {
    let pending = store.pending(&agency(who), Seq(0), 1000).await.unwrap();
    pending.into_iter().map(|d| d.item).collect()
}

/// The sequence numbers of what is queued for `who`, in order.
pub async fn pending_seqs(store: &Arc<dyn HubStore>, who: &str) -> Vec<u64> {
    let pending = store.pending(&agency(who), Seq(0), 1000).await.unwrap();
    pending.iter().map(|d| d.seq.0).collect()
}

/// The envelopes queued for `who`.
pub async fn pending_envelopes(store: &Arc<dyn HubStore>, who: &str) -> Vec<EnvelopeId> {
    let items = pending_items(store, who).await;
    items
        .into_iter()
        .filter_map(|item| match item {
            DeliveryItem::Envelope { id, .. } => Some(id),
            DeliveryItem::Notice(_) => None,
        })
        .collect()
}

/// The notices queued for `who`.
pub async fn notices(store: &Arc<dyn HubStore>, who: &str) -> Vec<Notice> {
    let items = pending_items(store, who).await;
    items
        .into_iter()
        .filter_map(|item| match item {
            DeliveryItem::Notice(n) => Some(n),
            DeliveryItem::Envelope { .. } => None,
        })
        .collect()
}

/// The whole audit chain, checked.
pub async fn audit_chain(store: &Arc<dyn HubStore>) -> Vec<AuditEntry> {
    let entries = store.audit_entries(None, None).await.unwrap();
    assert_eq!(
        audit::verify(entries.clone()),
        Ok(entries.len() as u64),
        "the audit chain verifies"
    );
    entries
}

/// The events of the checked audit chain, in order.
pub async fn audit_events(store: &Arc<dyn HubStore>) -> Vec<String> {
    audit_chain(store)
        .await
        .into_iter()
        .map(|e| e.event)
        .collect()
}

/// The first `DeadlineMissed` notice for a due referral.
pub fn first_miss(due: &crate::store::model::DueReferral) -> Notice {
    Notice::DeadlineMissed {
        referral: due.referral,
        recipient: due.recipient.clone(),
        urgency: due.urgency,
        level: 1,
        deadline: due.deadline,
    }
}

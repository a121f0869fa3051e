//! Consent (同意) as this node records, holds and withdraws it: one
//! implementation for the CLI (`agency consent-record | consent-withdraw`)
//! and the staff UI. The scope travels in clear for the hub to enforce;
//! who gave it, the note and the scanned form travel encrypted.

use std::collections::BTreeMap;

use super::{Draft, Node};
use crate::protocol::consent::{
    ConsentDecision, ConsentGiver, ConsentMethod, ConsentRecipient, ConsentScope,
};
use crate::protocol::notice::ConsentEnd;
use crate::protocol::payload::{Attachment, Author, Body, ConsentDetails, Note, Payload};
use crate::protocol::{
    Action, AgencyId, CaseId, ConsentId, Envelope, EnvelopeId, InfoCategory, MessageKind, Notice,
    Purpose, Timestamp, Urgency,
};
use crate::store::StoreError;
use crate::store::records::{HeldEnvelope, Records};

/// A consent to record, as staff gave it.
#[derive(Clone, Debug)]
pub struct ConsentRequest {
    /// The case it is about.
    pub case: CaseId,
    /// The agencies that receive the encrypted details (none: the hub keeps
    /// the scope only).
    pub to: Vec<AgencyId>,
    /// Who may receive, by agency or by kind.
    pub recipients: Vec<ConsentRecipient>,
    pub categories: Vec<InfoCategory>,
    pub purposes: Vec<Purpose>,
    pub given_by: ConsentGiver,
    /// Their name (encrypted).
    pub given_by_name: String,
    pub method: ConsentMethod,
    pub decision: ConsentDecision,
    /// None: until withdrawn.
    pub valid_until: Option<Timestamp>,
    /// The signed form, already checked by `protocol::attachment::attach`.
    pub scan: Option<Attachment>,
    pub note: String,
}

impl ConsentRequest {
    /// The scope (with a new consent id) and the draft that records it.
    pub fn draft(self, author: Author) -> (ConsentScope, Draft) {
        let scope = ConsentScope {
            consent_id: ConsentId::new(),
            case_id: self.case.clone(),
            given_by: self.given_by,
            method: self.method,
            decision: self.decision,
            recipients: self.recipients,
            categories: self.categories,
            purposes: self.purposes,
            valid_from: Timestamp::now(),
            valid_until: self.valid_until,
        };
        let details = ConsentDetails {
            given_by_name: self.given_by_name,
            note: self.note,
            scan: self.scan,
        };
        let draft = action_draft(
            self.case,
            self.to,
            Action::RecordConsent {
                scope: scope.clone(),
            },
            author,
            Body::ConsentRecord(details),
        );
        (scope, draft)
    }
}

/// The withdrawal of `consent`, her words in `text`, encrypted to every
/// agency concerned (see [`super::withdrawal::concerned`]).
pub async fn withdrawal_draft(
    node: &Node,
    case: CaseId,
    consent: ConsentId,
    text: String,
    author: Author,
) -> Draft {
    let to = super::withdrawal::concerned(node, &case, consent).await;
    let body = Body::ConsentWithdrawal(Note {
        text,
        categories: vec![],
    });
    let action = Action::WithdrawConsent {
        consent_id: consent,
    };
    action_draft(case, to, action, author, body)
}

fn action_draft(
    case: CaseId,
    to: Vec<AgencyId>,
    action: Action,
    author: Author,
    body: Body,
) -> Draft {
    Draft {
        recipients: to,
        case_id: Some(case),
        urgency: Urgency::Normal,
        basis: None,
        purpose: None,
        action: Some(action),
        payload: Payload {
            author,
            body,
            justification: None,
        },
    }
}

/// Where a consent stands, as this node knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentState {
    /// Granted, not ended: sharing within its scope is allowed.
    Valid,
    /// Recorded here but not yet taken by the hub (the running node sends it).
    Pending,
    /// She withdrew it.
    Withdrawn,
    /// Its period ended.
    Expired,
    /// She refused, or was not told: nothing may rely on it.
    NotGranted,
}

impl ConsentState {
    /// The state in the staff's words.
    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        match self {
            ConsentState::Valid => lang.pick("有効", "valid"),
            ConsentState::Pending => lang.pick("送信待ち", "pending"),
            ConsentState::Withdrawn => lang.pick("撤回済み", "withdrawn"),
            ConsentState::Expired => lang.pick("期間満了", "expired"),
            ConsentState::NotGranted => lang.pick("同意なし", "not granted"),
        }
    }
}

/// How a consent ended, as this node learned it.
#[derive(Clone, Debug, PartialEq)]
pub struct Ended {
    pub reason: ConsentEnd,
    /// The withdrawal envelope this node holds (sent or received).
    pub withdrawal: Option<EnvelopeId>,
    /// When she withdrew (the withdrawal's time), if this node holds it.
    pub at: Option<Timestamp>,
    /// Her words, if this node holds the withdrawal.
    pub note: Option<String>,
}

/// A consent this node recorded, or received the record of.
#[derive(Clone, Debug, PartialEq)]
pub struct HeldConsent {
    pub scope: ConsentScope,
    /// The record's envelope.
    pub envelope_id: EnvelopeId,
    /// The agency that recorded it; `None` when this node did.
    pub recorded_by: Option<AgencyId>,
    /// The member of staff who recorded it.
    pub author: Author,
    pub details: ConsentDetails,
    /// Not yet taken by the hub.
    pub pending: bool,
    pub ended: Option<Ended>,
}

impl HeldConsent {
    /// Its state at `now`.
    pub fn state(&self, now: Timestamp) -> ConsentState {
        if let Some(ended) = &self.ended {
            return match ended.reason {
                ConsentEnd::Withdrawn => ConsentState::Withdrawn,
                ConsentEnd::Expired => ConsentState::Expired,
            };
        }
        if self.pending {
            return ConsentState::Pending;
        }
        if self.scope.decision != ConsentDecision::Granted {
            return ConsentState::NotGranted;
        }
        match self.scope.valid_until {
            Some(until) if until.datetime() <= now.datetime() => ConsentState::Expired,
            _ => ConsentState::Valid,
        }
    }
}

/// Every consent this node holds, oldest first, with how each ended.
pub async fn consents(records: &Records) -> Result<Vec<HeldConsent>, StoreError> {
    let kinds = [MessageKind::ConsentRecord, MessageKind::ConsentWithdrawal].map(|k| k.as_str());
    let held = records.held_of_kinds(&kinds).await?;
    let mut by_id: BTreeMap<ConsentId, HeldConsent> = BTreeMap::new();
    let mut order = Vec::new();
    for h in &held {
        let (meta, payload) = open(h)?;
        match (meta.action, payload.body) {
            (Some(Action::RecordConsent { scope }), Body::ConsentRecord(details)) => {
                order.push(scope.consent_id);
                by_id.insert(
                    scope.consent_id,
                    HeldConsent {
                        scope,
                        envelope_id: meta.id,
                        recorded_by: (!h.sent).then_some(meta.sender),
                        author: payload.author,
                        details,
                        pending: h.pending,
                        ended: None,
                    },
                );
            }
            (Some(Action::WithdrawConsent { consent_id }), Body::ConsentWithdrawal(note))
                if !h.pending =>
            {
                if let Some(c) = by_id.get_mut(&consent_id) {
                    c.ended = Some(Ended {
                        reason: ConsentEnd::Withdrawn,
                        withdrawal: Some(meta.id),
                        at: Some(meta.created_at),
                        note: Some(note.text),
                    });
                }
            }
            _ => {}
        }
    }
    for (_, notice) in records.notices().await? {
        if let Notice::ConsentEnded {
            consent_id,
            reason,
            withdrawal,
            ..
        } = notice
            && let Some(c) = by_id.get_mut(&consent_id)
            && c.ended.is_none()
        {
            c.ended = Some(Ended {
                reason,
                withdrawal,
                at: None,
                note: None,
            });
        }
    }
    Ok(order.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// One consent this node holds.
pub async fn consent(records: &Records, id: ConsentId) -> Result<Option<HeldConsent>, StoreError> {
    Ok(consents(records)
        .await?
        .into_iter()
        .find(|c| c.scope.consent_id == id))
}

fn open(h: &HeldEnvelope) -> Result<(crate::protocol::envelope::Metadata, Payload), StoreError> {
    let envelope = Envelope::parse(h.envelope.clone())
        .map_err(|e| StoreError::Corrupt(format!("held envelope: {e}")))?;
    let payload = serde_json::from_str(&h.payload)
        .map_err(|e| StoreError::Corrupt(format!("stored payload: {e}")))?;
    Ok((envelope.meta().clone(), payload))
}

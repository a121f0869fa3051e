//! What the node holds that the indicators count, read out of its records
//! into plain data: referrals sent and received (with the other agencies'
//! kinds, the reasons and the EPDS total), every referral update (受理,
//! 返信…) with its time, the hub's missed-deadline notices, meetings,
//! plan versions, the staff accounts and the directory. Nothing here
//! computes an indicator.

use std::collections::BTreeSet;

use crate::agency::Node;
use crate::agency::ledger::sources::{self, PlanFacts};
use crate::protocol::meeting::MeetingKind;
use crate::protocol::payload::{Body, Payload};
use crate::protocol::referral::ReferralReason;
use crate::protocol::{
    Action, AgencyId, AgencyKind, CaseId, Envelope, EnvelopeId, MessageKind, Notice, ReferralState,
    Timestamp,
};
use crate::store::StoreError;
use crate::store::records::Records;

/// A referral this node sent or received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralFact {
    pub id: EnvelopeId,
    /// Sent by this node (else received).
    pub sent: bool,
    /// When its sender created it.
    pub at: Timestamp,
    /// The sender's kind (received), or each recipient's (sent).
    pub others: Vec<AgencyKind>,
    pub reasons: Vec<ReferralReason>,
    /// The EPDS total, if the referral carried one.
    pub epds: Option<u8>,
    pub case: Option<CaseId>,
}

/// A referral's state change, sent by this node or received by it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateFact {
    pub referral: EnvelopeId,
    pub state: ReferralState,
    pub at: Timestamp,
}

/// A meeting as the indicators count it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeetingFact {
    pub kind: MeetingKind,
    pub starts_at: Timestamp,
    pub cancelled: bool,
}

/// Everything the indicators count besides the ledger.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Facts {
    pub referrals: Vec<ReferralFact>,
    pub updates: Vec<UpdateFact>,
    /// Referrals the hub said missed their 受理 deadline.
    pub missed: BTreeSet<EnvelopeId>,
    pub meetings: Vec<MeetingFact>,
    pub plans: Vec<PlanFacts>,
    /// The other agencies in the directory, by kind.
    pub agencies: Vec<AgencyKind>,
    /// Staff accounts not disabled.
    pub staff: u64,
}

/// Read the facts out of `node`.
pub async fn gather(node: &Node) -> Result<Facts, StoreError> {
    let records = node.records();
    let kind_of = |id: &str| {
        id.parse::<AgencyId>()
            .ok()
            .and_then(|id| node.directory().get(&id).map(|a| a.kind))
            .unwrap_or(AgencyKind::Other)
    };
    let mut facts = Facts {
        agencies: node
            .directory()
            .agencies()
            .iter()
            .filter(|a| &a.id != node.id())
            .map(|a| a.kind)
            .collect(),
        staff: records
            .staff_rows()
            .await?
            .iter()
            .filter(|s| s.disabled_at.is_none())
            .count() as u64,
        missed: missed(records).await?,
        ..Facts::default()
    };
    let sources = sources::read(records, node.id()).await?;
    facts.plans = sources.plans;
    facts.meetings = sources
        .meetings
        .iter()
        .map(|m| MeetingFact {
            kind: m.kind,
            starts_at: m.starts_at,
            cancelled: m.cancelled.is_some(),
        })
        .collect();
    // Received, and sent: what the hub refused never happened, what waits
    // has not happened yet.
    let received = records.inbox().await?.into_iter().map(|r| {
        let others = vec![kind_of(&r.sender)];
        (
            false,
            r.kind,
            r.envelope_id,
            r.created_at,
            Ok(others),
            r.case_id,
            r.payload,
        )
    });
    let sent = records
        .outbox()
        .await?
        .into_iter()
        .filter(|r| r.status == "accepted")
        .map(|r| {
            let others = serde_json::from_str::<Vec<String>>(&r.recipients)
                .map(|to| to.iter().map(|id| kind_of(id)).collect());
            (
                true,
                r.kind,
                r.envelope_id,
                r.created_at,
                others,
                r.case_id,
                r.payload,
            )
        });
    for (sent, kind, id, at, others, case, payload) in received.chain(sent) {
        if kind == MessageKind::Referral.as_str() {
            let others = others.map_err(|e| corrupt(format!("outbox recipients: {e}")))?;
            facts.referrals.push(referral_fact(
                &id,
                sent,
                at,
                others,
                case.as_deref(),
                &payload,
            )?);
        } else if kind == MessageKind::ReferralUpdate.as_str() {
            facts.updates.extend(update_fact(records, &id, at).await?);
        }
    }
    Ok(facts)
}

fn referral_fact(
    id: &str,
    sent: bool,
    at: Timestamp,
    others: Vec<AgencyKind>,
    case: Option<&str>,
    payload: &str,
) -> Result<ReferralFact, StoreError> {
    let id = id
        .parse()
        .map_err(|_| corrupt(format!("envelope id {id:?}")))?;
    let payload: Payload =
        serde_json::from_str(payload).map_err(|e| corrupt(format!("referral payload: {e}")))?;
    let (reasons, epds) = match payload.body {
        Body::Referral(r) => (r.reasons, r.epds.map(|e| e.total)),
        _ => (Vec::new(), None),
    };
    let case = case.and_then(|c| c.parse().ok());
    Ok(ReferralFact {
        id,
        sent,
        at,
        others,
        reasons,
        epds,
        case,
    })
}

/// The state an update envelope moved its referral to.
async fn update_fact(
    records: &Records,
    id: &str,
    at: Timestamp,
) -> Result<Option<UpdateFact>, StoreError> {
    let Ok(id) = id.parse::<EnvelopeId>() else {
        return Ok(None);
    };
    let Some(bytes) = records.envelope_bytes(id).await? else {
        return Ok(None);
    };
    let envelope = Envelope::parse(bytes).map_err(|e| corrupt(format!("held envelope: {e}")))?;
    Ok(match envelope.meta().action.clone() {
        Some(Action::UpdateReferral { referral, state }) => Some(UpdateFact {
            referral,
            state,
            at,
        }),
        _ => None,
    })
}

async fn missed(records: &Records) -> Result<BTreeSet<EnvelopeId>, StoreError> {
    Ok(records
        .notices()
        .await?
        .into_iter()
        .filter_map(|(_, n)| match n {
            Notice::DeadlineMissed { referral, .. } => Some(referral),
            _ => None,
        })
        .collect())
}

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(what)
}

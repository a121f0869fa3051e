//! What the node holds that the ledger is built from, read out of the
//! envelopes and payloads into plain data: registrations, support plans,
//! and the meetings as [`meetings::meetings`] folds them (the one fold of a
//! meeting's history). The folding never touches the database.

use crate::agency::meetings::{self, MeetingView};
use crate::protocol::case::{CaseClassification, Registration};
use crate::protocol::day::Day;
use crate::protocol::ids::PlanId;
use crate::protocol::payload::{Body, Payload};
use crate::protocol::{Action, AgencyId, CaseId, Envelope, MessageKind, Timestamp};
use crate::store::StoreError;
use crate::store::records::{HeldEnvelope, Records};

/// Everything the ledger is built from: cases and plans oldest first,
/// meetings soonest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sources {
    /// Registrations, reclassifications and closures.
    pub cases: Vec<CaseEvent>,
    /// Every meeting as the node knows it, with its minutes.
    pub meetings: Vec<MeetingView>,
    /// Support plan versions (whole, or the part shared with this node).
    pub plans: Vec<PlanFacts>,
}

/// A change to a case's registration with the 要対協.
#[derive(Clone, Debug, PartialEq)]
pub struct CaseEvent {
    pub case: CaseId,
    pub at: Timestamp,
    pub change: CaseChange,
    /// The reason written with it (e.g. why the case was closed).
    pub note: String,
}

/// What the registration envelope did.
#[derive(Clone, Debug, PartialEq)]
pub enum CaseChange {
    Registered(Registration),
    Reclassified(CaseClassification),
    Closed,
}

/// What the ledger takes from a support plan version.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanFacts {
    pub case: CaseId,
    pub at: Timestamp,
    pub plan_id: PlanId,
    pub version: u32,
    pub lead: AgencyId,
    /// Empty when only a part was shared with this node.
    pub key_person: String,
    pub review_on: Day,
    /// Every agency with an action.
    pub roles: Vec<AgencyId>,
}

const KINDS: [MessageKind; 3] = [
    MessageKind::CaseUpdate,
    MessageKind::SupportPlan,
    MessageKind::PlanPart,
];

/// Read the sources out of the records of `me`'s node.
pub async fn read(records: &Records, me: &AgencyId) -> Result<Sources, StoreError> {
    let kinds = KINDS.map(MessageKind::as_str);
    let mut sources = Sources {
        meetings: meetings::meetings(records, me).await?,
        ..Sources::default()
    };
    for held in records.held_of_kinds(&kinds).await? {
        // A registration or meeting the hub has not taken changed nothing.
        if !held.pending {
            add(&mut sources, &held)?;
        }
    }
    Ok(sources)
}

fn add(sources: &mut Sources, held: &HeldEnvelope) -> Result<(), StoreError> {
    let envelope = Envelope::parse(held.envelope.clone())
        .map_err(|e| StoreError::Corrupt(format!("held envelope: {e}")))?;
    let payload: Payload = serde_json::from_str(&held.payload)
        .map_err(|e| StoreError::Corrupt(format!("held payload: {e}")))?;
    let meta = envelope.meta();
    let (Some(case), Some(action)) = (meta.case_id.clone(), meta.action.clone()) else {
        return Ok(());
    };
    let at = meta.created_at;
    match (action, payload.body) {
        (action, Body::CaseUpdate(note)) => {
            let change = match action {
                Action::RegisterCase { registration } => CaseChange::Registered(registration),
                Action::ReclassifyCase { classification } => {
                    CaseChange::Reclassified(classification)
                }
                Action::CloseCase => CaseChange::Closed,
                _ => return Ok(()),
            };
            sources.cases.push(CaseEvent {
                case,
                at,
                change,
                note: note.text,
            });
        }
        (Action::RecordPlan { version }, Body::SupportPlan(plan)) => {
            sources.plans.push(PlanFacts {
                case,
                at,
                plan_id: version.plan_id,
                version: version.version,
                roles: plan.roles(),
                lead: plan.lead,
                key_person: plan.key_person,
                review_on: plan.review_on,
            })
        }
        (Action::SharePlanPart { plan_id, version }, Body::PlanPart(part)) => {
            let mut roles: Vec<AgencyId> = Vec::new();
            for a in part.actions {
                if !roles.contains(&a.agency) {
                    roles.push(a.agency);
                }
            }
            sources.plans.push(PlanFacts {
                case,
                at,
                plan_id,
                version,
                lead: part.lead,
                key_person: String::new(),
                review_on: part.review_on,
                roles,
            });
        }
        _ => {}
    }
    Ok(())
}

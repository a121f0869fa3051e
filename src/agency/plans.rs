//! Support plans (支援プラン): the envelopes one version travels in — the
//! whole plan to the agencies whose basis covers it, then each chosen
//! agency's own part — and reading back what this node holds: the versions
//! of a plan, the latest one to revise, and this agency's own actions.

mod diff;
mod revise;

use std::collections::BTreeMap;

pub use diff::{ActionChange, Change, PlanDiff, diff};
pub use revise::PlanChanges;

use crate::protocol::day::Day;
use crate::protocol::meeting::Minutes;
use crate::protocol::payload::{Author, Body, Payload};
use crate::protocol::plan::{PlanAction, PlanPart, PlanVersion, SupportPlan};
use crate::protocol::{
    Action, AgencyId, CaseId, Envelope, EnvelopeId, InfoCategory, LegalBasis, MeetingId,
    MessageKind, PlanId, Purpose, Timestamp, Urgency,
};
use crate::store::StoreError;
use crate::store::records::{HeldEnvelope, Records};

use super::{Draft, Node, NodeError, Sent};

/// One version to send: the plan, its place in the chain, and who gets what.
#[derive(Clone, Debug)]
pub struct PlanSend {
    /// The case the plan belongs to.
    pub case: CaseId,
    /// The plan (new for version 1).
    pub plan_id: PlanId,
    /// 1, 2, …
    pub version: u32,
    /// The version this one revises.
    pub based_on: Option<u32>,
    /// The version as written.
    pub plan: SupportPlan,
    /// Agencies that receive the whole plan (may be none: it is still
    /// recorded, and kept in this node's outbox).
    pub whole: Vec<AgencyId>,
    /// Agencies that receive only their part, one envelope each.
    pub parts: Vec<AgencyId>,
    /// What a part discloses (normally fewer categories than the whole).
    pub part_categories: Vec<InfoCategory>,
    /// The basis for every envelope of this version.
    pub basis: LegalBasis,
    /// Why a statutory exception applies.
    pub justification: Option<String>,
    /// Who wrote it.
    pub author: Author,
}

impl PlanSend {
    /// What the hub keeps of this version.
    pub fn version(&self) -> PlanVersion {
        PlanVersion {
            plan_id: self.plan_id,
            version: self.version,
            based_on: self.based_on,
            made_on: self.plan.made_on,
            review_on: self.plan.review_on,
            lead: self.plan.lead.clone(),
            roles: self.plan.roles(),
        }
    }

    /// The envelopes, in the order they must be sent: the whole plan (which
    /// records the version at the hub), then one part per agency.
    pub fn drafts(&self) -> Vec<Draft> {
        let mut drafts = vec![self.whole_draft()];
        drafts.extend(self.part_drafts().into_iter().map(|(_, d)| d));
        drafts
    }

    /// The whole plan, to the agencies chosen for it: the version itself.
    pub fn whole_draft(&self) -> Draft {
        self.draft(
            self.whole.clone(),
            Action::RecordPlan {
                version: self.version(),
            },
            Body::SupportPlan(Box::new(self.plan.clone())),
        )
    }

    /// Each chosen agency's part, one envelope each.
    pub fn part_drafts(&self) -> Vec<(AgencyId, Draft)> {
        self.parts
            .iter()
            .map(|agency| {
                let part = self.plan.part_for(agency, self.part_categories.clone());
                let action = Action::SharePlanPart {
                    plan_id: self.plan_id,
                    version: self.version,
                };
                let draft = self.draft(vec![agency.clone()], action, Body::PlanPart(part));
                (agency.clone(), draft)
            })
            .collect()
    }

    fn draft(&self, to: Vec<AgencyId>, action: Action, body: Body) -> Draft {
        Draft {
            recipients: to,
            case_id: Some(self.case.clone()),
            urgency: Urgency::Normal,
            basis: Some(self.basis.clone()),
            purpose: Some(Purpose::SupportPlan),
            action: Some(action),
            payload: Payload {
                author: self.author.clone(),
                body,
                justification: self.justification.clone(),
            },
        }
    }
}

/// What the hub said to each envelope of a version.
#[derive(Debug)]
pub struct PlanSent {
    /// The whole plan (the version itself).
    pub whole: Result<Sent, NodeError>,
    /// Each part, by recipient; empty when the whole was refused.
    pub parts: Vec<(AgencyId, Result<Sent, NodeError>)>,
}

/// Send a version: the whole plan first; its parts only if the hub did
/// not refuse it (a refused version is not recorded, so its parts would
/// be refused too).
pub async fn send_plan(node: &Node, send: &PlanSend) -> PlanSent {
    let whole = node.send(&send.whole_draft()).await;
    let mut parts = Vec::new();
    if whole.is_ok() {
        for (agency, draft) in send.part_drafts() {
            parts.push((agency, node.send(&draft).await));
        }
    }
    PlanSent { whole, parts }
}

/// What this node holds of one version.
#[derive(Clone, Debug, PartialEq)]
pub enum Held {
    /// The whole plan.
    Whole(Box<SupportPlan>),
    /// This agency's part only.
    Part(PlanPart),
}

impl Held {
    /// 見直し日
    pub fn review_on(&self) -> Day {
        match self {
            Held::Whole(p) => p.review_on,
            Held::Part(p) => p.review_on,
        }
    }

    /// 主担当機関
    pub fn lead(&self) -> &AgencyId {
        match self {
            Held::Whole(p) => &p.lead,
            Held::Part(p) => &p.lead,
        }
    }

    /// The actions held (all of them, or this agency's).
    pub fn actions(&self) -> &[PlanAction] {
        match self {
            Held::Whole(p) => &p.actions,
            Held::Part(p) => &p.actions,
        }
    }
}

/// One plan version as this node holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct HeldVersion {
    /// The envelope it came in (or went out in).
    pub envelope_id: EnvelopeId,
    /// The plan.
    pub plan_id: PlanId,
    /// The case.
    pub case_id: CaseId,
    /// Its version.
    pub version: u32,
    /// The version it revises (known only with the whole plan).
    pub based_on: Option<u32>,
    /// Who sent it; `None` when this node wrote it.
    pub from: Option<AgencyId>,
    /// Who wrote it.
    pub author: Author,
    /// When it was sealed.
    pub created_at: Timestamp,
    /// The plan or the part.
    pub content: Held,
    /// `withdrawn` or `expired` once the consent it was shared under ended.
    pub consent_end_reason: Option<String>,
}

/// Every plan version this node holds, one per (plan, version) — the whole
/// plan where it holds both (the author keeps the parts it sent too) —
/// ordered by plan and version.
pub async fn held_versions(records: &Records) -> Result<Vec<HeldVersion>, StoreError> {
    let mut held: BTreeMap<(PlanId, u32), HeldVersion> = BTreeMap::new();
    let kinds = [MessageKind::SupportPlan, MessageKind::PlanPart].map(MessageKind::as_str);
    // A version still pending counts: it is the latest this node wrote.
    for row in records.held_of_kinds(&kinds).await? {
        let Some(v) = read(row)? else { continue };
        let key = (v.plan_id, v.version);
        let replace = match held.get(&key) {
            None => true,
            Some(existing) => {
                matches!(existing.content, Held::Part(_)) && matches!(v.content, Held::Whole(_))
            }
        };
        if replace {
            held.insert(key, v);
        }
    }
    Ok(held.into_values().collect())
}

/// The versions of one plan this node holds, oldest first.
pub async fn versions(records: &Records, plan: PlanId) -> Result<Vec<HeldVersion>, StoreError> {
    let mut all = held_versions(records).await?;
    all.retain(|v| v.plan_id == plan);
    Ok(all)
}

/// The latest version of one plan this node holds, whole or part.
pub async fn latest(records: &Records, plan: PlanId) -> Result<Option<HeldVersion>, StoreError> {
    Ok(versions(records, plan).await?.pop())
}

/// The latest version of each plan this node holds.
pub fn latest_of_each(held: Vec<HeldVersion>) -> Vec<HeldVersion> {
    let mut latest: BTreeMap<PlanId, HeldVersion> = BTreeMap::new();
    for v in held {
        if latest.get(&v.plan_id).is_none_or(|l| l.version < v.version) {
            latest.insert(v.plan_id, v);
        }
    }
    latest.into_values().collect()
}

/// One of this agency's actions, with when it is next due.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OurAction {
    /// The plan.
    pub plan_id: PlanId,
    /// The case.
    pub case_id: CaseId,
    /// The version it is in (the latest this node holds).
    pub version: u32,
    /// The action.
    pub action: PlanAction,
    /// 主担当機関
    pub lead: AgencyId,
    /// 見直し日
    pub review_on: Day,
    /// When it is next due: its end if that comes before the review, else
    /// the review (where it is looked at again).
    pub due: Day,
}

/// Every action for `me` in the latest version of each plan held (whole or
/// part), soonest due first.
pub fn our_actions(held: Vec<HeldVersion>, me: &AgencyId) -> Vec<OurAction> {
    let mut ours: Vec<OurAction> = latest_of_each(held)
        .into_iter()
        .flat_map(|v| {
            let review_on = v.content.review_on();
            let lead = v.content.lead().clone();
            v.content
                .actions()
                .iter()
                .filter(|a| &a.agency == me)
                .map(|a| OurAction {
                    plan_id: v.plan_id,
                    case_id: v.case_id.clone(),
                    version: v.version,
                    action: a.clone(),
                    lead: lead.clone(),
                    review_on,
                    due: a.until.map_or(review_on, |u| u.min(review_on)),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    ours.sort_by(|a, b| {
        (a.due, &a.case_id, &a.action.what).cmp(&(b.due, &b.case_id, &b.action.what))
    });
    ours
}

/// The minutes of `meeting` this node holds (sent or received, whole not
/// excerpt), to make a version from its decisions.
pub async fn minutes_of(
    records: &Records,
    me: &AgencyId,
    meeting: MeetingId,
) -> Result<Option<Minutes>, StoreError> {
    Ok(super::meetings::meeting(records, me, meeting)
        .await?
        .and_then(|m| match m.minutes {
            Some(super::meetings::HeldMinutes::Full(minutes)) => Some(*minutes),
            _ => None,
        }))
}

/// A stored plan row as a version, or `None` for an envelope without a
/// plan action (not written by this code).
fn read(row: HeldEnvelope) -> Result<Option<HeldVersion>, StoreError> {
    let envelope = Envelope::parse(row.envelope)
        .map_err(|e| StoreError::Corrupt(format!("plan record: {e}")))?;
    let meta = envelope.meta();
    let corrupt = |what: &str| StoreError::Corrupt(format!("plan record {}: {what}", meta.id));
    let payload: Payload = serde_json::from_str(&row.payload).map_err(|_| corrupt("payload"))?;
    let Some(case_id) = meta.case_id.clone() else {
        return Ok(None);
    };
    let (plan_id, version, based_on, content) = match (&meta.action, payload.body) {
        (Some(Action::RecordPlan { version }), Body::SupportPlan(p)) => (
            version.plan_id,
            version.version,
            version.based_on,
            Held::Whole(p),
        ),
        (Some(Action::SharePlanPart { plan_id, version }), Body::PlanPart(p)) => {
            (*plan_id, *version, None, Held::Part(p))
        }
        _ => return Ok(None),
    };
    let from = (!row.sent).then(|| meta.sender.clone());
    Ok(Some(HeldVersion {
        envelope_id: meta.id,
        plan_id,
        case_id,
        version,
        based_on,
        from,
        author: payload.author,
        created_at: meta.created_at,
        content,
        consent_end_reason: row.consent_end_reason,
    }))
}

#[cfg(test)]
mod tests;

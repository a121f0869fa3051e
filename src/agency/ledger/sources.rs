//! What the node holds that the ledger is built from, read out of the
//! envelopes and payloads into plain data: registrations, meetings and
//! their minutes, support plans. The folding never touches the database.

use crate::protocol::case::{CaseClassification, Registration};
use crate::protocol::day::Day;
use crate::protocol::ids::{MeetingId, PlanId};
use crate::protocol::meeting::{Level, MeetingSchedule, Role};
use crate::protocol::payload::{Body, Payload};
use crate::protocol::{Action, AgencyId, CaseId, Envelope, MessageKind, Timestamp};
use crate::store::StoreError;
use crate::store::records::{HeldEnvelope, Records};

/// Everything the ledger is built from, oldest first within each list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sources {
    /// Registrations, reclassifications and closures.
    pub cases: Vec<CaseEvent>,
    /// Meetings scheduled, moved, cancelled, and their minutes.
    pub meetings: Vec<MeetingEvent>,
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

/// Something that happened to a meeting.
#[derive(Clone, Debug, PartialEq)]
pub enum MeetingEvent {
    /// Scheduled, about the envelope's case and `more_cases`.
    Scheduled {
        case: CaseId,
        schedule: MeetingSchedule,
    },
    /// Moved to a new start.
    Moved {
        meeting_id: MeetingId,
        starts_at: Timestamp,
    },
    /// Cancelled.
    Cancelled { meeting_id: MeetingId },
    /// Its minutes (or an excerpt) about one case.
    Minutes {
        meeting_id: MeetingId,
        case: CaseId,
        at: Timestamp,
        facts: MinutesFacts,
    },
}

/// What the ledger takes from minutes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MinutesFacts {
    pub held_at: Option<Timestamp>,
    pub risk: Option<Level>,
    pub lead: Option<AgencyId>,
    pub key_person: String,
    /// 今後の支援方針 (次期までの支援).
    pub next_support: String,
    pub next_review: Option<Day>,
    /// The agencies given a part (役割分担).
    pub roles: Vec<AgencyId>,
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

const KINDS: [MessageKind; 7] = [
    MessageKind::CaseUpdate,
    MessageKind::MeetingInvitation,
    MessageKind::MeetingChange,
    MessageKind::Minutes,
    MessageKind::MinutesExcerpt,
    MessageKind::SupportPlan,
    MessageKind::PlanPart,
];

/// Read the sources out of the node's records.
pub async fn read(records: &Records) -> Result<Sources, StoreError> {
    let kinds = KINDS.map(MessageKind::as_str);
    let mut sources = Sources::default();
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
        (Action::ScheduleMeeting { meeting }, _) => {
            sources.meetings.push(MeetingEvent::Scheduled {
                case,
                schedule: meeting,
            })
        }
        (
            Action::RescheduleMeeting {
                meeting_id,
                starts_at,
                ..
            },
            _,
        ) => sources.meetings.push(MeetingEvent::Moved {
            meeting_id,
            starts_at,
        }),
        (Action::CancelMeeting { meeting_id }, _) => sources
            .meetings
            .push(MeetingEvent::Cancelled { meeting_id }),
        (Action::ShareMinutes { meeting_id }, body) => {
            if let Some(facts) = minutes_facts(body) {
                sources.meetings.push(MeetingEvent::Minutes {
                    meeting_id,
                    case,
                    at,
                    facts,
                });
            }
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

fn minutes_facts(body: Body) -> Option<MinutesFacts> {
    let agencies = |roles: Vec<Role>| roles.into_iter().map(|r| r.agency).collect();
    match body {
        Body::Minutes(m) => Some(MinutesFacts {
            held_at: m.held_at,
            risk: m.risk,
            lead: m.lead,
            key_person: m.key_person,
            next_support: m.next_support,
            next_review: m.next_review,
            roles: agencies(m.roles),
        }),
        Body::MinutesExcerpt(e) => Some(MinutesFacts {
            held_at: e.held_at,
            lead: e.lead,
            next_review: e.next_review,
            roles: agencies(e.roles),
            ..MinutesFacts::default()
        }),
        _ => None,
    }
}

//! Case meetings on the node: the envelopes that schedule, move, cancel,
//! answer and minute a meeting, and each meeting as this node knows it,
//! folded from what it sent and received.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::protocol::meeting::{
    Answer, Attendance, Invitation, MeetingKind, MeetingSchedule, Minutes, MinutesExcerpt,
};
use crate::protocol::payload::{Author, Body, Payload};
use crate::protocol::{
    Action, AgencyId, CaseId, EnvelopeId, LegalBasis, MeetingId, MessageKind, Purpose, Timestamp,
    Urgency,
};
use crate::store::StoreError;
use crate::store::records::{HeldEnvelope, Records};

use super::Draft;

/// The legal basis an invitation or the minutes are shared under, with
/// the justification a statutory basis needs.
#[derive(Clone, Debug)]
pub struct Sharing {
    /// The basis.
    pub basis: LegalBasis,
    /// Why a statutory basis applies.
    pub justification: Option<String>,
    /// Who writes.
    pub author: Author,
}

fn draft(
    case: &CaseId,
    to: Vec<AgencyId>,
    sharing: Option<&Sharing>,
    author: &Author,
    action: Action,
    body: Body,
) -> Draft {
    Draft {
        recipients: to,
        case_id: Some(case.clone()),
        urgency: Urgency::Normal,
        basis: sharing.map(|s| s.basis.clone()),
        purpose: sharing.map(|_| Purpose::CaseMeeting),
        action: Some(action),
        payload: Payload {
            author: author.clone(),
            body,
            justification: sharing.and_then(|s| s.justification.clone()),
        },
    }
}

/// The invitation to `invitees`: the hub checks each under the basis.
pub fn invitation_draft(
    case: &CaseId,
    meeting: MeetingSchedule,
    invitees: Vec<AgencyId>,
    invitation: Invitation,
    sharing: &Sharing,
) -> Draft {
    draft(
        case,
        invitees,
        Some(sharing),
        &sharing.author,
        Action::ScheduleMeeting { meeting },
        Body::MeetingInvitation(invitation),
    )
}

/// Move the meeting: to every invitee, with the place and agenda as they
/// now stand and why it moved. Carries nothing about the person.
pub fn reschedule_draft(
    meeting: &MeetingView,
    starts_at: Timestamp,
    duration_minutes: u32,
    invitation: Invitation,
    author: &Author,
) -> Draft {
    draft(
        &meeting.case_id,
        meeting.invitee_ids(),
        None,
        author,
        Action::RescheduleMeeting {
            meeting_id: meeting.meeting_id,
            starts_at,
            duration_minutes,
        },
        Body::MeetingChange(Invitation {
            categories: Vec::new(),
            ..invitation
        }),
    )
}

/// Cancel the meeting, telling every invitee why.
pub fn cancel_draft(meeting: &MeetingView, note: String, author: &Author) -> Draft {
    draft(
        &meeting.case_id,
        meeting.invitee_ids(),
        None,
        author,
        Action::CancelMeeting {
            meeting_id: meeting.meeting_id,
        },
        Body::MeetingChange(Invitation {
            note,
            ..Invitation::default()
        }),
    )
}

/// This node's answer, to the organiser.
pub fn answer_draft(
    meeting: &MeetingView,
    attendance: Attendance,
    answer: Answer,
    author: &Author,
) -> Draft {
    draft(
        &meeting.case_id,
        vec![meeting.organiser.clone()],
        None,
        author,
        Action::AnswerMeeting {
            meeting_id: meeting.meeting_id,
            attendance,
        },
        Body::MeetingAnswer(answer),
    )
}

/// The full minutes to `full_to` (those who attended), then an excerpt to
/// each of `excerpt_to`, each its own envelope with its own categories.
pub fn minutes_drafts(
    meeting: &MeetingView,
    minutes: &Minutes,
    full_to: Vec<AgencyId>,
    excerpt_to: &[AgencyId],
    excerpt_categories: &[crate::protocol::InfoCategory],
    sharing: &Sharing,
) -> Vec<Draft> {
    let action = Action::ShareMinutes {
        meeting_id: meeting.meeting_id,
    };
    let mut drafts = Vec::new();
    if !full_to.is_empty() {
        drafts.push(draft(
            &meeting.case_id,
            full_to,
            Some(sharing),
            &sharing.author,
            action.clone(),
            Body::Minutes(Box::new(minutes.clone())),
        ));
    }
    for agency in excerpt_to {
        drafts.push(draft(
            &meeting.case_id,
            vec![agency.clone()],
            Some(sharing),
            &sharing.author,
            action.clone(),
            Body::MinutesExcerpt(minutes.excerpt_for(agency, excerpt_categories.to_vec())),
        ));
    }
    drafts
}

/// An invitee and its answer, as this node knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Invitee {
    /// The agency.
    pub agency: AgencyId,
    /// Its answer, once given (seen by the organiser and by the invitee
    /// itself).
    pub attendance: Option<Attendance>,
    /// Who comes.
    pub answer: Option<Answer>,
}

/// The minutes this node holds for a meeting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "scope", rename_all = "snake_case")]
pub enum HeldMinutes {
    /// The full minutes.
    Full(Box<Minutes>),
    /// This node's excerpt.
    Excerpt(MinutesExcerpt),
}

/// A meeting as this node knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MeetingView {
    /// The meeting.
    pub meeting_id: MeetingId,
    /// Its kind.
    pub kind: MeetingKind,
    /// Its (first) case.
    pub case_id: CaseId,
    /// Further cases (実務者会議).
    pub more_cases: Vec<CaseId>,
    /// Who organises it.
    pub organiser: AgencyId,
    /// When it starts.
    pub starts_at: Timestamp,
    /// How long, in minutes.
    pub duration_minutes: u32,
    /// Place, agenda and what each invitee is asked for, as they now stand.
    pub invitation: Invitation,
    /// Every invitee.
    pub invitees: Vec<Invitee>,
    /// Why it was cancelled, if it was.
    pub cancelled: Option<String>,
    /// Why it was last moved, if it was.
    pub moved: Option<String>,
    /// The minutes, once received or sent (for the organiser: the full
    /// minutes it wrote).
    pub minutes: Option<HeldMinutes>,
    /// When the minutes held were written (their envelope's time), so they
    /// can be ordered against a node's other records; set with `minutes`.
    pub minutes_at: Option<Timestamp>,
    /// The invitation envelope.
    pub invitation_id: EnvelopeId,
}

impl MeetingView {
    /// The invitees' ids.
    pub fn invitee_ids(&self) -> Vec<AgencyId> {
        self.invitees.iter().map(|i| i.agency.clone()).collect()
    }

    /// Those that said they attend (in person or by proxy).
    pub fn attending(&self) -> Vec<AgencyId> {
        self.invitees
            .iter()
            .filter(|i| i.attendance.is_some_and(|a| a.attends()))
            .map(|i| i.agency.clone())
            .collect()
    }
}

/// The meeting kinds' envelopes.
const KINDS: [MessageKind; 5] = [
    MessageKind::MeetingInvitation,
    MessageKind::MeetingChange,
    MessageKind::MeetingAnswer,
    MessageKind::Minutes,
    MessageKind::MinutesExcerpt,
];

/// Every meeting this node organised or was invited to, soonest first. A
/// meeting exists once the hub has accepted its invitation.
pub async fn meetings(records: &Records, me: &AgencyId) -> Result<Vec<MeetingView>, StoreError> {
    let held = records
        .held_of_kinds(&KINDS.map(MessageKind::as_str))
        .await?;
    let mut meetings = fold(&held, me)?;
    meetings.sort_by_key(|m| (m.starts_at, m.meeting_id));
    Ok(meetings)
}

/// One meeting.
pub async fn meeting(
    records: &Records,
    me: &AgencyId,
    id: MeetingId,
) -> Result<Option<MeetingView>, StoreError> {
    Ok(meetings(records, me)
        .await?
        .into_iter()
        .find(|m| m.meeting_id == id))
}

/// Apply each envelope, oldest first, to the meeting it names.
fn fold(held: &[HeldEnvelope], me: &AgencyId) -> Result<Vec<MeetingView>, StoreError> {
    let mut by_id: BTreeMap<MeetingId, MeetingView> = BTreeMap::new();
    // A meeting exists, and changes, once the hub has accepted it.
    for h in held.iter().filter(|h| !h.pending) {
        let envelope = crate::protocol::Envelope::parse(h.envelope.clone())
            .map_err(|e| StoreError::Corrupt(format!("held envelope: {e}")))?;
        let meta = envelope.meta();
        let payload: Payload = serde_json::from_str(&h.payload)
            .map_err(|e| StoreError::Corrupt(format!("stored payload: {e}")))?;
        match (&meta.action, payload.body) {
            (Some(Action::ScheduleMeeting { meeting }), Body::MeetingInvitation(invitation)) => {
                let Some(case_id) = meta.case_id.clone() else {
                    continue;
                };
                let invitees = meta
                    .recipients
                    .iter()
                    .map(|a| Invitee {
                        agency: a.clone(),
                        attendance: None,
                        answer: None,
                    })
                    .collect();
                by_id.insert(
                    meeting.meeting_id,
                    MeetingView {
                        meeting_id: meeting.meeting_id,
                        kind: meeting.kind,
                        case_id,
                        more_cases: meeting.more_cases.clone(),
                        organiser: meta.sender.clone(),
                        starts_at: meeting.starts_at,
                        duration_minutes: meeting.duration_minutes,
                        invitation,
                        invitees,
                        cancelled: None,
                        moved: None,
                        minutes: None,
                        minutes_at: None,
                        invitation_id: meta.id,
                    },
                );
            }
            (
                Some(Action::RescheduleMeeting {
                    meeting_id,
                    starts_at,
                    duration_minutes,
                }),
                Body::MeetingChange(change),
            ) => {
                if let Some(m) = by_id.get_mut(meeting_id) {
                    m.starts_at = *starts_at;
                    m.duration_minutes = *duration_minutes;
                    m.moved = Some(change.note.clone());
                    m.invitation = Invitation {
                        note: String::new(),
                        categories: m.invitation.categories.clone(),
                        ..change
                    };
                }
            }
            (Some(Action::CancelMeeting { meeting_id }), Body::MeetingChange(change)) => {
                if let Some(m) = by_id.get_mut(meeting_id) {
                    m.cancelled = Some(change.note);
                }
            }
            (
                Some(Action::AnswerMeeting {
                    meeting_id,
                    attendance,
                }),
                Body::MeetingAnswer(a),
            ) => {
                let from = if h.sent { me } else { &meta.sender };
                if let Some(i) = by_id
                    .get_mut(meeting_id)
                    .and_then(|m| m.invitees.iter_mut().find(|i| &i.agency == from))
                {
                    i.attendance = Some(*attendance);
                    i.answer = Some(a);
                }
            }
            (Some(Action::ShareMinutes { meeting_id }), Body::Minutes(minutes)) => {
                if let Some(m) = by_id.get_mut(meeting_id) {
                    m.minutes = Some(HeldMinutes::Full(minutes));
                    m.minutes_at = Some(meta.created_at);
                }
            }
            (Some(Action::ShareMinutes { meeting_id }), Body::MinutesExcerpt(excerpt)) => {
                // The organiser's own full minutes stay what it shows.
                if let Some(m) = by_id.get_mut(meeting_id)
                    && !matches!(m.minutes, Some(HeldMinutes::Full(_)))
                {
                    m.minutes = Some(HeldMinutes::Excerpt(excerpt));
                    m.minutes_at = Some(meta.created_at);
                }
            }
            _ => {}
        }
    }
    Ok(by_id.into_values().collect())
}

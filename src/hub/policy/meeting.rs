//! Case meetings: who may schedule which kind, invitations checked like
//! any sharing of information, answers only from invitees, changes only by
//! the organiser to every invitee, minutes in full only to those who
//! attended, and the reminders each of these sets.

use super::{Rules, known_case, not_permitted, shared_under, statutory_use};
use crate::hub::HubError;
use crate::protocol::meeting::{MeetingKind, MeetingSchedule};
use crate::protocol::{
    Action, AgencyId, CaseId, ErrorCode, MeetingId, MessageKind, Metadata, Notice, Purpose,
    Timestamp,
};
use crate::store::model::{AuditEvent, Effects, Facts, MeetingChange, MeetingRecord, Reminder};

/// The longest meeting the hub accepts: a day.
const MAX_MINUTES: u32 = 24 * 60;

pub(super) fn decide(
    rules: &Rules,
    meta: &Metadata,
    facts: &Facts,
    action: &Action,
) -> Result<Effects, HubError> {
    match (meta.kind, action) {
        (MessageKind::MeetingInvitation, Action::ScheduleMeeting { meeting }) => {
            schedule(rules, meta, facts, meeting)
        }
        (
            MessageKind::MeetingChange,
            Action::RescheduleMeeting { .. } | Action::CancelMeeting { .. },
        )
        | (MessageKind::MeetingAnswer, Action::AnswerMeeting { .. }) => {
            change(rules, meta, facts, action)
        }
        (MessageKind::Minutes | MessageKind::MinutesExcerpt, Action::ShareMinutes { .. }) => {
            minutes(rules, meta, facts)
        }
        _ => Err(super::misfit(meta)),
    }
}

fn schedule(
    rules: &Rules,
    meta: &Metadata,
    facts: &Facts,
    m: &MeetingSchedule,
) -> Result<Effects, HubError> {
    let case_id = known_case(meta, facts)?.case_id.clone();
    let sender_kind = super::basis::kind_of(rules, &meta.sender);
    if !sender_kind.is_some_and(|k| m.kind.organisers().contains(&k)) {
        return Err(if m.kind == MeetingKind::Practitioners {
            not_permitted(
                "実務者会議を開催できるのは要対協の調整機関だけです。調整機関に開催を依頼してください。",
                "only the council's coordinating body schedules a practitioners' meeting: ask it to",
            )
        } else {
            not_permitted(
                "ケース会議を開催できるのはセンター・子ども家庭福祉・要対協の調整機関です。センターに開催を依頼してください。",
                "meetings are scheduled by the center, child welfare or the council's coordinating body: ask the center",
            )
        });
    }
    if !facts.sender_involved {
        return Err(not_involved(meta));
    }
    if facts.meeting.is_some() {
        return Err(HubError::new(
            ErrorCode::InvalidAction,
            format!("会議ID {} は使用済みです。", m.meeting_id),
            format!("meeting id {} is already used", m.meeting_id),
        ));
    }
    check_time(rules, m.starts_at, m.duration_minutes)?;
    more_cases(meta, facts, m)?;
    meeting_purpose(meta)?;
    let basis = shared_under(rules, meta, facts)?;
    let mut audit = statutory_use(meta, basis);
    audit.push(AuditEvent::new(
        "meeting_scheduled",
        Some(&meta.sender),
        Some(m.meeting_id.to_string()),
        serde_json::json!({
            "kind": m.kind.as_str(),
            "case_id": case_id,
            "more_cases": m.more_cases,
            "starts_at": m.starts_at,
            "invitees": meta.recipients,
        }),
    ));
    Ok(Effects {
        meeting: Some(MeetingChange::Schedule(m.clone())),
        reminders: Some(reminders(
            rules,
            m.meeting_id,
            m.kind,
            &case_id,
            m.starts_at,
            &meta.sender,
            &meta.recipients,
        )),
        audit,
        ..Effects::default()
    })
}

/// Reschedule, cancel or answer: no information about the person travels
/// (the place and the staff's names only), so no basis is asked; the hub
/// checks who may do it.
fn change(
    rules: &Rules,
    meta: &Metadata,
    facts: &Facts,
    action: &Action,
) -> Result<Effects, HubError> {
    if !meta.categories.is_empty() {
        return Err(HubError::new(
            ErrorCode::CategoryNotCovered,
            "出欠の回答・日程変更・中止には本人の情報を含めません。情報は経過記録で共有してください。",
            "answers, reschedules and cancellations carry no information about the person: share it as a case note",
        ));
    }
    let meeting = existing(meta, facts)?;
    let invitees: Vec<AgencyId> = meeting.invitees.iter().map(|(a, _)| a.clone()).collect();
    let (change, event, reminders) = match action {
        Action::AnswerMeeting { attendance, .. } => {
            if !meeting.invited(&meta.sender) {
                return Err(not_permitted(
                    "この会議に招待されていないため回答できません。",
                    "you were not invited to this meeting, so you cannot answer",
                ));
            }
            if meta.recipients != [meeting.organiser.clone()] {
                return Err(HubError::new(
                    ErrorCode::InvalidRecipients,
                    "出欠の回答は開催機関にのみ送ります。",
                    "an answer goes to the organiser only",
                ));
            }
            (
                MeetingChange::Answer(meeting.meeting_id, *attendance),
                "meeting_answered",
                None,
            )
        }
        Action::RescheduleMeeting {
            starts_at,
            duration_minutes,
            ..
        } => {
            organiser_to_every_invitee(meta, meeting, &invitees)?;
            check_time(rules, *starts_at, *duration_minutes)?;
            let reminders = reminders(
                rules,
                meeting.meeting_id,
                meeting.kind,
                &meeting.case_id,
                *starts_at,
                &meeting.organiser,
                &invitees,
            );
            (
                MeetingChange::Move {
                    meeting_id: meeting.meeting_id,
                    starts_at: *starts_at,
                    duration_minutes: *duration_minutes,
                },
                "meeting_rescheduled",
                Some(reminders),
            )
        }
        _ => {
            organiser_to_every_invitee(meta, meeting, &invitees)?;
            (
                MeetingChange::Cancel(meeting.meeting_id),
                "meeting_cancelled",
                Some((subject(meeting.meeting_id), Vec::new())),
            )
        }
    };
    Ok(Effects {
        meeting: Some(change),
        reminders,
        audit: vec![AuditEvent::new(
            event,
            Some(&meta.sender),
            Some(meeting.meeting_id.to_string()),
            serde_json::json!({}),
        )],
        ..Effects::default()
    })
}

/// Full minutes to those who were at the table; an excerpt to any invitee.
/// Each is checked under its basis with its own categories.
fn minutes(rules: &Rules, meta: &Metadata, facts: &Facts) -> Result<Effects, HubError> {
    let meeting = existing(meta, facts)?;
    if meeting.organiser != meta.sender {
        return Err(not_permitted(
            "会議録を送れるのは開催機関だけです。",
            "only the organiser shares the minutes",
        ));
    }
    if meeting.starts_at.datetime() > rules.now {
        return Err(HubError::new(
            ErrorCode::MeetingTime,
            "会議の開始前には会議録を送れません。",
            "minutes cannot be shared before the meeting has started",
        ));
    }
    let full = meta.kind == MessageKind::Minutes;
    for r in &meta.recipients {
        let attended = meeting.answer(r).is_some_and(|a| a.attends());
        if !meeting.invited(r) || (full && !attended) {
            let name = rules
                .directory
                .get(r)
                .map_or_else(|| r.to_string(), |a| a.name.clone());
            return Err(if full && meeting.invited(r) {
                HubError::new(
                    ErrorCode::NotAttended,
                    format!(
                        "宛先「{name}」（{r}）は会議に出席していないため、会議録の全文は送れません。その機関の役割・主担当機関・次回見直し日だけの抜粋を送ってください。"
                    ),
                    format!(
                        "recipient {name} ({r}) did not attend, so it cannot receive the full minutes: send it the excerpt (its role, the lead agency, the next review date)"
                    ),
                )
            } else {
                HubError::new(
                    ErrorCode::RecipientNotCovered,
                    format!("宛先「{name}」（{r}）はこの会議に招待されていません。"),
                    format!("recipient {name} ({r}) was not invited to this meeting"),
                )
            });
        }
    }
    if meta.case_id.as_ref() != Some(&meeting.case_id) {
        return Err(wrong_case(meeting));
    }
    meeting_purpose(meta)?;
    let basis = shared_under(rules, meta, facts)?;
    let mut audit = statutory_use(meta, basis);
    audit.push(AuditEvent::new(
        if full {
            "minutes_shared"
        } else {
            "minutes_excerpt_shared"
        },
        Some(&meta.sender),
        Some(meeting.meeting_id.to_string()),
        serde_json::json!({ "recipients": meta.recipients, "categories": meta.categories }),
    ));
    Ok(Effects {
        audit,
        ..Effects::default()
    })
}

fn existing<'f>(meta: &Metadata, facts: &'f Facts) -> Result<&'f MeetingRecord, HubError> {
    let Some(meeting) = &facts.meeting else {
        return Err(HubError::new(
            ErrorCode::UnknownMeeting,
            "その会議はハブに登録されていません。",
            "no such meeting",
        ));
    };
    if meta.case_id.as_ref().is_some_and(|c| c != &meeting.case_id) {
        return Err(wrong_case(meeting));
    }
    if meeting.cancelled_at.is_some() {
        return Err(HubError::new(
            ErrorCode::MeetingCancelled,
            "この会議は中止されています。",
            "the meeting was cancelled",
        ));
    }
    Ok(meeting)
}

fn wrong_case(meeting: &MeetingRecord) -> HubError {
    HubError::new(
        ErrorCode::InvalidAction,
        format!("この会議のケースは {} です。", meeting.case_id),
        format!("this meeting is about case {}", meeting.case_id),
    )
}

fn organiser_to_every_invitee(
    meta: &Metadata,
    meeting: &MeetingRecord,
    invitees: &[AgencyId],
) -> Result<(), HubError> {
    if meeting.organiser != meta.sender {
        return Err(not_permitted(
            "会議の日程変更・中止ができるのは開催機関だけです。",
            "only the organiser reschedules or cancels a meeting",
        ));
    }
    let mut to = meta.recipients.clone();
    to.sort();
    if to != invitees {
        return Err(HubError::new(
            ErrorCode::InvalidRecipients,
            "日程変更・中止は招待したすべての機関に送ります。",
            "a reschedule or cancellation goes to every invitee",
        ));
    }
    Ok(())
}

fn check_time(rules: &Rules, starts_at: Timestamp, minutes: u32) -> Result<(), HubError> {
    if starts_at.datetime() <= rules.now {
        return Err(HubError::new(
            ErrorCode::MeetingTime,
            format!(
                "開始日時 {} は過ぎています。これからの日時を指定してください。",
                crate::protocol::day::show_local(starts_at)
            ),
            format!("the start {starts_at} is in the past: choose a time to come"),
        ));
    }
    if minutes == 0 || minutes > MAX_MINUTES {
        return Err(HubError::new(
            ErrorCode::MeetingTime,
            "会議の時間は1分から24時間までです。",
            "a meeting lasts from 1 minute to 24 hours",
        ));
    }
    Ok(())
}

/// Further cases are for a 実務者会議, each registered with the council.
fn more_cases(meta: &Metadata, facts: &Facts, m: &MeetingSchedule) -> Result<(), HubError> {
    if m.more_cases.is_empty() {
        return Ok(());
    }
    if m.kind != MeetingKind::Practitioners {
        return Err(HubError::new(
            ErrorCode::InvalidAction,
            "複数のケースを扱えるのは実務者会議だけです。",
            "only a practitioners' meeting covers several cases",
        ));
    }
    for id in &m.more_cases {
        let registered = facts
            .more_cases
            .iter()
            .find(|c| &c.case_id == id)
            .is_some_and(|c| c.registration.is_some() && c.closed_at.is_none());
        if !registered || meta.case_id.as_ref() == Some(id) {
            return Err(HubError::new(
                ErrorCode::CaseNotRegistered,
                format!(
                    "ケース {id} は要対協に登録されていないか、終結しているか、重複しています。"
                ),
                format!(
                    "case {id} is not registered with the council, is closed, or is listed twice"
                ),
            ));
        }
    }
    Ok(())
}

fn meeting_purpose(meta: &Metadata) -> Result<(), HubError> {
    if meta.purpose != Some(Purpose::CaseMeeting) {
        return Err(HubError::new(
            ErrorCode::PurposeNotCovered,
            "会議の案内と会議録の目的は「ケース会議」です。",
            "the purpose of invitations and minutes is case_meeting",
        ));
    }
    Ok(())
}

fn not_involved(meta: &Metadata) -> HubError {
    let case = meta.case_id.as_ref().map_or("", |c| c.as_str());
    not_permitted(
        &format!("この機関はケース {case} に関わっていません（送受信・登録の記録がありません）。"),
        &format!(
            "this agency is not involved in case {case} (it sent, received or was registered in nothing about it)"
        ),
    )
}

pub(super) fn subject(id: MeetingId) -> String {
    format!("meeting:{id}")
}

/// A reminder to every invitee and the organiser at each configured time
/// before the start that is still to come.
fn reminders(
    rules: &Rules,
    meeting_id: MeetingId,
    kind: MeetingKind,
    case_id: &CaseId,
    starts_at: Timestamp,
    organiser: &AgencyId,
    invitees: &[AgencyId],
) -> (String, Vec<Reminder>) {
    let mut to: Vec<AgencyId> = invitees.to_vec();
    to.push(organiser.clone());
    to.sort();
    to.dedup();
    let notice = Notice::MeetingReminder {
        meeting_id,
        kind,
        case_id: case_id.clone(),
        starts_at,
    };
    let due = rules
        .deadlines
        .meeting_reminders()
        .map(|lead| starts_at.datetime() - lead)
        .filter(|t| *t > rules.now)
        .map(|t| Reminder {
            due_at: Timestamp::from_datetime(t),
            recipients: to.clone(),
            notice: notice.clone(),
        })
        .collect();
    (subject(meeting_id), due)
}

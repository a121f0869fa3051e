//! Meetings, plan versions and reminders: the hub's state for case
//! meetings and support plans, read as facts and changed as effects inside
//! the accepting transaction, and the reminders fired by the clock.

use sqlx::ColumnIndex;
use sqlx::{Decode, Encode, Executor, IntoArguments, Type};

use super::{Backend, Sql};
use crate::protocol::day::Day;
use crate::protocol::meeting::{Attendance, MeetingKind};
use crate::protocol::plan::PlanVersion;
use crate::protocol::{AgencyId, CaseId, EnvelopeId, MeetingId, Notice, PlanId, Timestamp};
use crate::store::model::{
    AuditEvent, DueReminder, MeetingChange, MeetingRecord, PlanRecord, Reminder,
};
use crate::store::rows::{json, parse};

type Result<T> = std::result::Result<T, sqlx::Error>;

type MeetingRow = (
    String,
    String,
    String,
    String,
    String,
    Timestamp,
    i64,
    Option<Timestamp>,
);
type PlanRow = (String, String, String, i64, String, String, String, String);

fn corrupt(what: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!("stored {what} does not parse"))
}

fn kind(text: &str) -> Result<MeetingKind> {
    MeetingKind::parse(text).ok_or_else(|| corrupt("meeting kind"))
}

fn attendance(text: Option<String>) -> Result<Option<Attendance>> {
    text.map(|t| Attendance::parse(&t).ok_or_else(|| corrupt("attendance")))
        .transpose()
}

fn minutes(v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| corrupt("meeting duration"))
}

// The sqlx bounds of the shared SQL, as on `read` and `write`.
impl<DB> Sql<'_, DB>
where
    DB: Backend,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<&'q str>: Encode<'q, DB>,
    for<'q> Timestamp: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<Timestamp>: Encode<'q, DB>,
{
    /// A meeting and its invitees.
    pub(in crate::store) async fn meeting(
        &mut self,
        id: MeetingId,
    ) -> Result<Option<MeetingRecord>> {
        let key = id.to_string();
        let row: Option<MeetingRow> = sqlx::query_as(
            "SELECT organiser, kind, case_id, more_cases, meeting_id, starts_at, \
             duration_minutes, cancelled_at FROM meetings WHERE meeting_id = $1",
        )
        .bind(&key)
        .fetch_optional(&mut *self.0)
        .await?;
        let Some((organiser, k, case_id, more, _, starts_at, duration, cancelled_at)) = row else {
            return Ok(None);
        };
        let invitees: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT agency, attendance FROM meeting_invitees WHERE meeting_id = $1 ORDER BY agency",
        )
        .bind(&key)
        .fetch_all(&mut *self.0)
        .await?;
        Ok(Some(MeetingRecord {
            meeting_id: id,
            organiser: parse(&organiser, "agency id")?,
            kind: kind(&k)?,
            case_id: parse(&case_id, "case id")?,
            more_cases: json(&more, "meeting cases")?,
            starts_at,
            duration_minutes: minutes(duration)?,
            cancelled_at,
            invitees: invitees
                .into_iter()
                .map(|(a, answer)| Ok((parse(&a, "agency id")?, attendance(answer)?)))
                .collect::<Result<_>>()?,
        }))
    }

    /// A plan's latest version (of two revisions of the same version, the
    /// second, in the same group or the next, sees the first and is refused
    /// as stale).
    pub(in crate::store) async fn latest_plan(&mut self, id: PlanId) -> Result<Option<PlanRecord>> {
        let key = id.to_string();
        let row: Option<PlanRow> = sqlx::query_as(
            "SELECT case_id, author, plan_id, version, lead, roles, made_on, review_on \
             FROM plan_versions WHERE plan_id = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(&key)
        .fetch_optional(&mut *self.0)
        .await?;
        row.map(
            |(case_id, author, _, version, lead, roles, made_on, review_on)| {
                Ok(PlanRecord {
                    case_id: parse(&case_id, "case id")?,
                    author: parse(&author, "agency id")?,
                    version: PlanVersion {
                        plan_id: id,
                        version: u32::try_from(version).map_err(|_| corrupt("plan version"))?,
                        based_on: None,
                        made_on: parse::<Day>(&made_on, "plan date")?,
                        review_on: parse::<Day>(&review_on, "plan review date")?,
                        lead: parse(&lead, "agency id")?,
                        roles: json(&roles, "plan roles")?,
                    },
                })
            },
        )
        .transpose()
    }

    /// Apply a meeting change accepted with `envelope`.
    pub(in crate::store) async fn change_meeting(
        &mut self,
        envelope: EnvelopeId,
        organiser: &AgencyId,
        case_id: Option<&CaseId>,
        invitees: &[AgencyId],
        change: &MeetingChange,
        now: &Timestamp,
    ) -> Result<()> {
        match change {
            MeetingChange::Schedule(m) => {
                let case_id = case_id.ok_or_else(|| corrupt("meeting without a case"))?;
                sqlx::query(
                    "INSERT INTO meetings (meeting_id, organiser, kind, case_id, more_cases, \
                     starts_at, duration_minutes, scheduled_by) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(m.meeting_id.to_string())
                .bind(organiser.as_str())
                .bind(m.kind.as_str())
                .bind(case_id.as_str())
                .bind(serde_json::to_string(&m.more_cases).unwrap_or_default())
                .bind(m.starts_at)
                .bind(i64::from(m.duration_minutes))
                .bind(envelope.to_string())
                .execute(&mut *self.0)
                .await?;
                let mut sorted: Vec<&AgencyId> = invitees.iter().collect();
                sorted.sort();
                for agency in sorted {
                    sqlx::query(
                        "INSERT INTO meeting_invitees (meeting_id, agency) VALUES ($1, $2)",
                    )
                    .bind(m.meeting_id.to_string())
                    .bind(agency.as_str())
                    .execute(&mut *self.0)
                    .await?;
                }
            }
            MeetingChange::Move {
                meeting_id,
                starts_at,
                duration_minutes,
            } => {
                sqlx::query(
                    "UPDATE meetings SET starts_at = $1, duration_minutes = $2 WHERE meeting_id = $3",
                )
                .bind(*starts_at)
                .bind(i64::from(*duration_minutes))
                .bind(meeting_id.to_string())
                .execute(&mut *self.0)
                .await?;
            }
            MeetingChange::Cancel(meeting_id) => {
                sqlx::query("UPDATE meetings SET cancelled_at = $1 WHERE meeting_id = $2")
                    .bind(*now)
                    .bind(meeting_id.to_string())
                    .execute(&mut *self.0)
                    .await?;
            }
            MeetingChange::Answer(meeting_id, answer) => {
                sqlx::query(
                    "UPDATE meeting_invitees SET attendance = $1, answered_at = $2 \
                     WHERE meeting_id = $3 AND agency = $4",
                )
                .bind(answer.as_str())
                .bind(*now)
                .bind(meeting_id.to_string())
                .bind(organiser.as_str())
                .execute(&mut *self.0)
                .await?;
            }
        }
        Ok(())
    }

    /// Record a plan version accepted with `envelope`.
    pub(in crate::store) async fn record_plan(
        &mut self,
        envelope: EnvelopeId,
        author: &AgencyId,
        case_id: Option<&CaseId>,
        v: &PlanVersion,
        now: &Timestamp,
    ) -> Result<()> {
        let case_id = case_id.ok_or_else(|| corrupt("plan without a case"))?;
        sqlx::query(
            "INSERT INTO plan_versions (plan_id, version, case_id, author, lead, roles, made_on, \
             review_on, envelope_id, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(v.plan_id.to_string())
        .bind(i64::from(v.version))
        .bind(case_id.as_str())
        .bind(author.as_str())
        .bind(v.lead.as_str())
        .bind(serde_json::to_string(&v.roles).unwrap_or_default())
        .bind(v.made_on.to_string())
        .bind(v.review_on.to_string())
        .bind(envelope.to_string())
        .bind(*now)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Replace the unfired reminders of `subject` with `reminders`.
    pub(in crate::store) async fn replace_reminders(
        &mut self,
        subject: &str,
        reminders: &[Reminder],
    ) -> Result<()> {
        sqlx::query("DELETE FROM reminders WHERE subject = $1 AND fired_at IS NULL")
            .bind(subject)
            .execute(&mut *self.0)
            .await?;
        for r in reminders {
            sqlx::query(
                "INSERT INTO reminders (subject, due_at, recipients, notice) VALUES ($1, $2, $3, $4)",
            )
            .bind(subject)
            .bind(r.due_at)
            .bind(serde_json::to_string(&r.recipients).unwrap_or_default())
            .bind(serde_json::to_string(&r.notice).unwrap_or_default())
            .execute(&mut *self.0)
            .await?;
        }
        Ok(())
    }

    /// Reminders due at or before `now`, oldest first.
    pub(in crate::store) async fn due_reminders(
        &mut self,
        now: &Timestamp,
    ) -> Result<Vec<DueReminder>> {
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT id, recipients, notice FROM reminders \
             WHERE fired_at IS NULL AND due_at <= $1 ORDER BY due_at, id",
        )
        .bind(*now)
        .fetch_all(&mut *self.0)
        .await?;
        rows.into_iter()
            .map(|(id, recipients, notice)| {
                Ok(DueReminder {
                    id,
                    recipients: json(&recipients, "reminder recipients")?,
                    notice: json::<Notice>(&notice, "reminder notice")?,
                })
            })
            .collect()
    }

    /// Fire one reminder if no one has yet: queue its notice to each
    /// recipient. Returns false if it was already fired (or replaced).
    pub(in crate::store) async fn fire_reminder(
        &mut self,
        due: &DueReminder,
        now: &Timestamp,
    ) -> Result<bool> {
        let fired =
            sqlx::query("UPDATE reminders SET fired_at = $1 WHERE id = $2 AND fired_at IS NULL")
                .bind(*now)
                .bind(due.id)
                .execute(&mut *self.0)
                .await?;
        if DB::rows_affected(&fired) == 0 {
            return Ok(false);
        }
        let notices: Vec<_> = due
            .recipients
            .iter()
            .map(|r| (r.clone(), due.notice.clone()))
            .collect();
        self.queue_notices(&notices).await?;
        let detail =
            serde_json::json!({ "notice": due.notice.kind_name(), "recipients": due.recipients });
        self.append_audit(&AuditEvent::new("reminder_sent", None, None, detail))
            .await?;
        Ok(true)
    }
}

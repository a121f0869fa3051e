//! Case meetings (ケース会議): what the hub sees of them in clear (who is
//! invited, when, about which cases) and what travels encrypted (place,
//! agenda, the answers' names, the minutes).

use serde::{Deserialize, Serialize};

use super::day::Day;
use super::ids::{CaseId, MeetingId, Timestamp};
use super::{AgencyId, AgencyKind, InfoCategory};
use crate::i18n::Lang;

/// The kinds of meeting the 要対協 and the center hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingKind {
    /// 個別ケース検討会議: one case, the agencies working with it.
    IndividualCase,
    /// 実務者会議: the council's periodic review of its registered cases;
    /// scheduled by the 調整機関 only.
    Practitioners,
    /// 関係者会議: an ad hoc meeting of the agencies concerned.
    Stakeholders,
    /// 支援プラン検討のケース会議: the center's meeting to draw up or review a
    /// support plan.
    PlanReview,
}

impl MeetingKind {
    /// Every kind.
    pub const ALL: [MeetingKind; 4] = [
        MeetingKind::IndividualCase,
        MeetingKind::Practitioners,
        MeetingKind::Stakeholders,
        MeetingKind::PlanReview,
    ];

    /// The stable wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            MeetingKind::IndividualCase => "individual_case",
            MeetingKind::Practitioners => "practitioners",
            MeetingKind::Stakeholders => "stakeholders",
            MeetingKind::PlanReview => "plan_review",
        }
    }

    /// The kind with this wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The name staff see.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            MeetingKind::IndividualCase => {
                lang.pick("個別ケース検討会議", "individual case meeting")
            }
            MeetingKind::Practitioners => lang.pick("実務者会議", "practitioners' meeting"),
            MeetingKind::Stakeholders => lang.pick("関係者会議", "stakeholders' meeting"),
            MeetingKind::PlanReview => {
                lang.pick("支援プラン検討のケース会議", "support plan case meeting")
            }
        }
    }

    /// Which kinds of agency may organise it.
    pub fn organisers(self) -> &'static [AgencyKind] {
        match self {
            MeetingKind::Practitioners => &[AgencyKind::Yotaikyo],
            _ => &[
                AgencyKind::Center,
                AgencyKind::ChildWelfare,
                AgencyKind::Yotaikyo,
            ],
        }
    }
}

/// An invitee's answer (出欠).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attendance {
    /// 出席
    Attend,
    /// 欠席
    Decline,
    /// 代理出席: someone else from the agency attends.
    Proxy,
}

impl Attendance {
    /// The stable wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Attendance::Attend => "attend",
            Attendance::Decline => "decline",
            Attendance::Proxy => "proxy",
        }
    }

    /// The answer with this wire name.
    pub fn parse(name: &str) -> Option<Self> {
        [Attendance::Attend, Attendance::Decline, Attendance::Proxy]
            .into_iter()
            .find(|a| a.as_str() == name)
    }

    /// Whether the agency will be at the table.
    pub fn attends(self) -> bool {
        self != Attendance::Decline
    }

    /// The name staff see.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Attendance::Attend => lang.pick("出席", "attending"),
            Attendance::Decline => lang.pick("欠席", "not attending"),
            Attendance::Proxy => lang.pick("代理出席", "attending by proxy"),
        }
    }
}

/// What the hub needs of a meeting: the invitees are the envelope's
/// recipients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingSchedule {
    /// Chosen by the organiser.
    pub meeting_id: MeetingId,
    /// What kind of meeting.
    pub kind: MeetingKind,
    /// The cases discussed beyond the envelope's own case (実務者会議 only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_cases: Vec<CaseId>,
    /// When it starts.
    pub starts_at: Timestamp,
    /// How long, in minutes.
    pub duration_minutes: u32,
}

/// The encrypted details of an invitation (案内).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// 場所 (room and address).
    #[serde(default)]
    pub place: String,
    /// Online meeting link, if held online.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<String>,
    /// 議題
    pub agenda: String,
    /// What each invitee is asked to bring or do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expectations: Vec<Expectation>,
    /// Why it was moved or cancelled (for a reschedule or a cancellation).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// The categories of personal information in it, declared by its
    /// author (no code can read free text); the hub checks them against
    /// the basis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<InfoCategory>,
}

/// What an invitee is expected to do for the meeting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expectation {
    /// The invitee.
    pub agency: AgencyId,
    /// e.g. 「妊婦健診の受診状況を報告」.
    pub text: String,
}

/// The encrypted details of an answer: who comes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The person attending (for 代理出席, the proxy).
    #[serde(default)]
    pub attendee_name: String,
    /// Their role.
    #[serde(default)]
    pub attendee_role: String,
    /// A note to the organiser.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// One person at the table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendee {
    /// Their agency.
    pub agency: AgencyId,
    /// 職種・役職
    pub role: String,
    /// 氏名
    pub name: String,
}

crate::i18n::labeled!(
    /// 危険度 / 緊急度 as the assessment records them.
    Level {
        /// 高
        High => "high", "高", "high";
        /// 中
        Medium => "medium", "中", "medium";
        /// 低
        Low => "low", "低", "low";
    }
);

/// Who does what (役割分担).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// The agency.
    pub agency: AgencyId,
    /// Its part, e.g. 「週1回の家庭訪問」.
    pub task: String,
}

/// 会議録, as the national sample form has it. Encrypted to the agencies that
/// attended and whose basis covers it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Minutes {
    /// 開催日時 (when it was actually held).
    pub held_at: Option<Timestamp>,
    /// 場所
    #[serde(default)]
    pub place: String,
    /// 出席者
    #[serde(default)]
    pub attendees: Vec<Attendee>,
    /// ケースの概要
    #[serde(default)]
    pub case_summary: String,
    /// 共有された情報
    #[serde(default)]
    pub information_shared: String,
    /// アセスメント: 危険度
    pub risk: Option<Level>,
    /// アセスメント: 緊急度
    pub urgency: Option<Level>,
    /// The assessment in words.
    #[serde(default)]
    pub assessment: String,
    /// 決定事項
    #[serde(default)]
    pub decisions: Vec<String>,
    /// 主担当機関
    pub lead: Option<AgencyId>,
    /// The lead's contact (部署・担当・電話).
    #[serde(default)]
    pub lead_contact: String,
    /// キーパーソン
    #[serde(default)]
    pub key_person: String,
    /// 役割分担
    #[serde(default)]
    pub roles: Vec<Role>,
    /// 次期までの支援
    #[serde(default)]
    pub next_support: String,
    /// 次回会議・見直し日
    pub next_review: Option<Day>,
    /// The categories of personal information in it, declared by its
    /// author (no code can read free text); the hub checks them against
    /// the basis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<InfoCategory>,
}

/// What an agency absent from the table, or whose basis covers only its
/// role, receives: its own part, the lead and the next review date — not the
/// discussion or the assessment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesExcerpt {
    /// 開催日時
    pub held_at: Option<Timestamp>,
    /// The decisions about the recipient's role.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// 主担当機関
    pub lead: Option<AgencyId>,
    /// The lead's contact.
    #[serde(default)]
    pub lead_contact: String,
    /// 次回会議・見直し日
    pub next_review: Option<Day>,
    /// The categories of personal information in it, declared by its
    /// author (no code can read free text); the hub checks them against
    /// the basis.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<InfoCategory>,
}

impl Minutes {
    /// The excerpt for `agency`: its roles, the lead and the next review,
    /// disclosing only `categories`.
    pub fn excerpt_for(&self, agency: &AgencyId, categories: Vec<InfoCategory>) -> MinutesExcerpt {
        MinutesExcerpt {
            held_at: self.held_at,
            roles: self
                .roles
                .iter()
                .filter(|r| &r.agency == agency)
                .cloned()
                .collect(),
            lead: self.lead.clone(),
            lead_contact: self.lead_contact.clone(),
            next_review: self.next_review,
            categories,
        }
    }
}

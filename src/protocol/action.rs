//! The clear part of an envelope that changes the hub's state: consent,
//! referral state, case registration. The details (who, why, notes) travel
//! encrypted beside it.

use serde::{Deserialize, Serialize};

use super::EnvelopeId;
use super::case::{CaseClassification, Registration};
use super::consent::ConsentScope;
use super::ids::{ConsentId, MeetingId, PlanId, Timestamp};
use super::meeting::{Attendance, MeetingSchedule};
use super::plan::PlanVersion;
use super::referral_state::ReferralState;

/// What the hub must do when it accepts the envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Record a consent (or a refusal, or 未説明) with this scope.
    RecordConsent {
        /// The scope the hub enforces.
        scope: ConsentScope,
    },
    /// 撤回: from now on nothing may rely on this consent; queued deliveries
    /// that relied on it are cancelled.
    WithdrawConsent {
        /// The consent withdrawn.
        consent_id: ConsentId,
    },
    /// Move a referral to a new state. From a recipient: its own state; from
    /// the sender: `cancelled`, for every recipient not yet past 受理.
    UpdateReferral {
        /// The referral envelope.
        referral: EnvelopeId,
        /// The new state.
        state: ReferralState,
    },
    /// The 調整機関 registers the envelope's case with the 要対協.
    RegisterCase {
        /// Classification, lead agency and members.
        registration: Registration,
    },
    /// The 調整機関 changes the classification of a registered case.
    ReclassifyCase {
        /// The new classification.
        classification: CaseClassification,
    },
    /// The 調整機関 closes the case (終結; the reason travels encrypted).
    /// Ends `yotaikyo_sharing` for it.
    CloseCase,
    /// Schedule a meeting; the envelope's recipients are the invitees.
    ScheduleMeeting {
        /// When, what kind, about which cases.
        meeting: MeetingSchedule,
    },
    /// Move a meeting; the recipients must be every invitee.
    RescheduleMeeting {
        /// The meeting.
        meeting_id: MeetingId,
        /// The new start.
        starts_at: Timestamp,
        /// The new length, in minutes.
        duration_minutes: u32,
    },
    /// Cancel a meeting; the recipients must be every invitee.
    CancelMeeting {
        /// The meeting.
        meeting_id: MeetingId,
    },
    /// An invitee's answer, to the organiser.
    AnswerMeeting {
        /// The meeting.
        meeting_id: MeetingId,
        /// 出席 / 欠席 / 代理出席.
        attendance: Attendance,
    },
    /// The organiser shares the minutes (full, or an excerpt: the kind says
    /// which).
    ShareMinutes {
        /// The meeting.
        meeting_id: MeetingId,
    },
    /// Record a new version of a support plan; the recipients receive it
    /// whole.
    RecordPlan {
        /// The version.
        version: PlanVersion,
    },
    /// Share one agency's part of a recorded plan version with it.
    SharePlanPart {
        /// The plan.
        plan_id: PlanId,
        /// The version.
        version: u32,
    },
}

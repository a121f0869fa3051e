//! What the hub's policy reads before accepting an envelope (facts) and what
//! accepting it changes (effects). Both backends load the same facts and
//! apply the same effects inside the accepting transaction, so a check and
//! the write it permits can never be separated by a concurrent change (a
//! withdrawal, a case closure, another state change).

use serde::{Deserialize, Serialize};

use crate::protocol::case::{CaseClassification, Registration};
use crate::protocol::consent::ConsentScope;
use crate::protocol::meeting::{Attendance, MeetingKind, MeetingSchedule};
use crate::protocol::notice::ConsentEnd;
use crate::protocol::plan::PlanVersion;
use crate::protocol::{
    AgencyId, CaseId, ConsentId, EnvelopeId, ErrorBody, InfoCategory, LegalBasis, MeetingId,
    Notice, PlanId, ReferralState, Timestamp, Urgency,
};

/// A case as the hub knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseRecord {
    /// The hub-issued id.
    pub case_id: CaseId,
    /// The agency that opened it.
    pub opened_by: AgencyId,
    /// Its 要対協 registration, if registered.
    pub registration: Option<Registration>,
    /// When the 要対協 closed it (終結).
    pub closed_at: Option<Timestamp>,
}

/// A consent as the hub knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentRecord {
    /// Its clear scope.
    pub scope: ConsentScope,
    /// The agency that recorded it.
    pub recorded_by: AgencyId,
    /// When and why it ended, if it has.
    pub ended: Option<(Timestamp, ConsentEnd)>,
}

/// A referral and where it stands with each recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralRecord {
    /// The referral envelope.
    pub referral: EnvelopeId,
    /// Its sender.
    pub sender: AgencyId,
    /// Its case.
    pub case_id: Option<CaseId>,
    /// Its categories.
    pub categories: Vec<InfoCategory>,
    /// Its urgency.
    pub urgency: Urgency,
    /// Each recipient's state.
    pub states: Vec<(AgencyId, ReferralState)>,
}

/// A meeting as the hub knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeetingRecord {
    /// The meeting.
    pub meeting_id: MeetingId,
    /// Who scheduled it.
    pub organiser: AgencyId,
    /// Its kind.
    pub kind: MeetingKind,
    /// Its (first) case.
    pub case_id: CaseId,
    /// Further cases (実務者会議).
    pub more_cases: Vec<CaseId>,
    /// When it starts.
    pub starts_at: Timestamp,
    /// How long, in minutes.
    pub duration_minutes: u32,
    /// When it was cancelled, if it was.
    pub cancelled_at: Option<Timestamp>,
    /// Each invitee and its answer, if it answered (sorted by agency).
    pub invitees: Vec<(AgencyId, Option<Attendance>)>,
}

impl MeetingRecord {
    /// Whether `agency` was invited.
    pub fn invited(&self, agency: &AgencyId) -> bool {
        self.invitees.iter().any(|(a, _)| a == agency)
    }

    /// `agency`'s answer, if invited and answered.
    pub fn answer(&self, agency: &AgencyId) -> Option<Attendance> {
        self.invitees
            .iter()
            .find(|(a, _)| a == agency)
            .and_then(|(_, answer)| *answer)
    }
}

/// A support plan's latest version as the hub knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanRecord {
    /// The case it belongs to.
    pub case_id: CaseId,
    /// Who recorded that version.
    pub author: AgencyId,
    /// The version's clear part.
    pub version: PlanVersion,
}

/// Everything the policy may look at for one envelope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// The envelope's case (or the referral's, for an update).
    pub case: Option<CaseRecord>,
    /// The consent named as basis, or withdrawn.
    pub consent: Option<ConsentRecord>,
    /// The referral an update is about.
    pub referral: Option<ReferralRecord>,
    /// For a withdrawal: the agencies its consent concerns — the recorder,
    /// every sender and every holder of envelopes under it — in order.
    pub concerned: Vec<AgencyId>,
    /// The meeting an envelope schedules, changes, answers or minutes.
    pub meeting: Option<MeetingRecord>,
    /// The latest version of the plan an envelope revises or shares.
    pub plan: Option<PlanRecord>,
    /// The further cases a 実務者会議 names, those the hub knows, in order.
    pub more_cases: Vec<CaseRecord>,
    /// Whether the sender opened, sent, received or is registered in the
    /// envelope's case (asked for meetings and plans).
    pub sender_involved: bool,
}

/// Which facts to load.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FactsQuery {
    /// The case to load.
    pub case_id: Option<CaseId>,
    /// The consent to load.
    pub consent_id: Option<ConsentId>,
    /// The referral to load.
    pub referral: Option<EnvelopeId>,
    /// Whether to load the agencies the consent concerns (withdrawals).
    pub concerned: bool,
    /// The meeting to load.
    pub meeting: Option<MeetingId>,
    /// The plan whose latest version to load.
    pub plan: Option<PlanId>,
    /// The further cases to load.
    pub more_cases: Vec<CaseId>,
    /// Ask whether this agency is involved in the case.
    pub involvement_of: Option<AgencyId>,
}

/// A change to a case's registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseChange {
    /// Register with the 要対協.
    Register(Registration),
    /// Change the classification.
    Reclassify(CaseClassification),
    /// 終結.
    Close,
}

/// A change to a meeting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MeetingChange {
    /// Schedule it: the envelope's sender organises, its recipients are
    /// invited, its case is the first case.
    Schedule(MeetingSchedule),
    /// Move it.
    Move {
        /// The meeting.
        meeting_id: MeetingId,
        /// The new start.
        starts_at: Timestamp,
        /// The new length.
        duration_minutes: u32,
    },
    /// Cancel it.
    Cancel(MeetingId),
    /// Record the sender's answer.
    Answer(MeetingId, Attendance),
}

/// A notice the hub sends when its time comes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reminder {
    /// When.
    pub due_at: Timestamp,
    /// To whom.
    pub recipients: Vec<AgencyId>,
    /// What.
    pub notice: Notice,
}

/// A reminder whose time has come.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueReminder {
    /// Its row.
    pub id: i64,
    /// To whom.
    pub recipients: Vec<AgencyId>,
    /// What.
    pub notice: Notice,
}

/// One entry for the audit chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// What happened, e.g. `envelope_accepted`.
    pub event: String,
    /// The agency that acted, if any.
    pub agency: Option<AgencyId>,
    /// What it is about (envelope, consent, case id), if anything.
    pub subject: Option<String>,
    /// Metadata only: never content or identities.
    pub detail: serde_json::Value,
}

impl AuditEvent {
    /// A new event.
    pub fn new(
        event: &str,
        agency: Option<&AgencyId>,
        subject: Option<String>,
        detail: serde_json::Value,
    ) -> Self {
        Self {
            event: event.to_owned(),
            agency: agency.cloned(),
            subject,
            detail,
        }
    }
}

/// What accepting an envelope changes beyond storing it and queueing its
/// deliveries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Record this consent.
    pub record_consent: Option<ConsentScope>,
    /// End this consent now: cancel its undelivered deliveries, notify.
    pub end_consent: Option<(ConsentId, ConsentEnd)>,
    /// Start the closed loop for a new referral: every recipient at `sent`,
    /// with this 受理 deadline.
    pub open_referral: Option<Timestamp>,
    /// New states, per recipient, for the referral an update is about.
    pub update_referral: Option<(EnvelopeId, Vec<(AgencyId, ReferralState)>)>,
    /// A change to the envelope's case.
    pub case_change: Option<CaseChange>,
    /// A change to a meeting.
    pub meeting: Option<MeetingChange>,
    /// Record this plan version (of the envelope's case, by its sender).
    pub record_plan: Option<PlanVersion>,
    /// Replace the unfired reminders of a subject with these.
    pub reminders: Option<(String, Vec<Reminder>)>,
    /// Audit entries beyond `envelope_accepted`.
    pub audit: Vec<AuditEvent>,
}

/// The hub's decision, taken inside the accepting transaction.
pub type Decision = Result<Effects, ErrorBody>;

/// The policy the store runs with the facts it loaded.
pub type Policy = std::sync::Arc<dyn Fn(&Facts) -> Decision + Send + Sync>;

/// A referral whose 受理 deadline has passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueReferral {
    /// The referral.
    pub referral: EnvelopeId,
    /// Its sender.
    pub sender: AgencyId,
    /// The recipient that has not acknowledged it.
    pub recipient: AgencyId,
    /// Its case.
    pub case_id: Option<CaseId>,
    /// Its urgency.
    pub urgency: Urgency,
    /// The deadline that passed.
    pub deadline: Timestamp,
    /// Escalations so far.
    pub escalations: u8,
}

/// One line of a case's disclosure record: who received what, when, on
/// which basis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disclosure {
    /// The envelope.
    pub envelope_id: EnvelopeId,
    /// The sender (withheld for abuse notifications, 児童虐待防止法 第7条).
    pub sender: Option<AgencyId>,
    /// The recipient.
    pub recipient: AgencyId,
    /// What kind of envelope.
    pub kind: String,
    /// The categories disclosed.
    pub categories: Vec<InfoCategory>,
    /// The legal basis (with the consent relied on, when it is consent);
    /// `None` for kinds without one.
    pub basis: Option<LegalBasis>,
    /// When the hub accepted it.
    pub accepted_at: Timestamp,
    /// When the recipient's node stored it, if it has.
    pub delivered_at: Option<Timestamp>,
    /// Whether the delivery was cancelled (consent ended first).
    pub cancelled: bool,
}

/// One use of a statutory basis, for oversight (metadata only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatutoryUse {
    /// The envelope.
    pub envelope_id: EnvelopeId,
    /// The sender (withheld for abuse notifications).
    pub sender: Option<AgencyId>,
    /// The recipients.
    pub recipients: Vec<AgencyId>,
    /// The case.
    pub case_id: Option<CaseId>,
    /// The basis: always a statutory one.
    pub basis: LegalBasis,
    /// The categories.
    pub categories: Vec<InfoCategory>,
    /// Its urgency.
    pub urgency: Urgency,
    /// When the hub accepted it.
    pub accepted_at: Timestamp,
}

/// A lease on work several hub processes must do once between them (the
/// deadline and reminder checks): who holds it, and until when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The holding hub process ([`crate::hub::Hub`]'s instance name).
    pub holder: String,
    /// When it lapses unless its holder renews it.
    pub expires_at: Timestamp,
}

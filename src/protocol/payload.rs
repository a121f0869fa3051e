//! What is inside the ciphertext: the author and the message body. The hub
//! never sees any of this.

use serde::{Deserialize, Serialize};

use std::collections::BTreeSet;

use super::meeting::{Answer, Invitation, Minutes, MinutesExcerpt};
use super::plan::{PlanPart, SupportPlan};
use super::referral::Referral;
use super::{InfoCategory, MessageKind};

/// The member of staff who wrote the message: supporters name themselves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// 氏名
    pub name: String,
    /// 職種・役職, e.g. 助産師
    pub role: String,
    /// 連絡先 (phone or extension)
    pub contact: String,
}

/// The decrypted content of an envelope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    /// Who wrote it.
    pub author: Author,
    /// The message itself; its variant matches the envelope's `kind`.
    pub body: Body,
    /// Why a statutory exception applies, written by the sender's staff.
    /// Required whenever the envelope's legal basis is not consent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
}

/// The message body, one variant per [`super::MessageKind`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// A referral (連絡票).
    Referral(Box<Referral>),
    /// 受理 note, decline reason, interim note or outcome reply (返信).
    ReferralUpdate(Note),
    /// The details of a consent: who gave it and the scanned form.
    ConsentRecord(ConsentDetails),
    /// What the person said when withdrawing.
    ConsentWithdrawal(Note),
    /// The reason for a registration, reclassification or closure.
    CaseUpdate(Note),
    /// 経過記録・情報共有: free text about a case with the categories it
    /// discloses, and nothing else (no 連絡票 fields).
    CaseNote(Note),
    /// 案内: place, agenda, what each invitee is asked for.
    MeetingInvitation(Invitation),
    /// The meeting as it now stands (a reschedule) or why it was cancelled.
    MeetingChange(Invitation),
    /// Who attends.
    MeetingAnswer(Answer),
    /// 会議録.
    Minutes(Box<Minutes>),
    /// 会議録の抜粋.
    MinutesExcerpt(MinutesExcerpt),
    /// A support plan version.
    SupportPlan(Box<SupportPlan>),
    /// One agency's part of a support plan version.
    PlanPart(PlanPart),
}

/// Free text, with the information categories it discloses (declared by
/// its author: no code can read free text).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Note {
    /// The text.
    pub text: String,
    /// Categories of personal information in the text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<InfoCategory>,
}

/// The encrypted details of a consent record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConsentDetails {
    /// The name of who gave (or refused) consent.
    pub given_by_name: String,
    /// Notes (e.g. why she was not told).
    #[serde(default)]
    pub note: String,
    /// The signed form (書面), scanned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan: Option<Attachment>,
}

/// A file carried inside the ciphertext.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// File name, e.g. `doui.pdf`.
    pub file_name: String,
    /// Media type, e.g. `application/pdf`.
    pub media_type: String,
    /// The bytes (base64 in JSON).
    #[serde(with = "super::b64")]
    pub bytes: Vec<u8>,
}

impl Body {
    /// The envelope kind this body travels as.
    pub fn kind(&self) -> MessageKind {
        match self {
            Body::Referral(_) => MessageKind::Referral,
            Body::ReferralUpdate(_) => MessageKind::ReferralUpdate,
            Body::ConsentRecord(_) => MessageKind::ConsentRecord,
            Body::ConsentWithdrawal(_) => MessageKind::ConsentWithdrawal,
            Body::CaseUpdate(_) => MessageKind::CaseUpdate,
            Body::CaseNote(_) => MessageKind::CaseNote,
            Body::MeetingInvitation(_) => MessageKind::MeetingInvitation,
            Body::MeetingChange(_) => MessageKind::MeetingChange,
            Body::MeetingAnswer(_) => MessageKind::MeetingAnswer,
            Body::Minutes(_) => MessageKind::Minutes,
            Body::MinutesExcerpt(_) => MessageKind::MinutesExcerpt,
            Body::SupportPlan(_) => MessageKind::SupportPlan,
            Body::PlanPart(_) => MessageKind::PlanPart,
        }
    }
}

impl Body {
    /// The information categories this body actually contains.
    pub fn categories(&self) -> BTreeSet<InfoCategory> {
        match self {
            Body::Referral(r) => r.categories(),
            Body::ReferralUpdate(n)
            | Body::ConsentWithdrawal(n)
            | Body::CaseUpdate(n)
            | Body::CaseNote(n) => n.categories.iter().copied().collect(),
            // Who gave consent identifies the person.
            Body::ConsentRecord(_) => [InfoCategory::Basic].into(),
            // Answers and meeting changes carry only the staff's own names
            // and the meeting's logistics, nothing about the person.
            Body::MeetingAnswer(_) | Body::MeetingChange(_) => BTreeSet::new(),
            // Free text throughout: what it discloses is what its author
            // declared, as for a note.
            Body::MeetingInvitation(i) => i.categories.iter().copied().collect(),
            Body::Minutes(m) => m.categories.iter().copied().collect(),
            Body::MinutesExcerpt(e) => e.categories.iter().copied().collect(),
            Body::SupportPlan(p) => p.categories.iter().copied().collect(),
            Body::PlanPart(p) => p.categories.iter().copied().collect(),
        }
    }
}

//! Consent (同意): its scope travels in clear so the hub can enforce it; who
//! gave it, how, and the scanned form travel encrypted.

use serde::{Deserialize, Serialize};

use super::basis::Purpose;
use super::ids::{CaseId, ConsentId, Timestamp};
use super::{AgencyId, AgencyKind, InfoCategory};

/// Who gave (or refused) consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentGiver {
    /// 本人
    Person,
    /// 保護者 (e.g. for a minor mother)
    Guardian,
}

/// How it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentMethod {
    /// 書面: a signed form, its scan attached inside the ciphertext.
    Written,
    /// 口頭: oral, recorded by the named member of staff.
    Oral,
}

/// What the person decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentDecision {
    /// 同意: sharing within the scope is allowed.
    Granted,
    /// 拒否: she refused; nothing may rely on it.
    Refused,
    /// 未説明: not told (e.g. for safety in DV); nothing may rely on it.
    NotTold,
}

/// A recipient a consent covers: one agency, or every agency of a kind.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ConsentRecipient {
    /// This agency.
    Agency(AgencyId),
    /// Every agency of this kind.
    Kind(AgencyKind),
}

/// The clear scope of a consent, recorded at the hub.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentScope {
    /// Chosen by the recording agency.
    pub consent_id: ConsentId,
    /// The case it is about.
    pub case_id: CaseId,
    /// 本人 or 保護者.
    pub given_by: ConsentGiver,
    /// 書面 or 口頭.
    pub method: ConsentMethod,
    /// 同意 / 拒否 / 未説明.
    pub decision: ConsentDecision,
    /// Who may receive.
    pub recipients: Vec<ConsentRecipient>,
    /// Which information categories.
    pub categories: Vec<InfoCategory>,
    /// For which purposes.
    pub purposes: Vec<Purpose>,
    /// From when.
    pub valid_from: Timestamp,
    /// Until when (none: until withdrawn).
    pub valid_until: Option<Timestamp>,
}

impl ConsentGiver {
    /// The name staff see.
    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        match self {
            ConsentGiver::Person => lang.pick("本人", "the person"),
            ConsentGiver::Guardian => lang.pick("保護者", "guardian"),
        }
    }
}

impl ConsentMethod {
    /// The name staff see.
    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        match self {
            ConsentMethod::Written => lang.pick("書面", "written"),
            ConsentMethod::Oral => lang.pick("口頭", "oral"),
        }
    }
}

impl ConsentDecision {
    /// The name staff see.
    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        match self {
            ConsentDecision::Granted => lang.pick("同意", "granted"),
            ConsentDecision::Refused => lang.pick("拒否", "refused"),
            ConsentDecision::NotTold => lang.pick("未説明", "not told"),
        }
    }
}

//! JSON bodies of the hub's HTTP endpoints other than envelopes.

use serde::{Deserialize, Serialize};

use super::{AgencyId, CaseId, EnvelopeId, InfoCategory, ReferralState};

/// Answer to `POST /v1/cases`: a new hub-issued case id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseOpened {
    /// The new case.
    pub case_id: CaseId,
}

/// Answer to `GET /v1/referrals/{id}`: where the referral stands with each
/// recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferralStatus {
    /// The referral.
    pub referral: EnvelopeId,
    /// Its sender.
    pub sender: AgencyId,
    /// Each recipient's state.
    pub states: Vec<RecipientState>,
}

/// One recipient's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientState {
    /// The recipient.
    pub agency: AgencyId,
    /// Its state.
    pub state: ReferralState,
}

/// `POST /v1/violations`: a receiving node found the decrypted content
/// beyond what the metadata declared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViolationReport {
    /// The envelope received.
    pub envelope_id: EnvelopeId,
    /// Categories declared in the metadata.
    pub declared: Vec<InfoCategory>,
    /// Categories found in the content.
    pub found: Vec<InfoCategory>,
    /// A statutory basis was used without a written justification.
    pub missing_justification: bool,
}

/// One reported violation, as the center sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The envelope.
    pub envelope_id: EnvelopeId,
    /// Who reported it.
    pub reported_by: AgencyId,
    /// The report.
    pub detail: serde_json::Value,
    /// When.
    pub reported_at: super::Timestamp,
}

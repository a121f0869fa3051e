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

/// Most envelopes in one `POST /v1/envelopes/batch`.
pub const MAX_BATCH_ENVELOPES: usize = 64;

/// Answer to `POST /v1/envelopes/batch`, whose body is
/// `{"envelopes": [<envelope>, …]}` with each envelope exactly as signed.
/// The hub takes them one at a time, in order, each exactly as a single
/// `POST /v1/envelopes` would, so a consent record queued before the
/// referral that relies on it is committed first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchResponse {
    /// One result per envelope taken, in order.
    pub results: Vec<BatchResult>,
    /// Set when the hub stopped before the end (an internal error): this
    /// envelope and those after it were not taken; nothing of theirs was
    /// stored, and the client resends them later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<super::ErrorBody>,
}

/// What the hub did with one envelope of a batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchResult {
    /// Durably committed (now or before).
    Submitted(super::frame::SubmitResponse),
    /// Refused, nothing stored; do not resend as is.
    Refused(super::ErrorBody),
}

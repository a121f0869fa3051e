//! JSON bodies of the hub's HTTP endpoints other than envelopes.

use serde::{Deserialize, Serialize};

use super::{
    AgencyId, CaseId, ConsentId, EnvelopeId, InfoCategory, ReferralState, Timestamp, Urgency,
};

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
    pub reported_at: Timestamp,
}

/// One line of a case's disclosure record (`GET /v1/cases/{id}/disclosures`):
/// who received what, when, on which basis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disclosure {
    /// The envelope.
    pub envelope_id: EnvelopeId,
    /// The sender; `null` for an abuse notification unless the caller is a
    /// party to it (児童虐待防止法 第7条).
    pub sender: Option<AgencyId>,
    /// The recipient.
    pub recipient: AgencyId,
    /// What kind of envelope (its `MessageKind` name).
    pub kind: String,
    /// The categories disclosed.
    pub categories: Vec<InfoCategory>,
    /// The legal basis name, `null` for kinds without one.
    pub basis: Option<String>,
    /// The consent relied on, when the basis is `consent` (so a node can
    /// tell who is concerned when she withdraws it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_id: Option<ConsentId>,
    /// When the hub accepted it.
    pub accepted_at: Timestamp,
    /// When the recipient's node stored it; `null` while queued.
    pub delivered_at: Option<Timestamp>,
    /// The delivery was cancelled because the consent it relied on ended.
    pub cancelled: bool,
}

/// One use of a statutory basis (`GET /v1/oversight/statutory`), for the
/// center and the 要対協 調整機関: metadata only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatutoryUse {
    /// The envelope.
    pub envelope_id: EnvelopeId,
    /// The sender; `null` for an abuse notification unless the caller is a
    /// party to it.
    pub sender: Option<AgencyId>,
    /// The recipients.
    pub recipients: Vec<AgencyId>,
    /// The case.
    pub case_id: Option<CaseId>,
    /// The basis name.
    pub basis: String,
    /// The categories.
    pub categories: Vec<InfoCategory>,
    /// Its urgency.
    pub urgency: Urgency,
    /// When the hub accepted it.
    pub accepted_at: Timestamp,
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde::de::DeserializeOwned;
    use serde_json::Value;

    use super::*;

    /// The JSON example under `### {heading}` in docs/protocol.md parses into
    /// `T`, and `T` writes back exactly the keys the example shows.
    fn documented_shape<T: Serialize + DeserializeOwned>(heading: &str) {
        let docs = include_str!("../../docs/protocol.md");
        let section = docs.split(&format!("### {heading}\n")).nth(1).unwrap();
        let example = section.split("```json\n").nth(1).unwrap();
        let example = example.split("```").next().unwrap();
        let documented: Vec<Value> = serde_json::from_str(example).unwrap();
        let parsed: Vec<T> = serde_json::from_value(Value::from(documented.clone())).unwrap();
        let keys = |v: &Value| {
            v.as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<BTreeSet<_>>()
        };
        let written = serde_json::to_value(&parsed).unwrap();
        let written = written.as_array().unwrap();
        assert_eq!(keys(&written[0]), keys(&documented[0]), "{heading}");
    }

    #[test]
    fn disclosures_and_statutory_uses_have_the_documented_shape() {
        documented_shape::<Disclosure>("`GET /v1/cases/{case_id}/disclosures`");
        documented_shape::<StatutoryUse>("`GET /v1/oversight/statutory`");
    }
}

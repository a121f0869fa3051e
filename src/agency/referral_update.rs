//! The one builder of a referral update (受理, 対応決定, 辞退, 経過, 返信,
//! 取消), shared by `agency referral-update` and the staff web UI, so the
//! two cannot send different drafts for the same act.

use super::{Draft, Node};
use crate::protocol::payload::{Author, Body, Note, Payload};
use crate::protocol::{Action, AgencyId, EnvelopeId, ReferralState, Urgency};
use crate::store::StoreError;

/// Why no update could be drafted.
#[derive(Debug, thiserror::Error)]
pub enum UpdateDraftError {
    #[error("この機関の記録にない紹介です (not a referral in this agency's records): {0}")]
    NotFound(EnvelopeId),
    #[error("記録の宛先を読めません (a record's recipients cannot be read): {0}")]
    Recipients(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The update of `referral` to `state` signed by `author`: to its sender when
/// this node received it, to its recipients when this node sent it.
pub async fn referral_update_draft(
    node: &Node,
    referral: EnvelopeId,
    state: ReferralState,
    text: String,
    author: Author,
) -> Result<Draft, UpdateDraftError> {
    let to: Vec<AgencyId> = if let Some(row) = node.records().inbox_item(referral).await? {
        vec![
            row.sender
                .parse()
                .map_err(|_| UpdateDraftError::Recipients(row.sender.clone()))?,
        ]
    } else if let Some(row) = node.records().outbox_item(referral).await? {
        serde_json::from_str(&row.recipients)
            .map_err(|e| UpdateDraftError::Recipients(e.to_string()))?
    } else {
        return Err(UpdateDraftError::NotFound(referral));
    };
    Ok(Draft {
        recipients: to,
        case_id: None,
        urgency: Urgency::Normal,
        basis: None,
        purpose: None,
        action: Some(Action::UpdateReferral { referral, state }),
        payload: Payload {
            author,
            body: Body::ReferralUpdate(Note {
                text,
                categories: vec![],
            }),
            justification: None,
        },
    })
}

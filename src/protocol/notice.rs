//! Notices the hub itself sends an agency, in the same ordered, acknowledged
//! stream as envelopes. They carry no personal information.

use serde::{Deserialize, Serialize};

use super::ids::{CaseId, ConsentId, Timestamp};
use super::{AgencyId, EnvelopeId, Urgency};

/// A notice from the hub.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "notice", rename_all = "snake_case", deny_unknown_fields)]
pub enum Notice {
    /// To a sender: a queued delivery was cancelled before it reached the
    /// recipient, because the consent it relied on ended.
    DeliveryCancelled {
        /// The envelope not delivered.
        envelope_id: EnvelopeId,
        /// The recipient that will not get it.
        recipient: AgencyId,
        /// The consent that ended.
        consent_id: ConsentId,
    },
    /// To an agency holding data shared under a consent that was withdrawn
    /// or expired: mark these records; share nothing more under it.
    ConsentEnded {
        /// The consent.
        consent_id: ConsentId,
        /// Its case.
        case_id: CaseId,
        /// `withdrawn` or `expired`.
        reason: ConsentEnd,
        /// The envelopes this agency received under it.
        envelopes: Vec<EnvelopeId>,
    },
    /// A referral's 受理 deadline passed (escalation).
    DeadlineMissed {
        /// The referral.
        referral: EnvelopeId,
        /// The recipient that has not acknowledged it.
        recipient: AgencyId,
        /// Its urgency.
        urgency: Urgency,
        /// 1 for the first miss, 2 for the second.
        level: u8,
        /// The deadline that passed.
        deadline: Timestamp,
    },
}

/// Why a consent ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentEnd {
    /// 撤回
    Withdrawn,
    /// 期間満了
    Expired,
}

impl Notice {
    /// One line for staff.
    pub fn describe(&self, lang: crate::i18n::Lang) -> String {
        match self {
            Notice::DeliveryCancelled {
                envelope_id,
                recipient,
                ..
            } => format!(
                "{} {envelope_id} → {recipient}",
                lang.pick(
                    "同意の終了により配信を取り消しました:",
                    "delivery cancelled because the consent ended:"
                )
            ),
            Notice::ConsentEnded {
                consent_id,
                reason,
                envelopes,
                ..
            } => format!(
                "{} {consent_id}（{}）: {} {}",
                lang.pick("同意が終了しました", "consent ended"),
                match reason {
                    ConsentEnd::Withdrawn => lang.pick("撤回", "withdrawn"),
                    ConsentEnd::Expired => lang.pick("期間満了", "expired"),
                },
                envelopes.len(),
                lang.pick(
                    "件の記録に表示しました。以後この同意に基づく共有はできません。",
                    "records marked; nothing more may be shared under it."
                ),
            ),
            Notice::DeadlineMissed {
                referral,
                recipient,
                level,
                ..
            } => format!(
                "{} {referral} → {recipient}（{}{level}）",
                lang.pick(
                    "受理期限を過ぎています:",
                    "acknowledgement deadline missed:"
                ),
                lang.pick("督促", "escalation "),
            ),
        }
    }
}

//! Notices the hub itself sends an agency, in the same ordered, acknowledged
//! stream as envelopes. They carry no personal information. Each is signed
//! by the hub for one agency at one position in its stream
//! ([`SignedNotice`]), so a node acts only on what the hub said to it.

use serde::{Deserialize, Serialize};

use super::day::{Day, show_local};
use super::ids::{CaseId, ConsentId, MeetingId, PlanId, Timestamp};
use super::meeting::MeetingKind;
use super::{AgencyId, EnvelopeId, Seq, Urgency};

/// Domain tag of a notice's signed bytes.
const NOTICE_DOMAIN: &[u8] = b"tsunagu/notice/v1\0";

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
    /// To a sender: a queued delivery was cancelled before it reached the
    /// recipient, because the recipient was revoked from the directory (it
    /// left). The ciphertext was sealed to the revoked agency's key and
    /// cannot be re-addressed: send it again to whoever takes over.
    RecipientRevoked {
        /// The envelope not delivered.
        envelope_id: EnvelopeId,
        /// The revoked agency that will not get it.
        recipient: AgencyId,
    },
    /// To every agency concerned by a consent that was withdrawn or
    /// expired — each holder of data shared under it, each sender of such
    /// data and the agency that recorded it: mark these records; share
    /// nothing more under it.
    ConsentEnded {
        /// The consent.
        consent_id: ConsentId,
        /// Its case.
        case_id: CaseId,
        /// `withdrawn` or `expired`.
        reason: ConsentEnd,
        /// The envelopes this agency received under it.
        envelopes: Vec<EnvelopeId>,
        /// The envelopes this agency sent under it (what the ending affects
        /// on the sending side).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        sent: Vec<EnvelopeId>,
        /// The agency where she withdrew (none for an expiry).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ended_by: Option<AgencyId>,
        /// The withdrawal envelope: its note (what she said) is encrypted
        /// to the agencies concerned and arrives as an ordinary delivery;
        /// the hub only names it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        withdrawal: Option<EnvelopeId>,
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
    /// To every invitee (and the organiser) before a meeting.
    MeetingReminder {
        /// The meeting.
        meeting_id: MeetingId,
        /// Its kind.
        kind: MeetingKind,
        /// Its (first) case.
        case_id: CaseId,
        /// When it starts.
        starts_at: Timestamp,
    },
    /// To the lead and the agencies with a role: a plan's review date is
    /// near.
    PlanReviewDue {
        /// The plan.
        plan_id: PlanId,
        /// Its latest version.
        version: u32,
        /// Its case.
        case_id: CaseId,
        /// 見直し日
        review_on: Day,
    },
    /// To the lead, the center and (for a registered case) the 調整機関: a
    /// plan's review date passed with no new version.
    PlanReviewOverdue {
        /// The plan.
        plan_id: PlanId,
        /// Its latest version.
        version: u32,
        /// Its case.
        case_id: CaseId,
        /// 見直し日
        review_on: Day,
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
    /// The stable wire name of its kind, also used in the node's records.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Notice::DeliveryCancelled { .. } => "delivery_cancelled",
            Notice::RecipientRevoked { .. } => "recipient_revoked",
            Notice::ConsentEnded { .. } => "consent_ended",
            Notice::DeadlineMissed { .. } => "deadline_missed",
            Notice::MeetingReminder { .. } => "meeting_reminder",
            Notice::PlanReviewDue { .. } => "plan_review_due",
            Notice::PlanReviewOverdue { .. } => "plan_review_overdue",
        }
    }

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
            Notice::RecipientRevoked {
                envelope_id,
                recipient,
            } => format!(
                "{} {envelope_id} → {recipient}{}",
                lang.pick(
                    "宛先の機関がディレクトリから取り消されたため、未配信の送信を取り消しました:",
                    "delivery cancelled because the recipient was revoked from the directory:"
                ),
                lang.pick(
                    "。引き継ぐ機関に改めて送ってください。",
                    "; send it again to the agency taking over."
                ),
            ),
            Notice::ConsentEnded {
                consent_id,
                case_id,
                reason,
                envelopes,
                sent,
                ended_by,
                withdrawal,
            } => {
                let mut line = format!(
                    "{} {case_id}（{}、{} {consent_id}）",
                    lang.pick(
                        "ケースの同意が終了しました:",
                        "a consent on this case ended:"
                    ),
                    match reason {
                        ConsentEnd::Withdrawn => lang.pick("撤回", "withdrawn"),
                        ConsentEnd::Expired => lang.pick("期間満了", "expired"),
                    },
                    lang.pick("同意ID", "consent id"),
                );
                if let Some(by) = ended_by {
                    line += &format!(" {} {by}", lang.pick("撤回を受けた機関:", "withdrawn at:"));
                }
                line += &format!(
                    " {} {} / {} {}。",
                    lang.pick("受信した記録", "records received"),
                    envelopes.len(),
                    lang.pick("送信した記録", "records sent"),
                    sent.len(),
                );
                line += lang.pick(
                    "以後この同意に基づく共有はできません。",
                    " Nothing more may be shared under it.",
                );
                if let Some(w) = withdrawal {
                    line += &format!(
                        " {} {w}",
                        lang.pick(
                            "撤回の記録（本人の申し出）:",
                            "the withdrawal (what she said):"
                        )
                    );
                }
                line
            }
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
            Notice::MeetingReminder {
                kind,
                case_id,
                starts_at,
                ..
            } => format!(
                "{} {}（{case_id}）{} {}",
                lang.pick("会議のお知らせ:", "meeting reminder:"),
                kind.label(lang),
                show_local(*starts_at),
                lang.pick("開始", "start"),
            ),
            Notice::PlanReviewDue {
                case_id,
                version,
                review_on,
                ..
            } => format!(
                "{} {case_id} v{version} {} {review_on}",
                lang.pick(
                    "支援プランの見直し日が近づいています:",
                    "support plan review due:"
                ),
                lang.pick("見直し日", "review on"),
            ),
            Notice::PlanReviewOverdue {
                case_id,
                version,
                review_on,
                ..
            } => format!(
                "{} {case_id} v{version} {} {review_on}",
                lang.pick(
                    "支援プランの見直し期限を過ぎています:",
                    "support plan review overdue:"
                ),
                lang.pick("見直し日", "review on"),
            ),
        }
    }
}

/// A notice as the hub signed it: its JSON text, and a signature that binds
/// that text to the agency it is for and its sequence number in that
/// agency's stream, so it cannot be replayed to another agency or at another
/// position.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedNotice {
    /// The [`Notice`]'s JSON text, as signed.
    pub notice: String,
    /// Ed25519 over [`notice_bytes`] (`crypto::hub_signed`).
    #[serde(with = "super::b64")]
    pub signature: Vec<u8>,
}

/// The bytes a notice's signature covers: the domain tag, the recipient
/// agency (length-prefixed), the sequence number (8 bytes big-endian), then
/// the notice's text.
pub fn notice_bytes(to: &AgencyId, seq: Seq, text: &str) -> Vec<u8> {
    let to = to.as_str().as_bytes();
    let mut bytes = Vec::with_capacity(NOTICE_DOMAIN.len() + 16 + to.len() + text.len());
    bytes.extend_from_slice(NOTICE_DOMAIN);
    bytes.extend_from_slice(&(to.len() as u64).to_be_bytes());
    bytes.extend_from_slice(to);
    bytes.extend_from_slice(&seq.0.to_be_bytes());
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signed_bytes_bind_the_agency_and_the_sequence_number() {
        let text = r#"{"notice":"x"}"#;
        let mut expected = b"tsunagu/notice/v1\0".to_vec();
        expected.extend_from_slice(&13u64.to_be_bytes());
        expected.extend_from_slice(b"minato-center");
        expected.extend_from_slice(&7u64.to_be_bytes());
        expected.extend_from_slice(text.as_bytes());
        let center: AgencyId = "minato-center".parse().unwrap();
        assert_eq!(notice_bytes(&center, Seq(7), text), expected);
    }
}

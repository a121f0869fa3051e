//! The business state of a referral, per recipient, separate from transport
//! delivery: sent → received (受理) → accepted | declined → in progress →
//! completed (返信); the sender may cancel before acceptance.

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// Where a referral stands with one recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralState {
    /// 送付済み: accepted by the hub, not yet acknowledged by staff.
    Sent,
    /// 受理: a named member of staff acknowledged receipt.
    Received,
    /// 対応決定: the recipient takes it on.
    Accepted,
    /// 辞退: the recipient declines, with a reason.
    Declined,
    /// 対応中: interim notes.
    InProgress,
    /// 返信済み: the outcome was replied to the sender.
    Completed,
    /// 取消: the sender withdrew it before acceptance.
    Cancelled,
}

/// Who asks for a transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    /// The agency that sent the referral.
    Sender,
    /// The recipient agency whose state changes.
    Recipient,
}

impl ReferralState {
    /// The stable wire name.
    pub fn as_str(self) -> &'static str {
        use ReferralState::*;
        match self {
            Sent => "sent",
            Received => "received",
            Accepted => "accepted",
            Declined => "declined",
            InProgress => "in_progress",
            Completed => "completed",
            Cancelled => "cancelled",
        }
    }

    /// The state with this wire name.
    pub fn parse(name: &str) -> Option<Self> {
        use ReferralState::*;
        [
            Sent, Received, Accepted, Declined, InProgress, Completed, Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    /// The name staff see.
    pub fn label(self, lang: Lang) -> &'static str {
        use ReferralState::*;
        match self {
            Sent => lang.pick("送付済み（未受理）", "sent (not yet received)"),
            Received => lang.pick("受理", "received"),
            Accepted => lang.pick("対応決定", "accepted"),
            Declined => lang.pick("辞退", "declined"),
            InProgress => lang.pick("対応中", "in progress"),
            Completed => lang.pick("返信済み（完了）", "completed"),
            Cancelled => lang.pick("取消", "cancelled"),
        }
    }

    /// Whether `party` may move a referral from `self` to `to`. Interim
    /// notes keep a referral in progress.
    pub fn allows(self, to: ReferralState, party: Party) -> bool {
        use ReferralState::*;
        match party {
            Party::Recipient => matches!(
                (self, to),
                (Sent, Received)
                    | (Received, Accepted | Declined)
                    | (Accepted | InProgress, InProgress | Completed)
            ),
            Party::Sender => matches!((self, to), (Sent | Received, Cancelled)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Party::*;
    use super::ReferralState::*;

    #[test]
    fn the_loop_closes_only_in_order() {
        assert!(Sent.allows(Received, Recipient));
        assert!(Received.allows(Accepted, Recipient));
        assert!(Received.allows(Declined, Recipient));
        assert!(Accepted.allows(InProgress, Recipient));
        assert!(InProgress.allows(InProgress, Recipient));
        assert!(InProgress.allows(Completed, Recipient));
        assert!(!Sent.allows(Accepted, Recipient), "受理 comes first");
        assert!(!Declined.allows(Completed, Recipient));
        assert!(!Completed.allows(InProgress, Recipient));
        assert!(
            !Sent.allows(Received, Sender),
            "only the recipient acknowledges"
        );
    }

    #[test]
    fn the_sender_may_cancel_only_before_acceptance() {
        assert!(Sent.allows(Cancelled, Sender));
        assert!(Received.allows(Cancelled, Sender));
        assert!(!Accepted.allows(Cancelled, Sender));
        assert!(!Sent.allows(Cancelled, Recipient));
    }
}

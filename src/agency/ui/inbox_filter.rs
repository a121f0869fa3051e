//! What the inbox's filters need to know about each row, gathered once per
//! request from the node's own records (never the hub): which envelopes this
//! member has opened (the access log), where each referral received stands
//! on this node's side (the updates it sent), which referrals this member
//! acted on or sent, and the 受理 deadline of those still awaiting it.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::UiState;
use super::error::PageError;
use crate::agency::staff::{StaffMember, Viewed};
use crate::i18n::Lang;
use crate::protocol::payload::Payload;
use crate::protocol::{
    Action, Envelope, EnvelopeId, MessageKind, ReferralState, Timestamp, Urgency,
};
use crate::store::records::InboxRow;

/// The inbox's filters, as links and a GET form send them (so a filtered
/// view survives a reload and works without script).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct InboxQuery {
    /// `unread`, `awaiting`, `in_progress`, `mine`; anything else: all.
    #[serde(default)]
    pub filter: String,
    /// Only this case.
    #[serde(default)]
    pub case: String,
}

/// One of the filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    All,
    /// 未読: not yet opened by this member.
    Unread,
    /// 受理待ち: referrals to this node it has not acknowledged.
    Awaiting,
    /// 対応中: referrals this node acknowledged and has not finished.
    InProgress,
    /// 自分の担当: referrals this member acted on or sent, and the replies
    /// to them.
    Mine,
}

impl Filter {
    pub const ALL: [Filter; 5] = [
        Filter::All,
        Filter::Unread,
        Filter::Awaiting,
        Filter::InProgress,
        Filter::Mine,
    ];

    pub fn parse(s: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .unwrap_or(Filter::All)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Filter::All => "",
            Filter::Unread => "unread",
            Filter::Awaiting => "awaiting",
            Filter::InProgress => "in_progress",
            Filter::Mine => "mine",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Filter::All => lang.pick("すべて", "All"),
            Filter::Unread => lang.pick("未読", "Unread"),
            Filter::Awaiting => lang.pick("受理待ち", "Awaiting receipt"),
            Filter::InProgress => lang.pick("対応中", "In progress"),
            Filter::Mine => lang.pick("自分の担当", "Mine"),
        }
    }
}

/// How long a recipient has for 受理 by urgency: the hub's defaults
/// (`hub::config::Deadlines`, which this layer may not import). A hub
/// configured otherwise escalates at its own time and says so in its
/// 期限超過 notice; the page calls this deadline a guide (目安).
fn receipt_window(urgency: Urgency) -> time::Duration {
    match urgency {
        Urgency::Emergency => time::Duration::minutes(60),
        Urgency::Early => time::Duration::hours(24),
        Urgency::Normal => time::Duration::days(3),
    }
}

/// What the filters know, for one member at one moment.
pub struct Facts {
    viewed: HashSet<String>,
    /// This node's own latest state for each referral it received (absent:
    /// not yet acknowledged).
    own_state: HashMap<EnvelopeId, ReferralState>,
    /// Referrals the sender cancelled.
    cancelled: HashSet<EnvelopeId>,
    /// Referrals this member sent or sent an update about.
    mine: HashSet<EnvelopeId>,
    /// The referral each received update is about.
    update_of: HashMap<String, EnvelopeId>,
}

/// The referral an envelope updates, and to what state.
async fn update_action(
    state: &UiState,
    id: &str,
) -> Result<Option<(EnvelopeId, ReferralState)>, PageError> {
    let Ok(id) = id.parse::<EnvelopeId>() else {
        return Ok(None);
    };
    let Some(bytes) = state.node.records().envelope_bytes(id).await? else {
        return Ok(None);
    };
    Ok(
        match Envelope::parse(bytes).map(|e| e.meta().action.clone()) {
            Ok(Some(Action::UpdateReferral { referral, state })) => Some((referral, state)),
            _ => None,
        },
    )
}

fn authored_by(payload: &str, member: &StaffMember) -> bool {
    serde_json::from_str::<Payload>(payload).is_ok_and(|p| p.author.name == member.name)
}

impl Facts {
    /// Gather the facts from the node's records for `member`.
    pub async fn gather(
        state: &UiState,
        member: &StaffMember,
        inbox: &[InboxRow],
    ) -> Result<Facts, PageError> {
        let viewed = state.accounts.viewed_by(member, Viewed::Envelope).await?;
        let update = MessageKind::ReferralUpdate.as_str();
        let mut facts = Facts {
            viewed,
            own_state: HashMap::new(),
            cancelled: HashSet::new(),
            mine: HashSet::new(),
            update_of: HashMap::new(),
        };
        // Oldest first, so the latest update's state is the one kept.
        let mut sent = state.node.records().outbox().await?;
        sent.reverse();
        for row in sent.iter().filter(|r| r.status != "refused") {
            let own = authored_by(&row.payload, member);
            if row.kind == MessageKind::Referral.as_str() {
                if let (true, Ok(id)) = (own, row.envelope_id.parse()) {
                    facts.mine.insert(id);
                }
            } else if row.kind == update
                && let Some((referral, to)) = update_action(state, &row.envelope_id).await?
            {
                facts.own_state.insert(referral, to);
                if own {
                    facts.mine.insert(referral);
                }
            }
        }
        for row in inbox.iter().filter(|r| r.kind == update) {
            if let Some((referral, to)) = update_action(state, &row.envelope_id).await? {
                facts.update_of.insert(row.envelope_id.clone(), referral);
                if to == ReferralState::Cancelled {
                    facts.cancelled.insert(referral);
                }
            }
        }
        Ok(facts)
    }

    /// Whether this member has not opened `row` yet.
    pub fn unread(&self, row: &InboxRow) -> bool {
        !self.viewed.contains(&row.envelope_id)
    }

    /// Where a received referral stands on this node's side; `None` for
    /// anything else.
    pub fn own_state(&self, row: &InboxRow) -> Option<ReferralState> {
        if row.kind != MessageKind::Referral.as_str() {
            return None;
        }
        let id = row.envelope_id.parse::<EnvelopeId>().ok()?;
        if self.cancelled.contains(&id) {
            return Some(ReferralState::Cancelled);
        }
        Some(
            self.own_state
                .get(&id)
                .copied()
                .unwrap_or(ReferralState::Sent),
        )
    }

    /// When 受理 is due, for a referral still awaiting it.
    pub fn receipt_due(&self, row: &InboxRow) -> Option<Timestamp> {
        if self.own_state(row) != Some(ReferralState::Sent) {
            return None;
        }
        let window = receipt_window(Urgency::parse(&row.urgency)?);
        Some(Timestamp::from_datetime(
            row.created_at.datetime().saturating_add(window),
        ))
    }

    fn is_mine(&self, row: &InboxRow) -> bool {
        let about = match self.update_of.get(&row.envelope_id) {
            Some(referral) => Some(*referral),
            None => row.envelope_id.parse().ok(),
        };
        about.is_some_and(|id| self.mine.contains(&id))
    }

    /// Whether `row` passes `filter` and the case asked for.
    pub fn keeps(&self, row: &InboxRow, filter: Filter, case: &str) -> bool {
        let case = case.trim();
        if !case.is_empty() && row.case_id.as_deref() != Some(case) {
            return false;
        }
        use ReferralState::*;
        match filter {
            Filter::All => true,
            Filter::Unread => self.unread(row),
            Filter::Awaiting => self.own_state(row) == Some(Sent),
            Filter::InProgress => {
                matches!(self.own_state(row), Some(Received | Accepted | InProgress))
            }
            Filter::Mine => self.is_mine(row),
        }
    }
}

/// Time left until `deadline` (or past it), as staff read it: days, hours
/// and minutes, the way live.js rewrites it each minute.
pub fn remaining(deadline: Timestamp, now: Timestamp, lang: Lang) -> String {
    let minutes = (deadline.unix_millis() - now.unix_millis()).div_euclid(60_000);
    let span = span(minutes.unsigned_abs(), lang);
    match (minutes >= 0, lang) {
        (true, Lang::Ja) => format!("あと{span}"),
        (false, Lang::Ja) => format!("{span}超過"),
        (true, Lang::En) => format!("{span} left"),
        (false, Lang::En) => format!("{span} overdue"),
    }
}

fn span(minutes: u64, lang: Lang) -> String {
    let (d, h, m) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    match lang {
        Lang::Ja if d > 0 => format!("{d}日{h}時間"),
        Lang::Ja if h > 0 => format!("{h}時間{m}分"),
        Lang::Ja => format!("{m}分"),
        Lang::En if d > 0 => format!("{d} d {h} h"),
        Lang::En if h > 0 => format!("{h} h {m} min"),
        Lang::En => format!("{m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_800_000_000_000 + minutes * 60_000).unwrap()
    }

    #[test]
    fn the_time_left_reads_in_days_hours_or_minutes_and_says_when_it_is_overdue() {
        assert_eq!(remaining(at(42), at(0), Lang::Ja), "あと42分");
        assert_eq!(remaining(at(125), at(0), Lang::Ja), "あと2時間5分");
        assert_eq!(
            remaining(at(3 * 1440 + 60), at(0), Lang::Ja),
            "あと3日1時間"
        );
        assert_eq!(remaining(at(0), at(12), Lang::Ja), "12分超過");
        assert_eq!(remaining(at(42), at(0), Lang::En), "42 min left");
    }

    #[test]
    fn an_unknown_filter_shows_everything() {
        assert_eq!(Filter::parse("awaiting"), Filter::Awaiting);
        assert_eq!(Filter::parse("<script>"), Filter::All);
    }
}

//! The 調整機関's own entry about a case: what no envelope says (its case
//! number, how the case came in, the abuse type, its own assessment and
//! policy, where the case stands), and how a change to it is checked.

use crate::i18n::labeled;
use crate::protocol::Timestamp;
use crate::protocol::day::Day;
use crate::protocol::meeting::Level;
use crate::store::records::LedgerEntryRow;

labeled!(
    /// 受理経路: how the case came to the council.
    Route {
        /// 通告
        Notification => "notification", "通告", "notification";
        /// 医療機関からの連絡
        Medical => "medical", "医療機関からの連絡", "from a medical institution";
        /// 妊娠届
        PregnancyReport => "pregnancy_report", "妊娠届", "pregnancy report";
        /// 乳幼児健診
        Checkup => "checkup", "乳幼児健診", "infant checkup";
        /// 転入
        MovedIn => "moved_in", "転入", "moved in";
        /// その他
        Other => "other", "その他", "other";
    }
);

labeled!(
    /// 進行管理台帳の状態.
    ProgressStatus {
        /// 受理
        Received => "received", "受理", "received";
        /// アセスメント中
        Assessment => "assessment", "アセスメント中", "under assessment";
        /// 支援中
        Supporting => "supporting", "支援中", "under support";
        /// 見守り
        Watching => "watching", "見守り", "watching";
        /// 送致（児童相談所へ）
        Referred => "referred", "送致", "referred to the child guidance center";
        /// 移管 (to another municipality)
        Transferred => "transferred", "移管", "transferred";
        /// 終結
        Closed => "closed", "終結", "closed";
    }
);

labeled!(
    /// 虐待種別.
    AbuseType {
        /// 身体的虐待
        Physical => "physical", "身体的虐待", "physical abuse";
        /// 性的虐待
        Sexual => "sexual", "性的虐待", "sexual abuse";
        /// 心理的虐待
        Psychological => "psychological", "心理的虐待", "psychological abuse";
        /// ネグレクト
        Neglect => "neglect", "ネグレクト", "neglect";
    }
);

impl ProgressStatus {
    /// Whether the council still follows the case (reviews it at 実務者会議).
    pub fn is_open(self) -> bool {
        !matches!(self, ProgressStatus::Closed | ProgressStatus::Transferred)
    }
}

/// The 調整機関's own entry about a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    /// ケース番号, e.g. `2026-012`.
    pub case_number: Option<String>,
    /// 受理日
    pub received_on: Option<Day>,
    /// 受理経路
    pub route: Option<Route>,
    /// 虐待種別 (none when not a matter of abuse).
    pub abuse_types: Vec<AbuseType>,
    /// 危険度, as the 調整機関 last assessed it.
    pub risk: Option<Level>,
    /// 援助方針
    pub policy: String,
    /// Where the case stands.
    pub status: ProgressStatus,
    /// Why (終結・送致・移管の理由).
    pub status_reason: String,
    /// 次回見直し日, when set by hand rather than three months on.
    pub next_review: Option<Day>,
    /// When staff last changed it (set by the store).
    pub updated_at: Option<Timestamp>,
}

impl Default for LedgerEntry {
    fn default() -> Self {
        Self {
            case_number: None,
            received_on: None,
            route: None,
            abuse_types: Vec::new(),
            risk: None,
            policy: String::new(),
            status: ProgressStatus::Received,
            status_reason: String::new(),
            next_review: None,
            updated_at: None,
        }
    }
}

/// A change staff ask for: only what they name changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntryChange {
    pub case_number: Option<String>,
    pub received_on: Option<Day>,
    pub route: Option<Route>,
    pub abuse_types: Option<Vec<AbuseType>>,
    pub risk: Option<Level>,
    pub policy: Option<String>,
    pub status: Option<ProgressStatus>,
    pub status_reason: Option<String>,
    pub next_review: Option<Day>,
}

/// Why a change cannot be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    /// Nothing to change.
    #[error("nothing to change")]
    Empty,
    /// 受理日 in the future.
    #[error("the day received {0} is in the future")]
    FutureReceipt(Day),
    /// 終結・送致・移管 without a reason.
    #[error("status {} needs a reason", .0.as_str())]
    ReasonMissing(ProgressStatus),
    /// A case number that is blank.
    #[error("the case number is blank")]
    BlankNumber,
}

impl EntryChange {
    /// Whether the change names nothing.
    pub fn is_empty(&self) -> bool {
        *self == EntryChange::default()
    }

    /// The entry after the change, if it may be made on `today`.
    pub fn apply(self, entry: LedgerEntry, today: Day) -> Result<LedgerEntry, ChangeError> {
        if self.is_empty() {
            return Err(ChangeError::Empty);
        }
        if self
            .case_number
            .as_ref()
            .is_some_and(|n| n.trim().is_empty())
        {
            return Err(ChangeError::BlankNumber);
        }
        if let Some(day) = self.received_on.filter(|d| *d > today) {
            return Err(ChangeError::FutureReceipt(day));
        }
        let status_changed = self.status.is_some_and(|s| s != entry.status);
        let old_reason = entry.status_reason.clone();
        let mut next = LedgerEntry {
            case_number: self
                .case_number
                .map(|n| n.trim().to_owned())
                .or(entry.case_number),
            received_on: self.received_on.or(entry.received_on),
            route: self.route.or(entry.route),
            abuse_types: self.abuse_types.unwrap_or(entry.abuse_types),
            risk: self.risk.or(entry.risk),
            policy: self.policy.unwrap_or(entry.policy),
            status: self.status.unwrap_or(entry.status),
            status_reason: self.status_reason.unwrap_or(entry.status_reason),
            next_review: self.next_review.or(entry.next_review),
            updated_at: entry.updated_at,
        };
        // A new status does not inherit the old one's reason.
        if status_changed && next.status_reason == old_reason {
            next.status_reason = String::new();
        }
        let needs_reason = matches!(
            next.status,
            ProgressStatus::Closed | ProgressStatus::Referred | ProgressStatus::Transferred
        );
        if needs_reason && next.status_reason.trim().is_empty() {
            return Err(ChangeError::ReasonMissing(next.status));
        }
        Ok(next)
    }
}

impl LedgerEntry {
    /// The stored form.
    pub fn to_row(&self) -> LedgerEntryRow {
        let abuse: Vec<&str> = self.abuse_types.iter().map(|a| a.as_str()).collect();
        LedgerEntryRow {
            case_number: self.case_number.clone(),
            received_on: self.received_on.map(|d| d.to_string()),
            route: self.route.map(|r| r.as_str().to_owned()),
            abuse_types: serde_json::to_string(&abuse).unwrap_or_else(|_| "[]".into()),
            risk: self.risk.map(|r| r.as_str().to_owned()),
            policy: self.policy.clone(),
            status: self.status.as_str().to_owned(),
            status_reason: self.status_reason.clone(),
            next_review: self.next_review.map(|d| d.to_string()),
            ..LedgerEntryRow::default()
        }
    }

    /// The entry a stored row holds; `Err` names the column that does not
    /// read (the table's CHECKs should make that impossible).
    pub fn from_row(row: &LedgerEntryRow) -> Result<Self, String> {
        fn opt<T>(
            v: &Option<String>,
            parse: impl Fn(&str) -> Option<T>,
            what: &str,
        ) -> Result<Option<T>, String> {
            v.as_deref()
                .map(|s| parse(s).ok_or_else(|| format!("{what} {s:?}")))
                .transpose()
        }
        let day = |s: &str| s.parse::<Day>().ok();
        let abuse: Vec<String> =
            serde_json::from_str(&row.abuse_types).map_err(|e| format!("abuse_types: {e}"))?;
        Ok(Self {
            case_number: row.case_number.clone(),
            received_on: opt(&row.received_on, day, "received_on")?,
            route: opt(&row.route, Route::parse, "route")?,
            abuse_types: abuse
                .iter()
                .map(|a| AbuseType::parse(a).ok_or_else(|| format!("abuse type {a:?}")))
                .collect::<Result<_, _>>()?,
            risk: opt(&row.risk, Level::parse, "risk")?,
            policy: row.policy.clone(),
            status: ProgressStatus::parse(&row.status)
                .ok_or_else(|| format!("status {:?}", row.status))?,
            status_reason: row.status_reason.clone(),
            next_review: opt(&row.next_review, day, "next_review")?,
            updated_at: row.updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Day {
        s.parse().unwrap()
    }

    #[test]
    fn a_change_keeps_what_it_does_not_name_and_round_trips_through_its_row() {
        let today = day("2026-12-01");
        let first = EntryChange {
            case_number: Some(" 2026-012 ".into()),
            received_on: Some(day("2026-11-20")),
            route: Some(Route::Medical),
            abuse_types: Some(vec![AbuseType::Neglect, AbuseType::Psychological]),
            ..EntryChange::default()
        }
        .apply(LedgerEntry::default(), today)
        .unwrap();
        assert_eq!(first.case_number.as_deref(), Some("2026-012"));
        assert_eq!(first.status, ProgressStatus::Received);
        let second = EntryChange {
            status: Some(ProgressStatus::Assessment),
            risk: Some(Level::High),
            ..EntryChange::default()
        }
        .apply(first.clone(), today)
        .unwrap();
        assert_eq!(second.route, Some(Route::Medical));
        assert_eq!(second.abuse_types, first.abuse_types);
        let row = second.to_row();
        assert_eq!(LedgerEntry::from_row(&row).unwrap(), second);
    }

    #[test]
    fn closing_needs_a_reason_and_receipt_cannot_be_in_the_future() {
        let today = day("2026-12-01");
        let close = |reason: Option<&str>| EntryChange {
            status: Some(ProgressStatus::Closed),
            status_reason: reason.map(str::to_owned),
            ..EntryChange::default()
        };
        assert_eq!(
            close(None).apply(LedgerEntry::default(), today),
            Err(ChangeError::ReasonMissing(ProgressStatus::Closed))
        );
        let closed = close(Some("転居先で支援継続")).apply(LedgerEntry::default(), today);
        assert_eq!(closed.unwrap().status_reason, "転居先で支援継続");
        let future = EntryChange {
            received_on: Some(day("2026-12-02")),
            ..EntryChange::default()
        };
        assert!(matches!(
            future.apply(LedgerEntry::default(), today),
            Err(ChangeError::FutureReceipt(_))
        ));
        assert_eq!(
            EntryChange::default().apply(LedgerEntry::default(), today),
            Err(ChangeError::Empty)
        );
        for s in ProgressStatus::ALL {
            assert_eq!(ProgressStatus::parse(s.as_str()), Some(*s));
        }
    }
}

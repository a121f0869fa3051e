//! The access log: every view of a record, who and when, by id only (no
//! content). Append-only (the table refuses updates and deletes); read by
//! administrators, exported as CSV.

use serde::Serialize;

use super::{Actor, StaffAccounts, StaffError, StaffId, StaffMember, StaffRole};
use crate::agency::spreadsheet;
use crate::i18n::Lang;
use crate::protocol::Timestamp;
use crate::store::StoreError;
use crate::store::records::{AccessRow, StaffRef};

/// What kind of record was viewed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Viewed {
    /// A message received or sent (by envelope id).
    Envelope,
    /// A case and what the node holds about it (by case id).
    Case,
    /// A case meeting (by meeting id).
    Meeting,
    /// A support plan (by plan id).
    Plan,
    /// An entry of the 進行管理台帳 (by case id).
    LedgerEntry,
    /// A row of the 支援台帳 (by its 台帳番号), or the ledger exported.
    SupportSubject,
    /// A staff account (by staff id).
    StaffAccount,
    /// The access log itself (by the range read).
    AccessLog,
}

impl Viewed {
    const ALL: [Viewed; 8] = [
        Viewed::Envelope,
        Viewed::Case,
        Viewed::Meeting,
        Viewed::Plan,
        Viewed::LedgerEntry,
        Viewed::SupportSubject,
        Viewed::StaffAccount,
        Viewed::AccessLog,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Viewed::Envelope => "envelope",
            Viewed::Case => "case",
            Viewed::Meeting => "meeting",
            Viewed::Plan => "plan",
            Viewed::LedgerEntry => "ledger_entry",
            Viewed::SupportSubject => "support_subject",
            Viewed::StaffAccount => "staff_account",
            Viewed::AccessLog => "access_log",
        }
    }

    /// The label in `lang`.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Viewed::Envelope => lang.pick("連絡・記録", "message"),
            Viewed::Case => lang.pick("ケース", "case"),
            Viewed::Meeting => lang.pick("ケース会議", "meeting"),
            Viewed::Plan => lang.pick("支援プラン", "support plan"),
            Viewed::LedgerEntry => lang.pick("進行管理台帳", "ledger entry"),
            Viewed::SupportSubject => lang.pick("支援台帳", "support ledger"),
            Viewed::StaffAccount => lang.pick("職員アカウント", "staff account"),
            Viewed::AccessLog => lang.pick("閲覧記録", "access log"),
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One view of one record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessEntry {
    /// Its place in the log (gaps never occur but by a failed write).
    pub seq: i64,
    pub at: Timestamp,
    pub staff_id: StaffId,
    /// The name and role the person had at the time.
    pub staff_name: String,
    pub staff_role: StaffRole,
    pub what: Viewed,
    pub record_id: String,
}

impl AccessEntry {
    fn from_row(row: AccessRow) -> Result<Self, StoreError> {
        let corrupt = |f: &str| StoreError::Corrupt(format!("access log #{}: {f}", row.seq));
        Ok(Self {
            seq: row.seq,
            at: row.at,
            staff_id: row.staff_id.parse().map_err(|_| corrupt("staff id"))?,
            staff_role: row.staff_role.parse().map_err(|_| corrupt("role"))?,
            what: Viewed::parse(&row.what).ok_or_else(|| corrupt("what"))?,
            staff_name: row.staff_name,
            record_id: row.record_id,
        })
    }
}

impl StaffAccounts {
    /// Write that `staff` viewed `record_id` at `now`. Call it before the
    /// record is shown: a view that could not be logged is not shown.
    pub async fn record_view(
        &self,
        staff: &StaffMember,
        what: Viewed,
        record_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let who = StaffRef {
            id: &staff.id.to_string(),
            name: &staff.name,
            role: staff.role.as_str(),
        };
        self.records
            .append_access(&who, what.as_str(), record_id, now)
            .await
    }

    /// The ids of the records of kind `what` that `staff` has viewed (what
    /// is still 未読 for them is everything else).
    pub async fn viewed_by(
        &self,
        staff: &StaffMember,
        what: Viewed,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let ids = self
            .records
            .viewed_by(&staff.id.to_string(), what.as_str())
            .await?;
        Ok(ids.into_iter().collect())
    }

    /// The log from `from` (inclusive) to `to` (exclusive), oldest first:
    /// administrators only. A staff member's reading is itself logged.
    pub async fn access_log(
        &self,
        by: Actor<'_>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Vec<AccessEntry>, StaffError> {
        by.require_administrator()?;
        if let Actor::Staff(admin) = by {
            let range = format!(
                "{}/{}",
                from.map(|t| t.to_string()).unwrap_or_default(),
                to.map(|t| t.to_string()).unwrap_or_default()
            );
            self.record_view(admin, Viewed::AccessLog, &range, now)
                .await?;
        }
        let rows = self.records.access_rows(from, to).await?;
        Ok(rows
            .into_iter()
            .map(AccessEntry::from_row)
            .collect::<Result<_, _>>()?)
    }
}

/// Write entries as CSV (UTF-8 with a BOM, so Excel reads the names), one
/// header row; names and record ids made inert ([`spreadsheet::inert`]).
pub fn write_csv<W: std::io::Write>(entries: &[AccessEntry], mut out: W) -> Result<(), csv::Error> {
    out.write_all("\u{feff}".as_bytes())?;
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "seq",
        "at",
        "staff_id",
        "staff_name",
        "staff_role",
        "what",
        "record_id",
    ])?;
    for e in entries {
        w.write_record([
            e.seq.to_string(),
            e.at.to_string(),
            e.staff_id.to_string(),
            spreadsheet::inert(&e.staff_name),
            e.staff_role.as_str().to_owned(),
            e.what.as_str().to_owned(),
            spreadsheet::inert(&e.record_id),
        ])?;
    }
    w.flush()?;
    Ok(())
}

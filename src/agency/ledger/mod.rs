//! The 進行管理台帳 (progress ledger) on the 調整機関's node: one row per
//! case registered with the 要対協, built from what the node holds
//! (registrations, meetings and their minutes, support plans) and the
//! 調整機関's own entries. Plaintext, on that node only; nothing here is
//! logged.

pub mod agenda;
pub mod csv;
pub mod entry;
pub mod fold;
pub mod sources;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use agenda::{AGENDA_DAYS, Agenda, AgendaItem, Seating};
pub use entry::{AbuseType, ChangeError, EntryChange, LedgerEntry, ProgressStatus, Route};
pub use fold::{Filter, LedgerRow, REVIEW_MONTHS};

use crate::protocol::day::Day;
use crate::protocol::{AgencyId, CaseId, Timestamp};
use crate::store::StoreError;
use crate::store::records::{NumberTaken, Records};

/// Why the ledger could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// This node holds nothing about the case.
    #[error("this node holds nothing about case {0}")]
    UnknownCase(CaseId),
    /// The case is known but was never registered with the 要対協.
    #[error("case {0} is not registered with the council")]
    NotRegistered(CaseId),
    #[error(transparent)]
    Change(#[from] ChangeError),
    #[error(transparent)]
    NumberTaken(#[from] NumberTaken),
}

/// The ledger on `me`'s node as it stands at `now`.
pub async fn rows(
    records: &Records,
    me: &AgencyId,
    now: Timestamp,
) -> Result<Vec<LedgerRow>, LedgerError> {
    let sources = sources::read(records, me).await?;
    let entries = entries(records).await?;
    Ok(fold::fold(&sources, &entries, now))
}

/// The 実務者会議 agenda: the cases due for review on or before `until`,
/// each with the agencies that have a role in it. Meeting scheduling invites
/// [`Agenda::invitees`].
pub async fn due_cases(
    records: &Records,
    me: &AgencyId,
    now: Timestamp,
    until: Day,
) -> Result<Agenda, LedgerError> {
    Ok(Agenda::of(&rows(records, me, now).await?, until))
}

/// Change the 調整機関's own entry about a registered case.
pub async fn set(
    records: &Records,
    me: &AgencyId,
    case: &CaseId,
    change: EntryChange,
    now: Timestamp,
) -> Result<LedgerEntry, LedgerError> {
    let sources = sources::read(records, me).await?;
    if !sources
        .cases
        .iter()
        .any(|e| &e.case == case && matches!(e.change, sources::CaseChange::Registered(_)))
    {
        return Err(if records.holds_case(case).await? {
            LedgerError::NotRegistered(case.clone())
        } else {
            LedgerError::UnknownCase(case.clone())
        });
    }
    let today = Day::of(now);
    let row = records
        .update_ledger_entry(case, |stored| -> Result<_, LedgerError> {
            let entry = match stored {
                Some(row) => LedgerEntry::from_row(&row).map_err(StoreError::Corrupt)?,
                None => LedgerEntry::default(),
            };
            Ok(change.apply(entry, today)?.to_row())
        })
        .await?;
    LedgerEntry::from_row(&row).map_err(|e| StoreError::Corrupt(e).into())
}

async fn entries(records: &Records) -> Result<BTreeMap<CaseId, LedgerEntry>, LedgerError> {
    let mut all = BTreeMap::new();
    for row in records.ledger_entries().await? {
        let case: CaseId = row
            .case_id
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("ledger case id {:?}", row.case_id)))?;
        all.insert(
            case,
            LedgerEntry::from_row(&row).map_err(StoreError::Corrupt)?,
        );
    }
    Ok(all)
}

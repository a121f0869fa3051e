//! Excel in and out: the center's existing ledger imported from .xlsx or
//! CSV (UTF-8 or Shift_JIS), with the mapping of its columns shown, a dry
//! run, and every refused row reported — nothing half-imported; and the
//! ledger exported to .xlsx (pull-downs, real dates) and CSV. A round trip
//! changes nothing. The CLI and the UI share every step here.
//!
//! An import writes new rows (their first tier with the reason 取込),
//! changed rows (a tier change into the history, reason 取込, by the
//! importing person) and new contacts in ONE batch; unchanged rows and
//! contacts the ledger already has are not written again.

pub mod cells;
pub mod export;
pub mod fields;
pub mod mapping;
pub mod plan;
pub mod read;
#[cfg(test)]
mod tests;

pub use mapping::{Mapping, MappingProblem, Override, Target, parse_override};
pub use plan::{ContactOutcome, Counts, Outcome, Plan, RowPlan};
pub use read::{MAX_FILE_BYTES, ReadError};

use super::{SupportLedgerError, write_of};
use crate::protocol::Timestamp;
use crate::protocol::day::Day;
use crate::store::records::{ContactRow, Records, SupportBatch, TierChangeRow};

/// The reason an import's tier entries carry.
pub const IMPORT_REASON: &str = "取込";

/// Read a file and plan its import into the ledger as it stands on
/// `today`. (The CLI takes the same steps one by one, to show progress.)
pub async fn prepare(
    records: &Records,
    bytes: &[u8],
    overrides: &[Override],
    today: Day,
) -> Result<Plan, PrepareError> {
    let book = read::read(bytes)?;
    let ledger = super::load(records, today).await?;
    Ok(plan::plan(&book, overrides, &ledger, today, &mut || {}))
}

/// Why a file could not be planned.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Ledger(#[from] SupportLedgerError),
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A row, a contact or a column was refused: see the plan.
    #[error("rows were refused; nothing was imported")]
    Refused,
    #[error(transparent)]
    Ledger(#[from] SupportLedgerError),
}

/// What an import wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Imported {
    pub added: usize,
    pub changed: usize,
    pub contacts: usize,
}

/// Write a plan in one transaction, or nothing: refused if anything in it
/// was refused, or if a row changed since it was planned.
pub async fn import(
    records: &Records,
    plan: &Plan,
    by: &str,
    now: Timestamp,
) -> Result<Imported, ImportError> {
    if !plan.importable() {
        return Err(ImportError::Refused);
    }
    let mut batch = SupportBatch::default();
    let mut done = Imported::default();
    let mut ids = std::collections::BTreeMap::new();
    for row in &plan.rows {
        let Some(subject) = &row.subject else {
            continue;
        };
        let tier = |from: Option<&str>, id: &str| TierChangeRow {
            subject_id: id.into(),
            from_tier: from.map(Into::into),
            to_tier: subject.tier.as_str().into(),
            reason: IMPORT_REASON.into(),
            changed_by: by.into(),
            changed_at: now,
        };
        match (&row.outcome, &row.existing) {
            (Outcome::New, _) => {
                let id = uuid::Uuid::new_v4().to_string();
                batch.tier_changes.push(tier(None, &id));
                batch.subjects.push(write_of(&id, subject, None));
                ids.insert(subject.number.clone(), id);
                done.added += 1;
            }
            (Outcome::Changed(_), Some((id, version))) => {
                // The tier it had is the one the plan read: the version
                // check refuses the batch if the row changed since.
                if let Some(before) = row.tier_before.filter(|t| *t != subject.tier) {
                    batch.tier_changes.push(tier(Some(before.as_str()), id));
                }
                batch.subjects.push(write_of(id, subject, Some(*version)));
                ids.insert(subject.number.clone(), id.clone());
                done.changed += 1;
            }
            (_, Some((id, _))) => {
                ids.insert(subject.number.clone(), id.clone());
            }
            _ => {}
        }
    }
    let ledger_ids = if plan.contacts.is_empty() {
        Default::default()
    } else {
        number_ids(records).await?
    };
    for c in &plan.contacts {
        let (ContactOutcome::New, Some(contact)) = (&c.outcome, &c.contact) else {
            continue;
        };
        let Some(id) = ids.get(&c.number).or_else(|| ledger_ids.get(&c.number)) else {
            return Err(ImportError::Refused);
        };
        batch.contacts.push(ContactRow {
            subject_id: id.clone(),
            day: contact.day.to_string(),
            kind: contact.kind.as_str().into(),
            staff: contact.staff.clone(),
            summary: contact.summary.clone(),
            point: contact.point.map(|p| p.as_str().into()),
            recorded_by: by.into(),
            recorded_at: now,
        });
        done.contacts += 1;
    }
    if batch != SupportBatch::default() {
        records
            .write_support(&batch)
            .await
            .map_err(SupportLedgerError::from)?;
    }
    Ok(done)
}

/// 台帳番号 → row id, for the ledger as stored.
async fn number_ids(
    records: &Records,
) -> Result<std::collections::BTreeMap<String, String>, SupportLedgerError> {
    Ok(records
        .support_subjects()
        .await?
        .into_iter()
        .map(|r| (r.number, r.id))
        .collect())
}

//! The 支援台帳 (support ledger) on the center's node: every pregnant woman,
//! child and family the center knows (a population approach, not only the
//! high-risk), their contacts, tier history and the cases linked to them,
//! with the dates the rules compute. Plaintext, on this node only, never
//! on the hub; nothing here is logged.
//!
//! Every change goes through one function here, which checks it and hands
//! the store one [`SupportBatch`]: the CLI, the UI and the import share
//! them.

pub mod exchange;
pub mod morning;
pub mod prefill;
pub mod report;
pub mod rules;
pub mod subject;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

pub use morning::{MorningFilter, Unlinked};
pub use rules::{Computed, Dated, Progress, Rule};
pub use subject::{
    Checkup, ContactKind, ContactPoint, FIELDS, Subject, SubjectKind, SubjectProblem, Tier,
};

use crate::protocol::day::Day;
use crate::protocol::{CaseId, Timestamp};
use crate::store::StoreError;
use crate::store::records::{
    ContactRow, LinkRow, Records, SubjectWrite, SupportBatch, SupportWriteError, TierChangeRow,
};

/// Why a change to the ledger was refused; nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum SupportLedgerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The row is not fit to keep (blank name, a future date, …).
    #[error("the row cannot be kept: {}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<SubjectProblem>),
    #[error("ledger number {0} is already used")]
    NumberTaken(String),
    /// Someone changed the row since it was read.
    #[error("the row was changed by someone else meanwhile")]
    Stale,
    #[error("no row {0} on this ledger")]
    UnknownSubject(String),
    /// The case already belongs to another row.
    #[error("case {0} already belongs to another row")]
    CaseLinked(String),
    /// A tier change needs its reason.
    #[error("a tier change needs a reason")]
    TierReasonMissing,
    /// A contact in the future, or without who made it.
    #[error("the contact cannot be kept: {0}")]
    BadContact(&'static str),
}

impl From<SupportWriteError> for SupportLedgerError {
    fn from(e: SupportWriteError) -> Self {
        match e {
            SupportWriteError::Store(e) => Self::Store(e),
            SupportWriteError::NumberTaken(n) => Self::NumberTaken(n),
            SupportWriteError::Stale(_) => Self::Stale,
            SupportWriteError::CaseLinked { case_id, .. } => Self::CaseLinked(case_id),
        }
    }
}

/// A contact with the person or about them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub day: Day,
    pub kind: ContactKind,
    /// Who made it.
    pub staff: String,
    pub summary: String,
    /// The 伴走型相談支援 point it fulfils, if any.
    pub point: Option<ContactPoint>,
    pub recorded_by: String,
    pub recorded_at: Timestamp,
}

/// A tier change, with who made it and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierChange {
    /// `None`: the first tier the row was given.
    pub from: Option<Tier>,
    pub to: Tier,
    pub reason: String,
    pub by: String,
    pub at: Timestamp,
}

/// A case linked to a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub case: CaseId,
    pub by: String,
    pub at: Timestamp,
}

/// One row as the ledger shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectView {
    pub id: String,
    /// Given back with an edit: a stale one is refused.
    pub version: i64,
    pub subject: Subject,
    /// Oldest first.
    pub contacts: Vec<Contact>,
    /// Oldest first.
    pub tiers: Vec<TierChange>,
    pub cases: Vec<Link>,
    pub computed: Computed,
    /// What the rules read from the row's neighbours (its children's
    /// births, its mother's tier), for anything that applies them again.
    pub context: rules::Context,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The whole ledger as it stands on a day.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    /// By 台帳番号.
    pub subjects: Vec<SubjectView>,
}

impl Ledger {
    /// The row with this id.
    pub fn get(&self, id: &str) -> Option<&SubjectView> {
        self.subjects.iter().find(|s| s.id == id)
    }

    /// The row with this 台帳番号.
    pub fn by_number(&self, number: &str) -> Option<&SubjectView> {
        self.subjects.iter().find(|s| s.subject.number == number)
    }

    /// The row a case is linked to.
    pub fn by_case(&self, case: &CaseId) -> Option<&SubjectView> {
        self.subjects
            .iter()
            .find(|s| s.cases.iter().any(|l| &l.case == case))
    }
}

/// Read the whole ledger, with the rules computed for `today`.
pub async fn load(records: &Records, today: Day) -> Result<Ledger, SupportLedgerError> {
    let rows = records.support_subjects().await?;
    let mut contacts: BTreeMap<String, Vec<Contact>> = BTreeMap::new();
    for c in records.support_contacts().await? {
        contacts
            .entry(c.subject_id.clone())
            .or_default()
            .push(contact_of(&c)?);
    }
    let mut tiers: BTreeMap<String, Vec<TierChange>> = BTreeMap::new();
    for t in records.support_tier_changes().await? {
        tiers
            .entry(t.subject_id.clone())
            .or_default()
            .push(tier_change_of(&t)?);
    }
    let mut links: BTreeMap<String, Vec<Link>> = BTreeMap::new();
    for l in records.support_links().await? {
        let case = l
            .case_id
            .parse()
            .map_err(|_| corrupt(format!("linked case {:?}", l.case_id)))?;
        links.entry(l.subject_id).or_default().push(Link {
            case,
            by: l.linked_by,
            at: l.linked_at,
        });
    }
    let mut parsed = Vec::with_capacity(rows.len());
    for row in rows {
        let subject: Subject = serde_json::from_str(&row.doc)
            .map_err(|e| corrupt(format!("ledger row {}: {e}", row.number)))?;
        parsed.push((row, subject));
    }
    // What a row's rules read from its neighbours.
    let specified: BTreeSet<&str> = parsed
        .iter()
        .filter(|(row, s)| {
            s.tier == Tier::Specified
                || tiers
                    .get(&row.id)
                    .is_some_and(|h| h.iter().any(|t| t.to == Tier::Specified))
        })
        .map(|(_, s)| s.number.as_str())
        .collect();
    let born = births(parsed.iter().map(|(_, s)| s));
    let mut subjects = Vec::with_capacity(parsed.len());
    for (row, subject) in &parsed {
        let contacts = contacts.remove(&row.id).unwrap_or_default();
        let ctx = rules::Context {
            mother_was_specified: subject
                .mother
                .as_deref()
                .is_some_and(|m| specified.contains(m)),
            child_born_on: born.get(subject.number.as_str()).copied(),
            added_on: Some(Day::of(row.created_at)),
        };
        let facts: Vec<rules::ContactFact> = contacts
            .iter()
            .map(|c| rules::ContactFact {
                day: c.day,
                staff: c.staff.clone(),
                point: c.point,
            })
            .collect();
        subjects.push(SubjectView {
            id: row.id.clone(),
            version: row.version,
            computed: rules::compute(subject, &facts, &ctx, today),
            context: ctx,
            subject: subject.clone(),
            contacts,
            tiers: tiers.remove(&row.id).unwrap_or_default(),
            cases: links.remove(&row.id).unwrap_or_default(),
            created_at: row.created_at,
            updated_at: row.updated_at,
        });
    }
    Ok(Ledger { subjects })
}

/// Each mother's earliest child's birth, by her 台帳番号: what a pregnant
/// woman's infant visit is scheduled from.
pub(crate) fn births<'a>(subjects: impl Iterator<Item = &'a Subject>) -> BTreeMap<&'a str, Day> {
    let mut born: BTreeMap<&str, Day> = BTreeMap::new();
    for s in subjects {
        if let (Some(mother), Some(b)) = (&s.mother, s.birth_date) {
            let e = born.entry(mother.as_str()).or_insert(b);
            *e = (*e).min(b);
        }
    }
    born
}

/// Add rows (one, or an import's thousands) in one transaction; each gets
/// its first tier in the history, with `reason`. Returns their ids.
pub async fn add(
    records: &Records,
    subjects: Vec<Subject>,
    reason: &str,
    by: &str,
    now: Timestamp,
) -> Result<Vec<String>, SupportLedgerError> {
    let (batch, ids) = new_rows(subjects, reason, by, now)?;
    records.write_support(&batch).await?;
    Ok(ids)
}

/// Add one row and link a case to it in one transaction: the row a
/// referral (or a 出生連絡) started. Returns its id.
pub async fn add_linked(
    records: &Records,
    subject: Subject,
    case: &CaseId,
    reason: &str,
    by: &str,
    now: Timestamp,
) -> Result<String, SupportLedgerError> {
    let ids = add_linked_with(records, subject, case, Vec::new(), reason, by, now).await?;
    Ok(ids.into_iter().next().unwrap_or_default())
}

/// Add a row linked to a case and, in the same transaction, rows that go
/// with it (a mother's row and her baby's, from one 出生連絡). Returns
/// their ids, the linked row's first.
pub async fn add_linked_with(
    records: &Records,
    subject: Subject,
    case: &CaseId,
    more: Vec<Subject>,
    reason: &str,
    by: &str,
    now: Timestamp,
) -> Result<Vec<String>, SupportLedgerError> {
    let all = std::iter::once(subject).chain(more).collect();
    let (mut batch, ids) = new_rows(all, reason, by, now)?;
    batch.links.push(LinkRow {
        case_id: case.as_str().into(),
        subject_id: ids.first().cloned().unwrap_or_default(),
        linked_by: by.into(),
        linked_at: now,
    });
    records.write_support(&batch).await?;
    Ok(ids)
}

/// New rows, checked, each with its first tier; and their ids.
fn new_rows(
    subjects: Vec<Subject>,
    reason: &str,
    by: &str,
    now: Timestamp,
) -> Result<(SupportBatch, Vec<String>), SupportLedgerError> {
    let today = Day::of(now);
    let mut batch = SupportBatch::default();
    let mut ids = Vec::with_capacity(subjects.len());
    for subject in subjects {
        let subject = checked(subject, today)?;
        let id = uuid::Uuid::new_v4().to_string();
        batch.tier_changes.push(TierChangeRow {
            subject_id: id.clone(),
            from_tier: None,
            to_tier: subject.tier.as_str().into(),
            reason: reason.into(),
            changed_by: by.into(),
            changed_at: now,
        });
        batch.subjects.push(write_of(&id, &subject, None));
        ids.push(id);
    }
    Ok((batch, ids))
}

/// Replace a row's items. A tier change needs `tier_reason` and is kept in
/// the history; `version` is the one the editor read.
pub async fn update(
    records: &Records,
    id: &str,
    version: i64,
    subject: Subject,
    tier_reason: Option<&str>,
    by: &str,
    now: Timestamp,
) -> Result<(), SupportLedgerError> {
    let before = current(records, id).await?;
    let subject = checked(subject, Day::of(now))?;
    let mut batch = SupportBatch::default();
    if subject.tier != before.tier {
        let reason = tier_reason
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .ok_or(SupportLedgerError::TierReasonMissing)?;
        batch.tier_changes.push(TierChangeRow {
            subject_id: id.into(),
            from_tier: Some(before.tier.as_str().into()),
            to_tier: subject.tier.as_str().into(),
            reason: reason.into(),
            changed_by: by.into(),
            changed_at: now,
        });
    }
    batch.subjects.push(write_of(id, &subject, Some(version)));
    records.write_support(&batch).await?;
    Ok(())
}

/// Record a contact with (or about) the person of row `id`.
pub async fn record_contact(
    records: &Records,
    id: &str,
    contact: Contact,
) -> Result<(), SupportLedgerError> {
    current(records, id).await?;
    if contact.day > Day::of(contact.recorded_at) {
        return Err(SupportLedgerError::BadContact("the day is in the future"));
    }
    if contact.staff.trim().is_empty() {
        return Err(SupportLedgerError::BadContact(
            "who made the contact is blank",
        ));
    }
    let batch = SupportBatch {
        contacts: vec![ContactRow {
            subject_id: id.into(),
            day: contact.day.to_string(),
            kind: contact.kind.as_str().into(),
            staff: contact.staff.trim().into(),
            summary: contact.summary.trim().into(),
            point: contact.point.map(|p| p.as_str().into()),
            recorded_by: contact.recorded_by,
            recorded_at: contact.recorded_at,
        }],
        ..SupportBatch::default()
    };
    records.write_support(&batch).await?;
    Ok(())
}

/// Link a case (its referrals, meetings and plans) to row `id`: a person
/// confirms it.
pub async fn link_case(
    records: &Records,
    id: &str,
    case: &CaseId,
    by: &str,
    now: Timestamp,
) -> Result<(), SupportLedgerError> {
    current(records, id).await?;
    let batch = SupportBatch {
        links: vec![LinkRow {
            case_id: case.as_str().into(),
            subject_id: id.into(),
            linked_by: by.into(),
            linked_at: now,
        }],
        ..SupportBatch::default()
    };
    records.write_support(&batch).await?;
    Ok(())
}

async fn current(records: &Records, id: &str) -> Result<Subject, SupportLedgerError> {
    let row = records
        .support_subject(id)
        .await?
        .ok_or_else(|| SupportLedgerError::UnknownSubject(id.into()))?;
    serde_json::from_str(&row.doc).map_err(|e| corrupt(format!("ledger row {id}: {e}")).into())
}

fn checked(mut subject: Subject, today: Day) -> Result<Subject, SupportLedgerError> {
    subject.number = subject.number.trim().into();
    subject.name = subject.name.trim().into();
    let problems = subject.problems(today);
    if problems.is_empty() {
        Ok(subject)
    } else {
        Err(SupportLedgerError::Invalid(problems))
    }
}

fn write_of(id: &str, subject: &Subject, expected_version: Option<i64>) -> SubjectWrite {
    SubjectWrite {
        id: id.into(),
        number: subject.number.clone(),
        // A struct of strings, days and enumerations always serializes.
        doc: serde_json::to_string(subject).unwrap_or_default(),
        expected_version,
    }
}

fn contact_of(c: &ContactRow) -> Result<Contact, StoreError> {
    Ok(Contact {
        day: c
            .day
            .parse()
            .map_err(|_| corrupt(format!("contact day {:?}", c.day)))?,
        kind: ContactKind::parse(&c.kind)
            .ok_or_else(|| corrupt(format!("contact kind {:?}", c.kind)))?,
        staff: c.staff.clone(),
        summary: c.summary.clone(),
        point: match &c.point {
            Some(p) => Some(
                ContactPoint::parse(p).ok_or_else(|| corrupt(format!("contact point {p:?}")))?,
            ),
            None => None,
        },
        recorded_by: c.recorded_by.clone(),
        recorded_at: c.recorded_at,
    })
}

fn tier_change_of(t: &TierChangeRow) -> Result<TierChange, StoreError> {
    let tier = |name: &str| Tier::parse(name).ok_or_else(|| corrupt(format!("tier {name:?}")));
    Ok(TierChange {
        from: t.from_tier.as_deref().map(tier).transpose()?,
        to: tier(&t.to_tier)?,
        reason: t.reason.clone(),
        by: t.changed_by.clone(),
        at: t.changed_at,
    })
}

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt(what)
}

/// Whether `node` is the center's: the only node that keeps a 支援台帳.
pub fn kept_by(node: &crate::agency::Node) -> bool {
    node.directory()
        .get(node.id())
        .is_some_and(|a| a.kind == crate::protocol::AgencyKind::Center)
}

//! The center's 支援台帳: subjects, their contacts, tier history and linked
//! cases, and the year's indicator targets. Every change is one
//! [`SupportBatch`] written in one transaction, so an import of ten
//! thousand rows, or a contact with the tier change it prompted, lands whole
//! or not at all.

use super::Records;
use crate::protocol::Timestamp;
use crate::store::StoreError;

/// A subject as stored: its items are a JSON document the ledger reads.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SubjectRow {
    pub id: String,
    /// 台帳番号
    pub number: String,
    pub doc: String,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A contact as stored; enumerations by their wire names.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ContactRow {
    pub subject_id: String,
    pub day: String,
    pub kind: String,
    pub staff: String,
    pub summary: String,
    pub point: Option<String>,
    pub recorded_by: String,
    pub recorded_at: Timestamp,
}

/// A tier change as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TierChangeRow {
    pub subject_id: String,
    pub from_tier: Option<String>,
    pub to_tier: String,
    pub reason: String,
    pub changed_by: String,
    pub changed_at: Timestamp,
}

/// A case linked to a subject.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct LinkRow {
    pub case_id: String,
    pub subject_id: String,
    pub linked_by: String,
    pub linked_at: Timestamp,
}

/// A subject to write: inserted when `expected_version` is `None`,
/// otherwise replaced if it still has that version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectWrite {
    pub id: String,
    pub number: String,
    pub doc: String,
    pub expected_version: Option<i64>,
}

/// Everything one change writes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SupportBatch {
    pub subjects: Vec<SubjectWrite>,
    pub contacts: Vec<ContactRow>,
    pub tier_changes: Vec<TierChangeRow>,
    pub links: Vec<LinkRow>,
}

/// Why a batch was refused; nothing of it was written.
#[derive(Debug, thiserror::Error)]
pub enum SupportWriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another subject already has this 台帳番号.
    #[error("ledger number {0} is already used")]
    NumberTaken(String),
    /// Someone changed the subject since it was read.
    #[error("subject {0} was changed meanwhile")]
    Stale(String),
    /// The case already belongs to another subject.
    #[error("case {case_id} already belongs to another subject")]
    CaseLinked { case_id: String, subject_id: String },
}

impl From<sqlx::Error> for SupportWriteError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

impl Records {
    /// Every subject, by 台帳番号.
    pub async fn support_subjects(&self) -> Result<Vec<SubjectRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, number, doc, version, created_at, updated_at \
             FROM support_subjects ORDER BY number",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The subject with this id.
    pub async fn support_subject(&self, id: &str) -> Result<Option<SubjectRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, number, doc, version, created_at, updated_at \
             FROM support_subjects WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Every contact, oldest first.
    pub async fn support_contacts(&self) -> Result<Vec<ContactRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT subject_id, day, kind, staff, summary, point, recorded_by, recorded_at \
             FROM support_contacts ORDER BY day, id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every tier change, oldest first.
    pub async fn support_tier_changes(&self) -> Result<Vec<TierChangeRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT subject_id, from_tier, to_tier, reason, changed_by, changed_at \
             FROM support_tier_changes ORDER BY changed_at, id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every case linked to a subject.
    pub async fn support_links(&self) -> Result<Vec<LinkRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT case_id, subject_id, linked_by, linked_at FROM support_links ORDER BY case_id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Write a batch in one transaction, or nothing.
    pub async fn write_support(&self, batch: &SupportBatch) -> Result<(), SupportWriteError> {
        let now = Timestamp::now();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for s in &batch.subjects {
            let holder: Option<(String,)> =
                sqlx::query_as("SELECT id FROM support_subjects WHERE number = ? AND id <> ?")
                    .bind(&s.number)
                    .bind(&s.id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if holder.is_some() {
                return Err(SupportWriteError::NumberTaken(s.number.clone()));
            }
            let written = match s.expected_version {
                None => sqlx::query(
                    "INSERT INTO support_subjects (id, number, doc, version, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, 1, ?4, ?4) ON CONFLICT (id) DO NOTHING",
                )
                .bind(&s.id)
                .bind(&s.number)
                .bind(&s.doc)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
                Some(version) => sqlx::query(
                    "UPDATE support_subjects SET number = ?2, doc = ?3, version = version + 1, \
                     updated_at = ?4 WHERE id = ?1 AND version = ?5",
                )
                .bind(&s.id)
                .bind(&s.number)
                .bind(&s.doc)
                .bind(now)
                .bind(version)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
            };
            if written != 1 {
                return Err(SupportWriteError::Stale(s.id.clone()));
            }
        }
        for c in &batch.contacts {
            sqlx::query(
                "INSERT INTO support_contacts \
                 (subject_id, day, kind, staff, summary, point, recorded_by, recorded_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&c.subject_id)
            .bind(&c.day)
            .bind(&c.kind)
            .bind(&c.staff)
            .bind(&c.summary)
            .bind(&c.point)
            .bind(&c.recorded_by)
            .bind(c.recorded_at)
            .execute(&mut *tx)
            .await?;
        }
        for t in &batch.tier_changes {
            sqlx::query(
                "INSERT INTO support_tier_changes \
                 (subject_id, from_tier, to_tier, reason, changed_by, changed_at) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(&t.subject_id)
            .bind(&t.from_tier)
            .bind(&t.to_tier)
            .bind(&t.reason)
            .bind(&t.changed_by)
            .bind(t.changed_at)
            .execute(&mut *tx)
            .await?;
        }
        for l in &batch.links {
            let holder: Option<(String,)> =
                sqlx::query_as("SELECT subject_id FROM support_links WHERE case_id = ?")
                    .bind(&l.case_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match holder {
                Some((subject_id,)) if subject_id == l.subject_id => continue,
                Some((subject_id,)) => {
                    return Err(SupportWriteError::CaseLinked {
                        case_id: l.case_id.clone(),
                        subject_id,
                    });
                }
                None => {}
            }
            sqlx::query(
                "INSERT INTO support_links (case_id, subject_id, linked_by, linked_at) \
                 VALUES (?, ?, ?, ?)",
            )
            .bind(&l.case_id)
            .bind(&l.subject_id)
            .bind(&l.linked_by)
            .bind(l.linked_at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The targets set for a fiscal year, by indicator.
    pub async fn support_targets(
        &self,
        fiscal_year: i32,
    ) -> Result<Vec<(String, f64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT indicator, target FROM support_targets WHERE fiscal_year = ? ORDER BY indicator",
        )
        .bind(fiscal_year)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Set (or replace) a year's target for an indicator.
    pub async fn set_support_target(
        &self,
        fiscal_year: i32,
        indicator: &str,
        target: f64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO support_targets (fiscal_year, indicator, target) VALUES (?, ?, ?) \
             ON CONFLICT (fiscal_year, indicator) DO UPDATE SET target = excluded.target",
        )
        .bind(fiscal_year)
        .bind(indicator)
        .bind(target)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

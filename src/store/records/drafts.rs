//! 連絡票 drafts: a member's unfinished form, kept on the node until it is
//! sent or deleted. Every read and change names the member, so one member's
//! drafts are never another's.

use super::Records;
use crate::protocol::Timestamp;
use crate::store::StoreError;

/// A saved draft.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DraftRow {
    pub id: String,
    pub staff_id: String,
    /// What the list shows (the mother's name), possibly empty.
    pub title: String,
    /// The form's fields, JSON.
    pub form: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Records {
    /// Save a draft of `staff_id`: a new one when `id` is new, else replace
    /// its content. `false` when `id` belongs to another member (nothing
    /// changed).
    pub async fn save_draft(
        &self,
        id: &str,
        staff_id: &str,
        title: &str,
        form: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let changed = sqlx::query(
            "INSERT INTO drafts (id, staff_id, title, form, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?5) \
             ON CONFLICT (id) DO UPDATE SET title = ?3, form = ?4, updated_at = ?5 \
             WHERE drafts.staff_id = ?2",
        )
        .bind(id)
        .bind(staff_id)
        .bind(title)
        .bind(form)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    /// The drafts of `staff_id`, most recently saved first.
    pub async fn drafts_of(&self, staff_id: &str) -> Result<Vec<DraftRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, staff_id, title, form, created_at, updated_at FROM drafts \
             WHERE staff_id = ? ORDER BY updated_at DESC, id",
        )
        .bind(staff_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// One draft of `staff_id` (none if it is another member's).
    pub async fn draft(&self, staff_id: &str, id: &str) -> Result<Option<DraftRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, staff_id, title, form, created_at, updated_at FROM drafts \
             WHERE staff_id = ? AND id = ?",
        )
        .bind(staff_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Delete a draft of `staff_id`; `false` if there was none.
    pub async fn delete_draft(&self, staff_id: &str, id: &str) -> Result<bool, StoreError> {
        let gone = sqlx::query("DELETE FROM drafts WHERE staff_id = ? AND id = ?")
            .bind(staff_id)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(gone == 1)
    }
}

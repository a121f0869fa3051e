//! The directories the node has accepted (text and signature as the CA
//! signed them), newest in use. Verification is the caller's
//! (`directory::SignedDirectory`); this keeps what was verified and
//! refuses, in one transaction, to go back to an older version.

use super::Records;
use crate::protocol::Timestamp;
use crate::store::StoreError;

/// An accepted directory as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DirectoryRow {
    pub version: i64,
    pub text: String,
    pub signature: String,
    pub accepted_at: Timestamp,
}

/// What keeping a directory did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirectoryKept {
    /// It is now the newest.
    Accepted,
    /// The node holds this version already, or a newer one: nothing changed.
    NotNewer { held: i64 },
}

impl Records {
    /// The newest accepted directory.
    pub async fn current_directory(&self) -> Result<Option<DirectoryRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT version, text, signature, accepted_at FROM directories \
             ORDER BY version DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Keep a verified directory if its version is higher than every one
    /// held (checked and written in one transaction).
    pub async fn keep_directory(
        &self,
        version: u64,
        text: &str,
        signature: &str,
        now: Timestamp,
    ) -> Result<DirectoryKept, StoreError> {
        let version = i64::try_from(version).unwrap_or(i64::MAX);
        let mut tx = self.pool.begin().await?;
        let held: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM directories")
            .fetch_one(&mut *tx)
            .await?;
        if let Some(held) = held.filter(|&held| held >= version) {
            return Ok(DirectoryKept::NotNewer { held });
        }
        sqlx::query(
            "INSERT INTO directories (version, text, signature, accepted_at) \
             VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(version)
        .bind(text)
        .bind(signature)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(DirectoryKept::Accepted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_a_higher_version_is_kept_and_the_newest_is_current() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::store::testing::sqlite_url(dir.path(), "records.db");
        let records = Records::open(&url).await.unwrap();
        assert_eq!(records.current_directory().await.unwrap(), None);
        let now = Timestamp::now();
        let kept = records.keep_directory(2, "v2", "s2", now).await.unwrap();
        assert_eq!(kept, DirectoryKept::Accepted);
        for older in [1, 2] {
            let kept = records
                .keep_directory(older, "old", "s", now)
                .await
                .unwrap();
            assert_eq!(kept, DirectoryKept::NotNewer { held: 2 });
        }
        records.keep_directory(3, "v3", "s3", now).await.unwrap();
        let current = records.current_directory().await.unwrap().unwrap();
        assert_eq!((current.version, current.text.as_str()), (3, "v3"));
    }
}

//! An online, consistent copy of the hub's SQLite database: `VACUUM INTO`
//! reads one snapshot (WAL readers never block the hub's writer, nor it
//! them), then the copy's epoch is emptied so the hub that starts on it
//! makes a new one.

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection, SqlitePool};

use crate::store::StoreError;
use crate::store::sql::Sql;

/// Copy the database behind `read` into `out` (an empty file) and return
/// the audit chain's head in the copy.
pub(super) async fn vacuum_into(
    read: &SqlitePool,
    out: &Path,
) -> Result<Option<(u64, [u8; 32])>, StoreError> {
    let target = out
        .to_str()
        .ok_or_else(|| StoreError::Corrupt(format!("not a UTF-8 path: {}", out.display())))?;
    let mut c = read.acquire().await?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(&mut *c)
        .await?;
    drop(c);
    // A rollback journal, not WAL, so nothing is left beside the copy; the
    // hub that opens it switches it back to WAL.
    let options = SqliteConnectOptions::new()
        .filename(out)
        .journal_mode(SqliteJournalMode::Delete)
        .synchronous(SqliteSynchronous::Full);
    let mut copy = SqliteConnection::connect_with(&options).await?;
    sqlx::query("DELETE FROM hub_epoch")
        .execute(&mut copy)
        .await?;
    let head = Sql::<sqlx::Sqlite>::new(&mut copy).audit_head().await?;
    copy.close().await?;
    Ok(head)
}

//! The node's records encrypted at rest with SQLCipher (linked in place of
//! SQLite; an unkeyed database, the hub's, is a plain SQLite file).
//!
//! SQLCipher encrypts every page of the database and of its WAL, so no
//! column, index or journal holds plaintext, while the records keep their
//! SQL (filters, joins, uniqueness). The key is the node's random 256-bit
//! records key, given raw (`x'…'`): no passphrase derivation per connection.

use std::path::{Path, PathBuf};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::super::StoreError;

/// What is at a records path before it is opened.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FileState {
    /// No database yet (absent or empty): it is created keyed.
    New,
    /// A plain SQLite database, written before records were encrypted.
    Plain,
    /// Anything else: an encrypted database (its first page is random).
    Encrypted,
}

/// Every plain SQLite file starts with this.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

pub(crate) fn state(file: &Path) -> Result<FileState, StoreError> {
    use std::io::Read;
    let mut head = Vec::with_capacity(SQLITE_MAGIC.len());
    match std::fs::File::open(file) {
        Ok(f) => f.take(SQLITE_MAGIC.len() as u64).read_to_end(&mut head),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileState::New),
        Err(e) => Err(e),
    }
    .map_err(sqlx::Error::Io)?;
    Ok(if head.is_empty() {
        FileState::New
    } else if head == SQLITE_MAGIC {
        FileState::Plain
    } else {
        FileState::Encrypted
    })
}

/// The SQL literal of a raw SQLCipher key.
fn raw_key(key: &[u8; 32]) -> String {
    format!("x'{}'", hex::encode(key))
}

/// Key every connection: sqlx runs `PRAGMA key` first, before any other
/// pragma touches the file. Statement logging is off for these connections
/// because sqlx would log that pragma, key included, at debug level.
pub fn keyed(options: SqliteConnectOptions, key: &[u8; 32]) -> SqliteConnectOptions {
    options
        .pragma("key", format!("\"{}\"", raw_key(key)))
        .disable_statement_logging()
}

/// Stop SQLCipher writing its own error lines to stderr (a wrong key prints
/// "hmac check failed" for every try): they bypass the log's format and
/// filter, and the error they describe is returned to the caller anyway.
/// The level is SQLCipher's, process-wide; any connection sets it.
pub(crate) async fn quiet() -> Result<(), StoreError> {
    let mut conn = SqliteConnectOptions::new()
        .in_memory(true)
        .disable_statement_logging()
        .connect()
        .await?;
    sqlx::query("PRAGMA cipher_log_level = NONE")
        .execute(&mut conn)
        .await?;
    Ok(conn.close().await?)
}

/// SQLite's "file is not a database": what SQLCipher says for a wrong key.
pub(crate) fn is_wrong_key(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("26"))
}

/// Encrypt a plain records database in place: export it into a new keyed
/// file beside it, make that durable, then rename it over the plain one. A
/// crash before the rename leaves the plain database as it was (the partial
/// copy is discarded at the next try); after it, the encrypted one.
pub(crate) async fn encrypt_in_place(file: &Path, key: &[u8; 32]) -> Result<(), StoreError> {
    let partial = sibling(file, ".encrypting");
    for stale in [sibling(&partial, ""), sibling(&partial, "-journal")] {
        match std::fs::remove_file(&stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(sqlx::Error::Io(e).into());
            }
            _ => {}
        }
    }
    super::private(&partial)?;
    let mut conn = SqliteConnectOptions::new()
        .filename(file)
        .disable_statement_logging()
        .connect()
        .await?;
    // Leaving WAL folds the WAL into the file and deletes it; it fails while
    // another process has the database open, so a running node is never
    // converted under its feet.
    sqlx::query("PRAGMA journal_mode = DELETE")
        .execute(&mut conn)
        .await?;
    sqlx::query("ATTACH DATABASE ? AS encrypted KEY ?")
        .bind(partial.display().to_string())
        .bind(raw_key(key))
        .execute(&mut conn)
        .await?;
    sqlx::query("SELECT sqlcipher_export('encrypted')")
        .execute(&mut conn)
        .await?;
    sqlx::query("DETACH DATABASE encrypted")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let io = |e| StoreError::from(sqlx::Error::Io(e));
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    std::fs::rename(&partial, file).map_err(io)?;
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
    }
    Ok(())
}

fn sibling(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::records::Records;

    #[tokio::test]
    async fn encrypted_records_are_refused_without_their_key_and_a_plain_file_is_converted() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("records.db");
        let url = format!("sqlite:{}", file.display());
        assert_eq!(state(&file).unwrap(), FileState::New);
        Records::open(&url).await.unwrap().close().await;
        assert_eq!(state(&file).unwrap(), FileState::Plain);

        let key = [7u8; 32];
        let records = Records::open_encrypted(&url, &key).await.unwrap();
        assert_eq!(records.cursor().await.unwrap().0, 0);
        records.close().await;
        assert_eq!(state(&file).unwrap(), FileState::Encrypted);

        for refused in [
            Records::open(&url).await.err(),
            Records::open_encrypted(&url, &[8u8; 32]).await.err(),
        ] {
            assert!(
                matches!(refused, Some(StoreError::RecordsKey { .. })),
                "{refused:?}"
            );
        }
        Records::open_encrypted(&url, &key)
            .await
            .unwrap()
            .close()
            .await;
    }
}

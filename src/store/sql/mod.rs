//! The hub store written once: every read and write is SQL text both
//! backends accept (sqlx's SQLite driver takes PostgreSQL's `$1` numbered
//! placeholders), run by code generic over the sqlx [`Database`]. A backend
//! adds only what really differs, through [`Backend`]: how a batch of writes
//! excludes every other writer. Writes are committed in groups the same way
//! on both ([`group`]). (PostgreSQL wakes the other hub processes by a
//! trigger on `deliveries`, migration 0009.)

use std::future::Future;

use sqlx::Database;

pub(super) mod casework;
pub(super) mod cluster;
pub(super) mod epoch;
pub(super) mod group;
pub(super) mod health;
pub(super) mod read;
pub(super) mod retention;
pub(super) mod store;
pub(super) mod write;

pub(super) use group::GroupCommit;
pub(super) use store::{Committer, Work};

type Result<T> = std::result::Result<T, sqlx::Error>;

/// A backend's connection.
pub(super) type Conn<DB> = <DB as Database>::Connection;

/// A connection borrowed for the shared reads and writes. The sqlx bounds
/// they need are stated once, on the `impl` blocks in `read` and `write`.
/// A write in a batch also has the batch's [`ChainTail`].
pub(super) struct Sql<'c, DB: Database>(pub &'c mut Conn<DB>, Option<&'c mut ChainTail>);

impl<'c, DB: Database> Sql<'c, DB> {
    /// Outside a batch: an audit append reads the chain's tail itself.
    pub(super) fn new(c: &'c mut Conn<DB>) -> Self {
        Self(c, None)
    }
}

/// The audit chain's last entry (seq, hash) as a batch's writes leave it,
/// `None` until the batch's first append reads it. Read once per batch, not
/// once per write: the batch is the only writer until it commits
/// ([`group`]), so the tail cannot move under it.
#[derive(Clone, Default)]
pub(super) struct ChainTail(Option<Option<(i64, Vec<u8>)>>);

/// What a backend adds to the shared SQL.
pub(super) trait Backend: Database {
    /// How a batch's transaction begins.
    const BEGIN_WRITE: &'static str;

    /// How many rows a statement changed (sqlx has no trait for it).
    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// Make this batch the only writer until it commits, in every hub
    /// process (see [`group`]). SQLite does nothing: `BEGIN IMMEDIATE` took
    /// its write lock.
    fn lock_writers(c: &mut Conn<Self>) -> impl Future<Output = Result<()>> + Send;

    /// This backend's migrations as built in, for the readiness check.
    fn migrator() -> &'static sqlx::migrate::Migrator;
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    /// The shared SQL relies on it: sqlx's SQLite driver maps `$N` to the
    /// Nth bound value (sqlx-sqlite `arguments.rs`), repeats included.
    #[tokio::test]
    async fn sqlite_takes_numbered_placeholders_like_postgres() {
        let mut c = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        let row: (String, String, String) = sqlx::query_as("SELECT $2, $1, $2")
            .bind("one")
            .bind("two")
            .fetch_one(&mut c)
            .await
            .unwrap();
        assert_eq!(row, ("two".into(), "one".into(), "two".into()));
    }
}

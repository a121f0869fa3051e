//! The hub store written once: every read and write is SQL text both
//! backends accept (sqlx's SQLite driver takes PostgreSQL's `$1` numbered
//! placeholders), run by code generic over the sqlx [`Database`]. A backend
//! adds only what really differs, through [`Backend`]: row locks and wakeups
//! (PostgreSQL has concurrent writers in several processes; SQLite has one
//! writer task) and how a write is committed ([`Committer`]: SQLite's group
//! commit, PostgreSQL's retried transactions).

use std::future::Future;

use sqlx::Database;

pub(super) mod casework;
pub(super) mod cluster;
pub(super) mod epoch;
pub(super) mod health;
pub(super) mod read;
pub(super) mod retention;
pub(super) mod store;
pub(super) mod write;

pub(super) use store::{Committer, Retry, Work};

type Result<T> = std::result::Result<T, sqlx::Error>;

/// A backend's connection.
pub(super) type Conn<DB> = <DB as Database>::Connection;

/// A connection borrowed for the shared reads and writes. The sqlx bounds
/// they need are stated once, on the `impl` blocks in `read` and `write`.
pub(super) struct Sql<'c, DB: Database>(pub &'c mut Conn<DB>);

/// A row the policy reads, which must not change before the write it allows
/// commits.
#[derive(Clone, Copy, Debug)]
pub(super) enum Fact {
    /// A referral's per-recipient states (key: the referral's id).
    Referral,
    /// A case (key: its id).
    Case,
    /// A consent (key: its id).
    Consent,
    /// A meeting and its invitees (key: its id).
    Meeting,
    /// A plan's versions (key: the plan id).
    Plan,
}

/// What a backend adds to the shared SQL.
pub(super) trait Backend: Database {
    /// Statement listing the deliveries, not yet cancelled, of envelopes that
    /// rely on consent `$1`: (recipient, seq, envelope_id, sender, acked_at),
    /// by recipient then seq. PostgreSQL locks them.
    const CONSENT_DELIVERIES: &'static str;

    /// Statement reading delivery (`$1` recipient, `$2` seq) before an ack:
    /// (acked_at, envelope_id, cancelled_at). PostgreSQL locks it, so two
    /// sockets acking the same delivery record one ack.
    const DELIVERY_TO_ACK: &'static str;

    /// How many rows a statement changed (sqlx has no trait for it).
    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// Lock `fact`'s rows until commit. SQLite does nothing: its one writer
    /// already excludes every other write.
    fn lock_fact(
        c: &mut Conn<Self>,
        fact: Fact,
        key: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    /// A delivery for `recipient` was queued: wake, on commit, whichever hub
    /// process holds its socket. SQLite does nothing: one process.
    fn queued(c: &mut Conn<Self>, recipient: &str) -> impl Future<Output = Result<()>> + Send;

    /// Make this transaction the only appender to the audit chain until it
    /// commits, so no two entries share a parent. SQLite does nothing.
    fn lock_audit_tail(c: &mut Conn<Self>) -> impl Future<Output = Result<()>> + Send;

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

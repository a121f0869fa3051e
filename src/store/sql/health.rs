//! What operations ask of the database: each agency's queue, for the
//! metrics scrape, and whether the schema is current, for `/readyz`. Both
//! read only, in one statement each.

use sqlx::ColumnIndex;
use sqlx::{Decode, Encode, Executor, IntoArguments, Type};

use super::{Backend, Sql};
use crate::protocol::Timestamp;
use crate::store::rows::parse;
use crate::store::{Backlog, Readiness, StoreError};

impl<DB> Sql<'_, DB>
where
    DB: Backend,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Timestamp: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
{
    /// Pending deliveries per recipient and the oldest envelope's
    /// acceptance, grouped in the database (the `deliveries_unacked`
    /// partial index holds exactly these rows).
    pub(in crate::store) async fn backlog(&mut self) -> Result<Vec<Backlog>, StoreError> {
        let rows: Vec<(String, i64, Option<Timestamp>)> = sqlx::query_as(
            "SELECT d.recipient, COUNT(*), MIN(e.accepted_at) FROM deliveries d \
             LEFT JOIN envelopes e ON e.id = d.envelope_id \
             WHERE d.acked_at IS NULL AND d.cancelled_at IS NULL \
             GROUP BY d.recipient ORDER BY d.recipient",
        )
        .fetch_all(&mut *self.0)
        .await?;
        rows.into_iter()
            .map(|(agency, pending, oldest)| {
                Ok(Backlog {
                    agency: parse(&agency, "recipient")?,
                    pending: u64::try_from(pending).unwrap_or(0),
                    oldest,
                })
            })
            .collect()
    }

    /// The newest migration applied, compared with this build's newest.
    pub(in crate::store) async fn readiness(&mut self) -> Result<Readiness, StoreError> {
        let (applied,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&mut *self.0)
                .await?;
        let expected = DB::migrator().iter().map(|m| m.version).max().unwrap_or(0);
        Ok(if applied == Some(expected) {
            Readiness::Ready
        } else {
            Readiness::Migrations { applied, expected }
        })
    }
}

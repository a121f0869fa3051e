//! What several hub processes on one database coordinate through: the
//! delivery heads their catch-up compares, and leases on work that must run
//! once across them.

use sqlx::ColumnIndex;
use sqlx::{Decode, Encode, Executor, IntoArguments, Type};

use super::{Backend, Sql};
use crate::protocol::{AgencyId, Seq, Timestamp};
use crate::store::model::Lease;
use crate::store::rows::parse;
use crate::store::seq_from_db;

type Result<T> = std::result::Result<T, sqlx::Error>;

// The sqlx bounds of the shared SQL, as on `read`'s impl block.
impl<DB> Sql<'_, DB>
where
    DB: Backend,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Timestamp: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
{
    /// Every agency's highest assigned sequence number: one row per agency
    /// that ever had a delivery, read from `agency_cursors` (which the
    /// transaction queuing a delivery updates), not from `deliveries`.
    pub(in crate::store) async fn delivery_heads(&mut self) -> Result<Vec<(AgencyId, Seq)>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT agency, last_seq FROM agency_cursors")
                .fetch_all(&mut *self.0)
                .await?;
        rows.into_iter()
            .map(|(agency, seq)| Ok((parse(&agency, "agency id")?, seq_from_db(seq))))
            .collect()
    }

    /// Take or renew lease `name` for `holder` until `until`, if it is free,
    /// already `holder`'s, or expired at `now`; then read it as it stands.
    /// On PostgreSQL the upsert locks the row, so of two hubs racing for an
    /// expired lease one wins and the other reads the winner.
    pub(in crate::store) async fn take_lease(
        &mut self,
        name: &str,
        holder: &str,
        now: &Timestamp,
        until: &Timestamp,
    ) -> Result<Lease> {
        sqlx::query(
            "INSERT INTO hub_leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE hub_leases.holder = excluded.holder OR hub_leases.expires_at <= $4",
        )
        .bind(name)
        .bind(holder)
        .bind(*until)
        .bind(*now)
        .execute(&mut *self.0)
        .await?;
        let (holder, expires_at): (String, Timestamp) =
            sqlx::query_as("SELECT holder, expires_at FROM hub_leases WHERE name = $1")
                .bind(name)
                .fetch_one(&mut *self.0)
                .await?;
        Ok(Lease { holder, expires_at })
    }

    /// Give lease `name` up, if `holder` holds it.
    pub(in crate::store) async fn release_lease(&mut self, name: &str, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM hub_leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }
}

//! The database's epoch (see `protocol::epoch`): read on every `hello`,
//! made on first use, renewed by hand after a restore that did not come
//! from `tsunagu admin backup`.

use sqlx::ColumnIndex;
use sqlx::{Decode, Encode, Executor, IntoArguments, Type};

use super::{Backend, Sql};
use crate::protocol::Timestamp;
use crate::protocol::epoch::{EpochId, HubEpoch};
use crate::store::StoreError;

/// A new epoch's `since`: the newest audit entry's time, which for a
/// restored database is about when its backup was taken (`$2`, now, for an
/// empty chain). The first statement keeps an epoch already there (two hub
/// processes starting together make one); the second replaces it.
const MAKE: &str = "INSERT INTO hub_epoch (id, epoch, since) \
     SELECT 1, $1, COALESCE((SELECT MAX(at) FROM audit_log), $2) \
     ON CONFLICT (id) DO NOTHING";
const RENEW: &str = "INSERT INTO hub_epoch (id, epoch, since) \
     SELECT 1, $1, COALESCE((SELECT MAX(at) FROM audit_log), $2) \
     ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, since = excluded.since";

impl<DB> Sql<'_, DB>
where
    DB: Backend,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Timestamp: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
{
    /// The epoch, if one was made.
    pub(in crate::store) async fn epoch(&mut self) -> Result<Option<HubEpoch>, StoreError> {
        let row: Option<(String, Timestamp)> =
            sqlx::query_as("SELECT epoch, since FROM hub_epoch WHERE id = 1")
                .fetch_optional(&mut *self.0)
                .await?;
        row.map(|(id, since)| {
            let id = id
                .parse()
                .map_err(|e: crate::protocol::epoch::EpochIdError| {
                    StoreError::Corrupt(e.to_string())
                })?;
            Ok(HubEpoch { id, since })
        })
        .transpose()
    }

    /// Make a new epoch `id`, or (`replace`) begin it in place of the one
    /// there; returns the epoch the database is now in.
    pub(in crate::store) async fn make_epoch(
        &mut self,
        id: &EpochId,
        now: &Timestamp,
        replace: bool,
    ) -> Result<HubEpoch, StoreError> {
        sqlx::query(if replace { RENEW } else { MAKE })
            .bind(id.as_str())
            .bind(*now)
            .execute(&mut *self.0)
            .await?;
        self.epoch()
            .await?
            .ok_or_else(|| StoreError::Corrupt("the epoch just made is not there".into()))
    }
}

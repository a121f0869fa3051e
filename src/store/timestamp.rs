//! How a [`Timestamp`] is stored: in a column type each database orders as
//! instants, so every bound (`audit export --from`, due deadlines, consent
//! expiry) compares instants, never text.
//!
//! - PostgreSQL: `timestamptz` (microseconds; a timestamp's milliseconds fit
//!   exactly).
//! - SQLite: `INTEGER` milliseconds since the Unix epoch. SQLite has no time
//!   type; an integer is ordered exactly whatever wrote it, where text would
//!   be ordered right only while every writer kept one fixed width.
//!
//! The audit chain hashes a timestamp's text: it is rebuilt from the stored
//! instant in the one form every timestamp was written in
//! (`Timestamp`'s `Display`), so entries written as text still verify.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};
use time::OffsetDateTime;

use crate::protocol::Timestamp;

impl Type<Sqlite> for Timestamp {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for Timestamp {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<Sqlite>>::encode(self.unix_millis(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Timestamp {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let millis = <i64 as Decode<Sqlite>>::decode(value)?;
        Ok(Timestamp::from_unix_millis(millis)?)
    }
}

impl Type<Postgres> for Timestamp {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <OffsetDateTime as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for Timestamp {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <OffsetDateTime as Encode<Postgres>>::encode(self.datetime(), buf)
    }
}

/// A value written outside the hub may carry microseconds: truncated to the
/// millisecond, as every timestamp the hub writes already is.
impl<'r> Decode<'r, Postgres> for Timestamp {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let t = <OffsetDateTime as Decode<Postgres>>::decode(value)?;
        Ok(Timestamp::from_datetime(t))
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::*;

    #[tokio::test]
    async fn sqlite_stores_milliseconds_and_orders_instants() {
        let mut c = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        let t: Timestamp = "2026-11-23T00:00:00.123Z".parse().unwrap();
        let (stored, back, later): (i64, Timestamp, bool) =
            sqlx::query_as("SELECT $1, $1, $1 > $2")
                .bind(t)
                .bind("2026-11-23T00:00:00Z".parse::<Timestamp>().unwrap())
                .fetch_one(&mut c)
                .await
                .unwrap();
        assert_eq!((stored, back, later), (1_795_392_000_123, t, true));
    }

    #[tokio::test]
    async fn a_stored_integer_out_of_range_is_refused_on_read() {
        let mut c = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        let read: Result<(Timestamp,), _> = sqlx::query_as("SELECT 999999999999999999")
            .fetch_one(&mut c)
            .await;
        assert!(read.is_err());
    }
}

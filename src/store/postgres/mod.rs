//! The hub store on PostgreSQL, for a hub that outgrows one machine: several
//! hub processes share one database. Each write is its own transaction,
//! retried when PostgreSQL reports a deadlock or serialization failure;
//! `write` explains the locks that keep it equivalent to SQLite's single
//! writer.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres};
use tokio::sync::mpsc;

pub mod dump;

use super::StoreError;
use super::metrics::StoreMetrics;
use super::sql::{Backend, Committer, Conn, Fact, Retry, Work};
use crate::protocol::AgencyId;

/// Channel on which a commit announces new deliveries (payload: agency id),
/// so a hub process holding the recipient's socket wakes up.
pub const DELIVERY_CHANNEL: &str = "tsunagu_delivery";

/// How many times a write is retried after a deadlock or a collision.
const MAX_RETRIES: u32 = 5;

/// PostgreSQL-backed hub store.
pub struct PgStore {
    pool: PgPool,
    /// For `pg_dump` (`tsunagu admin backup`).
    url: String,
    metrics: StoreMetrics,
}

/// The migrations built in, for the readiness check.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The transaction-scoped advisory lock that makes appends to the audit
/// chain one at a time ("tsunagu" + 1), so no two entries share a parent.
const AUDIT_CHAIN_LOCK: i64 = 0x7473_756e_6167_7501;

/// Whether `retry` allows retrying after `e`.
fn retries(retry: Retry, e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = e else {
        return false;
    };
    matches!(db.code().as_deref(), Some("40P01" | "40001"))
        || (matches!(retry, Retry::ConflictsAndCollisions) && db.is_unique_violation())
}

impl PgStore {
    /// Connect to `url` and apply migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(32)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(Self {
            pool,
            url: url.to_owned(),
            metrics: StoreMetrics::default(),
        })
    }

    /// The pool, for the delivery listener.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Committer for PgStore {
    type Db = Postgres;

    async fn reader(&self) -> Result<PoolConnection<Postgres>, StoreError> {
        Ok(self.pool.acquire().await?)
    }

    /// Run `f` in one transaction and commit, retrying as `retry` allows.
    async fn write<A, T, F>(&self, retry: Retry, args: A, f: F) -> Result<T, StoreError>
    where
        A: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'a> Fn(&'a mut PgConnection, &'a A) -> Work<'a, T> + Send + Sync + 'static,
    {
        let mut attempt = 0;
        loop {
            let mut tx = self.pool.begin().await?;
            match f(&mut tx, &args).await {
                Ok(value) => {
                    tx.commit().await?;
                    return Ok(value);
                }
                Err(e) if attempt < MAX_RETRIES && retries(retry, &e) => {
                    tracing::debug!(error = %e, attempt, "retrying a write");
                    tx.rollback().await?;
                    attempt += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn wakeups(&self) -> Result<Option<mpsc::Receiver<Option<AgencyId>>>, StoreError> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(DELIVERY_CHANNEL).await?;
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(async move {
            loop {
                // The hub stops listening (drops the receiver) when it shuts down.
                let received = tokio::select! {
                    received = listener.try_recv() => received,
                    _ = tx.closed() => return,
                };
                let wake = match received {
                    Ok(Some(n)) => n.payload().parse::<AgencyId>().ok(),
                    // Reconnected: notifications may have been lost meanwhile.
                    Ok(None) => None,
                    Err(e) => {
                        tracing::warn!(error = %e, "delivery listener failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        None
                    }
                };
                if tx.send(wake).await.is_err() {
                    return;
                }
            }
        });
        Ok(Some(rx))
    }

    async fn shut(&self) {
        self.pool.close().await;
    }

    /// The head first: the dump's snapshot begins after it, so the copy
    /// holds at least those entries.
    async fn backup(&self, out: &std::path::Path) -> Result<Option<(u64, [u8; 32])>, StoreError> {
        let head = super::sql::Sql::<Postgres>(&mut *self.reader().await?)
            .audit_head()
            .await?;
        dump::pg_dump(&self.url, out).await?;
        Ok(head)
    }

    fn measured(&self) -> &StoreMetrics {
        &self.metrics
    }
}

/// Several hub processes may write at once: lock what SQLite's one writer
/// excludes by itself, in the order `sql::write` describes.
impl Backend for Postgres {
    const CONSENT_DELIVERIES: &'static str = "SELECT d.recipient, d.seq, d.envelope_id, e.sender, d.acked_at FROM deliveries d \
         JOIN envelopes e ON e.id = d.envelope_id \
         WHERE e.consent_id = $1 AND d.cancelled_at IS NULL \
         ORDER BY d.recipient, d.seq FOR UPDATE OF d";
    const DELIVERY_TO_ACK: &'static str = "SELECT acked_at, envelope_id, cancelled_at \
         FROM deliveries WHERE recipient = $1 AND seq = $2 FOR UPDATE";

    /// `FOR NO KEY UPDATE` rather than `FOR SHARE`: the same transaction may
    /// go on to update the row (a withdrawal, a case change), and two share
    /// locks upgrading at once would deadlock.
    fn rows_affected(result: &sqlx::postgres::PgQueryResult) -> u64 {
        result.rows_affected()
    }

    async fn lock_fact(c: &mut Conn<Self>, fact: Fact, key: &str) -> Result<(), sqlx::Error> {
        let sql = match fact {
            Fact::Referral => {
                "SELECT 1 FROM referral_states WHERE referral = $1 \
                 ORDER BY recipient FOR NO KEY UPDATE"
            }
            Fact::Case => "SELECT 1 FROM cases WHERE case_id = $1 FOR NO KEY UPDATE",
            Fact::Consent => "SELECT 1 FROM consents WHERE consent_id = $1 FOR NO KEY UPDATE",
            Fact::Meeting => "SELECT 1 FROM meetings WHERE meeting_id = $1 FOR NO KEY UPDATE",
            Fact::Plan => "SELECT 1 FROM plan_versions WHERE plan_id = $1 FOR NO KEY UPDATE",
        };
        sqlx::query(sql).bind(key).fetch_all(c).await?;
        Ok(())
    }

    /// Delivered to listeners on commit only.
    async fn queued(c: &mut Conn<Self>, recipient: &str) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(DELIVERY_CHANNEL)
            .bind(recipient)
            .execute(c)
            .await?;
        Ok(())
    }

    /// Held until commit.
    async fn lock_audit_tail(c: &mut Conn<Self>) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(AUDIT_CHAIN_LOCK)
            .execute(c)
            .await?;
        Ok(())
    }
    fn migrator() -> &'static sqlx::migrate::Migrator {
        &MIGRATOR
    }
}

//! The hub store on PostgreSQL, for a hub that outgrows one machine: several
//! hub processes share one database. Writes are committed in groups, as on
//! SQLite (`sql::group`); each group first takes an advisory lock that makes
//! it the only writer of any hub process until it commits.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{PgPool, Postgres};
use tokio::sync::mpsc;

pub mod dump;

use super::StoreError;
use super::metrics::StoreMetrics;
use super::sql::{Backend, Committer, Conn, GroupCommit};
use crate::protocol::AgencyId;

/// Channel on which a commit announces new deliveries (payload: agency id),
/// so a hub process holding the recipient's socket wakes up. Raised by the
/// trigger of migration 0009, which names it too.
pub const DELIVERY_CHANNEL: &str = "tsunagu_delivery";

/// PostgreSQL-backed hub store.
pub struct PgStore {
    pool: PgPool,
    /// For `pg_dump` (`tsunagu admin backup`).
    url: String,
    writes: GroupCommit<Postgres>,
    metrics: StoreMetrics,
}

/// The migrations built in, for the readiness check.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The transaction-scoped advisory lock that makes one batch at a time the
/// writer, across hub processes ("tsunagu" + 1). The key is the one earlier
/// releases took before appending to the audit chain, so during a rolling
/// upgrade old hubs' appends and new hubs' batches still take turns.
const WRITERS_LOCK: i64 = 0x7473_756e_6167_7501;

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
        let metrics = StoreMetrics::default();
        Ok(Self {
            writes: GroupCommit::start(pool.clone(), metrics.clone()),
            pool,
            url: url.to_owned(),
            metrics,
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

    fn writes(&self) -> &GroupCommit<Postgres> {
        &self.writes
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
        self.writes.shut().await;
        self.pool.close().await;
    }

    /// The head first: the dump's snapshot begins after it, so the copy
    /// holds at least those entries.
    async fn backup(&self, out: &std::path::Path) -> Result<Option<(u64, [u8; 32])>, StoreError> {
        let head = super::sql::Sql::<Postgres>::new(&mut *self.reader().await?)
            .audit_head()
            .await?;
        dump::pg_dump(&self.url, out).await?;
        Ok(head)
    }

    fn measured(&self) -> &StoreMetrics {
        &self.metrics
    }
}

/// Several hub processes may write at once: each batch takes the writers'
/// lock first.
impl Backend for Postgres {
    const BEGIN_WRITE: &'static str = "BEGIN";

    fn rows_affected(result: &sqlx::postgres::PgQueryResult) -> u64 {
        result.rows_affected()
    }

    /// Held until commit. Taken first, before any row is read, so it is the
    /// only lock a batch waits for.
    async fn lock_writers(c: &mut Conn<Self>) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITERS_LOCK)
            .execute(c)
            .await?;
        Ok(())
    }

    fn migrator() -> &'static sqlx::migrate::Migrator {
        &MIGRATOR
    }
}

//! The hub store on SQLite (WAL, `synchronous=FULL`).
//!
//! Every write goes through one writer task that drains its queue, applies
//! each operation in its own savepoint inside one transaction, commits once
//! (one fsync), then answers every caller: group commit. A caller is answered
//! only after the commit that holds its change.

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Acquire, ConnectOptions, Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::StoreError;
use super::metrics::StoreMetrics;

mod backup;
pub mod cipher;
use super::sql::{Backend, Committer, Conn, Fact, Retry, Work};

/// Most operations committed together in one transaction.
const MAX_BATCH: usize = 256;

/// A write: runs on the writer's connection inside a savepoint and returns
/// how to answer its caller once the batch is committed.
type Apply = Box<
    dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<Reply, sqlx::Error>>
        + Send,
>;
type Reply = Box<dyn FnOnce() + Send>;
/// How one write in a batch went: its reply, or why it failed, and how to fail it.
type Outcome = (
    Option<Reply>,
    Option<StoreError>,
    Box<dyn FnOnce(StoreError) + Send>,
);

struct Pending {
    apply: Apply,
    fail: Box<dyn FnOnce(StoreError) + Send>,
}

/// SQLite-backed hub store.
pub struct SqliteStore {
    read: SqlitePool,
    writes: Mutex<Option<mpsc::Sender<Pending>>>,
    writer: tokio::sync::Mutex<Option<JoinHandle<()>>>,
    metrics: StoreMetrics,
    /// How the readiness check opens the file afresh: read-only, never
    /// creating it.
    probe: SqliteConnectOptions,
}

/// The migrations built in, for the readiness check.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// Connection options shared by the hub store and the agency records: the
/// file is created if missing; WAL so readers never block the writer;
/// `synchronous=FULL` because an ack promises the data survives a power cut.
pub(crate) fn connect_options(url: &str) -> Result<SqliteConnectOptions, StoreError> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    let file = options.get_filename();
    if let Some(dir) = file.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
    }
    private(file)?;
    Ok(options)
}

/// The database file is the service's alone, whatever the umask: created
/// 0600 here (SQLite gives its `-wal` and `-shm` the database's mode), and
/// one that group or others can read is refused with the fix named.
#[cfg(unix)]
pub(crate) fn private(file: &std::path::Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if file.as_os_str() == ":memory:" {
        return Ok(());
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
    {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(sqlx::Error::Io(e).into()),
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut path = file.as_os_str().to_owned();
        path.push(suffix);
        let mode = match std::fs::metadata(&path) {
            Ok(m) => m.permissions().mode() & 0o777,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(sqlx::Error::Io(e).into()),
        };
        if mode & 0o077 != 0 {
            return Err(StoreError::Exposed {
                path: file.display().to_string(),
                mode,
            });
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn private(_file: &std::path::Path) -> Result<(), StoreError> {
    Ok(())
}

impl SqliteStore {
    /// Open (creating and migrating) the database at `url` (`sqlite:PATH`).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = connect_options(url)?;
        let write_pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&write_pool).await?;
        let probe = options.clone().create_if_missing(false).read_only(true);
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        let metrics = StoreMetrics::default();
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let writer = tokio::spawn(write_loop(write_pool, rx, metrics.clone()));
        Ok(Self {
            read,
            writes: Mutex::new(Some(tx)),
            writer: tokio::sync::Mutex::new(Some(writer)),
            metrics,
            probe,
        })
    }
}

#[async_trait]
impl Committer for SqliteStore {
    type Db = Sqlite;

    async fn reader(&self) -> Result<PoolConnection<Sqlite>, StoreError> {
        Ok(self.read.acquire().await?)
    }

    /// Queue a write for the writer task and wait until it is committed.
    /// One writer: nothing to retry.
    async fn write<A, T, F>(&self, _retry: Retry, args: A, f: F) -> Result<T, StoreError>
    where
        A: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'a> Fn(&'a mut SqliteConnection, &'a A) -> Work<'a, T> + Send + Sync + 'static,
    {
        let sender = self
            .writes
            .lock()
            .map_err(|_| StoreError::Closed)?
            .clone()
            .ok_or(StoreError::Closed)?;
        let (tx, answer) = oneshot::channel::<Result<T, StoreError>>();
        let tx = Arc::new(Mutex::new(Some(tx)));
        let on_fail = tx.clone();
        let apply: Apply = Box::new(move |conn| {
            Box::pin(async move {
                let value = f(conn, &args).await?;
                Ok(Box::new(move || answer_with(&tx, Ok(value))) as Reply)
            })
        });
        let fail = Box::new(move |e| answer_with(&on_fail, Err(e)));
        sender
            .send(Pending { apply, fail })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    async fn shut(&self) {
        if let Ok(mut writes) = self.writes.lock() {
            writes.take();
        }
        if let Some(writer) = self.writer.lock().await.take() {
            let _ = writer.await;
        }
        self.read.close().await;
    }

    async fn backup(&self, out: &std::path::Path) -> Result<Option<(u64, [u8; 32])>, StoreError> {
        backup::vacuum_into(&self.read, out).await
    }

    fn measured(&self) -> &StoreMetrics {
        &self.metrics
    }

    /// Opened afresh each time: the pool's connections keep a file that was
    /// moved or deleted open, and would answer from it.
    async fn probe(&self) -> Result<Option<SqliteConnection>, StoreError> {
        Ok(Some(self.probe.connect().await?))
    }
}

/// SQLite's one writer task excludes every other write while a batch runs,
/// so it needs no locks, and one process needs no wakeups.
impl Backend for Sqlite {
    const CONSENT_DELIVERIES: &'static str = "SELECT d.recipient, d.seq, d.envelope_id, e.sender, d.acked_at FROM deliveries d \
         JOIN envelopes e ON e.id = d.envelope_id \
         WHERE e.consent_id = $1 AND d.cancelled_at IS NULL ORDER BY d.recipient, d.seq";
    const DELIVERY_TO_ACK: &'static str = "SELECT acked_at, envelope_id, cancelled_at \
         FROM deliveries WHERE recipient = $1 AND seq = $2";

    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    async fn lock_fact(_: &mut Conn<Self>, _: Fact, _: &str) -> Result<(), sqlx::Error> {
        Ok(())
    }

    async fn queued(_: &mut Conn<Self>, _: &str) -> Result<(), sqlx::Error> {
        Ok(())
    }

    async fn lock_audit_tail(_: &mut Conn<Self>) -> Result<(), sqlx::Error> {
        Ok(())
    }

    fn migrator() -> &'static sqlx::migrate::Migrator {
        &MIGRATOR
    }
}

fn answer_with<T>(
    slot: &Mutex<Option<oneshot::Sender<Result<T, StoreError>>>>,
    value: Result<T, StoreError>,
) {
    if let Some(tx) = slot.lock().ok().and_then(|mut s| s.take()) {
        // A caller that gave up waiting is not an error: its change is committed.
        let _ = tx.send(value);
    }
}

async fn write_loop(pool: SqlitePool, mut queue: mpsc::Receiver<Pending>, metrics: StoreMetrics) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        metrics.group_commit(batch.len());
        commit_batch(
            &pool,
            std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH)),
        )
        .await;
    }
    pool.close().await;
}

/// Apply every pending write in its own savepoint, commit once, then answer:
/// replies after a successful commit, failures otherwise.
async fn commit_batch(pool: &SqlitePool, batch: Vec<Pending>) {
    let size = batch.len();
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(size);
    let committed = async {
        // IMMEDIATE takes the write lock up front, so the transaction cannot
        // fail half-way for a lock upgrade.
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        for pending in batch {
            let mut savepoint = tx.begin().await?;
            match (pending.apply)(&mut savepoint).await {
                Ok(reply) => {
                    savepoint.commit().await?;
                    outcomes.push((Some(reply), None, pending.fail));
                }
                Err(e) => {
                    savepoint.rollback().await?;
                    outcomes.push((None, Some(e.into()), pending.fail));
                }
            }
        }
        tx.commit().await
    }
    .await;
    match committed {
        Ok(()) => {
            for (reply, error, fail) in outcomes {
                match (reply, error) {
                    (Some(reply), _) => reply(),
                    (None, Some(e)) => fail(e),
                    (None, None) => fail(StoreError::Closed),
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %e, size, "group commit failed");
            let reason = e.to_string();
            for (_, _, fail) in outcomes {
                fail(StoreError::Batch(reason.clone()));
            }
        }
    }
}

#[cfg(all(test, unix))]
mod file_mode_tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::store::HubStore;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn the_database_and_its_wal_are_private_whatever_the_umask_and_a_readable_one_is_refused()
    {
        let dir = tempfile::tempdir().unwrap();
        // The usual umask (022) would make a new file 0644.
        let db = dir.path().join("hub.db");
        let store = SqliteStore::open(&format!("sqlite:{}", db.display()))
            .await
            .unwrap();
        let wal = dir.path().join("hub.db-wal");
        assert!(wal.exists());
        assert_eq!((mode(&db), mode(&wal)), (0o600, 0o600));
        store.close().await;

        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = SqliteStore::open(&format!("sqlite:{}", db.display())).await;
        match refused {
            Err(e @ StoreError::Exposed { mode: 0o644, .. }) => {
                assert!(e.to_string().contains("chmod 600"), "{e}")
            }
            other => panic!(
                "expected the readable database refused, got {:?}",
                other.err()
            ),
        }
    }
}

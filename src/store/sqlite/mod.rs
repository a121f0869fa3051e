//! The hub store on SQLite (WAL, `synchronous=FULL`). Writes are committed
//! in groups by one writer task on a connection of its own (`sql::group`).

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Sqlite, SqliteConnection, SqlitePool};

use super::StoreError;
use super::metrics::StoreMetrics;

mod backup;
pub mod cipher;
use super::sql::{Backend, Committer, Conn, GroupCommit};

/// SQLite-backed hub store.
pub struct SqliteStore {
    read: SqlitePool,
    writes: GroupCommit<Sqlite>,
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
        Ok(Self {
            read,
            writes: GroupCommit::start(write_pool, metrics.clone()),
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

    fn writes(&self) -> &GroupCommit<Sqlite> {
        &self.writes
    }

    async fn shut(&self) {
        self.writes.shut().await;
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

/// SQLite's write lock excludes every other writer.
impl Backend for Sqlite {
    /// IMMEDIATE takes the write lock up front, so the transaction cannot
    /// fail half-way for a lock upgrade.
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";

    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    async fn lock_writers(_: &mut Conn<Self>) -> Result<(), sqlx::Error> {
        Ok(())
    }

    fn migrator() -> &'static sqlx::migrate::Migrator {
        &MIGRATOR
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

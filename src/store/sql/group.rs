//! Group commit, the one write path of both backends.
//!
//! Every write goes through one writer task per hub process that drains its
//! queue, applies the writes one after another inside one transaction,
//! commits once (one fsync, one WAL flush), then answers every caller. A
//! caller is answered only after the commit that holds its change.
//!
//! A write that fails must leave nothing and fail alone. Writes almost never
//! fail (the policy's refusals are outcomes, not errors), so a batch first
//! runs without savepoints, which would cost two statements per write; only
//! if a write fails is the whole transaction rolled back and the batch run
//! again with each write in its own savepoint. A write may therefore run
//! twice, the first time rolled back, which is why it is an `Fn`.
//!
//! The batch's transaction first takes the writers' lock ([`Backend::BEGIN_WRITE`],
//! [`Backend::lock_writers`]): SQLite's write lock, or on PostgreSQL a
//! transaction-scoped advisory lock that every hub process's writer takes.
//! So one batch at a time writes, across all processes: a write reads the
//! latest commit, nothing changes between the policy's check and the write
//! it allows, and each audit entry's parent is the entry before it, with no
//! row locks, no deadlocks and nothing to retry. What that costs is bounded
//! by the batch: every write waiting meanwhile goes into the next one.

use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use sqlx::{Acquire, Database, Pool};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{Backend, ChainTail, Conn, Sql, Work};
use crate::store::StoreError;
use crate::store::metrics::StoreMetrics;

/// Most writes committed together in one transaction.
const MAX_BATCH: usize = 256;

/// A write: runs on the writer's connection inside the batch's transaction
/// and returns how to answer its caller once the batch is committed.
type Apply<DB> =
    Box<dyn for<'c> Fn(Sql<'c, DB>) -> BoxFuture<'c, Result<Reply, sqlx::Error>> + Send + Sync>;
type Reply = Box<dyn FnOnce() + Send>;
type Fail = Box<dyn FnOnce(StoreError) + Send>;

struct Pending<DB: Database> {
    apply: Apply<DB>,
    fail: Fail,
}

impl<DB: Database> Pending<DB> {
    /// `f` as a write, and where its answer will come.
    fn new<A, T, F>(args: A, f: F) -> (Self, oneshot::Receiver<Result<T, StoreError>>)
    where
        A: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'a> Fn(Sql<'a, DB>, &'a A) -> Work<'a, T> + Send + Sync + 'static,
    {
        let (tx, answer) = oneshot::channel::<Result<T, StoreError>>();
        let tx = Arc::new(Mutex::new(Some(tx)));
        let on_fail = tx.clone();
        // Shared with each run's future, which borrows them.
        let write = Arc::new((f, args));
        let apply: Apply<DB> = Box::new(move |sql| {
            let (tx, write) = (tx.clone(), write.clone());
            Box::pin(async move {
                let (f, args) = &*write;
                let value = f(sql, args).await?;
                Ok(Box::new(move || answer_with(&tx, Ok(value))) as Reply)
            })
        });
        let fail = Box::new(move |e| answer_with(&on_fail, Err(e)));
        (Self { apply, fail }, answer)
    }
}

/// The queue to a backend's writer task.
pub(in crate::store) struct GroupCommit<DB: Database> {
    writes: Mutex<Option<mpsc::Sender<Pending<DB>>>>,
    writer: tokio::sync::Mutex<Option<JoinHandle<()>>>,
}

impl<DB: Backend> GroupCommit<DB>
where
    for<'c> &'c mut Conn<DB>: sqlx::Executor<'c, Database = DB>,
{
    /// Start the writer task on `pool` (SQLite: a pool of its own with one
    /// connection; PostgreSQL: the shared pool, one connection at a time).
    pub(in crate::store) fn start(pool: Pool<DB>, metrics: StoreMetrics) -> Self {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let writer = tokio::spawn(write_loop(pool, rx, metrics));
        Self {
            writes: Mutex::new(Some(tx)),
            writer: tokio::sync::Mutex::new(Some(writer)),
        }
    }
}

impl<DB: Database> GroupCommit<DB> {
    /// Queue `f` for the writer task and wait until it is committed.
    pub(in crate::store) async fn write<A, T, F>(&self, args: A, f: F) -> Result<T, StoreError>
    where
        A: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'a> Fn(Sql<'a, DB>, &'a A) -> Work<'a, T> + Send + Sync + 'static,
    {
        let sender = self
            .writes
            .lock()
            .map_err(|_| StoreError::Closed)?
            .clone()
            .ok_or(StoreError::Closed)?;
        let (pending, answer) = Pending::new(args, f);
        sender.send(pending).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Stop taking writes, and wait for the ones queued to be committed.
    pub(in crate::store) async fn shut(&self) {
        if let Ok(mut writes) = self.writes.lock() {
            writes.take();
        }
        if let Some(writer) = self.writer.lock().await.take() {
            let _ = writer.await;
        }
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

async fn write_loop<DB: Backend>(
    pool: Pool<DB>,
    mut queue: mpsc::Receiver<Pending<DB>>,
    metrics: StoreMetrics,
) where
    for<'c> &'c mut Conn<DB>: sqlx::Executor<'c, Database = DB>,
{
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        metrics.group_commit(batch.len());
        commit_batch(
            &pool,
            std::mem::replace(&mut batch, Vec::with_capacity(MAX_BATCH)),
        )
        .await;
    }
    // Shut: on SQLite this closes the writer's own connection; on
    // PostgreSQL the shared pool, which the store closes next anyway.
    pool.close().await;
}

/// Apply every pending write, commit once, then answer: replies after a
/// successful commit, failures otherwise.
async fn commit_batch<DB: Backend>(pool: &Pool<DB>, batch: Vec<Pending<DB>>)
where
    for<'c> &'c mut Conn<DB>: sqlx::Executor<'c, Database = DB>,
{
    let size = batch.len();
    let (applies, fails): (Vec<_>, Vec<_>) = batch.into_iter().map(|p| (p.apply, p.fail)).unzip();
    let committed = match run_plain(pool, &applies).await {
        Ok(Some(replies)) => Ok(replies.into_iter().map(Ok).collect()),
        Ok(None) => {
            tracing::debug!(size, "a write failed: its batch runs again in savepoints");
            run_in_savepoints(pool, &applies).await
        }
        Err(e) => Err(e),
    };
    match committed {
        Ok(outcomes) => {
            for (outcome, fail) in outcomes.into_iter().zip(fails) {
                match outcome {
                    Ok(reply) => reply(),
                    Err(e) => fail(e),
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %e, size, "group commit failed");
            let reason = e.to_string();
            for fail in fails {
                fail(StoreError::Batch(reason.clone()));
            }
        }
    }
}

/// The batch's transaction, already the only writer in every hub process.
async fn begin_batch<DB: Backend>(pool: &Pool<DB>) -> Result<sqlx::Transaction<'_, DB>, sqlx::Error>
where
    for<'c> &'c mut Conn<DB>: sqlx::Executor<'c, Database = DB>,
{
    let mut tx = pool.begin_with(DB::BEGIN_WRITE).await?;
    DB::lock_writers(&mut tx).await?;
    Ok(tx)
}

/// Run the writes one after another and commit: every reply, or `None` if
/// a write failed and the transaction was rolled back.
async fn run_plain<DB: Backend>(
    pool: &Pool<DB>,
    applies: &[Apply<DB>],
) -> Result<Option<Vec<Reply>>, sqlx::Error>
where
    for<'c> &'c mut Conn<DB>: sqlx::Executor<'c, Database = DB>,
{
    let mut tx = begin_batch(pool).await?;
    let mut replies = Vec::with_capacity(applies.len());
    let mut tail = ChainTail::default();
    for apply in applies {
        match apply(Sql(&mut *tx, Some(&mut tail))).await {
            Ok(reply) => replies.push(reply),
            Err(_) => {
                // Its error is reported by the run in savepoints.
                tx.rollback().await?;
                return Ok(None);
            }
        }
    }
    tx.commit().await?;
    Ok(Some(replies))
}

/// Run each write in its own savepoint and commit: a write that fails is
/// rolled back alone and answered with its error.
async fn run_in_savepoints<DB: Backend>(
    pool: &Pool<DB>,
    applies: &[Apply<DB>],
) -> Result<Vec<Result<Reply, StoreError>>, sqlx::Error>
where
    for<'c> &'c mut Conn<DB>: sqlx::Executor<'c, Database = DB>,
{
    let mut tx = begin_batch(pool).await?;
    let mut outcomes = Vec::with_capacity(applies.len());
    let mut tail = ChainTail::default();
    for apply in applies {
        let before = tail.clone();
        let mut savepoint = tx.begin().await?;
        match apply(Sql(&mut *savepoint, Some(&mut tail))).await {
            Ok(reply) => {
                savepoint.commit().await?;
                outcomes.push(Ok(reply));
            }
            Err(e) => {
                savepoint.rollback().await?;
                // What it appended to the chain is gone with it.
                tail = before;
                outcomes.push(Err(e.into()));
            }
        }
    }
    tx.commit().await?;
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use sqlx::{Executor, Pool};

    use super::*;
    use crate::store::model::AuditEvent;

    /// A write running each statement of `sql` in turn.
    fn run<DB: Backend>(
        sql: &'static [&'static str],
    ) -> (Pending<DB>, oneshot::Receiver<Result<(), StoreError>>)
    where
        for<'c> &'c mut Conn<DB>: Executor<'c, Database = DB>,
    {
        Pending::new(sql, |s: Sql<DB>, sql: &&'static [&'static str]| {
            Box::pin(async move {
                for statement in *sql {
                    s.0.execute(*statement).await?;
                }
                Ok(())
            })
        })
    }

    /// The middle write of a group fails after a statement that succeeded:
    /// it alone is answered with its error and leaves nothing; the others
    /// are committed and answered.
    async fn a_failed_write_fails_alone<DB: Backend>(pool: Pool<DB>)
    where
        for<'c> &'c mut Conn<DB>: Executor<'c, Database = DB>,
        for<'r> (i64,): sqlx::FromRow<'r, DB::Row>,
        DB::Arguments: sqlx::IntoArguments<DB>,
    {
        pool.execute("CREATE TABLE t (n BIGINT PRIMARY KEY)")
            .await
            .unwrap();
        let (first, one) = run::<DB>(&["INSERT INTO t (n) VALUES (1)"]);
        let (bad, failed) = run::<DB>(&[
            "INSERT INTO t (n) VALUES (2)",
            "INSERT INTO no_such_table (n) VALUES (2)",
        ]);
        let (last, three) = run::<DB>(&["INSERT INTO t (n) VALUES (3)"]);
        commit_batch(&pool, vec![first, bad, last]).await;
        assert!(one.await.unwrap().is_ok());
        assert!(three.await.unwrap().is_ok());
        let error = failed.await.unwrap().unwrap_err().to_string();
        assert!(error.contains("no_such_table"), "{error}");
        let rows: Vec<(i64,)> = sqlx::query_as("SELECT n FROM t ORDER BY n")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(rows, [(1,), (3,)]);
    }

    #[tokio::test]
    async fn sqlite_a_failed_write_fails_alone_and_the_rest_of_its_group_commits() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::store::testing::sqlite_url(dir.path(), "t.db");
        let options = crate::store::sqlite::connect_options(&url).unwrap();
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        a_failed_write_fails_alone(pool).await;
    }

    #[tokio::test]
    #[cfg_attr(
        not(tsunagu_pg),
        ignore = "PostgreSQL not installed: install Debian's postgresql package or set TSUNAGU_TEST_PG_URL"
    )]
    async fn postgres_a_failed_write_fails_alone_and_the_rest_of_its_group_commits() {
        let url = crate::store::testing::fresh_pg_url().await;
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        a_failed_write_fails_alone(pool).await;
    }

    /// A write that appends to the audit chain and then fails takes its
    /// entries with it: the batch's next append links to the entry before
    /// them (the batch's tail is wound back), and the chain verifies.
    macro_rules! a_failed_write_leaves_the_chain_whole {
        ($db:ty, $pool:expr) => {{
            let pool = $pool;
            let append = |event: &str| {
                Pending::new(
                    AuditEvent::new(event, None, None, serde_json::json!({})),
                    |mut s: Sql<$db>, e: &AuditEvent| {
                        Box::pin(async move { s.append_audit(e).await })
                    },
                )
            };
            let (first, one) = append("first");
            let (bad, failed) = Pending::new(
                AuditEvent::new("failed", None, None, serde_json::json!({})),
                |mut s: Sql<$db>, e: &AuditEvent| {
                    Box::pin(async move {
                        s.append_audit(e).await?;
                        s.0.execute("INSERT INTO no_such_table (n) VALUES (1)")
                            .await
                            .map(|_| ())
                    })
                },
            );
            let (last, three) = append("last");
            commit_batch(&pool, vec![first, bad, last]).await;
            assert!(one.await.unwrap().is_ok());
            assert!(failed.await.unwrap().is_err());
            assert!(three.await.unwrap().is_ok());
            let mut c = pool.acquire().await.unwrap();
            let entries = Sql::<$db>::new(&mut *c)
                .audit_entries(None, None)
                .await
                .unwrap();
            let events: Vec<_> = entries.iter().map(|e| e.event.as_str()).collect();
            assert_eq!(events, ["first", "last"]);
            assert_eq!(crate::store::audit::verify(entries).unwrap(), 2);
        }};
    }

    #[tokio::test]
    async fn sqlite_a_failed_write_takes_its_audit_entries_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::store::testing::sqlite_url(dir.path(), "t.db");
        let options = crate::store::sqlite::connect_options(&url).unwrap();
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::Sqlite::migrator().run(&pool).await.unwrap();
        a_failed_write_leaves_the_chain_whole!(sqlx::Sqlite, pool);
    }

    #[tokio::test]
    #[cfg_attr(
        not(tsunagu_pg),
        ignore = "PostgreSQL not installed: install Debian's postgresql package or set TSUNAGU_TEST_PG_URL"
    )]
    async fn postgres_a_failed_write_takes_its_audit_entries_with_it() {
        let url = crate::store::testing::fresh_pg_url().await;
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::Postgres::migrator().run(&pool).await.unwrap();
        a_failed_write_leaves_the_chain_whole!(sqlx::Postgres, pool);
    }
}

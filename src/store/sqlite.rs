//! The hub store on SQLite (WAL, `synchronous=FULL`).
//!
//! Every write goes through one writer task that drains its queue, applies
//! each operation in its own savepoint inside one transaction, commits once
//! (one fsync), then answers every caller: group commit. A caller is answered
//! only after the commit that holds its change.

use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Acquire, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{
    AcceptOutcome, AckOutcome, Delivery, HubStore, NewEnvelope, StoreError, categories_json,
    parse_envelope_id, seq_from_db, seq_to_db,
};
use crate::protocol::{AgencyId, EnvelopeId, Seq, Timestamp};

/// Most operations committed together in one transaction.
const MAX_BATCH: usize = 256;

enum Op {
    Accept(Box<NewEnvelope>),
    Ack(AgencyId, Seq),
    AckThrough(AgencyId, Seq),
}

enum Done {
    Accept(AcceptOutcome),
    Ack(AckOutcome),
    AckThrough(u64),
}

struct Pending {
    op: Op,
    reply: oneshot::Sender<Result<Done, StoreError>>,
}

/// SQLite-backed hub store.
pub struct SqliteStore {
    read: SqlitePool,
    writes: Mutex<Option<mpsc::Sender<Pending>>>,
    writer: tokio::sync::Mutex<Option<JoinHandle<()>>>,
}

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
    if let Some(dir) = options.get_filename().parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
    }
    Ok(options)
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
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let writer = tokio::spawn(write_loop(write_pool, rx));
        Ok(Self {
            read,
            writes: Mutex::new(Some(tx)),
            writer: tokio::sync::Mutex::new(Some(writer)),
        })
    }

    async fn write(&self, op: Op) -> Result<Done, StoreError> {
        let sender = self
            .writes
            .lock()
            .map_err(|_| StoreError::Closed)?
            .clone()
            .ok_or(StoreError::Closed)?;
        let (reply, answer) = oneshot::channel();
        sender
            .send(Pending { op, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

async fn write_loop(pool: SqlitePool, mut queue: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let results = match commit_batch(&pool, &batch).await {
            Ok(results) => results,
            Err(e) => {
                tracing::error!(error = %e, size = batch.len(), "group commit failed");
                let reason = e.to_string();
                batch
                    .iter()
                    .map(|_| Err(StoreError::Batch(reason.clone())))
                    .collect()
            }
        };
        for (pending, result) in batch.drain(..).zip(results) {
            // A caller that gave up waiting is not an error: its change is committed.
            let _ = pending.reply.send(result);
        }
    }
    pool.close().await;
}

async fn commit_batch(
    pool: &SqlitePool,
    batch: &[Pending],
) -> Result<Vec<Result<Done, StoreError>>, sqlx::Error> {
    // IMMEDIATE takes the write lock up front, so the transaction cannot fail
    // half-way for a lock upgrade.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut results = Vec::with_capacity(batch.len());
    for pending in batch {
        let mut savepoint = tx.begin().await?;
        match apply(&mut savepoint, &pending.op).await {
            Ok(done) => {
                savepoint.commit().await?;
                results.push(Ok(done));
            }
            Err(e) => {
                savepoint.rollback().await?;
                results.push(Err(e.into()));
            }
        }
    }
    tx.commit().await?;
    Ok(results)
}

async fn apply(conn: &mut SqliteConnection, op: &Op) -> Result<Done, sqlx::Error> {
    Ok(match op {
        Op::Accept(e) => Done::Accept(accept(conn, e).await?),
        Op::Ack(agency, seq) => Done::Ack(ack(conn, agency, *seq).await?),
        Op::AckThrough(agency, seq) => Done::AckThrough(
            sqlx::query(
                "UPDATE deliveries SET acked_at = ? \
                 WHERE recipient = ? AND seq <= ? AND acked_at IS NULL",
            )
            .bind(Timestamp::now().as_str())
            .bind(agency.as_str())
            .bind(seq_to_db(*seq))
            .execute(conn)
            .await?
            .rows_affected(),
        ),
    })
}

async fn accept(
    conn: &mut SqliteConnection,
    e: &NewEnvelope,
) -> Result<AcceptOutcome, sqlx::Error> {
    let meta = &e.envelope.meta;
    let id = meta.id.to_string();
    let existing: Option<(Vec<u8>,)> = sqlx::query_as("SELECT digest FROM envelopes WHERE id = ?")
        .bind(&id)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some((digest,)) = existing {
        return Ok(if digest == e.digest {
            AcceptOutcome::Duplicate
        } else {
            AcceptOutcome::IdReused
        });
    }
    sqlx::query(
        "INSERT INTO envelopes (id, sender, case_id, kind, urgency, categories, created_at, \
         accepted_at, digest, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(meta.sender.as_str())
    .bind(meta.case_id.as_ref().map(|c| c.as_str()))
    .bind(meta.kind.as_str())
    .bind(meta.urgency.as_str())
    .bind(categories_json(&e.envelope))
    .bind(meta.created_at.as_str())
    .bind(Timestamp::now().as_str())
    .bind(&e.digest[..])
    .bind(&e.body)
    .execute(&mut *conn)
    .await?;
    let mut seqs = Vec::with_capacity(meta.recipients.len());
    for recipient in &meta.recipients {
        let (seq,): (i64,) = sqlx::query_as(
            "INSERT INTO agency_cursors (agency, last_seq) VALUES (?, 1) \
             ON CONFLICT (agency) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
        )
        .bind(recipient.as_str())
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query("INSERT INTO deliveries (recipient, seq, envelope_id) VALUES (?, ?, ?)")
            .bind(recipient.as_str())
            .bind(seq)
            .bind(&id)
            .execute(&mut *conn)
            .await?;
        seqs.push((recipient.clone(), seq_from_db(seq)));
    }
    Ok(AcceptOutcome::Stored(seqs))
}

async fn ack(
    conn: &mut SqliteConnection,
    agency: &AgencyId,
    seq: Seq,
) -> Result<AckOutcome, sqlx::Error> {
    let acked_at: Option<(Option<String>,)> =
        sqlx::query_as("SELECT acked_at FROM deliveries WHERE recipient = ? AND seq = ?")
            .bind(agency.as_str())
            .bind(seq_to_db(seq))
            .fetch_optional(&mut *conn)
            .await?;
    Ok(match acked_at {
        None => AckOutcome::Unknown,
        Some((Some(_),)) => AckOutcome::AlreadyAcked,
        Some((None,)) => {
            sqlx::query("UPDATE deliveries SET acked_at = ? WHERE recipient = ? AND seq = ?")
                .bind(Timestamp::now().as_str())
                .bind(agency.as_str())
                .bind(seq_to_db(seq))
                .execute(&mut *conn)
                .await?;
            AckOutcome::Acked
        }
    })
}

#[async_trait]
impl HubStore for SqliteStore {
    async fn accept(&self, envelope: NewEnvelope) -> Result<AcceptOutcome, StoreError> {
        match self.write(Op::Accept(Box::new(envelope))).await? {
            Done::Accept(outcome) => Ok(outcome),
            _ => Err(StoreError::Corrupt(
                "writer answered another operation".into(),
            )),
        }
    }

    async fn pending(
        &self,
        agency: &AgencyId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let rows: Vec<(i64, String, Vec<u8>)> = sqlx::query_as(
            "SELECT d.seq, d.envelope_id, e.body FROM deliveries d \
             JOIN envelopes e ON e.id = d.envelope_id \
             WHERE d.recipient = ? AND d.seq > ? AND d.acked_at IS NULL \
             ORDER BY d.seq LIMIT ?",
        )
        .bind(agency.as_str())
        .bind(seq_to_db(after))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(seq, id, body)| {
                Ok(Delivery {
                    seq: seq_from_db(seq),
                    envelope_id: parse_envelope_id(&id)?,
                    body,
                })
            })
            .collect()
    }

    async fn ack(&self, agency: &AgencyId, seq: Seq) -> Result<AckOutcome, StoreError> {
        match self.write(Op::Ack(agency.clone(), seq)).await? {
            Done::Ack(outcome) => Ok(outcome),
            _ => Err(StoreError::Corrupt(
                "writer answered another operation".into(),
            )),
        }
    }

    async fn ack_through(&self, agency: &AgencyId, seq: Seq) -> Result<u64, StoreError> {
        match self.write(Op::AckThrough(agency.clone(), seq)).await? {
            Done::AckThrough(n) => Ok(n),
            _ => Err(StoreError::Corrupt(
                "writer answered another operation".into(),
            )),
        }
    }

    async fn last_seq(&self, agency: &AgencyId) -> Result<Seq, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT last_seq FROM agency_cursors WHERE agency = ?")
                .bind(agency.as_str())
                .fetch_optional(&self.read)
                .await?;
        Ok(row.map(|(s,)| seq_from_db(s)).unwrap_or_default())
    }

    async fn envelope_body(&self, id: EnvelopeId) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as("SELECT body FROM envelopes WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await?;
        Ok(row.map(|(body,)| body))
    }

    async fn close(&self) {
        if let Ok(mut writes) = self.writes.lock() {
            writes.take();
        }
        if let Some(writer) = self.writer.lock().await.take() {
            let _ = writer.await;
        }
        self.read.close().await;
    }
}

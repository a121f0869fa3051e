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
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Acquire, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::audit::AuditEntry;
use super::model::{
    AuditEvent, CaseRecord, Disclosure, DueReferral, FactsQuery, Policy, ReferralRecord,
    StatutoryUse,
};
use super::{AcceptOutcome, AckOutcome, Delivery, HubStore, NewEnvelope, StoreError};
use crate::protocol::notice::ConsentEnd;
use crate::protocol::{AgencyId, CaseId, ConsentId, EnvelopeId, Notice, Seq, Timestamp};

mod read;
mod write;

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

    /// Queue a write for the writer task and wait until it is committed.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, sqlx::Error>>
            + Send
            + 'static,
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
                let value = f(conn).await?;
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

    async fn reader(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Sqlite>, StoreError> {
        Ok(self.read.acquire().await?)
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

async fn write_loop(pool: SqlitePool, mut queue: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
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

#[async_trait]
impl HubStore for SqliteStore {
    async fn accept(
        &self,
        envelope: NewEnvelope,
        query: FactsQuery,
        policy: Policy,
    ) -> Result<AcceptOutcome, StoreError> {
        self.write(move |c| {
            Box::pin(async move { write::accept(c, &envelope, &query, &policy).await })
        })
        .await
    }

    async fn pending(
        &self,
        agency: &AgencyId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        read::pending(&mut *self.reader().await?, agency, after, limit).await
    }

    async fn ack(&self, agency: &AgencyId, seq: Seq) -> Result<AckOutcome, StoreError> {
        let agency = agency.clone();
        self.write(move |c| Box::pin(async move { write::ack(c, &agency, seq).await }))
            .await
    }

    async fn ack_through(&self, agency: &AgencyId, seq: Seq) -> Result<u64, StoreError> {
        let agency = agency.clone();
        self.write(move |c| Box::pin(async move { write::ack_through(c, &agency, seq).await }))
            .await
    }

    async fn last_seq(&self, agency: &AgencyId) -> Result<Seq, StoreError> {
        Ok(read::last_seq(&mut *self.reader().await?, agency).await?)
    }

    async fn envelope_body(&self, id: EnvelopeId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(read::envelope_body(&mut *self.reader().await?, id).await?)
    }

    async fn open_case(&self, case_id: &CaseId, agency: &AgencyId) -> Result<(), StoreError> {
        let (case_id, agency) = (case_id.clone(), agency.clone());
        self.write(move |c| Box::pin(async move { write::open_case(c, &case_id, &agency).await }))
            .await
    }

    async fn case(&self, case_id: &CaseId) -> Result<Option<CaseRecord>, StoreError> {
        Ok(read::case(&mut *self.reader().await?, case_id).await?)
    }

    async fn involved(&self, case_id: &CaseId, agency: &AgencyId) -> Result<bool, StoreError> {
        Ok(read::involved(&mut *self.reader().await?, case_id, agency).await?)
    }

    async fn referral(&self, referral: EnvelopeId) -> Result<Option<ReferralRecord>, StoreError> {
        Ok(read::referral(&mut *self.reader().await?, referral).await?)
    }

    async fn due_referrals(&self, now: &Timestamp) -> Result<Vec<DueReferral>, StoreError> {
        Ok(read::due_referrals(&mut *self.reader().await?, now).await?)
    }

    async fn escalate(
        &self,
        due: &DueReferral,
        next_deadline: &Timestamp,
        notices: Vec<(AgencyId, Notice)>,
    ) -> Result<bool, StoreError> {
        let (due, next) = (due.clone(), next_deadline.clone());
        self.write(move |c| {
            Box::pin(async move { write::escalate(c, &due, &next, &notices).await })
        })
        .await
    }

    async fn due_consents(&self, now: &Timestamp) -> Result<Vec<ConsentId>, StoreError> {
        Ok(read::due_consents(&mut *self.reader().await?, now).await?)
    }

    async fn expire_consent(
        &self,
        consent: ConsentId,
        now: &Timestamp,
    ) -> Result<bool, StoreError> {
        let now = now.clone();
        self.write(move |c| {
            Box::pin(async move { write::end_consent(c, consent, ConsentEnd::Expired, &now).await })
        })
        .await
    }

    async fn disclosures(&self, case_id: &CaseId) -> Result<Vec<Disclosure>, StoreError> {
        Ok(read::disclosures(&mut *self.reader().await?, case_id).await?)
    }

    async fn statutory_uses(&self) -> Result<Vec<StatutoryUse>, StoreError> {
        Ok(read::statutory_uses(&mut *self.reader().await?).await?)
    }

    async fn record_violation(
        &self,
        envelope_id: EnvelopeId,
        reported_by: &AgencyId,
        detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        let by = reported_by.clone();
        self.write(move |c| {
            Box::pin(async move { write::record_violation(c, envelope_id, &by, &detail).await })
        })
        .await
    }

    async fn violations(
        &self,
    ) -> Result<Vec<(EnvelopeId, AgencyId, serde_json::Value, Timestamp)>, StoreError> {
        Ok(read::violations(&mut *self.reader().await?).await?)
    }

    async fn audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        self.write(move |c| Box::pin(async move { write::append_audit(c, &event).await }))
            .await
    }

    async fn audit_entries(
        &self,
        from: Option<&Timestamp>,
        to: Option<&Timestamp>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(read::audit_entries(&mut *self.reader().await?, from, to).await?)
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

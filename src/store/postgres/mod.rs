//! The hub store on PostgreSQL, for a hub that outgrows one machine: several
//! hub processes share one database. Each write is its own transaction,
//! retried when PostgreSQL reports a deadlock or serialization failure;
//! `write` explains the locks that keep it equivalent to SQLite's single
//! writer.

use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{PgConnection, PgPool};
use tokio::sync::mpsc;

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

/// Channel on which a commit announces new deliveries (payload: agency id),
/// so a hub process holding the recipient's socket wakes up.
pub const DELIVERY_CHANNEL: &str = "tsunagu_delivery";

/// How many times a write is retried after a deadlock or a collision.
const MAX_RETRIES: u32 = 5;

/// One attempt at a write, inside its transaction.
type Work<'a, T> = BoxFuture<'a, Result<T, sqlx::Error>>;

/// PostgreSQL-backed hub store.
pub struct PgStore {
    pool: PgPool,
}

/// Which failures a write may retry.
#[derive(Clone, Copy)]
enum Retry {
    /// Deadlocks and serialization failures.
    Conflicts,
    /// Those, and unique violations: concurrent senders can collide on the
    /// same new envelope id; the retry then finds it stored.
    ConflictsAndCollisions,
}

impl Retry {
    fn allows(self, e: &sqlx::Error) -> bool {
        let sqlx::Error::Database(db) = e else {
            return false;
        };
        matches!(db.code().as_deref(), Some("40P01" | "40001"))
            || (matches!(self, Retry::ConflictsAndCollisions) && db.is_unique_violation())
    }
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
        Ok(Self { pool })
    }

    /// The pool, for the delivery listener.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Run `f` in one transaction and commit, retrying as `retry` allows.
    /// Fact rows are locked by `write::accept`, cursor rows in sorted order,
    /// and the audit chain's tail by an advisory lock, always in that order.
    /// `f` gets its arguments as `args` (rather than capturing them) so that
    /// every attempt can borrow them for exactly as long as the transaction.
    async fn write<A, T>(
        &self,
        retry: Retry,
        args: A,
        f: impl for<'a> Fn(&'a mut PgConnection, &'a A) -> Work<'a, T>,
    ) -> Result<T, StoreError>
    where
        A: Send + Sync,
    {
        let mut attempt = 0;
        loop {
            let mut tx = self.pool.begin().await?;
            match f(&mut tx, &args).await {
                Ok(value) => {
                    tx.commit().await?;
                    return Ok(value);
                }
                Err(e) if attempt < MAX_RETRIES && retry.allows(&e) => {
                    tracing::debug!(error = %e, attempt, "retrying a write");
                    tx.rollback().await?;
                    attempt += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn reader(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, StoreError> {
        Ok(self.pool.acquire().await?)
    }
}

#[async_trait]
impl HubStore for PgStore {
    async fn accept(
        &self,
        envelope: NewEnvelope,
        query: FactsQuery,
        policy: Policy,
    ) -> Result<AcceptOutcome, StoreError> {
        self.write(
            Retry::ConflictsAndCollisions,
            (envelope, query, policy),
            |c, (e, q, p)| Box::pin(write::accept(c, e, q, p)),
        )
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
        self.write(Retry::Conflicts, (agency, seq), |c, (a, s)| {
            Box::pin(write::ack(c, a, *s))
        })
        .await
    }

    async fn ack_through(&self, agency: &AgencyId, seq: Seq) -> Result<u64, StoreError> {
        self.write(Retry::Conflicts, (agency, seq), |c, (a, s)| {
            Box::pin(write::ack_through(c, a, *s))
        })
        .await
    }

    async fn last_seq(&self, agency: &AgencyId) -> Result<Seq, StoreError> {
        Ok(read::last_seq(&mut *self.reader().await?, agency).await?)
    }

    async fn envelope_body(&self, id: EnvelopeId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(read::envelope_body(&mut *self.reader().await?, id).await?)
    }

    async fn open_case(&self, case_id: &CaseId, agency: &AgencyId) -> Result<(), StoreError> {
        self.write(Retry::Conflicts, (case_id, agency), |c, (id, a)| {
            Box::pin(write::open_case(c, id, a))
        })
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
        self.write(
            Retry::Conflicts,
            (due, next_deadline, notices),
            |c, (d, n, ns)| Box::pin(write::escalate(c, d, n, ns)),
        )
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
        self.write(Retry::Conflicts, (consent, now), |c, (id, now)| {
            Box::pin(write::end_consent(c, *id, ConsentEnd::Expired, now))
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
        self.write(
            Retry::Conflicts,
            (envelope_id, reported_by, detail),
            |c, (id, by, d)| Box::pin(write::record_violation(c, *id, by, d)),
        )
        .await
    }

    async fn violations(
        &self,
    ) -> Result<Vec<(EnvelopeId, AgencyId, serde_json::Value, Timestamp)>, StoreError> {
        Ok(read::violations(&mut *self.reader().await?).await?)
    }

    async fn audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        self.write(Retry::Conflicts, event, |c, e| {
            Box::pin(write::append_audit(c, e))
        })
        .await
    }

    async fn audit_entries(
        &self,
        from: Option<&Timestamp>,
        to: Option<&Timestamp>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(read::audit_entries(&mut *self.reader().await?, from, to).await?)
    }

    async fn delivery_wakeups(
        &self,
    ) -> Result<Option<mpsc::Receiver<Option<AgencyId>>>, StoreError> {
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

    async fn close(&self) {
        self.pool.close().await;
    }
}

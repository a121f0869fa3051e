//! [`HubStore`] for any backend, given how it commits ([`Committer`]).

use async_trait::async_trait;
use futures::future::BoxFuture;
use sqlx::ColumnIndex;
use sqlx::pool::PoolConnection;
use sqlx::{Decode, Encode, Executor, IntoArguments, Type};
use tokio::sync::mpsc;

use super::{Backend, Conn, Sql};
use crate::protocol::notice::ConsentEnd;
use crate::protocol::{AgencyId, CaseId, ConsentId, EnvelopeId, Notice, Seq, Timestamp};
use crate::store::audit::AuditEntry;
use crate::store::model::{
    AuditEvent, CaseRecord, Disclosure, DueReferral, DueReminder, FactsQuery, Policy,
    ReferralRecord, StatutoryUse,
};
use crate::store::retention::{HoldOutcome, LegalHold, PurgeScope, ReleaseOutcome};
use crate::store::{AcceptOutcome, AckOutcome, Delivery, HubStore, NewEnvelope, StoreError};

/// One attempt at a write, inside its transaction.
pub(in crate::store) type Work<'a, T> = BoxFuture<'a, Result<T, sqlx::Error>>;

/// Which failures a write may retry, where the backend retries (PostgreSQL).
#[derive(Clone, Copy, Debug)]
pub(in crate::store) enum Retry {
    /// Deadlocks and serialization failures.
    Conflicts,
    /// Those, and unique violations: concurrent senders can collide on the
    /// same new envelope id; the retry then finds it stored.
    ConflictsAndCollisions,
}

/// How a backend runs reads and commits writes.
#[async_trait]
pub(in crate::store) trait Committer: Send + Sync + 'static {
    /// The database.
    type Db: Backend;

    /// A connection for reads outside any write.
    async fn reader(&self) -> Result<PoolConnection<Self::Db>, StoreError>;

    /// Run `f` in a transaction and commit; answer only once it is durable.
    /// `f` gets its arguments as `args` (rather than capturing them) so that
    /// an attempt that is retried can borrow them again.
    async fn write<A, T, F>(&self, retry: Retry, args: A, f: F) -> Result<T, StoreError>
    where
        A: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'a> Fn(&'a mut Conn<Self::Db>, &'a A) -> Work<'a, T> + Send + Sync + 'static;

    /// See [`HubStore::delivery_wakeups`].
    async fn wakeups(&self) -> Result<Option<mpsc::Receiver<Option<AgencyId>>>, StoreError> {
        Ok(None)
    }

    /// See [`HubStore::close`].
    async fn shut(&self);
}

// The sqlx bounds of the shared SQL, as on `Sql`'s impl blocks.
#[async_trait]
impl<S, DB> HubStore for S
where
    S: Committer<Db = DB>,
    DB: Backend,
    for<'e> &'e mut DB::Connection: Executor<'e, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<&'q str>: Encode<'q, DB>,
    for<'q> Timestamp: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<Timestamp>: Encode<'q, DB>,
{
    async fn accept(
        &self,
        envelope: NewEnvelope,
        query: FactsQuery,
        policy: Policy,
    ) -> Result<AcceptOutcome, StoreError> {
        let args = (envelope, query, policy);
        self.write(Retry::ConflictsAndCollisions, args, |c, (e, q, p)| {
            Box::pin(async move { Sql(c).accept(e, q, p).await })
        })
        .await
    }

    async fn open_case(&self, case_id: &CaseId, agency: &AgencyId) -> Result<(), StoreError> {
        let args = (case_id.clone(), agency.clone());
        self.write(Retry::Conflicts, args, |c, (id, a)| {
            Box::pin(async move { Sql(c).open_case(id, a).await })
        })
        .await
    }

    async fn case(&self, case_id: &CaseId) -> Result<Option<CaseRecord>, StoreError> {
        Ok(Sql(&mut *self.reader().await?).case(case_id).await?)
    }

    async fn involved(&self, case_id: &CaseId, agency: &AgencyId) -> Result<bool, StoreError> {
        Ok(Sql(&mut *self.reader().await?)
            .involved(case_id, agency)
            .await?)
    }

    async fn referral(&self, referral: EnvelopeId) -> Result<Option<ReferralRecord>, StoreError> {
        Ok(Sql(&mut *self.reader().await?).referral(referral).await?)
    }

    async fn due_referrals(&self, now: &Timestamp) -> Result<Vec<DueReferral>, StoreError> {
        Ok(Sql(&mut *self.reader().await?).due_referrals(now).await?)
    }

    async fn escalate(
        &self,
        due: &DueReferral,
        next_deadline: &Timestamp,
        notices: Vec<(AgencyId, Notice)>,
    ) -> Result<bool, StoreError> {
        let args = (due.clone(), *next_deadline, notices);
        self.write(Retry::Conflicts, args, |c, (d, n, ns)| {
            Box::pin(async move { Sql(c).escalate(d, n, ns).await })
        })
        .await
    }

    async fn due_reminders(&self, now: &Timestamp) -> Result<Vec<DueReminder>, StoreError> {
        Ok(Sql(&mut *self.reader().await?).due_reminders(now).await?)
    }

    async fn fire_reminder(&self, due: &DueReminder, now: &Timestamp) -> Result<bool, StoreError> {
        self.write(Retry::Conflicts, (due.clone(), *now), |c, (due, now)| {
            Box::pin(async move { Sql(c).fire_reminder(due, now).await })
        })
        .await
    }

    async fn due_consents(&self, now: &Timestamp) -> Result<Vec<ConsentId>, StoreError> {
        Ok(Sql(&mut *self.reader().await?).due_consents(now).await?)
    }

    async fn expire_consent(
        &self,
        consent: ConsentId,
        now: &Timestamp,
    ) -> Result<bool, StoreError> {
        self.write(Retry::Conflicts, (consent, *now), |c, (id, now)| {
            Box::pin(async move {
                Sql(c)
                    .end_consent(*id, ConsentEnd::Expired, now, None)
                    .await
            })
        })
        .await
    }

    async fn disclosures(&self, case_id: &CaseId) -> Result<Vec<Disclosure>, StoreError> {
        Ok(Sql(&mut *self.reader().await?).disclosures(case_id).await?)
    }

    async fn statutory_uses(&self) -> Result<Vec<StatutoryUse>, StoreError> {
        Ok(Sql(&mut *self.reader().await?).statutory_uses().await?)
    }

    async fn record_violation(
        &self,
        envelope_id: EnvelopeId,
        reported_by: &AgencyId,
        detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        let args = (envelope_id, reported_by.clone(), detail);
        self.write(Retry::Conflicts, args, |c, (id, by, d)| {
            Box::pin(async move { Sql(c).record_violation(*id, by, d).await })
        })
        .await
    }

    async fn violations(
        &self,
    ) -> Result<Vec<(EnvelopeId, AgencyId, serde_json::Value, Timestamp)>, StoreError> {
        Ok(Sql(&mut *self.reader().await?).violations().await?)
    }

    async fn audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        self.write(Retry::Conflicts, event, |c, e| {
            Box::pin(async move { Sql(c).append_audit(e).await })
        })
        .await
    }

    async fn audit_entries(
        &self,
        from: Option<&Timestamp>,
        to: Option<&Timestamp>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(Sql(&mut *self.reader().await?)
            .audit_entries(from, to)
            .await?)
    }

    async fn audit_head(&self) -> Result<Option<(u64, [u8; 32])>, StoreError> {
        Sql(&mut *self.reader().await?).audit_head().await
    }

    async fn pending(
        &self,
        agency: &AgencyId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        Sql(&mut *self.reader().await?)
            .pending(agency, after, limit)
            .await
    }

    async fn ack(&self, agency: &AgencyId, seq: Seq) -> Result<AckOutcome, StoreError> {
        self.write(Retry::Conflicts, (agency.clone(), seq), |c, (a, s)| {
            Box::pin(async move { Sql(c).ack(a, *s).await })
        })
        .await
    }

    async fn ack_through(&self, agency: &AgencyId, seq: Seq) -> Result<u64, StoreError> {
        self.write(Retry::Conflicts, (agency.clone(), seq), |c, (a, s)| {
            Box::pin(async move { Sql(c).ack_through(a, *s).await })
        })
        .await
    }

    async fn last_seq(&self, agency: &AgencyId) -> Result<Seq, StoreError> {
        Ok(Sql(&mut *self.reader().await?).last_seq(agency).await?)
    }

    async fn envelope_body(&self, id: EnvelopeId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(Sql(&mut *self.reader().await?).envelope_body(id).await?)
    }

    async fn delivery_wakeups(
        &self,
    ) -> Result<Option<mpsc::Receiver<Option<AgencyId>>>, StoreError> {
        self.wakeups().await
    }

    async fn close(&self) {
        self.shut().await;
    }

    async fn purge_batch(
        &self,
        scope: PurgeScope,
        cutoff: &Timestamp,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let args = (scope, *cutoff, limit);
        self.write(Retry::Conflicts, args, |c, (scope, cutoff, limit)| {
            Box::pin(async move {
                Sql(c)
                    .purge_batch(*scope, cutoff, *limit, &Timestamp::now())
                    .await
            })
        })
        .await
    }

    async fn purgeable(&self, scope: PurgeScope, cutoff: &Timestamp) -> Result<u64, StoreError> {
        Ok(Sql(&mut *self.reader().await?)
            .purgeable(scope, cutoff)
            .await?)
    }

    async fn add_hold(
        &self,
        case_id: &CaseId,
        reason: &str,
        operator: &str,
    ) -> Result<HoldOutcome, StoreError> {
        let args = (case_id.clone(), reason.to_owned(), operator.to_owned());
        self.write(Retry::Conflicts, args, |c, (case_id, reason, operator)| {
            Box::pin(async move {
                Sql(c)
                    .add_hold(case_id, reason, operator, &Timestamp::now())
                    .await
            })
        })
        .await
    }

    async fn release_hold(
        &self,
        case_id: &CaseId,
        operator: &str,
    ) -> Result<ReleaseOutcome, StoreError> {
        let args = (case_id.clone(), operator.to_owned());
        self.write(Retry::Conflicts, args, |c, (case_id, operator)| {
            Box::pin(async move { Sql(c).release_hold(case_id, operator).await })
        })
        .await
    }

    async fn holds(&self) -> Result<Vec<LegalHold>, StoreError> {
        Ok(Sql(&mut *self.reader().await?).holds().await?)
    }
}

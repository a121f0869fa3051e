//! [`HubStore`] for any backend, given how it commits ([`Committer`]).

use async_trait::async_trait;
use futures::future::BoxFuture;
use sqlx::ColumnIndex;
use sqlx::pool::PoolConnection;
use sqlx::{Decode, Encode, Executor, IntoArguments, Type};
use tokio::sync::mpsc;

use super::{Backend, Conn, GroupCommit, Sql};
use std::path::Path;

use crate::protocol::epoch::{EpochId, HubEpoch};
use crate::protocol::notice::ConsentEnd;
use crate::protocol::{AgencyId, CaseId, ConsentId, EnvelopeId, Notice, Seq, Timestamp};
use crate::store::audit::AuditEntry;
use crate::store::metrics::StoreMetrics;
use crate::store::model::{
    AuditEvent, CaseRecord, Disclosure, DueReferral, DueReminder, FactsQuery, Lease, Policy,
    ReferralRecord, StatutoryUse,
};
use crate::store::retention::{HoldOutcome, LegalHold, PurgeScope, ReleaseOutcome};
use crate::store::{
    AcceptOutcome, AckOutcome, Backlog, Delivery, HubStore, NewEnvelope, Readiness, StoreError,
};

/// One attempt at a write, inside its transaction.
pub(in crate::store) type Work<'a, T> = BoxFuture<'a, Result<T, sqlx::Error>>;

/// How a backend runs reads and commits writes.
#[async_trait]
pub(in crate::store) trait Committer: Send + Sync + 'static {
    /// The database.
    type Db: Backend;

    /// A connection for reads outside any write.
    async fn reader(&self) -> Result<PoolConnection<Self::Db>, StoreError>;

    /// Its writer task.
    fn writes(&self) -> &GroupCommit<Self::Db>;

    /// Run `f` in the next batch's transaction; answer only once it is
    /// committed. `f` gets its arguments as `args` so that what it borrows
    /// lives as long as its work.
    async fn write<A, T, F>(&self, args: A, f: F) -> Result<T, StoreError>
    where
        A: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'a> Fn(Sql<'a, Self::Db>, &'a A) -> Work<'a, T> + Send + Sync + 'static,
    {
        self.writes().write(args, f).await
    }

    /// See [`HubStore::delivery_wakeups`].
    async fn wakeups(&self) -> Result<Option<mpsc::Receiver<Option<AgencyId>>>, StoreError> {
        Ok(None)
    }

    /// See [`HubStore::close`].
    async fn shut(&self);

    /// See [`HubStore::backup`].
    async fn backup(&self, out: &Path) -> Result<Option<(u64, [u8; 32])>, StoreError>;
    /// Where the common path records its measurements.
    fn measured(&self) -> &StoreMetrics;

    /// A connection opened afresh for the readiness check, where a pooled
    /// one could hide that the database is gone (SQLite: an open file
    /// outlives its path). `None`: a pooled reader tells the truth.
    async fn probe(&self) -> Result<Option<Conn<Self::Db>>, StoreError> {
        let _timer = self.measured().timer("backup");
        Ok(None)
    }
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
        let _timer = self.measured().timer("accept");
        let args = (envelope, query, policy);
        self.write(args, |mut sql, (e, q, p)| {
            Box::pin(async move { sql.accept(e, q, p).await })
        })
        .await
    }

    async fn open_case(&self, case_id: &CaseId, agency: &AgencyId) -> Result<(), StoreError> {
        let _timer = self.measured().timer("open_case");
        let args = (case_id.clone(), agency.clone());
        self.write(args, |mut sql, (id, a)| {
            Box::pin(async move { sql.open_case(id, a).await })
        })
        .await
    }

    async fn case(&self, case_id: &CaseId) -> Result<Option<CaseRecord>, StoreError> {
        let _timer = self.measured().timer("case");
        Ok(Sql::new(&mut *self.reader().await?).case(case_id).await?)
    }

    async fn involved(&self, case_id: &CaseId, agency: &AgencyId) -> Result<bool, StoreError> {
        let _timer = self.measured().timer("involved");
        Ok(Sql::new(&mut *self.reader().await?)
            .involved(case_id, agency)
            .await?)
    }

    async fn referral(&self, referral: EnvelopeId) -> Result<Option<ReferralRecord>, StoreError> {
        let _timer = self.measured().timer("referral");
        Ok(Sql::new(&mut *self.reader().await?)
            .referral(referral)
            .await?)
    }

    async fn due_referrals(&self, now: &Timestamp) -> Result<Vec<DueReferral>, StoreError> {
        let _timer = self.measured().timer("due_referrals");
        Ok(Sql::new(&mut *self.reader().await?)
            .due_referrals(now)
            .await?)
    }

    async fn escalate(
        &self,
        due: &DueReferral,
        next_deadline: &Timestamp,
        notices: Vec<(AgencyId, Notice)>,
    ) -> Result<bool, StoreError> {
        let _timer = self.measured().timer("escalate");
        let args = (due.clone(), *next_deadline, notices);
        self.write(args, |mut sql, (d, n, ns)| {
            Box::pin(async move { sql.escalate(d, n, ns).await })
        })
        .await
    }

    async fn due_reminders(&self, now: &Timestamp) -> Result<Vec<DueReminder>, StoreError> {
        let _timer = self.measured().timer("due_reminders");
        Ok(Sql::new(&mut *self.reader().await?)
            .due_reminders(now)
            .await?)
    }

    async fn fire_reminder(&self, due: &DueReminder, now: &Timestamp) -> Result<bool, StoreError> {
        let _timer = self.measured().timer("fire_reminder");
        self.write((due.clone(), *now), |mut sql, (due, now)| {
            Box::pin(async move { sql.fire_reminder(due, now).await })
        })
        .await
    }

    async fn due_consents(&self, now: &Timestamp) -> Result<Vec<ConsentId>, StoreError> {
        let _timer = self.measured().timer("due_consents");
        Ok(Sql::new(&mut *self.reader().await?)
            .due_consents(now)
            .await?)
    }

    async fn expire_consent(
        &self,
        consent: ConsentId,
        now: &Timestamp,
    ) -> Result<bool, StoreError> {
        let _timer = self.measured().timer("expire_consent");
        self.write((consent, *now), |mut sql, (id, now)| {
            Box::pin(async move { sql.end_consent(*id, ConsentEnd::Expired, now, None).await })
        })
        .await
    }

    async fn disclosures(&self, case_id: &CaseId) -> Result<Vec<Disclosure>, StoreError> {
        let _timer = self.measured().timer("disclosures");
        Ok(Sql::new(&mut *self.reader().await?)
            .disclosures(case_id)
            .await?)
    }

    async fn statutory_uses(&self) -> Result<Vec<StatutoryUse>, StoreError> {
        let _timer = self.measured().timer("statutory_uses");
        Ok(Sql::new(&mut *self.reader().await?)
            .statutory_uses()
            .await?)
    }

    async fn record_violation(
        &self,
        envelope_id: EnvelopeId,
        reported_by: &AgencyId,
        detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        let _timer = self.measured().timer("record_violation");
        let args = (envelope_id, reported_by.clone(), detail);
        self.write(args, |mut sql, (id, by, d)| {
            Box::pin(async move { sql.record_violation(*id, by, d).await })
        })
        .await
    }

    async fn violations(
        &self,
    ) -> Result<Vec<(EnvelopeId, AgencyId, serde_json::Value, Timestamp)>, StoreError> {
        let _timer = self.measured().timer("violations");
        Ok(Sql::new(&mut *self.reader().await?).violations().await?)
    }

    async fn audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        let _timer = self.measured().timer("audit");
        self.write(event, |mut sql, e| {
            Box::pin(async move { sql.append_audit(e).await })
        })
        .await
    }

    async fn audit_entries(
        &self,
        from: Option<&Timestamp>,
        to: Option<&Timestamp>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let _timer = self.measured().timer("audit_entries");
        Ok(Sql::new(&mut *self.reader().await?)
            .audit_entries(from, to)
            .await?)
    }

    async fn audit_head(&self) -> Result<Option<(u64, [u8; 32])>, StoreError> {
        let _timer = self.measured().timer("audit_head");
        Sql::new(&mut *self.reader().await?).audit_head().await
    }

    async fn pending(
        &self,
        agency: &AgencyId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let _timer = self.measured().timer("pending");
        Sql::new(&mut *self.reader().await?)
            .pending(agency, after, limit)
            .await
    }

    async fn ack(&self, agency: &AgencyId, seq: Seq) -> Result<AckOutcome, StoreError> {
        let outcomes = self.ack_burst(agency, vec![seq]).await?;
        Ok(outcomes.into_iter().next().unwrap_or(AckOutcome::Unknown))
    }

    async fn ack_burst(
        &self,
        agency: &AgencyId,
        seqs: Vec<Seq>,
    ) -> Result<Vec<AckOutcome>, StoreError> {
        let _timer = self.measured().timer("ack");
        self.write((agency.clone(), seqs), |mut sql, (a, seqs)| {
            Box::pin(async move { sql.acks(a, seqs).await })
        })
        .await
    }

    async fn ack_through(&self, agency: &AgencyId, seq: Seq) -> Result<u64, StoreError> {
        let _timer = self.measured().timer("ack_through");
        self.write((agency.clone(), seq), |mut sql, (a, seq)| {
            Box::pin(async move { sql.ack_through(a, *seq).await })
        })
        .await
    }

    async fn last_seq(&self, agency: &AgencyId) -> Result<Seq, StoreError> {
        let _timer = self.measured().timer("last_seq");
        Ok(Sql::new(&mut *self.reader().await?)
            .last_seq(agency)
            .await?)
    }

    async fn envelope_body(&self, id: EnvelopeId) -> Result<Option<Vec<u8>>, StoreError> {
        let _timer = self.measured().timer("envelope_body");
        Ok(Sql::new(&mut *self.reader().await?)
            .envelope_body(id)
            .await?)
    }

    async fn delivery_wakeups(
        &self,
    ) -> Result<Option<mpsc::Receiver<Option<AgencyId>>>, StoreError> {
        self.wakeups().await
    }

    async fn close(&self) {
        self.shut().await;
    }

    async fn delivery_heads(&self) -> Result<Vec<(AgencyId, Seq)>, StoreError> {
        let _timer = self.measured().timer("delivery_heads");
        Ok(Sql::new(&mut *self.reader().await?)
            .delivery_heads()
            .await?)
    }

    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: &Timestamp,
        until: &Timestamp,
    ) -> Result<Lease, StoreError> {
        let _timer = self.measured().timer("take_lease");
        let args = (name.to_owned(), holder.to_owned(), *now, *until);
        self.write(args, |mut sql, (name, holder, now, until)| {
            Box::pin(async move { sql.take_lease(name, holder, now, until).await })
        })
        .await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let _timer = self.measured().timer("release_lease");
        let args = (name.to_owned(), holder.to_owned());
        self.write(args, |mut sql, (name, holder)| {
            Box::pin(async move { sql.release_lease(name, holder).await })
        })
        .await
    }

    async fn epoch(&self) -> Result<(HubEpoch, bool), StoreError> {
        let _timer = self.measured().timer("epoch");
        if let Some(epoch) = Sql::new(&mut *self.reader().await?).epoch().await? {
            return Ok((epoch, false));
        }
        let id = EpochId::generate();
        let made = self
            .write((id.clone(), Timestamp::now()), |mut sql, (id, now)| {
                Box::pin(async move { sql.make_epoch(id, now, false).await.map_err(into_sqlx) })
            })
            .await?;
        let fresh = made.id == id;
        Ok((made, fresh))
    }

    async fn renew_epoch(&self) -> Result<HubEpoch, StoreError> {
        let _timer = self.measured().timer("renew_epoch");
        let args = (EpochId::generate(), Timestamp::now());
        self.write(args, |mut sql, (id, now)| {
            Box::pin(async move { sql.make_epoch(id, now, true).await.map_err(into_sqlx) })
        })
        .await
    }

    async fn backup(&self, out: &Path) -> Result<Option<(u64, [u8; 32])>, StoreError> {
        Committer::backup(self, out).await
    }

    async fn cancel_deliveries_to_revoked(
        &self,
        agency: &AgencyId,
        now: &Timestamp,
    ) -> Result<Vec<(EnvelopeId, AgencyId)>, StoreError> {
        let _timer = self.measured().timer("cancel_deliveries_to_revoked");
        self.write((agency.clone(), *now), |mut sql, (a, now)| {
            Box::pin(async move { sql.cancel_for_revoked(a, now).await })
        })
        .await
    }

    async fn purge_batch(
        &self,
        scope: PurgeScope,
        cutoff: &Timestamp,
        limit: u32,
    ) -> Result<u64, StoreError> {
        let _timer = self.measured().timer("purge_batch");
        let args = (scope, *cutoff, limit);
        self.write(args, |mut sql, (scope, cutoff, limit)| {
            Box::pin(async move {
                sql.purge_batch(*scope, cutoff, *limit, &Timestamp::now())
                    .await
            })
        })
        .await
    }

    async fn purgeable(&self, scope: PurgeScope, cutoff: &Timestamp) -> Result<u64, StoreError> {
        let _timer = self.measured().timer("purgeable");
        Ok(Sql::new(&mut *self.reader().await?)
            .purgeable(scope, cutoff)
            .await?)
    }

    async fn add_hold(
        &self,
        case_id: &CaseId,
        reason: &str,
        operator: &str,
    ) -> Result<HoldOutcome, StoreError> {
        let _timer = self.measured().timer("add_hold");
        let args = (case_id.clone(), reason.to_owned(), operator.to_owned());
        self.write(args, |mut sql, (case_id, reason, operator)| {
            Box::pin(async move {
                sql.add_hold(case_id, reason, operator, &Timestamp::now())
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
        let _timer = self.measured().timer("release_hold");
        let args = (case_id.clone(), operator.to_owned());
        self.write(args, |mut sql, (case_id, operator)| {
            Box::pin(async move { sql.release_hold(case_id, operator).await })
        })
        .await
    }

    async fn holds(&self) -> Result<Vec<LegalHold>, StoreError> {
        let _timer = self.measured().timer("holds");
        Ok(Sql::new(&mut *self.reader().await?).holds().await?)
    }

    async fn backlog(&self) -> Result<Vec<Backlog>, StoreError> {
        let _timer = self.measured().timer("backlog");
        Sql::new(&mut *self.reader().await?).backlog().await
    }

    async fn readiness(&self) -> Result<Readiness, StoreError> {
        match self.probe().await? {
            Some(mut fresh) => Sql::new(&mut fresh).readiness().await,
            None => Sql::new(&mut *self.reader().await?).readiness().await,
        }
    }

    fn metrics(&self) -> Option<StoreMetrics> {
        Some(self.measured().clone())
    }
}

/// A write's work returns sqlx errors; a corrupt row read inside it is
/// carried as one (decoding is what failed).
fn into_sqlx(e: StoreError) -> sqlx::Error {
    match e {
        StoreError::Database(e) => e,
        other => sqlx::Error::Decode(other.to_string().into()),
    }
}

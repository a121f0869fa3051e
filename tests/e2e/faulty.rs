//! A hub store that fails on purpose, to see what nodes do when the hub
//! answers 5xx or does not answer at all while their socket stays up.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tsunagu::protocol::epoch::HubEpoch;
use tsunagu::protocol::{AgencyId, CaseId, ConsentId, EnvelopeId, Notice, Seq, Timestamp};
use tsunagu::store::audit::AuditEntry;
use tsunagu::store::model::{
    AuditEvent, CaseRecord, Disclosure, DueReferral, DueReminder, FactsQuery, Lease, Policy,
    ReferralRecord, StatutoryUse,
};
use tsunagu::store::retention::{HoldOutcome, LegalHold, PurgeScope, ReleaseOutcome};
use tsunagu::store::{AcceptOutcome, AckOutcome, Delivery, HubStore, NewEnvelope, StoreError};

/// What goes wrong with the next accepts.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Fail before committing: the hub answers 500, nothing stored.
    Fail,
    /// Commit, then never answer until released: the client times out
    /// although the hub holds the envelope.
    HangAfterCommit,
}

/// Delegates everything to a real store, except that the first `count`
/// accepts meet `fault`.
pub struct FaultyStore {
    inner: Arc<dyn HubStore>,
    fault: Fault,
    remaining: AtomicU32,
    /// Ends every hang (a test cancels it before stopping the hub).
    pub release: CancellationToken,
    /// Gives the hub no wakeups from other hub processes, as if its
    /// LISTEN connection had stalled: only catch-up finds their commits.
    deaf: bool,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn HubStore>, fault: Fault, count: u32) -> Arc<Self> {
        Arc::new(Self {
            inner,
            fault,
            remaining: AtomicU32::new(count),
            release: CancellationToken::new(),
            deaf: false,
        })
    }

    /// A store that never faults but hears no other hub's notifications.
    pub fn deaf(inner: Arc<dyn HubStore>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            fault: Fault::Fail,
            remaining: AtomicU32::new(0),
            release: CancellationToken::new(),
            deaf: true,
        })
    }

    /// How many faults are still to come.
    pub fn remaining(&self) -> u32 {
        self.remaining.load(Ordering::SeqCst)
    }

    fn take_fault(&self) -> Option<Fault> {
        self.remaining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .ok()
            .map(|_| self.fault)
    }
}

#[async_trait]
impl HubStore for FaultyStore {
    async fn accept(
        &self,
        envelope: NewEnvelope,
        query: FactsQuery,
        policy: Policy,
    ) -> Result<AcceptOutcome, StoreError> {
        match self.take_fault() {
            None => self.inner.accept(envelope, query, policy).await,
            Some(Fault::Fail) => Err(StoreError::Batch("injected failure".into())),
            Some(Fault::HangAfterCommit) => {
                let outcome = self.inner.accept(envelope, query, policy).await;
                self.release.cancelled().await;
                outcome
            }
        }
    }

    async fn open_case(&self, case_id: &CaseId, agency: &AgencyId) -> Result<(), StoreError> {
        self.inner.open_case(case_id, agency).await
    }

    async fn case(&self, case_id: &CaseId) -> Result<Option<CaseRecord>, StoreError> {
        self.inner.case(case_id).await
    }

    async fn involved(&self, case_id: &CaseId, agency: &AgencyId) -> Result<bool, StoreError> {
        self.inner.involved(case_id, agency).await
    }

    async fn referral(&self, referral: EnvelopeId) -> Result<Option<ReferralRecord>, StoreError> {
        self.inner.referral(referral).await
    }

    async fn due_referrals(&self, now: &Timestamp) -> Result<Vec<DueReferral>, StoreError> {
        self.inner.due_referrals(now).await
    }

    async fn escalate(
        &self,
        due: &DueReferral,
        next_deadline: &Timestamp,
        notices: Vec<(AgencyId, Notice)>,
    ) -> Result<bool, StoreError> {
        self.inner.escalate(due, next_deadline, notices).await
    }

    async fn due_reminders(&self, now: &Timestamp) -> Result<Vec<DueReminder>, StoreError> {
        self.inner.due_reminders(now).await
    }

    async fn fire_reminder(&self, due: &DueReminder, now: &Timestamp) -> Result<bool, StoreError> {
        self.inner.fire_reminder(due, now).await
    }

    async fn due_consents(&self, now: &Timestamp) -> Result<Vec<ConsentId>, StoreError> {
        self.inner.due_consents(now).await
    }

    async fn expire_consent(
        &self,
        consent: ConsentId,
        now: &Timestamp,
    ) -> Result<bool, StoreError> {
        self.inner.expire_consent(consent, now).await
    }

    async fn disclosures(&self, case_id: &CaseId) -> Result<Vec<Disclosure>, StoreError> {
        self.inner.disclosures(case_id).await
    }

    async fn statutory_uses(&self) -> Result<Vec<StatutoryUse>, StoreError> {
        self.inner.statutory_uses().await
    }

    async fn record_violation(
        &self,
        envelope_id: EnvelopeId,
        reported_by: &AgencyId,
        detail: serde_json::Value,
    ) -> Result<(), StoreError> {
        self.inner
            .record_violation(envelope_id, reported_by, detail)
            .await
    }

    async fn violations(
        &self,
    ) -> Result<Vec<(EnvelopeId, AgencyId, serde_json::Value, Timestamp)>, StoreError> {
        self.inner.violations().await
    }

    async fn audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        self.inner.audit(event).await
    }

    async fn audit_entries(
        &self,
        from: Option<&Timestamp>,
        to: Option<&Timestamp>,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.audit_entries(from, to).await
    }

    async fn audit_head(&self) -> Result<Option<(u64, [u8; 32])>, StoreError> {
        self.inner.audit_head().await
    }

    async fn pending(
        &self,
        agency: &AgencyId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.inner.pending(agency, after, limit).await
    }

    async fn ack(&self, agency: &AgencyId, seq: Seq) -> Result<AckOutcome, StoreError> {
        self.inner.ack(agency, seq).await
    }

    async fn ack_burst(
        &self,
        agency: &AgencyId,
        seqs: Vec<Seq>,
    ) -> Result<Vec<AckOutcome>, StoreError> {
        self.inner.ack_burst(agency, seqs).await
    }

    async fn ack_through(&self, agency: &AgencyId, seq: Seq) -> Result<u64, StoreError> {
        self.inner.ack_through(agency, seq).await
    }

    async fn last_seq(&self, agency: &AgencyId) -> Result<Seq, StoreError> {
        self.inner.last_seq(agency).await
    }

    async fn envelope_body(&self, id: EnvelopeId) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.envelope_body(id).await
    }

    async fn delivery_wakeups(
        &self,
    ) -> Result<Option<mpsc::Receiver<Option<AgencyId>>>, StoreError> {
        if self.deaf {
            return Ok(None);
        }
        self.inner.delivery_wakeups().await
    }

    async fn close(&self) {
        self.release.cancel();
        self.inner.close().await
    }

    async fn delivery_heads(&self) -> Result<Vec<(AgencyId, Seq)>, StoreError> {
        self.inner.delivery_heads().await
    }

    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: &Timestamp,
        until: &Timestamp,
    ) -> Result<Lease, StoreError> {
        self.inner.take_lease(name, holder, now, until).await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.inner.release_lease(name, holder).await
    }

    async fn epoch(&self) -> Result<(HubEpoch, bool), StoreError> {
        self.inner.epoch().await
    }

    async fn renew_epoch(&self) -> Result<HubEpoch, StoreError> {
        self.inner.renew_epoch().await
    }

    async fn backup(&self, out: &std::path::Path) -> Result<Option<(u64, [u8; 32])>, StoreError> {
        self.inner.backup(out).await
    }

    async fn cancel_deliveries_to_revoked(
        &self,
        agency: &AgencyId,
        now: &Timestamp,
    ) -> Result<Vec<(EnvelopeId, AgencyId)>, StoreError> {
        self.inner.cancel_deliveries_to_revoked(agency, now).await
    }

    async fn backlog(&self) -> Result<Vec<tsunagu::store::Backlog>, StoreError> {
        self.inner.backlog().await
    }

    async fn readiness(&self) -> Result<tsunagu::store::Readiness, StoreError> {
        self.inner.readiness().await
    }

    fn metrics(&self) -> Option<tsunagu::store::metrics::StoreMetrics> {
        self.inner.metrics()
    }

    async fn purge_batch(
        &self,
        scope: PurgeScope,
        cutoff: &Timestamp,
        limit: u32,
    ) -> Result<u64, StoreError> {
        self.inner.purge_batch(scope, cutoff, limit).await
    }

    async fn purgeable(&self, scope: PurgeScope, cutoff: &Timestamp) -> Result<u64, StoreError> {
        self.inner.purgeable(scope, cutoff).await
    }

    async fn add_hold(
        &self,
        case_id: &CaseId,
        reason: &str,
        operator: &str,
    ) -> Result<HoldOutcome, StoreError> {
        self.inner.add_hold(case_id, reason, operator).await
    }

    async fn release_hold(
        &self,
        case_id: &CaseId,
        operator: &str,
    ) -> Result<ReleaseOutcome, StoreError> {
        self.inner.release_hold(case_id, operator).await
    }

    async fn holds(&self) -> Result<Vec<LegalHold>, StoreError> {
        self.inner.holds().await
    }
}

//! Persistence. The hub's store is a trait, implemented once in `sql` over
//! both backends; `sqlite` and `postgres` hold only what differs (connection
//! setup, migrations, how a write commits, locks and wakeups), chosen once
//! from the database URL. The conformance suite in `conformance` runs
//! against both. The agency node's own records
//! live in `records` (always SQLite).

pub mod audit;
pub mod conformance;
mod fixtures;
pub mod metrics;
pub mod model;
pub mod postgres;
pub mod records;
pub mod retention;
mod rows;
mod sql;
pub mod sqlite;
pub mod testing;
mod timestamp;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::protocol::epoch::HubEpoch;
use crate::protocol::{
    AgencyId, CaseId, ConsentId, Envelope, EnvelopeId, ErrorBody, Notice, Seq, Timestamp,
};
use audit::AuditEntry;
use model::{
    AuditEvent, CaseRecord, Disclosure, DueReferral, DueReminder, FactsQuery, Policy,
    ReferralRecord, StatutoryUse,
};
use retention::{HoldOutcome, LegalHold, PurgeScope, ReleaseOutcome};

/// A storage failure. Callers answer `internal` and log the cause chain.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite:PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A database file others could read: it holds what the service keeps
    /// (a node's, decrypted referrals). Refused until its mode is fixed.
    #[error(
        "{path} can be read by other users (mode {mode:o}): run `chmod 600 {path}*` as its owner, then start again"
    )]
    Exposed { path: String, mode: u32 },
    /// An encrypted records database the given records key does not open
    /// (a wrong or missing `keys.records_key`). Nothing was changed.
    #[error(
        "{path} を記録キーで開けません: agency.toml の keys.records_key が、このデータベースを作ったときのキーか確認してください（データベースは変更していません） / {path} cannot be opened with this records key: check that keys.records_key in agency.toml is the key this database was created with (the database is unchanged)"
    )]
    RecordsKey { path: String },
    #[error("group commit failed: {0}")]
    Batch(String),
    #[error("the store is shutting down")]
    Closed,
    /// `tsunagu admin backup` could not write its copy.
    #[error("backup failed: {0}")]
    Backup(String),
}

/// An envelope the hub has checked and is about to commit.
#[derive(Clone, Debug)]
pub struct NewEnvelope {
    /// The checked envelope.
    pub envelope: Envelope,
    /// [`Envelope::digest`], computed once by the caller.
    pub digest: [u8; 32],
    /// The envelope's JSON, stored and delivered as is.
    pub body: Vec<u8>,
}

/// What committing an envelope did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcceptOutcome {
    /// Newly stored; each recipient's sequence number.
    Stored(Vec<(AgencyId, Seq)>),
    /// The same id with the same bytes was stored before: nothing changed.
    Duplicate,
    /// The id was stored before with different bytes: refused, nothing changed.
    IdReused,
    /// The policy refused it with the facts of the moment: nothing changed.
    Refused(ErrorBody),
}

/// What acknowledging a delivery did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckOutcome {
    /// Marked acknowledged now.
    Acked,
    /// Marked acknowledged, though it had been cancelled after it was sent:
    /// the node holds it, so a `ConsentEnded` notice was queued for it.
    AckedAfterCancel,
    /// It had been acknowledged before.
    AlreadyAcked,
    /// No delivery with that sequence number exists for this agency.
    Unknown,
}

/// One queued delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The recipient's sequence number.
    pub seq: Seq,
    /// What is delivered.
    pub item: DeliveryItem,
}

/// An envelope or a hub notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryItem {
    /// An envelope, with its JSON as the sender signed it.
    Envelope { id: EnvelopeId, body: Vec<u8> },
    /// A notice from the hub.
    Notice(Notice),
}

/// The hub's durable state. Every method that changes state commits before it
/// returns: a caller may promise durability as soon as it gets `Ok`.
#[async_trait]
pub trait HubStore: Send + Sync + 'static {
    /// Load the facts `query` names, run `policy` on them and, if it
    /// allows, commit the envelope, one delivery per recipient, the effects
    /// and their audit entries — all in one transaction.
    async fn accept(
        &self,
        envelope: NewEnvelope,
        query: FactsQuery,
        policy: Policy,
    ) -> Result<AcceptOutcome, StoreError>;

    /// Record a new case issued by the hub.
    async fn open_case(&self, case_id: &CaseId, agency: &AgencyId) -> Result<(), StoreError>;

    /// A case.
    async fn case(&self, case_id: &CaseId) -> Result<Option<CaseRecord>, StoreError>;

    /// Whether `agency` opened, sent, received or is registered in the case.
    async fn involved(&self, case_id: &CaseId, agency: &AgencyId) -> Result<bool, StoreError>;

    /// A referral and its per-recipient states.
    async fn referral(&self, referral: EnvelopeId) -> Result<Option<ReferralRecord>, StoreError>;

    /// Referrals still `sent` whose 受理 deadline is at or before `now`.
    async fn due_referrals(&self, now: &Timestamp) -> Result<Vec<DueReferral>, StoreError>;

    /// Record one escalation of a due referral (if it is still due at
    /// `due.escalations`), queue the notices and set the next deadline.
    /// Returns false if someone else already handled it.
    async fn escalate(
        &self,
        due: &DueReferral,
        next_deadline: &Timestamp,
        notices: Vec<(AgencyId, Notice)>,
    ) -> Result<bool, StoreError>;

    /// Consents still in force whose end is at or before `now`.
    async fn due_consents(&self, now: &Timestamp) -> Result<Vec<ConsentId>, StoreError>;

    /// End a consent that expired: the same effects as a withdrawal.
    async fn expire_consent(&self, consent: ConsentId, now: &Timestamp)
    -> Result<bool, StoreError>;

    /// Meeting and plan reminders due at or before `now`.
    async fn due_reminders(&self, now: &Timestamp) -> Result<Vec<DueReminder>, StoreError>;

    /// Fire one due reminder (queue its notices), unless it was fired or
    /// replaced meanwhile. Returns whether this call fired it.
    async fn fire_reminder(&self, due: &DueReminder, now: &Timestamp) -> Result<bool, StoreError>;

    /// Who received what about a case, when, on which basis.
    async fn disclosures(&self, case_id: &CaseId) -> Result<Vec<Disclosure>, StoreError>;

    /// Every use of a statutory basis, newest first.
    async fn statutory_uses(&self) -> Result<Vec<StatutoryUse>, StoreError>;

    /// Record a category mismatch reported by a receiving node.
    async fn record_violation(
        &self,
        envelope_id: EnvelopeId,
        reported_by: &AgencyId,
        detail: serde_json::Value,
    ) -> Result<(), StoreError>;

    /// Reported violations, newest first, as (envelope, reporter, detail, time).
    async fn violations(
        &self,
    ) -> Result<Vec<(EnvelopeId, AgencyId, serde_json::Value, Timestamp)>, StoreError>;

    /// Append a standalone audit entry (connections, refusals).
    async fn audit(&self, event: AuditEvent) -> Result<(), StoreError>;

    /// Audit entries with `from <= at < to` (all when `None`), in chain order.
    async fn audit_entries(
        &self,
        from: Option<&Timestamp>,
        to: Option<&Timestamp>,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// The newest audit entry's position and hash (the chain's head), for
    /// the hub's signed checkpoints; `None` while the chain is empty.
    async fn audit_head(&self) -> Result<Option<(u64, [u8; 32])>, StoreError>;

    /// Unacknowledged deliveries for `agency` after `after`, in order.
    async fn pending(
        &self,
        agency: &AgencyId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Mark one delivery acknowledged.
    async fn ack(&self, agency: &AgencyId, seq: Seq) -> Result<AckOutcome, StoreError>;

    /// Acknowledge several deliveries in one transaction (a burst of acks
    /// read together from one socket): the outcome of each, in order. An
    /// unknown sequence number is answered `Unknown` and changes nothing;
    /// the others are committed all the same.
    async fn ack_burst(
        &self,
        agency: &AgencyId,
        seqs: Vec<Seq>,
    ) -> Result<Vec<AckOutcome>, StoreError>;

    /// Mark every delivery up to and including `seq` acknowledged (the node
    /// said it holds them). Returns how many changed.
    async fn ack_through(&self, agency: &AgencyId, seq: Seq) -> Result<u64, StoreError>;

    /// The highest sequence number assigned to `agency` (0 if none).
    async fn last_seq(&self, agency: &AgencyId) -> Result<Seq, StoreError>;

    /// The stored envelope JSON, as the hub holds it (ciphertext only).
    async fn envelope_body(&self, id: EnvelopeId) -> Result<Option<Vec<u8>>, StoreError>;

    /// Wakeups for deliveries committed by other hub processes sharing this
    /// store: `Some(agency)` has new deliveries, `None` means notifications
    /// may have been missed (wake everyone). Single-process stores have none.
    async fn delivery_wakeups(
        &self,
    ) -> Result<Option<mpsc::Receiver<Option<AgencyId>>>, StoreError> {
        Ok(None)
    }

    /// Close connections, finishing writes already queued.
    async fn close(&self);

    /// Every agency's highest assigned sequence number, in one cheap read
    /// (one row per agency): the hub's catch-up compares it between reads to
    /// wake the agencies whose notification it may have missed.
    async fn delivery_heads(&self) -> Result<Vec<(AgencyId, Seq)>, StoreError>;

    /// Take or renew lease `name` for `holder` until `until`, unless another
    /// holder's lease is still running at `now`; the lease as it stands
    /// after the attempt (its holder is `holder` when this call got it).
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: &Timestamp,
        until: &Timestamp,
    ) -> Result<model::Lease, StoreError>;

    /// Give lease `name` up if `holder` holds it (a graceful stop), so
    /// another hub takes it at once instead of after its expiry.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;

    /// The database's epoch (sent in `welcome`), made on first use; `true`
    /// when it was made by this call (a new or restored database).
    async fn epoch(&self) -> Result<(HubEpoch, bool), StoreError>;

    /// Begin a new epoch in place of the current one: for a database
    /// restored by other means than `tsunagu admin backup` (a hand-run
    /// `pg_dump`, a base backup), before any hub serves it.
    async fn renew_epoch(&self) -> Result<HubEpoch, StoreError>;

    /// Write a consistent copy of the database, taken while the hub runs,
    /// into `out` (an empty file the caller made): SQLite's `VACUUM INTO`,
    /// PostgreSQL's `pg_dump` (custom format). The copy holds no epoch, so a
    /// hub started on it makes a new one. Returns the audit chain's head in
    /// the copy (PostgreSQL: as read just before the dump began).
    async fn backup(&self, out: &Path) -> Result<Option<(u64, [u8; 32])>, StoreError>;

    /// `agency` was revoked from the directory: cancel every delivery to
    /// it not yet acknowledged, tell each envelope's sender
    /// ([`Notice::RecipientRevoked`]) and audit it, in one transaction.
    /// Returns each cancelled envelope with its sender.
    async fn cancel_deliveries_to_revoked(
        &self,
        agency: &AgencyId,
        now: &Timestamp,
    ) -> Result<Vec<(EnvelopeId, AgencyId)>, StoreError>;

    /// Purge at most `limit` of what `scope` names whose retention ended at
    /// `cutoff`, in one transaction (one batch: the write lock is held for
    /// this many, not for the whole purge); how many were purged. An
    /// envelope's body is emptied (its row stays: replay protection, the
    /// policy and the disclosure record read it) once it was accepted and
    /// every delivery of it acknowledged by `cutoff`, unless its case is
    /// held; an acknowledged notice is deleted.
    async fn purge_batch(
        &self,
        scope: PurgeScope,
        cutoff: &Timestamp,
        limit: u32,
    ) -> Result<u64, StoreError>;

    /// How many [`HubStore::purge_batch`] would purge with `cutoff`, all
    /// batches together (a dry run).
    async fn purgeable(&self, scope: PurgeScope, cutoff: &Timestamp) -> Result<u64, StoreError>;

    /// Place a legal hold on a case, audited with `operator` (the reason is
    /// kept with the hold, never in the chain).
    async fn add_hold(
        &self,
        case_id: &CaseId,
        reason: &str,
        operator: &str,
    ) -> Result<HoldOutcome, StoreError>;

    /// Release a case's legal hold, audited with `operator`.
    async fn release_hold(
        &self,
        case_id: &CaseId,
        operator: &str,
    ) -> Result<ReleaseOutcome, StoreError>;

    /// The holds in force, oldest first.
    async fn holds(&self) -> Result<Vec<LegalHold>, StoreError>;

    /// Deliveries neither acknowledged nor cancelled, per recipient agency
    /// that has any, in one query (the metrics scrape reads it).
    async fn backlog(&self) -> Result<Vec<Backlog>, StoreError>;

    /// Whether the database answers and holds every migration this build
    /// knows (`/readyz`). `Err` when it does not answer.
    async fn readiness(&self) -> Result<Readiness, StoreError>;

    /// The store's own measurements, if it takes any (a wrapper need not).
    fn metrics(&self) -> Option<metrics::StoreMetrics> {
        None
    }
}

/// One agency's queue at the hub.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backlog {
    /// The recipient.
    pub agency: AgencyId,
    /// Deliveries neither acknowledged nor cancelled.
    pub pending: u64,
    /// When the hub accepted the oldest pending envelope (notices carry no
    /// time of their own; `None` when only notices are pending).
    pub oldest: Option<Timestamp>,
}

/// What the readiness check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// The database answers and its schema is this build's.
    Ready,
    /// The database answers, but its newest applied migration is not this
    /// build's newest (`None`: none applied, e.g. an empty database).
    Migrations { applied: Option<i64>, expected: i64 },
}

/// Open the hub store named by `url` (`sqlite:…` or `postgres://…`),
/// creating and migrating it as needed.
pub async fn open(url: &str) -> Result<Arc<dyn HubStore>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::open(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}

/// The categories of an envelope as stored (a JSON array).
fn categories_json(envelope: &Envelope) -> String {
    serde_json::to_string(&envelope.meta().categories).unwrap_or_else(|_| "[]".into())
}

fn seq_from_db(v: i64) -> Seq {
    Seq(u64::try_from(v).unwrap_or(0))
}

fn seq_to_db(s: Seq) -> i64 {
    i64::try_from(s.0).unwrap_or(i64::MAX)
}

fn parse_envelope_id(text: &str) -> Result<EnvelopeId, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("bad envelope id {text:?}")))
}

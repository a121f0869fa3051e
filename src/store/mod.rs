//! Persistence. The hub's store is a trait with one module per backend
//! (SQLite, PostgreSQL), chosen once from the database URL; the conformance
//! suite in `conformance` runs against both. The agency node's own records
//! live in `records` (always SQLite).

pub mod conformance;
pub mod postgres;
pub mod records;
pub mod sqlite;
pub mod testing;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::protocol::{AgencyId, Envelope, EnvelopeId, Seq};

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
    #[error("group commit failed: {0}")]
    Batch(String),
    #[error("the store is shutting down")]
    Closed,
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
}

/// What acknowledging a delivery did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckOutcome {
    /// Marked acknowledged now.
    Acked,
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
    /// The envelope.
    pub envelope_id: EnvelopeId,
    /// The envelope JSON as the sender signed it.
    pub body: Vec<u8>,
}

/// The hub's durable state. Every method that changes state commits before it
/// returns: a caller may promise durability as soon as it gets `Ok`.
#[async_trait]
pub trait HubStore: Send + Sync + 'static {
    /// Commit the envelope and one delivery per recipient in one transaction.
    async fn accept(&self, envelope: NewEnvelope) -> Result<AcceptOutcome, StoreError>;

    /// Unacknowledged deliveries for `agency` after `after`, in order.
    async fn pending(
        &self,
        agency: &AgencyId,
        after: Seq,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Mark one delivery acknowledged.
    async fn ack(&self, agency: &AgencyId, seq: Seq) -> Result<AckOutcome, StoreError>;

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
    serde_json::to_string(&envelope.meta.categories).unwrap_or_else(|_| "[]".into())
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

//! The hub store on PostgreSQL, for a hub that outgrows one machine: several
//! hub processes share one database. Each write is its own transaction; the
//! per-recipient cursor row lock orders concurrent senders.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{PgConnection, PgPool};
use tokio::sync::mpsc;

use super::{
    AcceptOutcome, AckOutcome, Delivery, HubStore, NewEnvelope, StoreError, categories_json,
    parse_envelope_id, seq_from_db, seq_to_db,
};
use crate::protocol::{AgencyId, EnvelopeId, Seq, Timestamp};

/// Channel on which a commit announces new deliveries (payload: agency id),
/// so a hub process holding the recipient's socket wakes up.
pub const DELIVERY_CHANNEL: &str = "tsunagu_delivery";

/// PostgreSQL-backed hub store.
pub struct PgStore {
    pool: PgPool,
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
}

/// Concurrent senders can collide on the same new envelope id (unique
/// violation) or, rarely, deadlock on cursor rows; both are safe to retry.
fn is_retryable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.is_unique_violation() || matches!(db.code().as_deref(), Some("40P01" | "40001"))
        }
        _ => false,
    }
}

async fn accept(conn: &mut PgConnection, e: &NewEnvelope) -> Result<AcceptOutcome, sqlx::Error> {
    let meta = &e.envelope.meta;
    let id = meta.id.to_string();
    let existing: Option<(Vec<u8>,)> = sqlx::query_as("SELECT digest FROM envelopes WHERE id = $1")
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
         accepted_at, digest, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
    // Lock cursor rows in one global order so two senders never deadlock.
    let mut recipients: Vec<&AgencyId> = meta.recipients.iter().collect();
    recipients.sort();
    let mut seqs = Vec::with_capacity(recipients.len());
    for recipient in recipients {
        let (seq,): (i64,) = sqlx::query_as(
            "INSERT INTO agency_cursors (agency, last_seq) VALUES ($1, 1) \
             ON CONFLICT (agency) DO UPDATE SET last_seq = agency_cursors.last_seq + 1 \
             RETURNING last_seq",
        )
        .bind(recipient.as_str())
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query("INSERT INTO deliveries (recipient, seq, envelope_id) VALUES ($1, $2, $3)")
            .bind(recipient.as_str())
            .bind(seq)
            .bind(&id)
            .execute(&mut *conn)
            .await?;
        // Delivered to listeners only if the transaction commits.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(DELIVERY_CHANNEL)
            .bind(recipient.as_str())
            .execute(&mut *conn)
            .await?;
        seqs.push((recipient.clone(), seq_from_db(seq)));
    }
    Ok(AcceptOutcome::Stored(seqs))
}

#[async_trait]
impl HubStore for PgStore {
    async fn accept(&self, envelope: NewEnvelope) -> Result<AcceptOutcome, StoreError> {
        let mut attempt = 0;
        loop {
            let mut tx = self.pool.begin().await?;
            match accept(&mut tx, &envelope).await {
                Ok(outcome) => {
                    tx.commit().await?;
                    return Ok(outcome);
                }
                Err(e) if attempt < 5 && is_retryable(&e) => {
                    tx.rollback().await?;
                    attempt += 1;
                }
                Err(e) => return Err(e.into()),
            }
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
             WHERE d.recipient = $1 AND d.seq > $2 AND d.acked_at IS NULL \
             ORDER BY d.seq LIMIT $3",
        )
        .bind(agency.as_str())
        .bind(seq_to_db(after))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
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
        let updated = sqlx::query(
            "UPDATE deliveries SET acked_at = $1 WHERE recipient = $2 AND seq = $3 AND acked_at IS NULL",
        )
        .bind(Timestamp::now().as_str())
        .bind(agency.as_str())
        .bind(seq_to_db(seq))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if updated == 1 {
            return Ok(AckOutcome::Acked);
        }
        let exists: Option<(i64,)> =
            sqlx::query_as("SELECT seq FROM deliveries WHERE recipient = $1 AND seq = $2")
                .bind(agency.as_str())
                .bind(seq_to_db(seq))
                .fetch_optional(&self.pool)
                .await?;
        Ok(if exists.is_some() {
            AckOutcome::AlreadyAcked
        } else {
            AckOutcome::Unknown
        })
    }

    async fn ack_through(&self, agency: &AgencyId, seq: Seq) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE deliveries SET acked_at = $1 WHERE recipient = $2 AND seq <= $3 AND acked_at IS NULL",
        )
        .bind(Timestamp::now().as_str())
        .bind(agency.as_str())
        .bind(seq_to_db(seq))
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    async fn last_seq(&self, agency: &AgencyId) -> Result<Seq, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT last_seq FROM agency_cursors WHERE agency = $1")
                .bind(agency.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(s,)| seq_from_db(s)).unwrap_or_default())
    }

    async fn envelope_body(&self, id: EnvelopeId) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as("SELECT body FROM envelopes WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(body,)| body))
    }

    async fn delivery_wakeups(
        &self,
    ) -> Result<Option<mpsc::Receiver<Option<AgencyId>>>, StoreError> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(DELIVERY_CHANNEL).await?;
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(async move {
            loop {
                let wake = match listener.try_recv().await {
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

//! The agency node's own records (SQLite): inbox, outbox, quarantine and the
//! delivery cursor. Each delivery is stored together with the cursor in one
//! transaction, and only then acknowledged.

mod cases;
mod checkpoints;
mod directory;
mod drafts;
mod epoch;
mod ledger;
mod outbox;
mod staff;
mod support;
#[cfg(test)]
mod upgrade;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteSynchronous};

use super::sqlite::cipher;

use super::{StoreError, seq_from_db, seq_to_db};
use crate::protocol::notice::ConsentEnd;
use crate::protocol::{
    Action, AgencyId, Envelope, EnvelopeId, Notice, ReferralState, Seq, Timestamp,
};

/// A received, verified, decrypted envelope.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct InboxRow {
    pub envelope_id: String,
    pub seq: i64,
    pub sender: String,
    pub kind: String,
    pub case_id: Option<String>,
    pub urgency: String,
    pub created_at: Timestamp,
    pub received_at: Timestamp,
    /// Decrypted payload JSON.
    pub payload: String,
    /// `withdrawn` or `expired` once the consent it was shared under ended.
    pub consent_end_reason: Option<String>,
}

pub use cases::{CaseRecord, CaseRow};
pub use checkpoints::{CheckpointOutcome, CheckpointRow};
pub use directory::{DirectoryKept, DirectoryRow};
pub use drafts::DraftRow;
pub use epoch::{RestoreRow, Welcomed};
pub use ledger::{HeldEnvelope, LedgerEntryRow, NumberTaken};
pub use outbox::{DueEntry, OutboxRow, OutboxStatus};
pub use staff::{
    AccessRow, SecondFactor, SessionRow, StaffChange, StaffRef, StaffRow, ThrottleRule,
    ThrottleScope,
};
pub use support::{
    ContactRow, LinkRow, SubjectRow, SubjectWrite, SupportBatch, SupportWriteError, TierChangeRow,
};

/// The node's database.
#[derive(Clone)]
pub struct Records {
    /// One connection (see `connect`).
    pool: SqlitePool,
    /// One connection that commits without waiting for the disk
    /// (`synchronous=NORMAL`), for what the hub holds anyway: a power cut
    /// may undo such a commit, never corrupt the file, and the next commit
    /// on `pool` makes it durable with its own.
    relaxed: SqlitePool,
    file: std::path::PathBuf,
}

impl Records {
    /// Open (creating and migrating) plain, unencrypted records at `url`
    /// (`sqlite:PATH`): for tests and benchmarks. A node opens its records
    /// with [`Records::open_encrypted`].
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let options = super::sqlite::connect_options(url)?;
        if cipher::state(options.get_filename())? == cipher::FileState::Encrypted {
            return Err(StoreError::RecordsKey {
                path: options.get_filename().display().to_string(),
            });
        }
        Self::connect(options).await
    }

    /// Open (creating and migrating) the records at `url`, encrypted at rest
    /// with `key`. Records written before encryption (a plain SQLite file)
    /// are encrypted in place first, once. A key that does not open them is
    /// refused and nothing is changed.
    #[tracing::instrument(skip_all)]
    pub async fn open_encrypted(url: &str, key: &[u8; 32]) -> Result<Self, StoreError> {
        let options = super::sqlite::connect_options(url)?;
        let file = options.get_filename().to_owned();
        cipher::quiet().await?;
        if cipher::state(&file)? == cipher::FileState::Plain {
            tracing::warn!(file = %file.display(), "encrypting the plain records database in place");
            cipher::encrypt_in_place(&file, key).await?;
            tracing::info!(file = %file.display(), "records database encrypted");
        }
        Self::connect(cipher::keyed(options, key))
            .await
            .map_err(|e| match e {
                StoreError::Database(e) if cipher::is_wrong_key(&e) => StoreError::RecordsKey {
                    path: file.display().to_string(),
                },
                other => other,
            })
    }

    /// Whether the records at `url` exist and are encrypted: a node whose
    /// records key is missing must not make a new one for them.
    pub fn is_encrypted(url: &str) -> Result<bool, StoreError> {
        let options: SqliteConnectOptions = url.parse()?;
        Ok(cipher::state(options.get_filename())? == cipher::FileState::Encrypted)
    }

    async fn connect(options: SqliteConnectOptions) -> Result<Self, StoreError> {
        let file = options.get_filename().to_owned();
        // One connection for every read and write (but the outbox's
        // "accepted" marks, on `relaxed`). SQLite drops a connection's page cache whenever another connection
        // has written since, and every page of encrypted records read back
        // costs a decryption and an HMAC; concurrent writers also met
        // SQLite's write lock, whose busy handler sleeps and polls, where
        // here they queue and are woken at once. A node's queries take
        // microseconds, so it loses no concurrency it needs (measured:
        // docs/benchmarks.md, "The node's records on one connection").
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/agency").run(&pool).await?;
        // Connected at first use: only a node that sends needs it, not every
        // command that opens the records.
        let relaxed = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(options.synchronous(SqliteSynchronous::Normal));
        Ok(Self {
            pool,
            relaxed,
            file,
        })
    }

    /// The database file (the node's other local files sit beside it).
    pub fn file(&self) -> &std::path::Path {
        &self.file
    }

    /// Close the database.
    pub async fn close(&self) {
        self.relaxed.close().await;
        self.pool.close().await;
    }

    /// The highest delivery sequence stored, as the hub numbers it (in
    /// the current epoch: see [`Records::welcomed`]).
    pub async fn cursor(&self) -> Result<Seq, StoreError> {
        let (seq,): (i64,) =
            sqlx::query_as("SELECT last_seq - seq_offset FROM stream_cursor WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok(seq_from_db(seq))
    }

    /// Store a verified delivery and advance the cursor, atomically. A
    /// redelivery of an envelope already held changes nothing but the cursor.
    /// A referral update also records the new state.
    pub async fn store_delivery(
        &self,
        seq: Seq,
        envelope: &Envelope,
        envelope_json: &[u8],
        payload_json: &str,
    ) -> Result<(), StoreError> {
        let delivery = Verified {
            seq,
            envelope,
            envelope_json,
            payload_json,
        };
        self.store_deliveries(std::slice::from_ref(&delivery)).await
    }

    /// Store verified deliveries, in stream order, and advance the cursor
    /// past them, in one transaction: a burst that arrived together costs
    /// one commit (one fsync, and each page written and encrypted once).
    pub async fn store_deliveries(&self, deliveries: &[Verified<'_>]) -> Result<(), StoreError> {
        let Some(last) = deliveries.iter().map(|d| d.seq).max() else {
            return Ok(());
        };
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for d in deliveries {
            insert_delivery(&mut tx, d).await?;
        }
        advance_cursor(&mut tx, last).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Store a hub notice and advance the cursor, atomically; a consent that
    /// ended is marked on the records received under it.
    pub async fn store_notice(&self, seq: Seq, notice: &Notice) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let kind = notice.kind_name();
        // A notice held from before a restore of the hub, sent again by the
        // restored hub under a new number, is the same notice: kept once.
        let text = serde_json::to_string(notice).unwrap_or_default();
        sqlx::query(
            "INSERT INTO notices (seq, kind, notice, received_at) \
             SELECT c.seq_offset + ?1, ?2, ?3, ?4 FROM stream_cursor c WHERE c.id = 1 \
             AND NOT EXISTS (SELECT 1 FROM notices n WHERE n.notice = ?3 AND n.seq <= c.seq_offset) \
             ON CONFLICT (seq) DO NOTHING",
        )
        .bind(seq_to_db(seq))
        .bind(kind)
        .bind(&text)
        .bind(Timestamp::now())
            .execute(&mut *tx)
            .await?;
        if let Notice::ConsentEnded {
            reason, envelopes, ..
        } = notice
        {
            let reason = match reason {
                ConsentEnd::Withdrawn => "withdrawn",
                ConsentEnd::Expired => "expired",
            };
            for id in envelopes {
                sqlx::query(
                    "UPDATE inbox SET consent_ended_at = ?, consent_end_reason = ? \
                     WHERE envelope_id = ? AND consent_ended_at IS NULL",
                )
                .bind(Timestamp::now())
                .bind(reason)
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            }
        }
        advance_cursor(&mut tx, seq).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Notices received, newest first, as (kind, notice).
    pub async fn notices(&self) -> Result<Vec<(String, Notice)>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT kind, notice FROM notices ORDER BY seq DESC")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(kind, json)| {
                let notice = serde_json::from_str(&json)
                    .map_err(|e| StoreError::Corrupt(format!("notice: {e}")))?;
                Ok((kind, notice))
            })
            .collect()
    }

    /// Where a referral stands with each recipient, as this node last heard.
    pub async fn referral_states(
        &self,
        referral: EnvelopeId,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT recipient, state FROM referral_states WHERE referral = ? ORDER BY recipient",
        )
        .bind(referral.to_string())
        .fetch_all(&self.pool)
        .await?)
    }

    /// Whether a received record's consent has ended (withdrawn or expired).
    pub async fn consent_ended(&self, id: EnvelopeId) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT consent_end_reason FROM inbox WHERE envelope_id = ?")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(r,)| r))
    }

    /// Keep a delivery that failed verification, and advance the cursor.
    pub async fn quarantine(
        &self,
        seq: Seq,
        envelope_id: Option<EnvelopeId>,
        sender: Option<&str>,
        reason: &str,
        envelope_json: &[u8],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO quarantine (seq, envelope_id, sender, reason, envelope, received_at) \
             SELECT seq_offset + ?, ?, ?, ?, ?, ? FROM stream_cursor WHERE id = 1 \
             ON CONFLICT (seq) DO NOTHING",
        )
        .bind(seq_to_db(seq))
        .bind(envelope_id.map(|i| i.to_string()))
        .bind(sender)
        .bind(reason)
        .bind(envelope_json)
        .bind(Timestamp::now())
        .execute(&mut *tx)
        .await?;
        advance_cursor(&mut tx, seq).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The inbox, newest first.
    pub async fn inbox(&self) -> Result<Vec<InboxRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT envelope_id, seq, sender, kind, case_id, urgency, created_at, received_at, payload, \
             consent_end_reason FROM inbox ORDER BY seq DESC",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// One inbox entry.
    pub async fn inbox_item(&self, id: EnvelopeId) -> Result<Option<InboxRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT envelope_id, seq, sender, kind, case_id, urgency, created_at, received_at, payload, \
             consent_end_reason FROM inbox WHERE envelope_id = ?",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The envelope as signed, of a record received or sent, so staff can
    /// be shown its metadata (basis, consent, categories, action).
    pub async fn envelope_bytes(&self, id: EnvelopeId) -> Result<Option<Vec<u8>>, StoreError> {
        let row: Option<(Vec<u8>,)> = sqlx::query_as(
            "SELECT envelope FROM inbox WHERE envelope_id = ?1 \
             UNION ALL SELECT envelope FROM outbox WHERE envelope_id = ?1 LIMIT 1",
        )
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(bytes,)| bytes))
    }

    /// How many deliveries are quarantined.
    pub async fn quarantined(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM quarantine")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }
}

/// A delivery verified and decrypted, as [`Records::store_deliveries`] takes it.
pub struct Verified<'a> {
    pub seq: Seq,
    pub envelope: &'a Envelope,
    /// The envelope as it arrived.
    pub envelope_json: &'a [u8],
    /// Its decrypted payload.
    pub payload_json: &'a str,
}

/// Keep one delivery (the caller advances the cursor). A redelivery of an
/// envelope already held changes nothing; a referral update also records
/// the new state.
async fn insert_delivery(
    conn: &mut sqlx::SqliteConnection,
    d: &Verified<'_>,
) -> Result<(), sqlx::Error> {
    let meta = d.envelope.meta();
    if let Some(Action::UpdateReferral { referral, state }) = &meta.action {
        // Only the referral's sender cancels, for the recipients it names;
        // every other state comes from a recipient, about itself.
        let changed: Vec<&AgencyId> = if *state == ReferralState::Cancelled {
            meta.recipients.iter().collect()
        } else {
            vec![&meta.sender]
        };
        for agency in changed {
            set_state(&mut *conn, *referral, agency, *state).await?;
        }
    }
    sqlx::query(
        "INSERT INTO inbox (envelope_id, seq, sender, kind, case_id, urgency, created_at, \
         received_at, envelope, payload) \
         SELECT ?, seq_offset + ?, ?, ?, ?, ?, ?, ?, ?, ? FROM stream_cursor WHERE id = 1 \
         ON CONFLICT (envelope_id) DO NOTHING",
    )
    .bind(meta.id.to_string())
    .bind(seq_to_db(d.seq))
    .bind(meta.sender.as_str())
    .bind(meta.kind.as_str())
    .bind(meta.case_id.as_ref().map(|c| c.as_str()))
    .bind(meta.urgency.as_str())
    .bind(meta.created_at)
    .bind(Timestamp::now())
    .bind(d.envelope_json)
    .bind(d.payload_json)
    .execute(conn)
    .await?;
    Ok(())
}

async fn set_state(
    conn: &mut sqlx::SqliteConnection,
    referral: EnvelopeId,
    agency: &AgencyId,
    state: ReferralState,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO referral_states (referral, recipient, state, updated_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (referral, recipient) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
    )
    .bind(referral.to_string())
    .bind(agency.as_str())
    .bind(state.as_str())
    .bind(Timestamp::now())
    .execute(conn)
    .await?;
    Ok(())
}

async fn advance_cursor(conn: &mut sqlx::SqliteConnection, seq: Seq) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE stream_cursor SET last_seq = MAX(last_seq, seq_offset + ?) WHERE id = 1")
        .bind(seq_to_db(seq))
        .execute(conn)
        .await?;
    Ok(())
}

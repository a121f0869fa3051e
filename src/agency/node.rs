//! The agency node: keeps the connection to the hub, stores every delivery
//! in the agency's own records before acknowledging it, and sends what staff
//! write (through a durable outbox).

mod directory;
mod restore;

pub use restore::DEFAULT_RESEND_MARGIN_SECS;

use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use futures::{FutureExt, SinkExt, StreamExt};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::client::{ClientError, HubClient, HubSocket};
use super::config::AgencyConfig;
use super::outbox::{self, HubAnswer, Outbox};
use super::sealed::{Draft, SealError, open_envelope_with, seal_draft};
use crate::crypto::hub_signed::{self, HubSignatureError};
use crate::crypto::{keys, tls};
use crate::directory::{Directory, SignedDirectory};
use crate::protocol::api::{
    CaseOpened, Disclosure, ReferralStatus, StatutoryUse, Violation, ViolationReport,
};
use crate::protocol::checkpoint::SignedCheckpoint;
use crate::protocol::notice::SignedNotice;
use crate::protocol::{
    AgencyId, CaseId, ClientFrame, Envelope, EnvelopeId, ErrorBody, ErrorCode, HubFrame, Notice,
    Seq,
};
use crate::store::StoreError;
use crate::store::records::{CheckpointOutcome, Records, Verified};
use directory::TrustedDirectory;

/// Something the node did, for the CLI, the demo and tests to observe.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeEvent {
    /// The hub welcomed the node; deliveries follow.
    Connected { last_seq: Seq },
    /// A delivery was verified, decrypted, stored and acknowledged.
    Stored {
        seq: Seq,
        envelope_id: EnvelopeId,
        sender: AgencyId,
    },
    /// A delivery failed verification; kept aside and acknowledged.
    Quarantined { seq: Seq, reason: String },
    /// A notice from the hub was verified, stored and acknowledged.
    Notice { seq: Seq, notice: Notice },
    /// A checkpoint of the hub's audit chain was verified and stored (or
    /// was held already).
    Checkpoint { count: u64 },
    /// A checkpoint whose signature did not verify: not stored.
    CheckpointRefused { reason: String },
    /// A verified checkpoint contradicts one held before: the hub's audit
    /// history was truncated or rewritten. Kept as evidence.
    HistoryRewritten { reason: String },
    /// The decrypted content went beyond what the envelope declared (or a
    /// statutory basis came without a justification); reported to the hub.
    ViolationReported { envelope_id: EnvelopeId },
    /// The hub answered for an envelope the running node sent from the
    /// outbox (one its sender could not get through).
    Answered { id: EnvelopeId, answer: HubAnswer },
    /// The hub refused a frame.
    HubError(ErrorBody),
    /// A newer CA-signed directory was accepted and is now in use.
    DirectoryUpdated { version: u64 },
    /// The directory the hub offered was refused (unsigned, signed by
    /// another key, altered or older); the node keeps the one it had.
    DirectoryRefused { reason: String },
    /// The connection ended; the node will reconnect.
    Disconnected { reason: String },
    /// The hub was restored from a backup (its database epoch changed);
    /// raised at the first checkpoint after it, with the chain's lengths.
    HubRestored(crate::store::records::RestoreRow),
}

/// The result of sending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// The hub has durably committed the envelope.
    Accepted { id: EnvelopeId, duplicate: bool },
    /// The hub was unreachable (or failed); the envelope waits in the outbox
    /// and the running node (`agency run`) sends it as soon as it can.
    Queued { id: EnvelopeId, reason: String },
}

/// Why a node operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Config(#[from] super::config::AgencyConfigError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error(transparent)]
    Keys(#[from] crate::crypto::CryptoError),
    #[error(transparent)]
    Directory(#[from] crate::directory::DirectoryError),
    #[error(transparent)]
    Signature(#[from] crate::directory::SignatureError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("agency {0} is not in the directory")]
    NotInDirectory(AgencyId),
    #[error("refused by the hub: {}", .0.message_en)]
    Refused(ErrorBody),
    #[error("a statutory basis needs the staff's written justification")]
    JustificationMissing,
    #[error("hub unreachable: {0}")]
    Unreachable(String),
}

/// Open the node's records, encrypted at rest with its records key. A node
/// configured before records were encrypted gets its key created beside the
/// age identity at first start (its plain records are then encrypted in
/// place by [`Records::open_encrypted`]): an upgrade needs no hand work.
pub async fn open_records(config: &AgencyConfig) -> Result<Records, NodeError> {
    let key = keys::load_records_key(&ensure_records_key(config)?)?;
    Ok(Records::open_encrypted(&config.database, key.expose()).await?)
}

/// The records key's path; for a config that names none, the key beside the
/// age identity, created (0600) if it is not there yet.
pub fn ensure_records_key(config: &AgencyConfig) -> Result<std::path::PathBuf, NodeError> {
    let path = config.keys.records_key_path();
    if config.keys.records_key.is_none() && !path.exists() {
        // Records already encrypted: their key is lost or moved, and a new
        // one would not open them.
        if Records::is_encrypted(&config.database)? {
            return Err(StoreError::RecordsKey {
                path: config.database.clone(),
            }
            .into());
        }
        let key = keys::RecordsKey::generate();
        let text = keys::records_key_file(&key, &format!("{} records key", config.id));
        crate::crypto::files::write_secret(&path, &text).map_err(|e| {
            crate::crypto::CryptoError::KeyFile {
                path: e.path,
                source: e.source,
            }
        })?;
        tracing::info!(file = %path.display(), "created the records key");
    }
    Ok(path)
}

/// One agency's node.
pub struct Node {
    id: AgencyId,
    /// Newest first: after a key rotation the old identities still open
    /// what was sent to them.
    identities: Vec<age::x25519::Identity>,
    signing: SigningKey,
    /// The directory as the node opened with it (names for display).
    directory: Arc<Directory>,
    /// The newest accepted directory, whose keys seal and verify.
    trusted: TrustedDirectory,
    records: Records,
    client: HubClient,
    outbox: Outbox,
    events: broadcast::Sender<NodeEvent>,
    idle_timeout: Duration,
    /// See [`restore::DEFAULT_RESEND_MARGIN_SECS`].
    resend_margin: Duration,
}

impl Node {
    /// Load keys and TLS material, open the records and the directory (the
    /// pinned file, or the hub's), refusing one the CA did not sign or one
    /// older than the node has accepted before.
    pub async fn open(config: &AgencyConfig) -> Result<Self, NodeError> {
        let tls = tls::client_config_from_files(&config.tls.ca, &config.tls.cert, &config.tls.key)?;
        let mut client =
            HubClient::new(&config.hub, tls).map_err(|e| NodeError::Unreachable(e.to_string()))?;
        if let Some(secs) = config.request_timeout_secs {
            client = client.with_request_timeout(Duration::from_secs(secs));
        }
        let records = open_records(config).await?;
        let trusted = TrustedDirectory::open(config, &client, &records).await?;
        let directory = trusted.current().directory().clone();
        if directory.get(&config.id).is_none() {
            return Err(NodeError::NotInDirectory(config.id.clone()));
        }
        let events = broadcast::channel(1024).0;
        Ok(Self {
            id: config.id.clone(),
            identities: keys::load_age_identities(&config.keys.age_identity)?,
            signing: keys::load_signing_key(&config.keys.signing_key)?,
            directory: Arc::new(directory),
            trusted,
            outbox: Outbox::new(client.clone(), records.clone(), events.clone()),
            records,
            client,
            events,
            idle_timeout: Duration::from_secs(60),
            resend_margin: Duration::from_secs(
                config
                    .restore_resend_margin_secs
                    .unwrap_or(DEFAULT_RESEND_MARGIN_SECS),
            ),
        })
    }

    /// This agency.
    pub fn id(&self) -> &AgencyId {
        &self.id
    }

    /// The directory the node opened with: names and kinds for display.
    /// The keys that seal and verify come from [`Node::current_directory`],
    /// which a running node moves to a newer signed directory.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The newest CA-signed directory the node has accepted.
    pub fn current_directory(&self) -> Arc<SignedDirectory> {
        self.trusted.current()
    }

    /// The agency's own records.
    pub fn records(&self) -> &Records {
        &self.records
    }

    /// The client, for direct requests.
    pub fn client(&self) -> &HubClient {
        &self.client
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<NodeEvent> {
        self.events.subscribe()
    }

    /// Seal, record in the outbox, then submit. A refusal is recorded and
    /// returned; an unreachable hub leaves the envelope queued for the
    /// running node.
    pub async fn send(&self, draft: &Draft) -> Result<Sent, NodeError> {
        let id = self.enqueue(draft).await?;
        self.outbox.send_new(id).await
    }

    /// Seal and record in the outbox, without sending: the running node
    /// (`agency run`) sends it once the sender's lease has passed. [`send`]
    /// is this and then the submission; a command that dies in between
    /// leaves exactly this behind.
    ///
    /// [`send`]: Node::send
    pub async fn enqueue(&self, draft: &Draft) -> Result<EnvelopeId, NodeError> {
        let statutory = draft.basis.as_ref().is_some_and(|b| b.is_statutory());
        if statutory
            && draft
                .payload
                .justification
                .as_deref()
                .is_none_or(|j| j.trim().is_empty())
        {
            return Err(NodeError::JustificationMissing);
        }
        // Encoded once: the outbox keeps these bytes and the hub gets them.
        let current = self.trusted.current();
        let envelope = seal_draft(&self.id, &self.signing, current.directory(), draft)?;
        let payload =
            serde_json::to_string(&draft.payload).map_err(|e| SealError::Payload(e.to_string()))?;
        self.records
            .add_outbox(&envelope, &payload, outbox::LEASE)
            .await?;
        Ok(envelope.meta().id)
    }

    /// Keep connected until `shutdown`: reconnect with jittered exponential
    /// backoff, so a hub restart does not meet every node at once. The
    /// outbox is sent beside the stream, so a slow hub answer never holds up
    /// acknowledgements.
    pub async fn run(&self, shutdown: CancellationToken) {
        let worker = tokio::spawn(self.outbox.clone().run(shutdown.clone()));
        self.keep_connected(&shutdown).await;
        shutdown.cancel();
        let _ = worker.await;
    }

    async fn keep_connected(&self, shutdown: &CancellationToken) {
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            let reason = match self.stream(shutdown, &mut failures).await {
                Ok(()) => return,
                Err(reason) => reason,
            };
            tracing::info!(agency = %self.id, %reason, "disconnected from hub");
            let _ = self.events.send(NodeEvent::Disconnected { reason });
            failures = failures.saturating_add(1);
            tokio::select! {
                _ = tokio::time::sleep(backoff(failures)) => {}
                _ = shutdown.cancelled() => return,
            }
        }
    }

    /// One connection: hello, then store-and-ack every delivery.
    async fn stream(&self, shutdown: &CancellationToken, failures: &mut u32) -> Result<(), String> {
        let mut socket = match self.client.connect_socket().await {
            Ok(socket) => socket,
            Err(ClientError::Refused(body)) => {
                // Staff see why (a revoked certificate will not come back
                // by retrying: wait the longest between attempts).
                if body.code == ErrorCode::CertificateRevoked {
                    *failures = (*failures).max(REVOKED_FAILURES);
                }
                tracing::warn!(agency = %self.id, code = ?body.code, reason = %body.message_en, "the hub refused the connection");
                let reason = format!("refused by the hub: {}", body.message_en);
                let _ = self.events.send(NodeEvent::HubError(body));
                return Err(reason);
            }
            Err(e) => return Err(e.to_string()),
        };
        let resume_after = self.records.cursor().await.map_err(|e| e.to_string())?;
        let epoch = self.records.hub_epoch().await.map_err(|e| e.to_string())?;
        let hello = ClientFrame::Hello {
            resume_after,
            epoch,
        };
        send_frame(&mut socket, &hello).await?;
        // What was read ahead of a burst of deliveries and is not one of them.
        let mut held = None;
        loop {
            let message = match held.take() {
                Some(item) => Ok(item),
                None => tokio::select! {
                    m = tokio::time::timeout(self.idle_timeout, socket.next()) => m,
                    _ = shutdown.cancelled() => {
                        let _ = socket.close(None).await;
                        return Ok(());
                    }
                },
            };
            let text = match message {
                Err(_) => return Err("no word from the hub within the idle timeout".into()),
                Ok(None) => return Err("hub closed the socket".into()),
                Ok(Some(Err(e))) => return Err(format!("socket error: {e}")),
                Ok(Some(Ok(Message::Text(text)))) => text,
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return Err(format!("hub closed the socket: {frame:?}"));
                }
                Ok(Some(Ok(_))) => continue,
            };
            match serde_json::from_str::<HubFrame>(text.as_str()) {
                Ok(HubFrame::Welcome {
                    last_seq,
                    directory_version,
                    epoch,
                    ..
                }) => {
                    *failures = 0;
                    self.welcomed(epoch.as_ref())
                        .await
                        .map_err(|e| e.to_string())?;
                    self.refresh_directory(directory_version).await;
                    let _ = self.events.send(NodeEvent::Connected { last_seq });
                    self.outbox.reconnected();
                }
                Ok(HubFrame::Deliver { seq, envelope }) => {
                    let mut burst = vec![(seq, envelope)];
                    held = read_burst(&mut socket, &mut burst);
                    let seqs: Vec<Seq> = burst.iter().map(|(seq, _)| *seq).collect();
                    self.receive(burst).await.map_err(|e| e.to_string())?;
                    // Only now, all stored: one flush for the burst's acks.
                    for seq in seqs {
                        feed_frame(&mut socket, &ClientFrame::Ack { seq }).await?;
                    }
                    flush(&mut socket).await?;
                }
                Ok(HubFrame::Notice { seq, signed, .. }) => {
                    self.notice(seq, signed.as_ref(), &text)
                        .await
                        .map_err(|e| e.to_string())?;
                    send_frame(&mut socket, &ClientFrame::Ack { seq }).await?;
                }
                Ok(HubFrame::Checkpoint(signed)) => {
                    self.checkpoint(&signed).await.map_err(|e| e.to_string())?;
                }
                Ok(HubFrame::Error(body)) => {
                    tracing::warn!(code = ?body.code, reason = %body.message_en, "hub refused a frame");
                    let _ = self.events.send(NodeEvent::HubError(body));
                }
                Err(e) => self.unknown_frame(&mut socket, &text, &e).await?,
            }
        }
    }

    /// A frame this version cannot read, from a newer hub. A notice (it
    /// carries a sequence number and waits for its ack) is kept in
    /// quarantine as it came and acknowledged, so the stream goes on; any
    /// other frame is logged and skipped. Only text that is not a frame at
    /// all ends the connection.
    async fn unknown_frame(
        &self,
        socket: &mut HubSocket,
        text: &str,
        error: &serde_json::Error,
    ) -> Result<(), String> {
        #[derive(serde::Deserialize)]
        struct Shape {
            #[serde(rename = "type")]
            kind: String,
            seq: Option<Seq>,
        }
        let shape: Shape = serde_json::from_str(text)
            .map_err(|_| format!("unreadable frame from the hub: {error}"))?;
        match (shape.kind.as_str(), shape.seq) {
            ("notice", Some(seq)) => {
                let reason = format!("a notice this version cannot read: {error}");
                tracing::warn!(agency = %self.id, %seq, %reason, "quarantined");
                self.records
                    .quarantine(seq, None, None, &reason, text.as_bytes())
                    .await
                    .map_err(|e| e.to_string())?;
                send_frame(socket, &ClientFrame::Ack { seq }).await?;
                let _ = self.events.send(NodeEvent::Quarantined { seq, reason });
            }
            (kind, _) => {
                tracing::warn!(agency = %self.id, frame = %kind, error = %error, "skipped a hub frame this version does not know");
            }
        }
        Ok(())
    }

    /// Act on a notice only if the hub signed it for this agency at this
    /// position; the `notice` object beside the signed text (there for
    /// older nodes) is never read. Anything else is quarantined as it came,
    /// so the caller acknowledges it and the stream goes on.
    async fn notice(
        &self,
        seq: Seq,
        signed: Option<&SignedNotice>,
        frame: &str,
    ) -> Result<(), StoreError> {
        let hub_key = self.directory.hub_signing_key();
        let opened = signed
            .ok_or(HubSignatureError::Unsigned)
            .and_then(|s| hub_signed::open_notice(s, hub_key, &self.id, seq));
        match opened {
            Ok(notice) => {
                self.records.store_notice(seq, &notice).await?;
                tracing::info!(agency = %self.id, %seq, "notice stored");
                let _ = self.events.send(NodeEvent::Notice { seq, notice });
            }
            Err(e) => {
                let reason = format!("notice refused: {e}");
                tracing::warn!(agency = %self.id, %seq, %reason, "quarantined");
                self.records
                    .quarantine(seq, None, None, &reason, frame.as_bytes())
                    .await?;
                let _ = self.events.send(NodeEvent::Quarantined { seq, reason });
            }
        }
        Ok(())
    }

    /// Verify a checkpoint against the directory's hub key and keep it
    /// before reading the next frame. A bad signature is logged and not
    /// kept; a checkpoint that contradicts one held is kept and raised as
    /// an error for the operator (`tsunagu agency checkpoints show`).
    async fn checkpoint(&self, signed: &SignedCheckpoint) -> Result<(), StoreError> {
        let checkpoint =
            match hub_signed::verify_checkpoint(signed, self.directory.hub_signing_key()) {
                Ok(checkpoint) => checkpoint,
                Err(e) => {
                    let reason = e.to_string();
                    tracing::warn!(agency = %self.id, %reason, "checkpoint refused, not stored");
                    let _ = self.events.send(NodeEvent::CheckpointRefused { reason });
                    return Ok(());
                }
            };
        let count = checkpoint.count;
        match self.records.store_checkpoint(signed, &checkpoint).await? {
            CheckpointOutcome::Restored(restore) => self.restore_checkpointed(restore),
            CheckpointOutcome::New | CheckpointOutcome::Known => {
                tracing::debug!(agency = %self.id, count, "checkpoint held");
                let _ = self.events.send(NodeEvent::Checkpoint { count });
            }
            CheckpointOutcome::Contradicts(reason) => {
                tracing::error!(agency = %self.id, count, %reason, "the hub's audit history was rewritten");
                let _ = self.events.send(NodeEvent::HistoryRewritten { reason });
            }
        }
        Ok(())
    }

    /// Verify, decrypt and store a burst of deliveries, in order. Only an
    /// error storing them stops the acks; a delivery that fails verification
    /// is quarantined (and acknowledged, so one bad envelope cannot block
    /// the queue). The verified ones are stored together, in one
    /// transaction per run between quarantined ones.
    async fn receive(&self, burst: Vec<(Seq, String)>) -> Result<(), StoreError> {
        let mut verified = Vec::with_capacity(burst.len());
        for (seq, body) in burst {
            match self.open_delivery(seq, body) {
                Ok(opened) => verified.push(opened),
                Err(refused) => {
                    self.store_opened(std::mem::take(&mut verified)).await?;
                    self.quarantine(refused).await?;
                }
            }
        }
        self.store_opened(verified).await
    }

    /// Parse, verify and decrypt one delivery; what to quarantine if it
    /// fails. Decoded once; verified and stored as the bytes that arrived.
    fn open_delivery(&self, seq: Seq, body: String) -> Result<Opened, Refused> {
        let envelope = match Envelope::parse_or_keep(body.into_bytes()) {
            Ok(envelope) => envelope,
            Err((e, raw)) => {
                return Err(Refused {
                    seq,
                    envelope: None,
                    reason: e.to_string(),
                    raw,
                });
            }
        };
        let current = self.trusted.current();
        match open_envelope_with(&envelope, &self.id, &self.identities, current.directory()) {
            Ok(payload) => {
                self.check_declared(&envelope, &payload);
                let payload_json = serde_json::to_string(&payload).unwrap_or_default();
                Ok(Opened {
                    seq,
                    envelope,
                    payload_json,
                })
            }
            Err(e) => {
                let meta = envelope.meta();
                Err(Refused {
                    seq,
                    envelope: Some((meta.id, meta.sender.clone())),
                    reason: e.to_string(),
                    raw: envelope.bytes().to_vec(),
                })
            }
        }
    }

    /// Store verified deliveries in one transaction, then tell.
    async fn store_opened(&self, opened: Vec<Opened>) -> Result<(), StoreError> {
        let deliveries: Vec<Verified> = opened
            .iter()
            .map(|o| Verified {
                seq: o.seq,
                envelope: &o.envelope,
                envelope_json: o.envelope.bytes(),
                payload_json: &o.payload_json,
            })
            .collect();
        self.records.store_deliveries(&deliveries).await?;
        for o in &opened {
            let meta = o.envelope.meta();
            tracing::info!(agency = %self.id, seq = %o.seq, envelope = %meta.id, "stored");
            let _ = self.events.send(NodeEvent::Stored {
                seq: o.seq,
                envelope_id: meta.id,
                sender: meta.sender.clone(),
            });
        }
        Ok(())
    }

    async fn quarantine(&self, refused: Refused) -> Result<(), StoreError> {
        let Refused {
            seq,
            envelope,
            reason,
            raw,
        } = refused;
        let (id, sender) = match &envelope {
            Some((id, sender)) => (Some(*id), Some(sender.as_str())),
            None => (None, None),
        };
        match id {
            Some(id) => {
                tracing::warn!(agency = %self.id, %seq, envelope = %id, %reason, "quarantined")
            }
            None => tracing::warn!(agency = %self.id, %seq, %reason, "quarantined"),
        }
        self.records
            .quarantine(seq, id, sender, &reason, &raw)
            .await?;
        let _ = self.events.send(NodeEvent::Quarantined { seq, reason });
        Ok(())
    }
}

/// A delivery verified and decrypted, to be stored.
struct Opened {
    seq: Seq,
    envelope: Envelope,
    payload_json: String,
}

/// A delivery that failed parsing or verification, to be quarantined as it
/// came: its id and sender when it parsed, why, and its bytes.
struct Refused {
    seq: Seq,
    envelope: Option<(EnvelopeId, AgencyId)>,
    reason: String,
    raw: Vec<u8>,
}

/// Most deliveries received, stored and acknowledged together.
const MAX_BURST: usize = 64;

/// Add to `burst` the deliveries the socket already holds, without
/// waiting, up to [`MAX_BURST`]; the first other item read is returned, for
/// the caller to handle next.
fn read_burst(
    socket: &mut HubSocket,
    burst: &mut Vec<(Seq, String)>,
) -> Option<Option<Result<Message, tokio_tungstenite::tungstenite::Error>>> {
    while burst.len() < MAX_BURST {
        let item = socket.next().now_or_never()?;
        if let Some(Ok(Message::Text(text))) = &item
            && let Ok(HubFrame::Deliver { seq, envelope }) = serde_json::from_str(text.as_str())
        {
            burst.push((seq, envelope));
            continue;
        }
        return Some(item);
    }
    None
}

impl Node {
    /// Fetch the hub's directory when it says it serves a newer version
    /// than ours. A refusal is logged and reported and changes nothing: the
    /// node goes on with the directory it has (and the stream goes on).
    async fn refresh_directory(&self, version: u64) {
        match self
            .trusted
            .refresh(&self.client, &self.records, version)
            .await
        {
            Ok(None) => {}
            Ok(Some(version)) => {
                tracing::info!(agency = %self.id, version, "now using the newer directory");
                let _ = self.events.send(NodeEvent::DirectoryUpdated { version });
            }
            Err(e) => {
                let reason = e.to_string();
                tracing::error!(agency = %self.id, offered = version, %reason, "refused the hub's directory; keeping the current one");
                let _ = self.events.send(NodeEvent::DirectoryRefused { reason });
            }
        }
    }

    /// The hub cannot read content, so the receiver checks it: categories
    /// beyond those declared, or a statutory basis without a written
    /// justification, are reported to the hub (in the background; the
    /// delivery is stored either way, since it has already been disclosed).
    fn check_declared(&self, envelope: &Envelope, payload: &crate::protocol::payload::Payload) {
        let declared = &envelope.meta().categories;
        let found: Vec<_> = payload.body.categories().into_iter().collect();
        let beyond = found.iter().any(|c| !declared.contains(c));
        let statutory = envelope
            .meta()
            .basis
            .as_ref()
            .is_some_and(|b| b.is_statutory());
        let missing_justification = statutory
            && payload
                .justification
                .as_deref()
                .is_none_or(|j| j.trim().is_empty());
        if !beyond && !missing_justification {
            return;
        }
        let report = ViolationReport {
            envelope_id: envelope.meta().id,
            declared: declared.clone(),
            found,
            missing_justification,
        };
        let (client, events) = (self.client.clone(), self.events.clone());
        tracing::warn!(agency = %self.id, envelope = %envelope.meta().id, "content beyond its declaration; reporting");
        tokio::spawn(async move {
            match client
                .post::<_, serde_json::Value>("/v1/violations", &report)
                .await
            {
                Ok(_) => {
                    let _ = events.send(NodeEvent::ViolationReported {
                        envelope_id: report.envelope_id,
                    });
                }
                Err(e) => tracing::error!(error = %e, "could not report a violation"),
            }
        });
    }

    /// A new hub-issued case id.
    pub async fn open_case(&self) -> Result<CaseId, NodeError> {
        let opened: CaseOpened = self
            .client
            .post("/v1/cases", &serde_json::json!({}))
            .await
            .map_err(client_error)?;
        Ok(opened.case_id)
    }

    /// Where a referral stands with each recipient, from the hub.
    pub async fn referral_status(&self, referral: EnvelopeId) -> Result<ReferralStatus, NodeError> {
        self.client
            .get(&format!("/v1/referrals/{referral}"))
            .await
            .map_err(client_error)
    }

    /// Who received what about a case (for agencies involved in it).
    pub async fn disclosures(&self, case_id: &CaseId) -> Result<Vec<Disclosure>, NodeError> {
        self.client
            .get(&format!("/v1/cases/{case_id}/disclosures"))
            .await
            .map_err(client_error)
    }

    /// Every use of a statutory basis (center and 調整機関 only).
    pub async fn statutory_uses(&self) -> Result<Vec<StatutoryUse>, NodeError> {
        self.client
            .get("/v1/oversight/statutory")
            .await
            .map_err(client_error)
    }

    /// Reported violations (center and 調整機関 only).
    pub async fn violations(&self) -> Result<Vec<Violation>, NodeError> {
        self.client
            .get("/v1/oversight/violations")
            .await
            .map_err(client_error)
    }
}

/// Queue a frame on the socket without flushing it.
async fn feed_frame(socket: &mut HubSocket, frame: &ClientFrame) -> Result<(), String> {
    let text = serde_json::to_string(frame).map_err(|e| e.to_string())?;
    socket
        .feed(Message::Text(text.into()))
        .await
        .map_err(|e| format!("socket error: {e}"))
}

async fn send_frame(socket: &mut HubSocket, frame: &ClientFrame) -> Result<(), String> {
    feed_frame(socket, frame).await?;
    flush(socket).await
}

async fn flush(socket: &mut HubSocket) -> Result<(), String> {
    socket
        .flush()
        .await
        .map_err(|e| format!("socket error: {e}"))
}

fn client_error(e: ClientError) -> NodeError {
    match e {
        ClientError::Refused(body) => NodeError::Refused(body),
        ClientError::Transport(reason) => NodeError::Unreachable(reason),
        ClientError::Busy { body, .. } => NodeError::Unreachable(body.message_en),
    }
}

/// A revoked certificate waits as long as the backoff allows.
const REVOKED_FAILURES: u32 = 16;

/// 0.5 s after the first failure, doubling to 30 s, each scaled by a random
/// factor in [0.5, 1).
pub(crate) fn backoff(failures: u32) -> Duration {
    let base = Duration::from_millis(250).saturating_mul(1 << failures.min(7));
    let capped = base.min(Duration::from_secs(30));
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    capped.mul_f64(0.5 + f64::from(byte[0]) / 512.0)
}

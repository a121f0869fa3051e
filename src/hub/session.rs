//! `GET /v1/socket`: one agency's delivery stream.
//!
//! After `hello`, the hub sends every unacknowledged delivery after the
//! node's cursor in order, then live ones as they are committed (woken, not
//! polled). Acks are committed before they count. A node's acks can arrive
//! faster than one commit each allows: the session takes every ack frame
//! already waiting on the socket (up to `max_ack_burst`, never waiting for
//! more) and commits them in one transaction, each still checked and
//! answered on its own. Pings keep the socket honest: one that stays silent
//! past the idle timeout is closed.
//!
//! The hub also signs what it says itself: every notice, for this agency at
//! its sequence number, and checkpoints of its audit chain, sent after
//! `welcome` and then whenever the chain has grown, at most every
//! `checkpoint_interval_secs`. Checkpoints are a frame of their own, not a
//! notice in the acknowledged stream: each supersedes the one before, so
//! losing one costs nothing, while a notice would add a delivery row per
//! agency per checkpoint (and an audit entry for each ack, which grows the
//! chain and so calls for the next checkpoint). Older nodes skip the frame.

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::response::Response;
use futures::{FutureExt, StreamExt};
use tokio::time::{Instant, MissedTickBehavior};

use super::peer::{Caller, Peer};
use super::revocation;
use super::{Hub, HubError};
use crate::crypto::hub_signed;
use crate::protocol::checkpoint::Checkpoint;
use crate::protocol::epoch::{EpochId, HubEpoch};
use crate::protocol::keys::CertFingerprint;
use crate::protocol::{AgencyId, ClientFrame, ErrorCode, HubFrame, Seq, Timestamp};
use crate::store::model::AuditEvent;
use crate::store::{AckOutcome, Delivery, DeliveryItem};

/// The largest frame an agency may send (a hello or an ack is ~50 bytes).
const MAX_CLIENT_FRAME: usize = 64 * 1024;

/// The largest frame read at all, to answer an oversize one properly.
const READ_LIMIT: usize = 1024 * 1024;

/// Deliveries fetched per query.
const BATCH: u32 = 64;

pub(crate) async fn upgrade(
    State(hub): State<Hub>,
    Caller(agency): Caller,
    axum::Extension(peer): axum::Extension<Peer>,
    ws: WebSocketUpgrade,
) -> Result<Response, HubError> {
    // Held by the session until it ends: a node that reconnects in a loop
    // without closing, or a stolen certificate opening socket after socket,
    // stops here.
    let Some(slot) = hub.sockets.try_take(&agency) else {
        tracing::warn!(%agency, "socket refused: over max_sockets_per_agency");
        return Err(HubError::new(
            ErrorCode::TooManyConnections,
            format!(
                "この機関の配信ソケットが上限（{}）に達しています。ほかのノードを止めるか、しばらく待ってから再接続してください。",
                hub.limits.max_sockets_per_agency
            ),
            format!(
                "this agency already holds {} delivery sockets, the most the hub allows; stop the other nodes or reconnect later",
                hub.limits.max_sockets_per_agency
            ),
        ));
    };
    // Client frames are tiny (hello, ack: tens of bytes): a 1 KiB read
    // buffer (it grows for a longer burst) keeps an idle socket small
    // instead of tungstenite's default 128 KiB. The
    // socket reads frames up to READ_LIMIT so that one over MAX_CLIENT_FRAME
    // can be answered with 1009 and a reason (RFC 6455 §7.4.1); past
    // READ_LIMIT tungstenite refuses it from its header and the socket drops.
    Ok(ws
        .read_buffer_size(1024)
        .max_frame_size(READ_LIMIT)
        .max_message_size(READ_LIMIT)
        .on_upgrade(move |socket| {
            hub.sessions.clone().track_future(async move {
                let _slot = slot;
                let _counted = hub.metrics.session(&agency);
                tracing::info!(%agency, "socket open");
                let opened = AuditEvent::new(
                    "connection_opened",
                    Some(&agency),
                    None,
                    serde_json::json!({}),
                );
                if let Err(e) = hub.store.audit(opened).await {
                    tracing::error!(error = %e, "could not audit a connection");
                }
                let session = Session::new(hub, agency.clone(), peer.fingerprint, socket);
                let reason = session.run().await;
                tracing::info!(%agency, reason, "socket closed");
            })
        }))
}

struct Session {
    hub: Hub,
    agency: AgencyId,
    /// The client certificate: the socket closes when the directory in
    /// force no longer admits it.
    fingerprint: CertFingerprint,
    socket: WebSocket,
    /// Highest sequence sent on this socket; `None` until `hello`.
    cursor: Option<Seq>,
    caught_up: bool,
    last_heard: Instant,
    /// The chain length of the last checkpoint sent on this socket.
    checkpointed: u64,
    /// A frame read while gathering a burst of acks that was not an ack:
    /// handled next, before anything else is read.
    held: Option<Option<Result<Message, axum::Error>>>,
}

/// Why a session ended (for the log).
type Ended = &'static str;

impl Session {
    fn new(hub: Hub, agency: AgencyId, fingerprint: CertFingerprint, socket: WebSocket) -> Self {
        Self {
            hub,
            agency,
            fingerprint,
            socket,
            cursor: None,
            caught_up: true,
            last_heard: Instant::now(),
            checkpointed: 0,
            held: None,
        }
    }

    async fn run(mut self) -> Ended {
        let mut wake = self.hub.wake.subscribe(&self.agency);
        let mut ping = tokio::time::interval(self.hub.limits.ping_interval());
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let every = self.hub.limits.checkpoint_interval();
        let mut checkpoint = tokio::time::interval_at(Instant::now() + every, every);
        checkpoint.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let shutdown = self.hub.shutdown.clone();
        let ejected = revocation::ejected(
            self.hub.watch_directory(),
            self.fingerprint.clone(),
            self.agency.clone(),
        );
        tokio::pin!(ejected);
        loop {
            // Checked before each batch too: a revoked agency with a long
            // backlog gets not one batch more.
            if let Some(why) = (&mut ejected).now_or_never() {
                return Box::pin(self.eject(why)).await;
            }
            // Each step's future is boxed: held inline, the largest of them
            // would size every idle socket's task (bench sockets).
            if let Some(message) = self.held.take() {
                if let Err(reason) = Box::pin(self.on_message(message)).await {
                    return reason;
                }
                continue;
            }
            if !self.caught_up {
                // Mark the wakeup seen before reading, so a commit that lands
                // during the read wakes us again.
                wake.borrow_and_update();
                if let Err(reason) = Box::pin(self.send_pending()).await {
                    return reason;
                }
                continue;
            }
            let step = tokio::select! {
                frame = self.socket.next() => Box::pin(self.on_message(frame)).await,
                _ = wake.changed() => {
                    // Before `hello` there is no stream to feed.
                    self.caught_up = self.cursor.is_none();
                    Ok(())
                }
                _ = ping.tick() => Box::pin(self.on_ping_tick()).await,
                _ = checkpoint.tick(), if self.cursor.is_some() => Box::pin(self.send_checkpoint()).await,
                why = &mut ejected => return Box::pin(self.eject(why)).await,
                _ = shutdown.cancelled() => {
                    Box::pin(self.close(close_code::AWAY, "hub shutting down")).await;
                    Err("hub shutting down")
                }
            };
            if let Err(reason) = step {
                return reason;
            }
        }
    }

    /// The directory in force no longer admits this socket's certificate.
    async fn eject(&mut self, why: revocation::Ejected) -> Ended {
        let reason = why.close_reason();
        tracing::warn!(agency = %self.agency, reason, "closing the socket: its certificate is no longer admitted");
        self.close(close_code::POLICY, reason).await;
        let event = AuditEvent::new(
            "connection_closed",
            Some(&self.agency),
            None,
            serde_json::json!({ "reason": reason, "certificate": self.fingerprint.to_string() }),
        );
        if let Err(e) = self.hub.store.audit(event).await {
            tracing::error!(error = %e, "could not audit a closed connection");
        }
        reason
    }

    async fn send_pending(&mut self) -> Result<(), Ended> {
        let after = self.cursor.unwrap_or_default();
        let batch = match self.hub.store.pending(&self.agency, after, BATCH).await {
            Ok(batch) => batch,
            Err(e) => {
                let err = HubError::internal(&e);
                self.send(&HubFrame::Error(err.body())).await?;
                return Err("store failed");
            }
        };
        self.caught_up = batch.len() < BATCH as usize;
        for delivery in batch {
            let seq = delivery.seq;
            let frame = deliver_frame(delivery, &self.agency, self.hub.signing_key())?;
            self.send(&frame).await?;
            self.cursor = Some(seq);
        }
        Ok(())
    }

    async fn on_message(
        &mut self,
        message: Option<Result<Message, axum::Error>>,
    ) -> Result<(), Ended> {
        let message = match message {
            None => return Err("peer closed"),
            Some(Err(_)) => return Err("socket error"),
            Some(Ok(m)) => m,
        };
        self.last_heard = Instant::now();
        let size = match &message {
            Message::Text(t) => t.len(),
            Message::Binary(b) => b.len(),
            _ => 0,
        };
        if size > MAX_CLIENT_FRAME {
            tracing::warn!(agency = %self.agency, size, "oversize frame: closing with 1009");
            self.close(close_code::SIZE, "frame too large: at most 65536 bytes")
                .await;
            return Err("frame too large");
        }
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(_) => {
                return self.refuse(malformed("binary frames are not used")).await;
            }
            Message::Close(_) => return Err("peer closed"),
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
        };
        match parse_frame(text.as_str()) {
            Ok(ClientFrame::Hello {
                resume_after,
                epoch,
            }) => self.on_hello(resume_after, epoch).await,
            Ok(ClientFrame::Ack { seq }) => self.on_acks(seq).await,
            Err(err) => self.refuse(err).await,
        }
    }

    async fn on_hello(&mut self, resume_after: Seq, epoch: Option<EpochId>) -> Result<(), Ended> {
        let (last_seq, current) = match epoch_and_last_seq(&self.hub, &self.agency).await {
            Ok(read) => read,
            Err(e) => return self.refuse(HubError::internal(&e)).await,
        };
        // A cursor from another epoch counts in a history this database
        // does not have (it was restored from a backup): acking through it
        // would mark deliveries the node never saw as received. Everything
        // unacknowledged is sent again; the node stores each envelope once.
        let resume_after = match epoch {
            Some(theirs) if theirs != current.id => {
                tracing::info!(agency = %self.agency, %resume_after, from = %theirs, to = %current.id, "node resumes from another epoch: resending everything unacknowledged");
                Seq(0)
            }
            _ => resume_after,
        };
        if resume_after > last_seq {
            return self.refuse(unknown_seq(resume_after)).await;
        }
        if let Err(e) = self.hub.store.ack_through(&self.agency, resume_after).await {
            return self.refuse(HubError::internal(&e)).await;
        }
        self.cursor = Some(resume_after);
        self.caught_up = false;
        tracing::debug!(agency = %self.agency, %resume_after, %last_seq, "hello");
        self.send(&HubFrame::Welcome {
            agency: self.agency.clone(),
            last_seq,
            directory_version: self.hub.published().version(),
            epoch: Some(current),
        })
        .await?;
        self.send_checkpoint().await
    }

    /// Sign and send the chain's head if it has grown since the last one
    /// this socket sent. A store failure skips this one (the next tick
    /// tries again): a checkpoint is evidence, not a delivery.
    async fn send_checkpoint(&mut self) -> Result<(), Ended> {
        let (count, head) = match self.hub.store.audit_head().await {
            Ok(Some(head)) => head,
            Ok(None) => return Ok(()),
            Err(e) => {
                tracing::error!(error = %e, "could not read the audit chain's head for a checkpoint");
                return Ok(());
            }
        };
        if count <= self.checkpointed {
            return Ok(());
        }
        let checkpoint = Checkpoint {
            count,
            head,
            at: Timestamp::now(),
        };
        let signed = hub_signed::sign_checkpoint(self.hub.signing_key(), &checkpoint);
        self.send(&HubFrame::Checkpoint(signed)).await?;
        self.checkpointed = count;
        tracing::debug!(agency = %self.agency, count, "checkpoint sent");
        Ok(())
    }

    /// Commit `first` and every ack already waiting behind it together,
    /// then answer each as `on_ack` always has: an unknown one is refused on
    /// its own and the others stand. Nothing counts before the commit; if it
    /// fails, none of the burst is acked and the node's next `hello` acks
    /// what it holds.
    async fn on_acks(&mut self, first: Seq) -> Result<(), Ended> {
        let mut burst = vec![first];
        self.read_waiting_acks(&mut burst);
        let sent: Vec<Seq> = burst
            .iter()
            .copied()
            .filter(|s| self.was_sent(*s))
            .collect();
        let mut outcomes = Vec::new().into_iter();
        if !sent.is_empty() {
            tracing::trace!(agency = %self.agency, acks = sent.len(), "committing a burst of acks");
            match self.hub.store.ack_burst(&self.agency, sent).await {
                Ok(committed) => outcomes = committed.into_iter(),
                Err(e) => return self.refuse(HubError::internal(&e)).await,
            }
        }
        for seq in burst {
            // Unsent ones were left out of the commit, so take no outcome.
            let outcome = self.was_sent(seq).then(|| outcomes.next()).flatten();
            match outcome {
                Some(AckOutcome::Acked | AckOutcome::AlreadyAcked) => {}
                // A notice now waits for this very socket.
                Some(AckOutcome::AckedAfterCancel) => self.hub.wake.notify(&self.agency),
                Some(AckOutcome::Unknown) | None => self.refuse(unknown_seq(seq)).await?,
            }
        }
        Ok(())
    }

    /// Only what this socket has sent (or the node said it holds) can be acked.
    fn was_sent(&self, seq: Seq) -> bool {
        seq != Seq(0) && Some(seq) <= self.cursor
    }

    /// Add to `burst` each ack frame already read or readable without
    /// waiting. The first frame that is anything else (or too large, or
    /// malformed) is held, to be handled after the burst as it would have
    /// been alone.
    fn read_waiting_acks(&mut self, burst: &mut Vec<Seq>) {
        while burst.len() < self.hub.limits.ack_burst() {
            // Polled once: a stream's next item is not lost when the poll
            // is dropped, so a frame still arriving is read by the main loop.
            let Some(message) = self.socket.next().now_or_never() else {
                return;
            };
            if let Some(seq) = ack_in(&message) {
                self.last_heard = Instant::now();
                burst.push(seq);
                continue;
            }
            self.held = Some(message);
            return;
        }
    }

    async fn on_ping_tick(&mut self) -> Result<(), Ended> {
        if self.last_heard.elapsed() > self.hub.limits.idle_timeout() {
            self.close(close_code::POLICY, "idle timeout").await;
            return Err("idle timeout");
        }
        self.socket
            .send(Message::Ping(Default::default()))
            .await
            .map_err(|_| "socket error")
    }

    async fn refuse(&mut self, err: HubError) -> Result<(), Ended> {
        tracing::warn!(agency = %self.agency, code = ?err.code, reason = %err.message_en, "frame refused");
        self.send(&HubFrame::Error(err.body())).await
    }

    async fn send(&mut self, frame: &HubFrame) -> Result<(), Ended> {
        let text = serde_json::to_string(frame).map_err(|_| "encode failed")?;
        self.socket
            .send(Message::Text(text.into()))
            .await
            .map_err(|_| "socket error")
    }

    async fn close(&mut self, code: u16, reason: &'static str) {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = self.socket.send(Message::Close(Some(frame))).await;
    }
}

fn deliver_frame(
    delivery: Delivery,
    agency: &AgencyId,
    key: &ed25519_dalek::SigningKey,
) -> Result<HubFrame, Ended> {
    let seq = delivery.seq;
    match delivery.item {
        DeliveryItem::Envelope { body, .. } => {
            // The stored bytes go out as they are: not decoded, not
            // re-encoded. They were JSON (so UTF-8) when accepted; failing
            // here means the database was altered behind the hub's back.
            let envelope = String::from_utf8(body).map_err(|e| {
                tracing::error!(%seq, error = %e, "stored envelope is not UTF-8");
                "corrupt stored envelope"
            })?;
            Ok(HubFrame::Deliver { seq, envelope })
        }
        DeliveryItem::Notice(notice) => {
            let signed = hub_signed::sign_notice(key, agency, seq, &notice);
            Ok(HubFrame::Notice {
                seq,
                notice,
                signed: Some(signed),
            })
        }
    }
}

/// What `welcome` tells: the agency's newest sequence and the database's
/// epoch (made here on a hub's first `hello` after a restore). Not a
/// method: the session's socket is not `Sync`.
async fn epoch_and_last_seq(
    hub: &Hub,
    agency: &AgencyId,
) -> Result<(Seq, HubEpoch), crate::store::StoreError> {
    let (epoch, _) = hub.store.epoch().await?;
    Ok((hub.store.last_seq(agency).await?, epoch))
}

/// The sequence number of a well-formed ack frame of allowed size.
fn ack_in(message: &Option<Result<Message, axum::Error>>) -> Option<Seq> {
    let Some(Ok(Message::Text(text))) = message else {
        return None;
    };
    if text.len() > MAX_CLIENT_FRAME {
        return None;
    }
    match serde_json::from_str(text.as_str()) {
        Ok(ClientFrame::Ack { seq }) => Some(seq),
        _ => None,
    }
}

/// Tell an unknown frame type apart from a malformed one.
fn parse_frame(text: &str) -> Result<ClientFrame, HubError> {
    serde_json::from_str(text).map_err(|e| {
        let kind = serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned));
        match kind {
            Some(t) if !matches!(t.as_str(), "hello" | "ack") => HubError::new(
                ErrorCode::UnknownFrame,
                format!("不明なフレーム種別 {t:?} です。"),
                format!("unknown frame type {t:?}"),
            ),
            _ => malformed(&e.to_string()),
        }
    })
}

fn malformed(detail: &str) -> HubError {
    HubError::new(
        ErrorCode::Malformed,
        format!("フレームを解釈できません: {detail}"),
        format!("malformed frame: {detail}"),
    )
}

fn unknown_seq(seq: Seq) -> HubError {
    HubError::new(
        ErrorCode::UnknownSequence,
        format!("通番 {seq} はこの機関に配信されていません。"),
        format!("sequence {seq} was never delivered to this agency"),
    )
}

//! Sending what staff wrote: every envelope is in the durable outbox before
//! it goes to the hub, and stays `pending` until the hub has answered.
//!
//! A sending command submits its own envelope at once (after any older ones
//! still pending, so nothing overtakes what it depends on). Whatever is left
//! pending (the command died, the hub answered 5xx or not at all) is the
//! running node's job: its worker is woken by the command, by a reconnect,
//! and by a periodic sweep as the safety net; it retries with backoff and
//! resends a backlog in order, many envelopes per request.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

use super::client::{ClientError, HubClient};
use super::node::{NodeError, NodeEvent, Sent, backoff};
use super::wake;
use crate::protocol::api::{BatchResult, MAX_BATCH_ENVELOPES};
use crate::protocol::frame::SubmitStatus;
use crate::protocol::{EnvelopeId, ErrorBody};
use crate::store::StoreError;
use crate::store::records::{DueEntry, OutboxStatus, Records};

/// How often the worker looks for entries it was not told about (written by
/// a command that died before it could wake the node).
pub const SWEEP: Duration = Duration::from_secs(2);

/// How long a sending command has its own new entry to itself before the
/// worker may send it too (a resend then is harmless, only wasteful: the hub
/// answers `duplicate`).
pub const LEASE: Duration = Duration::from_secs(5);

/// Most bytes of envelopes in one batch request; a larger envelope goes alone.
const BATCH_BYTES: usize = 1 << 20;

/// Most entries one worker round takes from the records.
const ROUND: u32 = 1024;

/// What the hub answered for one envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HubAnswer {
    /// Durably committed; `duplicate` if the hub already held it.
    Accepted { duplicate: bool },
    /// Refused; nothing stored.
    Refused(ErrorBody),
}

/// The outcome of sending entries in order.
#[derive(Debug, Default)]
struct Round {
    answered: Vec<(EnvelopeId, HubAnswer)>,
    /// The hub could not be reached (or failed, or asked to wait) at this
    /// entry; it and everything after it are still pending.
    stalled: Option<(EnvelopeId, Stall)>,
}

/// Why sending stopped, and how long the hub asked the node to wait.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Stall {
    reason: String,
    /// Set when the hub said when to retry (`Retry-After`): the node waits
    /// that long rather than its own backoff, and not less.
    retry_after: Option<Duration>,
}

impl Stall {
    fn new(reason: String) -> Self {
        Self {
            reason,
            retry_after: None,
        }
    }
}

/// The node's outbox sender, shared by `Node::send` and the worker.
#[derive(Clone)]
pub(super) struct Outbox {
    client: HubClient,
    records: Records,
    events: broadcast::Sender<NodeEvent>,
    /// New entries to send (this process's `send` that could not finish, or
    /// another process through the wake socket).
    wake: Arc<Notify>,
    /// The hub is reachable again: drop the backoff.
    connected: Arc<Notify>,
}

impl Outbox {
    pub(super) fn new(
        client: HubClient,
        records: Records,
        events: broadcast::Sender<NodeEvent>,
    ) -> Self {
        Self {
            client,
            records,
            events,
            wake: Arc::new(Notify::new()),
            connected: Arc::new(Notify::new()),
        }
    }

    /// The socket through which a sending command wakes the running node.
    fn wake_path(&self) -> std::path::PathBuf {
        wake::path(self.records.file())
    }

    /// Send the entry `id`, just written, and return the hub's answer. If
    /// older entries wait for the running node (they failed, or their
    /// sender died), it waits behind them, so it never overtakes an
    /// envelope it may depend on: the running node sends them all in order.
    /// If the hub cannot take it, it stays queued. Either way the running
    /// node is woken.
    pub(super) async fn send_new(&self, id: EnvelopeId) -> Result<Sent, NodeError> {
        let older = self.records.waiting_before(id).await?;
        let reason = if older > 0 {
            // Not tried: hand it to the worker now rather than at the end
            // of the lease.
            self.records.release_outbox(id).await?;
            format!("{older} older envelopes are still waiting; they go first, in order")
        } else {
            let Some(entry) = self.records.pending_entry(id).await? else {
                return self.answered_meanwhile(id).await;
            };
            let round = self.send_in_order(std::slice::from_ref(&entry)).await?;
            match round.answered.into_iter().next() {
                Some((_, HubAnswer::Accepted { duplicate })) => {
                    return Ok(Sent::Accepted { id, duplicate });
                }
                Some((_, HubAnswer::Refused(body))) => return Err(NodeError::Refused(body)),
                None => round
                    .stalled
                    .map_or_else(String::new, |(_, stall)| stall.reason),
            }
        };
        self.wake.notify_one();
        wake::poke(&self.wake_path()).await;
        Ok(Sent::Queued { id, reason })
    }

    /// The running node sent `id` before this command could (its lease
    /// had passed): report what the hub answered it.
    async fn answered_meanwhile(&self, id: EnvelopeId) -> Result<Sent, NodeError> {
        let row = self.records.outbox_item(id).await?;
        match row {
            Some(row) if row.status == "refused" => {
                let body = row
                    .detail
                    .as_deref()
                    .and_then(|d| serde_json::from_str::<ErrorBody>(d).ok());
                match body {
                    Some(body) => Err(NodeError::Refused(body)),
                    None => Err(NodeError::Store(StoreError::Corrupt(format!(
                        "outbox entry {id} is refused without a reason"
                    )))),
                }
            }
            Some(_) => Ok(Sent::Accepted {
                id,
                duplicate: true,
            }),
            None => Err(NodeError::Store(StoreError::Corrupt(format!(
                "outbox entry {id} vanished"
            )))),
        }
    }

    /// The hub welcomed the node: send what waits, now.
    pub(super) fn reconnected(&self) {
        self.connected.notify_one();
    }

    /// Until `shutdown`: send whatever is due, in order; back off while the
    /// hub cannot take it; sleep until woken, until the next entry is due,
    /// or until the sweep.
    pub(super) async fn run(self, shutdown: CancellationToken) {
        let _listener = wake::listen(&self.wake_path(), self.wake.clone(), shutdown.clone());
        let mut failures = 0u32;
        loop {
            let wait = match self.round().await {
                Ok(true) => {
                    failures = 0;
                    continue;
                }
                Ok(false) => {
                    failures = 0;
                    self.idle_wait().await
                }
                Err(Stall {
                    reason,
                    retry_after: Some(wait),
                }) => {
                    // Not a failure: the hub is up and said when. Waiting
                    // exactly that keeps the node out of a tight loop and
                    // out of a backoff longer than needed. New entries wait
                    // with the rest, as while backing off.
                    failures = failures.max(1);
                    tracing::info!(%reason, wait_secs = wait.as_secs(), "the hub asked to wait; outbox resent after that");
                    wait
                }
                Err(Stall { reason, .. }) => {
                    failures = failures.saturating_add(1);
                    tracing::info!(%reason, failures, "outbox not sent; retrying with backoff");
                    backoff(failures)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                // While backing off, new entries wait with the rest.
                _ = self.wake.notified(), if failures == 0 => {}
                _ = self.connected.notified() => failures = 0,
                _ = shutdown.cancelled() => return,
            }
        }
    }

    /// One pass over what is due. `Ok(true)` if anything was answered (look
    /// again at once), `Ok(false)` if nothing was due.
    async fn round(&self) -> Result<bool, Stall> {
        let due = self
            .records
            .due_outbox(ROUND)
            .await
            .map_err(|e| Stall::new(e.to_string()))?;
        if due.is_empty() {
            return Ok(false);
        }
        let round = self
            .send_in_order(&due)
            .await
            .map_err(|e| Stall::new(e.to_string()))?;
        if !round.answered.is_empty() {
            tracing::info!(answered = round.answered.len(), "outbox entries sent");
        }
        for (id, answer) in round.answered {
            // A sending command shows its own refusal to staff; one the
            // worker met has nobody watching but the log.
            if let HubAnswer::Refused(body) = &answer {
                tracing::warn!(envelope = %id, code = ?body.code, "queued envelope refused by the hub");
            }
            let _ = self.events.send(NodeEvent::Answered { id, answer });
        }
        match round.stalled {
            Some((_, stall)) => Err(stall),
            None => Ok(true),
        }
    }

    /// Until the next entry is due, but never longer than the sweep.
    async fn idle_wait(&self) -> Duration {
        match self.records.next_outbox_due().await {
            Ok(Some(due)) => due.min(SWEEP),
            Ok(None) => SWEEP,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the outbox");
                SWEEP
            }
        }
    }

    /// Send `entries` in order, many per request, recording each answer;
    /// stop at the first that cannot reach the hub.
    async fn send_in_order(&self, entries: &[DueEntry]) -> Result<Round, StoreError> {
        let mut round = Round::default();
        for chunk in chunks(entries) {
            let answers = self.send_chunk(chunk).await;
            for (entry, answer) in chunk.iter().zip(&answers.answered) {
                self.record(entry.id, answer).await?;
                round.answered.push((entry.id, answer.clone()));
            }
            if let Some(stall) = answers.stalled {
                let at = chunk[answers.answered.len()].id;
                // Due at once all the same: what comes after it must not
                // become due before it. The wait is the worker's.
                self.records
                    .retry_outbox(at, Duration::ZERO, &stall.reason)
                    .await?;
                round.stalled = Some((at, stall));
                break;
            }
        }
        Ok(round)
    }

    /// One request: a single envelope, or a batch. A batch the hub refuses
    /// as a whole (an older hub, a limit) is sent one by one instead, so
    /// that no envelope is marked refused for what its neighbours did.
    async fn send_chunk(&self, chunk: &[DueEntry]) -> ChunkAnswers {
        if let [entry] = chunk {
            return ChunkAnswers::from_single(self.client.submit(entry.envelope.clone()).await);
        }
        let bodies: Vec<&[u8]> = chunk.iter().map(|e| e.envelope.as_slice()).collect();
        match self.client.submit_batch(&bodies).await {
            Ok(response) => ChunkAnswers::from_batch(chunk, response),
            Err(e @ (ClientError::Transport(_) | ClientError::Busy { .. })) => {
                ChunkAnswers::stalled(Stall::from(e))
            }
            Err(ClientError::Refused(body)) => {
                tracing::info!(code = ?body.code, "batch refused as a whole; sending one by one");
                let mut answers = ChunkAnswers::default();
                for entry in chunk {
                    let one =
                        ChunkAnswers::from_single(self.client.submit(entry.envelope.clone()).await);
                    answers.answered.extend(one.answered);
                    if one.stalled.is_some() {
                        answers.stalled = one.stalled;
                        break;
                    }
                }
                answers
            }
        }
    }

    async fn record(&self, id: EnvelopeId, answer: &HubAnswer) -> Result<(), StoreError> {
        match answer {
            HubAnswer::Accepted { .. } => {
                self.records
                    .set_outbox_status(id, OutboxStatus::Accepted, None)
                    .await?
            }
            HubAnswer::Refused(body) => {
                let detail = serde_json::to_string(body).unwrap_or_default();
                self.records
                    .set_outbox_status(id, OutboxStatus::Refused, Some(&detail))
                    .await?
            }
        }
        Ok(())
    }
}

/// The answers to one request, in the chunk's order.
#[derive(Debug, Default)]
struct ChunkAnswers {
    answered: Vec<HubAnswer>,
    /// Set when the entry after the answered ones did not get through.
    stalled: Option<Stall>,
}

impl From<ClientError> for Stall {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Busy { body, retry_after } => Stall {
                reason: body.message_en,
                retry_after: Some(retry_after),
            },
            other => Stall::new(other.to_string()),
        }
    }
}

impl ChunkAnswers {
    fn stalled(stall: Stall) -> Self {
        Self {
            answered: Vec::new(),
            stalled: Some(stall),
        }
    }

    fn from_single(result: Result<crate::protocol::frame::SubmitResponse, ClientError>) -> Self {
        match result {
            Ok(response) => Self {
                answered: vec![HubAnswer::Accepted {
                    duplicate: response.status == SubmitStatus::Duplicate,
                }],
                stalled: None,
            },
            Err(ClientError::Refused(body)) => Self {
                answered: vec![HubAnswer::Refused(body)],
                stalled: None,
            },
            Err(ClientError::Transport(reason)) => Self::stalled(Stall::new(reason)),
            Err(busy @ ClientError::Busy { .. }) => Self::stalled(Stall::from(busy)),
        }
    }

    fn from_batch(chunk: &[DueEntry], response: crate::protocol::api::BatchResponse) -> Self {
        let mut answers = Self::default();
        for (entry, result) in chunk.iter().zip(response.results) {
            match result {
                BatchResult::Submitted(s) if s.id == entry.id => {
                    answers.answered.push(HubAnswer::Accepted {
                        duplicate: s.status == SubmitStatus::Duplicate,
                    })
                }
                BatchResult::Submitted(s) => {
                    answers.stalled = Some(Stall::new(format!(
                        "the hub answered for {} where {} was expected",
                        s.id, entry.id
                    )));
                    return answers;
                }
                BatchResult::Refused(body) => answers.answered.push(HubAnswer::Refused(body)),
            }
        }
        if answers.answered.len() < chunk.len() {
            answers.stalled = Some(match response.stopped {
                // Over the rate partway through: the batch's answer carries
                // no Retry-After, so wait the least the hub ever names.
                Some(body) if body.code == crate::protocol::ErrorCode::RateLimited => Stall {
                    reason: body.message_en,
                    retry_after: Some(Duration::from_secs(1)),
                },
                Some(body) => Stall::new(body.message_en),
                None => Stall::new("the hub answered only part of the batch".into()),
            });
        }
        answers
    }
}

/// Consecutive runs of entries that fit one request.
fn chunks(entries: &[DueEntry]) -> Vec<&[DueEntry]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, entry) in entries.iter().enumerate() {
        let full = i - start == MAX_BATCH_ENVELOPES || bytes + entry.envelope.len() > BATCH_BYTES;
        if i > start && full {
            out.push(&entries[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += entry.envelope.len();
    }
    if start < entries.len() {
        out.push(&entries[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(sizes: &[usize]) -> Vec<DueEntry> {
        sizes
            .iter()
            .map(|&n| DueEntry {
                id: EnvelopeId::new(),
                envelope: vec![b' '; n],
            })
            .collect()
    }

    fn lengths(entries: &[DueEntry]) -> Vec<usize> {
        chunks(entries).iter().map(|c| c.len()).collect()
    }

    #[test]
    fn a_backlog_is_cut_into_batches_by_count_and_size_in_order() {
        assert_eq!(lengths(&entries(&[])), Vec::<usize>::new());
        assert_eq!(lengths(&entries(&[10; 130])), vec![64, 64, 2]);
        let half = BATCH_BYTES / 2;
        assert_eq!(lengths(&entries(&[half, half, 1, half])), vec![2, 2]);
        // An envelope larger than a batch goes alone, between its neighbours.
        assert_eq!(lengths(&entries(&[1, BATCH_BYTES * 3, 1])), vec![1, 1, 1]);
        let all = entries(&[10; 70]);
        let flat: Vec<EnvelopeId> = chunks(&all).concat().iter().map(|e| e.id).collect();
        assert_eq!(flat, all.iter().map(|e| e.id).collect::<Vec<_>>());
    }
}

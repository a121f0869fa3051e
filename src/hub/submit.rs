//! `POST /v1/envelopes`: check an envelope, commit it with its deliveries,
//! wake the recipients, and only then answer `accepted`.

use std::collections::HashSet;

use axum::Json;
use axum::body::Body;
use axum::extract::State;

use super::peer::Caller;
use super::{Hub, HubError, policy};
use crate::crypto::sign;
use crate::directory::Directory;
use crate::protocol::envelope::{ENVELOPE_VERSION, EnvelopeError};
use crate::protocol::frame::{SubmitResponse, SubmitStatus};
use crate::protocol::{AgencyId, Envelope, EnvelopeId, ErrorCode, MessageKind, Timestamp};
use crate::store::model::AuditEvent;
use crate::store::{AcceptOutcome, NewEnvelope};

pub(crate) async fn submit(
    State(hub): State<Hub>,
    Caller(sender): Caller,
    body: Body,
) -> Result<Json<SubmitResponse>, HubError> {
    let bytes = axum::body::to_bytes(body, hub.limits.max_body_bytes())
        .await
        .map_err(|_| {
            hub.metrics.refused(ErrorCode::EnvelopeTooLarge);
            too_large(hub.limits.max_envelope_bytes)
        })?;
    take(&hub, &sender, &bytes).await.map(Json)
}

/// Check one envelope, commit it with its deliveries and wake the
/// recipients; `Ok` only once it is durably committed. The one path for a
/// single submission and for each envelope of a batch, so the one place
/// its outcome is counted.
pub(super) async fn take(
    hub: &Hub,
    sender: &AgencyId,
    bytes: &[u8],
) -> Result<SubmitResponse, HubError> {
    let taken = check_and_commit(hub, sender, bytes).await;
    match &taken {
        Ok(r) => hub
            .metrics
            .accepted(matches!(r.status, SubmitStatus::Duplicate)),
        Err(refusal) => hub.metrics.refused(refusal.code),
    }
    taken
}

#[tracing::instrument(skip_all, fields(agency = %sender, envelope))]
async fn check_and_commit(
    hub: &Hub,
    sender: &AgencyId,
    bytes: &[u8],
) -> Result<SubmitResponse, HubError> {
    // First: over its rate, the agency costs no parsing and no write.
    hub.sends.check(sender, bytes.len())?;
    // Decoded once, here; the bytes stay as received for the signature
    // check, the idempotency digest, the store and every delivery.
    let envelope = match Envelope::parse(bytes.to_vec()) {
        Ok(envelope) => envelope,
        Err(e) => {
            let refusal = unreadable(&e);
            if e.version().is_some() {
                audit_refusal(hub, sender, None, &refusal).await;
            }
            return Err(refusal);
        }
    };
    tracing::Span::current().record("envelope", tracing::field::display(envelope.meta().id));
    // One directory for every check and the policy, even if a reload lands
    // while this envelope is in hand.
    let directory = hub.directory();
    if let Err(refusal) = check(hub, &directory, sender, &envelope) {
        audit_refusal(hub, sender, Some(envelope.meta().id), &refusal).await;
        return Err(refusal);
    }
    let id = envelope.meta().id;
    let meta = envelope.meta().clone();
    let policy = policy::policy(
        meta.clone(),
        directory,
        hub.deadlines.clone(),
        hub.clock.now(),
    );
    let outcome = hub
        .store
        .accept(
            NewEnvelope {
                digest: envelope.digest(),
                body: envelope.bytes().to_vec(),
                envelope,
            },
            policy::facts_query(&meta),
            policy,
        )
        .await
        .map_err(|e| HubError::internal(&e))?;
    let status = match outcome {
        AcceptOutcome::Stored(_) => {
            wake_after(hub, &meta);
            tracing::info!(
                recipients = meta.recipients.len(),
                kind = meta.kind.as_str(),
                "accepted"
            );
            SubmitStatus::Accepted
        }
        AcceptOutcome::Refused(body) => return Err(HubError::from_body(body)),
        AcceptOutcome::Duplicate => {
            // The first submission may have committed and then lost its
            // answer (and its wake-up) to a dropped connection: wake again,
            // so the recipients do not wait for their next reconnect.
            wake_after(hub, &meta);
            SubmitStatus::Duplicate
        }
        AcceptOutcome::IdReused => {
            return Err(HubError::new(
                ErrorCode::EnvelopeIdReused,
                format!("エンベロープID {id} は別の内容で使用済みです。新しいIDで送ってください。"),
                format!(
                    "envelope id {id} was already used for different content; send with a new id"
                ),
            ));
        }
    };
    Ok(SubmitResponse { id, status })
}

/// Wake whoever has something new: the recipients, and for a withdrawal
/// everyone (its notices go to senders and holders the hub looked up).
fn wake_after(hub: &Hub, meta: &crate::protocol::Metadata) {
    if matches!(
        meta.action,
        Some(crate::protocol::Action::WithdrawConsent { .. })
    ) {
        hub.wake.notify_all();
    }
    for r in &meta.recipients {
        hub.wake.notify(r);
    }
}

/// Refusals are security-relevant: record them (best effort: the refusal
/// stands even if the audit write fails, and that failure is logged).
async fn audit_refusal(
    hub: &Hub,
    sender: &AgencyId,
    envelope: Option<EnvelopeId>,
    refusal: &HubError,
) {
    let detail = serde_json::json!({ "code": refusal.code, "reason": refusal.message_en });
    let subject = envelope.map(|id| id.to_string());
    let event = AuditEvent::new("refused", Some(sender), subject, detail);
    if let Err(e) = hub.store.audit(event).await {
        tracing::error!(error = %e, "could not audit a refusal");
    }
}

/// Bytes that are not a v2 envelope. Another version gets its own code and
/// names both versions, so the sender knows to upgrade rather than to fix
/// its JSON.
fn unreadable(e: &EnvelopeError) -> HubError {
    match e {
        EnvelopeError::Retired(v) => HubError::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "エンベロープの版 {v} は受け付けられなくなりました。このハブは版 {ENVELOPE_VERSION} を使います。機関ノードを更新してください。"
            ),
            format!(
                "envelope version {v} is no longer accepted; this hub speaks version {ENVELOPE_VERSION}"
            ),
        ),
        EnvelopeError::Unknown(v) => HubError::new(
            ErrorCode::UnsupportedVersion,
            format!(
                "エンベロープの版 {v} には対応していません（このハブは版 {ENVELOPE_VERSION}）。"
            ),
            format!(
                "unsupported envelope version {v} (this hub speaks version {ENVELOPE_VERSION})"
            ),
        ),
        EnvelopeError::Malformed(detail) => HubError::new(
            ErrorCode::Malformed,
            format!("エンベロープを解釈できません: {detail}"),
            format!("malformed envelope: {detail}"),
        ),
    }
}

fn too_large(limit: usize) -> HubError {
    HubError::new(
        ErrorCode::EnvelopeTooLarge,
        format!("エンベロープが大きすぎます（上限 {limit} バイト）。"),
        format!("envelope too large (limit {limit} bytes)"),
    )
}

/// Everything the hub can check without plaintext, cheapest first.
fn check(
    hub: &Hub,
    directory: &Directory,
    sender: &AgencyId,
    envelope: &Envelope,
) -> Result<(), HubError> {
    let meta = envelope.meta();
    if envelope.ciphertext().len() > hub.limits.max_envelope_bytes {
        return Err(too_large(hub.limits.max_envelope_bytes));
    }
    if &meta.sender != sender {
        return Err(HubError::new(
            ErrorCode::SenderMismatch,
            format!(
                "送信元 {} が証明書の機関 {sender} と一致しません。",
                meta.sender
            ),
            format!(
                "sender {} does not match the certificate's agency {sender}",
                meta.sender
            ),
        ));
    }
    check_recipients(directory, sender, envelope)?;
    let agency = directory.get(sender).ok_or_else(|| {
        HubError::new(
            ErrorCode::UnknownAgency,
            "送信元が未登録です。",
            "sender not in directory",
        )
    })?;
    // Over the metadata bytes as received, never a re-encoding of `meta`.
    // A key retired by a rotation still counts until its grace period ends,
    // as at the recipient's node: an envelope sealed before the rotation and
    // still in the sender's outbox must not be stranded.
    let now = Timestamp::from_datetime(hub.clock.now());
    sign::verify_any(
        agency.signing_keys_at(now),
        &envelope.signed_bytes(),
        envelope.signature(),
    )
    .map_err(|_| {
        HubError::new(
            ErrorCode::BadSignature,
            format!("署名を {sender} の公開鍵で検証できません。改ざんまたは鍵の不一致の可能性があります。"),
            format!("signature does not verify with {sender}'s directory key"),
        )
    })
}

fn check_recipients(
    directory: &Directory,
    sender: &AgencyId,
    envelope: &Envelope,
) -> Result<(), HubError> {
    let recipients = &envelope.meta().recipients;
    // Records of consent, case changes and plan versions may concern the
    // hub alone (a plan shared only as parts, each its own envelope).
    let may_be_empty = matches!(
        envelope.meta().kind,
        MessageKind::ConsentRecord
            | MessageKind::ConsentWithdrawal
            | MessageKind::CaseUpdate
            | MessageKind::SupportPlan
    );
    if recipients.is_empty() && !may_be_empty {
        return Err(HubError::new(
            ErrorCode::NoRecipients,
            "宛先がありません。少なくとも1機関を指定してください。",
            "no recipients: name at least one agency",
        ));
    }
    let mut seen = HashSet::new();
    for r in recipients {
        if r == sender || !seen.insert(r) {
            return Err(HubError::new(
                ErrorCode::InvalidRecipients,
                format!("宛先 {r} が重複しているか、送信元自身です。"),
                format!("recipient {r} is listed twice or is the sender"),
            ));
        }
        if directory.get(r).is_none() {
            return Err(HubError::new(
                ErrorCode::UnknownRecipient,
                format!("宛先 {r} はディレクトリに登録されていません。"),
                format!("recipient {r} is not in the directory"),
            ));
        }
    }
    Ok(())
}

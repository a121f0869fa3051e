//! `POST /v1/envelopes/batch`: a node resending its outbox after an outage
//! sends many envelopes in one request. The hub takes them strictly in
//! order, each through the same path as a single submission, so one request
//! replaces a round trip per envelope without letting a later envelope
//! overtake one it depends on (a referral and the consent record before it).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::peer::Caller;
use super::{Hub, HubError, submit};
use crate::protocol::ErrorCode;
use crate::protocol::api::{BatchResponse, BatchResult, MAX_BATCH_ENVELOPES};

/// The body: each envelope kept as the exact bytes the sender signed.
#[derive(Deserialize)]
struct Batch<'a> {
    #[serde(borrow)]
    envelopes: Vec<&'a RawValue>,
}

#[tracing::instrument(skip_all, fields(agency = %sender))]
pub(crate) async fn submit_batch(
    State(hub): State<Hub>,
    Caller(sender): Caller,
    body: Body,
) -> Result<Json<BatchResponse>, HubError> {
    let limit = hub.limits.max_body_bytes();
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        HubError::new(
            ErrorCode::EnvelopeTooLarge,
            format!("一括送信が大きすぎます（上限 {limit} バイト）。分けて送ってください。"),
            format!("batch too large (limit {limit} bytes); send it in parts"),
        )
    })?;
    let batch: Batch = serde_json::from_slice(&bytes).map_err(|e| {
        HubError::new(
            ErrorCode::Malformed,
            format!("一括送信を解釈できません: {e}"),
            format!("malformed batch: {e}"),
        )
    })?;
    if batch.envelopes.len() > MAX_BATCH_ENVELOPES {
        return Err(HubError::new(
            ErrorCode::Malformed,
            format!(
                "一括送信は {MAX_BATCH_ENVELOPES} 件までです（{} 件）。",
                batch.envelopes.len()
            ),
            format!(
                "a batch holds at most {MAX_BATCH_ENVELOPES} envelopes (got {})",
                batch.envelopes.len()
            ),
        ));
    }
    hub.metrics.batch(batch.envelopes.len());
    let mut response = BatchResponse {
        results: Vec::with_capacity(batch.envelopes.len()),
        stopped: None,
    };
    for raw in batch.envelopes {
        match submit::take(&hub, &sender, raw.get().as_bytes()).await {
            Ok(submitted) => response.results.push(BatchResult::Submitted(submitted)),
            // Over the rate before anything was taken: the whole request is
            // refused, with when to retry. Later in the batch, it stops
            // there like a failure: the node resends the rest and is then
            // told when.
            Err(e) if e.code == ErrorCode::RateLimited && response.results.is_empty() => {
                return Err(e);
            }
            // The hub failed, not the envelope: stop here so nothing after
            // it overtakes it; the node resends the rest.
            Err(e) if matches!(e.code, ErrorCode::Internal | ErrorCode::RateLimited) => {
                response.stopped = Some(e.body());
                break;
            }
            Err(refusal) => {
                tracing::warn!(code = ?refusal.code, reason = %refusal.message_en, "refused");
                response.results.push(BatchResult::Refused(refusal.body()));
            }
        }
    }
    Ok(Json(response))
}

//! The whole HTTP surface of the hub.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::peer::Caller;
use super::{Hub, batch, oversight, session, submit};
use crate::protocol::{Agency, PublishedDirectory};

/// Every route the hub serves. Every request arrives over mutual TLS.
pub(crate) fn router(hub: Hub) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/agencies", get(agencies))
        .route("/v1/directory", get(directory))
        .route("/v1/envelopes", post(submit::submit))
        .route("/v1/envelopes/batch", post(batch::submit_batch))
        .route("/v1/socket", get(session::upgrade))
        .route("/v1/cases", post(oversight::open_case))
        .route(
            "/v1/cases/{case_id}/disclosures",
            get(oversight::disclosures),
        )
        .route("/v1/referrals/{id}", get(oversight::referral_status))
        .route("/v1/violations", post(oversight::report_violation))
        .route("/v1/oversight/statutory", get(oversight::statutory_uses))
        .route("/v1/oversight/violations", get(oversight::violations))
        .with_state(hub)
}

async fn healthz() -> &'static str {
    "ok"
}

/// The directory as the CA signed it, for nodes to verify.
async fn directory(State(hub): State<Hub>, _caller: Caller) -> Json<PublishedDirectory> {
    let published = hub.published();
    Json(PublishedDirectory {
        directory: published.text().to_owned(),
        signature: published.signature().to_owned(),
    })
}

/// The directory with public keys, for nodes older than signed
/// directories (unverifiable: a node that can verifies `/v1/directory`).
async fn agencies(State(hub): State<Hub>, _caller: Caller) -> Json<Vec<Agency>> {
    Json(hub.directory().agencies().to_vec())
}

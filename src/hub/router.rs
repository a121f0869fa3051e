//! The whole HTTP surface of the hub.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};

use super::peer::Caller;
use super::{Hub, session, submit};
use crate::directory::Agency;

/// Every route the hub serves. Every request arrives over mutual TLS.
pub(crate) fn router(hub: Hub) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/agencies", get(agencies))
        .route("/v1/envelopes", post(submit::submit))
        .route("/v1/socket", get(session::upgrade))
        .with_state(hub)
}

async fn healthz() -> &'static str {
    "ok"
}

/// The directory with public keys, for agency nodes.
async fn agencies(State(hub): State<Hub>, _caller: Caller) -> Json<Vec<Agency>> {
    Json(hub.directory.agencies().to_vec())
}

//! The operations listener: `GET /metrics`, `/healthz`, `/readyz`, plain
//! HTTP on its own address (loopback or an internal network, never the
//! agencies' port). It serves none of the agency API and reads no body.
//!
//! The queue gauges come from the store in one query, cached for
//! `cache_secs` so a scrape storm (several Prometheus servers, a dashboard
//! refreshing every second) costs the database one query per period.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use super::Hub;
use super::config::MetricsConfig;
use super::metrics::AgencyLabel;
use crate::protocol::Timestamp;
use crate::store::Readiness;

/// What the handlers share.
struct Ops {
    hub: Hub,
    cache_for: Duration,
    /// When the queue gauges were last read from the store. Held across
    /// the refresh, so concurrent scrapes wait for one query.
    refreshed: tokio::sync::Mutex<Option<Instant>>,
}

/// Every route of the operations listener.
fn router(ops: Arc<Ops>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .layer(middleware::from_fn(no_body))
        .with_state(ops)
}

/// Serve the operations endpoints of `hub` on `listener` until the hub
/// shuts down.
pub async fn serve_operations(
    listener: TcpListener,
    hub: Hub,
    config: MetricsConfig,
) -> std::io::Result<()> {
    let stop = hub.shutdown.clone();
    let ops = Arc::new(Ops {
        hub,
        cache_for: Duration::from_secs(config.cache_secs),
        refreshed: tokio::sync::Mutex::new(None),
    });
    let app = router(ops);
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let header_timeout = Duration::from_secs(config.header_timeout_secs.max(1));
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors: the agencies' listener backs off
                    // too; a scrape retries by itself.
                    tracing::warn!(error = %e, "operations accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => return Ok(()),
        };
        // Over the limit the connection closes at once: scrapers retry.
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::debug!(%remote, "operations connection refused: over max_connections");
            continue;
        };
        let app = app.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: hyper::Request<_>| {
                app.clone().oneshot(req.map(axum::body::Body::new))
            });
            let io = TokioIo::new(tcp);
            if let Err(e) = crate::http1::serve(io, service, header_timeout, stop).await {
                tracing::debug!(%remote, error = %e, "operations connection ended with error");
            }
            drop(slot);
        });
    }
}

/// Nothing here takes a body; one sent is refused before any handler runs.
async fn no_body(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    if headers.contains_key(header::TRANSFER_ENCODING) || length.is_some_and(|l| l != "0") {
        tracing::debug!(path = %request.uri().path(), "operations request with a body refused");
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            [(header::CONNECTION, "close")],
            "this listener takes no request body\n",
        )
            .into_response();
    }
    next.run(request).await
}

async fn not_found() -> (StatusCode, &'static str) {
    (
        StatusCode::NOT_FOUND,
        "not found: this listener serves /metrics, /healthz and /readyz only\n",
    )
}

/// The process answers.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready to take traffic: not shutting down, the database answers and its
/// schema is this build's.
async fn readyz(State(ops): State<Arc<Ops>>) -> (StatusCode, String) {
    if ops.hub.shutdown.is_cancelled() {
        return not_ready("shutting down".into());
    }
    match ops.hub.store.readiness().await {
        Ok(Readiness::Ready) => (StatusCode::OK, "ready\n".into()),
        Ok(Readiness::Migrations { applied, expected }) => not_ready(format!(
            "database schema is at migration {} but this hub needs {expected}",
            applied.map_or_else(|| "none".to_owned(), |v| v.to_string())
        )),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check: the database does not answer");
            not_ready("database unavailable".into())
        }
    }
}

fn not_ready(reason: String) -> (StatusCode, String) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("not ready: {reason}\n"),
    )
}

async fn metrics(State(ops): State<Arc<Ops>>) -> Response {
    let mut refreshed = ops.refreshed.lock().await;
    if refreshed.is_none_or(|at| at.elapsed() >= ops.cache_for) {
        // A failed read leaves the last values (and the store latency
        // histogram shows the failure); the scrape still answers.
        match refresh_queues(&ops.hub).await {
            Ok(()) => *refreshed = Some(Instant::now()),
            Err(e) => tracing::warn!(error = %e, "metrics: cannot read the delivery queues"),
        }
    }
    let encoded = ops.hub.metrics.encode();
    drop(refreshed);
    match encoded {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Set the queue gauges: every agency of the directory (0 when it has
/// nothing pending), and any other recipient the store still holds
/// deliveries for.
async fn refresh_queues(hub: &Hub) -> Result<(), crate::store::StoreError> {
    let backlog = hub.store.backlog().await?;
    // The system clock, not the hub's: the store stamps `accepted_at` with
    // it (the hub clock only differs in tests and rehearsals).
    let now = time::OffsetDateTime::now_utc();
    let metrics = &hub.metrics;
    metrics.pending.clear();
    metrics.oldest_unacked.clear();
    for agency in hub.directory().agencies() {
        let label = AgencyLabel::of(&agency.id);
        metrics.pending.get_or_create(&label).set(0);
        metrics.oldest_unacked.get_or_create(&label).set(0);
    }
    for queue in backlog {
        let label = AgencyLabel::of(&queue.agency);
        let age = queue.oldest.map_or(0, |at| age_secs(now, at));
        metrics
            .pending
            .get_or_create(&label)
            .set(i64::try_from(queue.pending).unwrap_or(i64::MAX));
        metrics.oldest_unacked.get_or_create(&label).set(age);
    }
    Ok(())
}

fn age_secs(now: time::OffsetDateTime, at: Timestamp) -> i64 {
    (now - at.datetime()).whole_seconds().max(0)
}

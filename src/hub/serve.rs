//! The TLS acceptor: a bounded number of connections, each handshake with a
//! deadline, each request tagged with the client certificate's agency.

use std::future::Future;
use std::sync::Arc;

use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::peer::Peer;
use super::{Hub, router};
use crate::protocol::keys::CertFingerprint;

/// Serve the hub on `listener` until `shutdown` completes, then stop
/// accepting, close sockets, finish requests in flight and close the store
/// (which finishes queued commits). Nothing acknowledged is lost.
pub async fn serve(
    listener: TcpListener,
    hub: Hub,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    forward_store_wakeups(&hub).await?;
    super::deadline::spawn_ticker(hub.clone());
    let acceptor = TlsAcceptor::from(tls);
    let app = router::router(hub.clone());
    let permits = Arc::new(Semaphore::new(connection_budget(
        hub.limits.max_connections,
    )));
    // Connections past their handshake, for the graceful stop.
    let connections = TaskTracker::new();
    let handshake_timeout = std::time::Duration::from_secs(hub.limits.handshake_timeout_secs);
    let header_timeout = std::time::Duration::from_secs(hub.limits.header_timeout_secs.max(1));
    let mut backoff = AcceptBackoff::default();
    let refusals = Arc::new(HandshakeRefusals::default());
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.map_err(std::io::Error::other)?,
            _ = &mut shutdown => break,
        };
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => {
                    backoff.reset();
                    a
                }
                Err(e) => {
                    // Out of descriptors (EMFILE) or memory: retrying at
                    // once would spin and flood the log. Wait, longer each
                    // time, and say so once per wait.
                    let wait = backoff.next();
                    tracing::warn!(error = %e, wait_ms = wait.as_millis() as u64, "accept failed; waiting before the next");
                    drop(permit);
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => continue,
                        _ = &mut shutdown => break,
                    }
                }
            },
            _ = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let refusals = refusals.clone();
        let app = app.clone();
        let directory = hub.directory.clone();
        let connections = connections.clone();
        let stop = hub.shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let tls = match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(%remote, error = %e, "TLS handshake refused");
                    refusals.note("refused");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%remote, "TLS handshake timed out");
                    refusals.note("timed out");
                    return;
                }
            };
            let peer = peer_of(&tls, &directory);
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(peer.clone());
                    app.clone().oneshot(req)
                },
            );
            // HTTP/1.1 only: ALPN offers nothing else, and HTTP/2's own
            // limits (streams, window sizes, resets) would need arguing one
            // by one for no gain to an agency's few requests. hyper's own
            // HTTP/1 connection, not the auto-detecting one: that one waits
            // for a first byte with no deadline, so a silent authenticated
            // connection would hold its slot for ever. The header deadline
            // runs from the handshake and from each response.
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(tls), service)
                .with_upgrades();
            let ended = connections
                .track_future(async move {
                    tokio::pin!(conn);
                    tokio::select! {
                        ended = conn.as_mut() => ended,
                        _ = stop.cancelled() => {
                            conn.as_mut().graceful_shutdown();
                            conn.await
                        }
                    }
                })
                .await;
            if let Err(e) = ended {
                tracing::debug!(%remote, error = %e, "connection ended with error");
            }
        });
    }
    tracing::info!("shutting down: closing sockets, finishing requests in flight");
    hub.shutdown.cancel();
    connections.close();
    connections.wait().await;
    // Sessions finish the frame in hand (an ack being committed) and close;
    // only then may the store close, or that ack would fail.
    hub.sessions.close();
    hub.sessions.wait().await;
    hub.store.close().await;
    tracing::info!("hub stopped");
    Ok(())
}

/// Descriptors kept for what is not a connection: the database, the
/// listener, the runtime, logs.
const RESERVED_FILES: u64 = 64;

/// How many connections the hub can hold open: `configured`, unless the
/// process's file limit (raised to its hard limit first) cannot honour it —
/// then fewer, with a warning naming the fix. Accepting past the limit would
/// fail every accept with EMFILE.
fn connection_budget(configured: usize) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the file limit; keeping max_connections");
            return configured;
        }
    };
    let honourable = usize::try_from(limit.saturating_sub(RESERVED_FILES))
        .unwrap_or(usize::MAX)
        .max(1);
    if configured > honourable {
        tracing::warn!(
            configured,
            file_limit = limit,
            capped = honourable,
            "max_connections exceeds what the file limit allows: capped (raise LimitNOFILE / ulimit -n to keep it)"
        );
        honourable
    } else {
        configured
    }
}

/// Refused handshakes, logged at most once a minute with their count: a
/// TLS scan, or a client without a certificate retrying, would otherwise
/// write a warning per connection. Each one is still at debug level.
#[derive(Default)]
struct HandshakeRefusals {
    /// Since the last warning, and when that was.
    state: std::sync::Mutex<(u64, Option<std::time::Instant>)>,
}

impl HandshakeRefusals {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(60);

    fn note(&self, what: &'static str) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 += 1;
        if state.1.is_none_or(|at| at.elapsed() >= Self::EVERY) {
            tracing::warn!(
                count = state.0,
                last = what,
                "TLS handshakes refused or timed out (counted; logged at most once a minute, each one at debug level)"
            );
            *state = (0, Some(std::time::Instant::now()));
        }
    }
}

/// The wait after a failed accept: 10 ms, doubling to one second.
#[derive(Default)]
struct AcceptBackoff {
    failures: u32,
}

impl AcceptBackoff {
    fn next(&mut self) -> std::time::Duration {
        self.failures = self.failures.saturating_add(1);
        std::time::Duration::from_millis(10u64 << self.failures.min(8).saturating_sub(1))
            .min(std::time::Duration::from_secs(1))
    }

    fn reset(&mut self) {
        self.failures = 0;
    }
}

/// With several hub processes on one database, a commit by another process
/// must wake the sockets this process holds.
async fn forward_store_wakeups(hub: &Hub) -> std::io::Result<()> {
    let wakeups = hub
        .store
        .delivery_wakeups()
        .await
        .map_err(std::io::Error::other)?;
    if let Some(mut wakeups) = wakeups {
        let wake = hub.wake.clone();
        let shutdown = hub.shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    next = wakeups.recv() => match next {
                        Some(Some(agency)) => wake.notify(&agency),
                        Some(None) => wake.notify_all(),
                        None => return,
                    },
                    _ = shutdown.cancelled() => return,
                }
            }
        });
    }
    Ok(())
}

fn peer_of(
    tls: &tokio_rustls::server::TlsStream<TcpStream>,
    directory: &crate::directory::Directory,
) -> Peer {
    let (_, conn) = tls.get_ref();
    // The verifier required a certificate chained to our CA, so one is present.
    let fingerprint = conn
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|cert| CertFingerprint::of_der(cert.as_ref()))
        .unwrap_or_else(|| CertFingerprint::of_der(&[]));
    let agency = directory.by_certificate(&fingerprint).map(|a| a.id.clone());
    Peer {
        fingerprint,
        agency,
    }
}

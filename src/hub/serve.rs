//! The TLS acceptor: a bounded number of connections, each handshake with a
//! deadline, each request tagged with the client certificate's agency.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::admission::{Admission, HandshakeTicket, Over};
use super::peer::Peer;
use super::{Hub, HubError, router};
use crate::protocol::ErrorCode;
use crate::protocol::keys::CertFingerprint;
use axum::response::IntoResponse;

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
    super::catch_up::spawn(&hub)
        .await
        .map_err(std::io::Error::other)?;
    super::deadline::spawn_ticker(hub.clone());
    let acceptor = TlsAcceptor::from(tls);
    let app = router::router(hub.clone());
    let admission = Arc::new(Admission::new(&hub.limits, hub.metrics.clone()));
    // Connections past their handshake, for the graceful stop.
    let connections = TaskTracker::new();
    let handshake_timeout = Duration::from_secs(hub.limits.handshake_timeout_secs.max(1));
    let header_timeout = Duration::from_secs(hub.limits.header_timeout_secs.max(1));
    let mut backoff = AcceptBackoff::default();
    tokio::pin!(shutdown);
    loop {
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
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => continue,
                        _ = &mut shutdown => break,
                    }
                }
            },
            _ = &mut shutdown => break,
        };
        // Decided here, before a task or a TLS state exists: a flood costs
        // an accept and a close.
        let ticket = match admission.handshake(remote.ip()) {
            Ok(ticket) => ticket,
            Err(over) => {
                tracing::debug!(%remote, ?over, "connection closed before its handshake");
                admission.note(over);
                continue;
            }
        };
        let connection = Connection {
            acceptor: acceptor.clone(),
            admission: admission.clone(),
            app: app.clone(),
            current: hub.watch_directory(),
            stop: hub.shutdown.clone(),
            handshake_timeout,
            header_timeout,
        };
        let connections = connections.clone();
        tokio::spawn(async move { connection.run(tcp, remote, ticket, connections).await });
    }
    tracing::info!("shutting down: closing sockets, finishing requests in flight");
    hub.shutdown.cancel();
    connections.close();
    connections.wait().await;
    // Sessions finish the frame in hand (an ack being committed) and close;
    // only then may the store close, or that ack would fail.
    hub.sessions.close();
    hub.sessions.wait().await;
    hub.release_deadline_lease().await;
    hub.store.close().await;
    tracing::info!("hub stopped");
    Ok(())
}

/// What one accepted connection needs.
struct Connection {
    acceptor: TlsAcceptor,
    admission: Arc<Admission>,
    app: axum::Router,
    /// The directory in force, to map the certificate and to close the
    /// connection when a reload no longer admits it.
    current: tokio::sync::watch::Receiver<Arc<crate::directory::SignedDirectory>>,
    stop: tokio_util::sync::CancellationToken,
    handshake_timeout: Duration,
    header_timeout: Duration,
}

impl Connection {
    /// The handshake within its deadline, holding `ticket`; then, with a
    /// connection permit of its own, HTTP until the peer or the hub ends it.
    async fn run(
        self,
        tcp: TcpStream,
        remote: SocketAddr,
        ticket: HandshakeTicket,
        connections: TaskTracker,
    ) {
        let handshake = tokio::time::timeout(self.handshake_timeout, self.acceptor.accept(tcp));
        let tls = match handshake.await {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => {
                tracing::debug!(%remote, error = %e, "TLS handshake refused");
                self.admission.failed("refused", "handshake_failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%remote, "TLS handshake timed out");
                self.admission.failed("timed out", "handshake_timeout");
                return;
            }
        };
        drop(ticket);
        // An Arc of the directory in force, not a copy of it per connection.
        let directory = self.current.borrow().shared();
        let peer = peer_of(&tls, &directory);
        if let (Some(agency), Some(cert)) = (&peer.agency, first_certificate(&tls)) {
            self.admission.metrics.certificate_presented(agency, cert);
        }
        let io = TokioIo::new(tls);
        match self.admission.connection(&peer.agency) {
            Ok(_ticket) => {
                let admitted = peer.agency.clone().map(|a| (peer.fingerprint.clone(), a));
                let app = self.app.clone();
                let service = hyper::service::service_fn(
                    move |mut req: hyper::Request<hyper::body::Incoming>| {
                        req.extensions_mut().insert(peer.clone());
                        app.clone().oneshot(req)
                    },
                );
                self.http(io, service, remote, connections, admitted).await
            }
            // One agency over its share is told why, and the connection
            // closes after the answer.
            Err(over @ Over::Agency) => {
                tracing::debug!(%remote, agency = ?peer.agency, "over max_connections_per_agency");
                self.admission.note(over);
                let service = hyper::service::service_fn(|_| async {
                    let mut response = too_many_connections().into_response();
                    response.headers_mut().insert(
                        hyper::header::CONNECTION,
                        hyper::header::HeaderValue::from_static("close"),
                    );
                    Ok::<_, std::convert::Infallible>(response)
                });
                self.http(io, service, remote, connections, None).await
            }
            // Over max_connections nothing is read: the connection closes.
            Err(over) => {
                tracing::debug!(%remote, ?over, "connection closed after its handshake");
                self.admission.note(over);
            }
        }
    }

    async fn http<S>(
        self,
        io: TokioIo<tokio_rustls::server::TlsStream<TcpStream>>,
        service: S,
        remote: SocketAddr,
        connections: TaskTracker,
        admitted: Option<(CertFingerprint, crate::protocol::AgencyId)>,
    ) where
        S: hyper::service::HttpService<hyper::body::Incoming> + Send + 'static,
        S::Future: Send,
        S::ResBody: Send + 'static,
        <S::ResBody as hyper::body::Body>::Data: Send,
        <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let _open = self.admission.metrics.http_connection();
        // A kept-alive connection ends, after the request in flight, once
        // a reload no longer admits its certificate.
        let stop = self.stop.child_token();
        let serving = crate::http1::serve(io, service, self.header_timeout, stop.clone());
        let serving = connections.track_future(serving);
        tokio::pin!(serving);
        let ejected = async {
            match admitted {
                Some((fingerprint, agency)) => {
                    super::revocation::ejected(self.current, fingerprint, agency).await
                }
                None => std::future::pending().await,
            }
        };
        let ended = tokio::select! {
            ended = &mut serving => ended,
            why = ejected => {
                tracing::info!(%remote, reason = why.close_reason(), "closing a connection: its certificate is no longer admitted");
                stop.cancel();
                serving.await
            }
        };
        if let Err(e) = ended {
            tracing::debug!(%remote, error = %e, "connection ended with error");
        }
    }
}

/// An agency over its share of connections.
pub(super) fn too_many_connections() -> HubError {
    HubError::new(
        ErrorCode::TooManyConnections,
        "この機関の同時接続数が上限に達しています。ほかの接続（別の端末や古いノード）を閉じるか、しばらく待ってから再接続してください。",
        "this agency holds as many connections as the hub allows; close the others (another machine, an old node) or reconnect later",
    )
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

/// The client certificate (the verifier required one chained to our CA).
fn first_certificate(tls: &tokio_rustls::server::TlsStream<TcpStream>) -> Option<&[u8]> {
    let (_, conn) = tls.get_ref();
    conn.peer_certificates()
        .and_then(|certs| certs.first())
        .map(|cert| cert.as_ref())
}

fn peer_of(
    tls: &tokio_rustls::server::TlsStream<TcpStream>,
    directory: &crate::directory::Directory,
) -> Peer {
    let fingerprint = CertFingerprint::of_der(first_certificate(tls).unwrap_or(&[]));
    let agency = directory.by_certificate(&fingerprint).map(|a| a.id.clone());
    Peer {
        fingerprint,
        agency,
    }
}

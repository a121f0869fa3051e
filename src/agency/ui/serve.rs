//! Serving the UI: plain HTTP on loopback only, HTTPS (the configured
//! certificate) anywhere else; each request tagged with its TCP peer.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::auth::ClientAddr;
use super::{UiState, router};
use crate::agency::config::UiConfig;
use crate::crypto::tls::{self, TlsError};

/// Why the UI cannot be served as configured.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error(
        "Web画面を {0} で公開するには HTTPS の証明書が必要です。agency.toml の [ui] に tls_cert と tls_key を設定するか、listen を 127.0.0.1 にしてください \
         (the web UI on a non-loopback address needs [ui] tls_cert and tls_key)"
    )]
    NeedsTls(SocketAddr),
    #[error("Web画面の証明書を読み込めません (cannot load the web UI certificate): {0}")]
    Tls(#[from] TlsError),
}

/// The TLS configuration to serve `ui.listen` with: `None` for plain HTTP,
/// allowed on loopback only.
pub fn tls_for(
    ui: &UiConfig,
    listen: SocketAddr,
) -> Result<Option<Arc<rustls::ServerConfig>>, ListenError> {
    match ui.tls() {
        Some((cert, key)) => Ok(Some(tls::ui_server_config_from_files(cert, key)?)),
        None if listen.ip().is_loopback() => Ok(None),
        None => Err(ListenError::NeedsTls(listen)),
    }
}

/// Serve the UI on `listener` until `shutdown`, then finish requests in
/// flight (live streams end with `state.shutdown`). A request's headers
/// must arrive within `header_timeout`.
pub async fn serve(
    listener: TcpListener,
    state: UiState,
    tls: Option<Arc<rustls::ServerConfig>>,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let app = router(state.clone());
    spawn_session_pruner(&state);
    let acceptor = tls.map(TlsAcceptor::from);
    let connections = TaskTracker::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let app = app.clone();
        let acceptor = acceptor.clone();
        let stop = state.shutdown.clone();
        connections.spawn(async move {
            match acceptor {
                None => connection(tcp, remote, app, header_timeout, stop).await,
                Some(acceptor) => {
                    // The same deadline for the handshake as for headers: a
                    // browser does both at once.
                    match tokio::time::timeout(header_timeout, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => connection(tls, remote, app, header_timeout, stop).await,
                        Ok(Err(e)) => {
                            tracing::debug!(%remote, error = %e, "UI TLS handshake refused")
                        }
                        Err(_) => tracing::debug!(%remote, "UI TLS handshake timed out"),
                    }
                }
            }
        });
    }
    state.shutdown.cancel();
    connections.close();
    connections.wait().await;
    Ok(())
}

/// Sessions that ended (idle, expired) are refused on use already; this
/// removes their rows every few minutes once they have been over for a day
/// (kept that long only so the login page can say why a session ended), so
/// the records do not keep token digests indefinitely.
fn spawn_session_pruner(state: &UiState) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(5 * 60);
    let (accounts, stop) = (state.accounts.clone(), state.shutdown.clone());
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(EVERY);
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    match accounts.prune_sessions(crate::protocol::Timestamp::now()).await {
                        Ok(0) => {}
                        Ok(n) => tracing::debug!(sessions = n, "ended sessions pruned"),
                        Err(e) => tracing::warn!(error = %e, "could not prune ended sessions"),
                    }
                }
                _ = stop.cancelled() => return,
            }
        }
    });
}

async fn connection<I>(
    io: I,
    remote: SocketAddr,
    app: axum::Router,
    header_timeout: Duration,
    stop: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ClientAddr(remote));
            app.clone().oneshot(req)
        });
    let served = crate::http1::serve(TokioIo::new(io), service, header_timeout, stop).await;
    if let Err(e) = served {
        tracing::debug!(%remote, error = %e, "UI connection ended with error");
    }
}

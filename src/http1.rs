//! One HTTP/1.1 connection, as both servers (the hub and the staff UI)
//! serve it: a deadline on every request's headers, upgrades allowed, and a
//! graceful end when the server stops.
//!
//! HTTP/1.1 only: ALPN offers nothing else, and HTTP/2's own limits
//! (streams, window sizes, resets) would need arguing one by one for no gain
//! to an agency's few requests or a browser's page loads. hyper's own
//! HTTP/1 connection, not the auto-detecting one: that one waits for a first
//! byte with no deadline, so a silent connection would hold its slot for
//! ever. The header deadline runs from the connection's start and from each
//! response, so it also closes an idle kept-alive connection.

use std::error::Error as StdError;
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::service::HttpService;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

/// Serve `io` with `service` until the peer closes, a request's headers do
/// not arrive within `header_timeout`, or `stop` is cancelled (then the
/// request in flight finishes first).
pub(crate) async fn serve<I, S>(
    io: TokioIo<I>,
    service: S,
    header_timeout: Duration,
    stop: CancellationToken,
) -> Result<(), hyper::Error>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: HttpService<Incoming> + Send + 'static,
    S::Future: Send,
    S::ResBody: Send + 'static,
    <S::ResBody as Body>::Data: Send,
    <S::ResBody as Body>::Error: Into<Box<dyn StdError + Send + Sync>>,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(io, service)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        ended = conn.as_mut() => ended,
        _ = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    }
}

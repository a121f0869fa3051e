//! What one Prometheus scrape of the hub costs: `/metrics` with the queue
//! figures read afresh from the database each time (no cache), as many
//! times as the micro-measures run, one connection each as Prometheus
//! opens them.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;
use figures::Spread;

/// Scrape the hub's operations listener `runs` times; the spread and the
/// size of the last answer. `None` when the hub runs no such listener.
pub(super) async fn scrape_cost(
    hub: &RunningHub,
    runs: u32,
) -> anyhow::Result<Option<(Spread, usize)>> {
    let Some(ops) = hub.operations else {
        return Ok(None);
    };
    let mut samples = Vec::with_capacity(runs as usize);
    let mut size = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let mut tcp = TcpStream::connect(ops).await?;
        tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: ops\r\nConnection: close\r\n\r\n")
            .await?;
        let mut answer = Vec::new();
        tcp.read_to_end(&mut answer).await?;
        samples.push(started.elapsed());
        if !answer.starts_with(b"HTTP/1.1 200") {
            bail!("/metrics answered {:?}", String::from_utf8_lossy(&answer));
        }
        size = answer.len();
    }
    Ok(Spread::of(samples).map(|s| (s, size)))
}

/// The listener the harness's hub runs: uncached, so each scrape pays the
/// query.
pub(super) fn uncached() -> crate::hub::MetricsConfig {
    crate::hub::MetricsConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        cache_secs: 0,
        ..crate::hub::MetricsConfig::default()
    }
}

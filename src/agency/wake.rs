//! A local wake-up for the running node (`agency run`): a command that left
//! an envelope pending in the outbox connects to a Unix socket beside the
//! node's records, and the node sends at once rather than at its next sweep.
//! Best effort on both sides: the sweep is the safety net, so a failure here
//! delays by seconds and loses nothing. The socket lives in the records'
//! directory, which only the node's own account should be able to enter.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The wake socket of the records at `records`.
pub(super) fn path(records: &Path) -> PathBuf {
    let mut name = records.as_os_str().to_owned();
    name.push(".wake");
    PathBuf::from(name)
}

/// Wake the node listening at `path`, if one is.
pub(super) async fn poke(path: &Path) {
    if let Err(e) = UnixStream::connect(path).await {
        tracing::debug!(error = %e, "no running node to wake; it will find the entry when it runs");
    }
}

/// Listen at `path` until `shutdown`, notifying `wake` for each connection.
/// Returns `None` (and logs why) when it cannot listen: another node runs on
/// the same records, or the path is unusable.
pub(super) fn listen(
    path: &Path,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    // A socket file left by a node that was killed refuses connections;
    // one that accepts belongs to a node still running.
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            tracing::warn!(path = %path.display(), "another node is running on these records; not listening for wake-ups");
            return None;
        }
        let _ = std::fs::remove_file(path);
    }
    let listener = match UnixListener::bind(path) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot listen for wake-ups; relying on the sweep");
            return None;
        }
    };
    let path = path.to_owned();
    Some(tokio::spawn(async move {
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(_) => wake.notify_one(),
                    Err(e) => {
                        // Out of descriptors, say: do not spin.
                        tracing::debug!(error = %e, "wake socket accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                },
                _ = shutdown.cancelled() => break,
            }
        }
        let _ = std::fs::remove_file(&path);
    }))
}

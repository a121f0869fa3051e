//! The hub: accepts agencies over mutual TLS, checks every envelope's legal
//! basis, commits it, pushes each recipient's deliveries over its websocket,
//! and escalates missed deadlines.

mod admission;
mod batch;
mod catch_up;
pub mod clock;
pub mod config;
mod counted;
mod deadline;
mod error;
mod lease;
mod metrics;
mod operations;
mod oversight;
mod peer;
mod policy;
mod rate;
mod reload;
pub mod retention;
mod revocation;
mod router;
mod serve;
mod session;
mod slots;
mod submit;
mod wake;

use std::sync::Arc;

pub use config::{Deadlines, HubConfig, Limits, MetricsConfig, Retention};
pub use deadline::TickReport;
pub use error::HubError;
pub use operations::serve_operations;
pub use reload::{ReloadError, Reloaded};
pub use serve::serve;

use crate::directory::{Directory, SignedDirectory};
use crate::store::HubStore;
use clock::{Clock, SystemClock};
use wake::Wakeups;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct Hub {
    store: Arc<dyn HubStore>,
    /// The directory in force, as the CA signed it (served to nodes), and
    /// its subscribers: a reload replaces it at once for every reader, and
    /// wakes every connection to check it is still admitted.
    current: Arc<tokio::sync::watch::Sender<Arc<SignedDirectory>>>,
    /// Signs what the hub says itself (notices, audit checkpoints); its
    /// public half is the directory's `[hub] signing_key`.
    signing: Arc<ed25519_dalek::SigningKey>,
    wake: Arc<Wakeups>,
    limits: Limits,
    // Shared, not copied: a handler's clone of the hub, and each envelope's
    // policy, would otherwise copy the reminder lists with it.
    deadlines: Arc<Deadlines>,
    clock: Arc<dyn Clock>,
    shutdown: tokio_util::sync::CancellationToken,
    /// Websocket sessions: upgraded connections leave hyper's graceful
    /// shutdown, so the hub waits for these before closing the store.
    sessions: tokio_util::task::TaskTracker,
    /// Delivery sockets open per agency, capped at `max_sockets_per_agency`.
    sockets: Arc<slots::Slots<crate::protocol::AgencyId>>,
    /// Per-agency send rates.
    sends: Arc<rate::SendRate>,
    /// This process as a holder of the deadline lease.
    holder: Arc<lease::Holder>,
    /// What the operations listener exports.
    metrics: Arc<metrics::Metrics>,
    /// How long delivered envelopes stay, and when the hub last purged.
    retention: Arc<retention::Schedule>,
}

impl Hub {
    /// A hub over `store`, admitting the agencies of the CA-signed
    /// `directory` (verified by whoever loads it), signing with `signing`
    /// (checked against the directory by whoever loads it).
    pub fn new(
        store: Arc<dyn HubStore>,
        directory: SignedDirectory,
        signing: ed25519_dalek::SigningKey,
        limits: Limits,
    ) -> Self {
        Self {
            current: Arc::new(tokio::sync::watch::Sender::new(Arc::new(directory))),
            signing: Arc::new(signing),
            wake: Arc::new(Wakeups::default()),
            sockets: slots::Slots::new(limits.max_sockets_per_agency),
            sends: Arc::new(rate::SendRate::new(&limits)),
            limits,
            deadlines: Arc::new(Deadlines::default()),
            clock: Arc::new(SystemClock),
            shutdown: tokio_util::sync::CancellationToken::new(),
            sessions: tokio_util::task::TaskTracker::new(),
            holder: Arc::new(lease::Holder::new()),
            metrics: Arc::new(metrics::Metrics::new(store.metrics())),
            retention: Arc::new(retention::Schedule::new(Retention::default())),
            store,
        }
    }

    /// The directory in force. Take it once per request: a reload may
    /// replace it between two calls.
    pub fn directory(&self) -> Arc<Directory> {
        self.current.borrow().shared()
    }

    /// The directory in force as the CA signed it.
    pub fn published(&self) -> Arc<SignedDirectory> {
        self.current.borrow().clone()
    }

    /// Told of every directory put in force after this call.
    pub(crate) fn watch_directory(&self) -> tokio::sync::watch::Receiver<Arc<SignedDirectory>> {
        self.current.subscribe()
    }

    /// With this retention (the periodic check purges by it).
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = Arc::new(retention::Schedule::new(retention));
        self
    }

    /// The key the hub signs its own statements with.
    pub fn signing_key(&self) -> &ed25519_dalek::SigningKey {
        &self.signing
    }

    /// With these 受理 deadlines.
    pub fn with_deadlines(mut self, deadlines: Deadlines) -> Self {
        self.deadlines = Arc::new(deadlines);
        self
    }

    /// With this clock (tests move a [`clock::ManualClock`]).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sends refused over an agency's rate limit since the hub started.
    pub fn rate_limited(&self) -> u64 {
        self.sends.refused()
    }

    /// Export the expiry of the server certificate in the PEM file `path`
    /// (the one the hub's TLS serves).
    pub fn note_hub_certificate(&self, path: &std::path::Path) {
        self.metrics.hub_certificate(path);
    }

    /// The store, e.g. for the demo to show what the hub holds.
    pub fn store(&self) -> &Arc<dyn HubStore> {
        &self.store
    }
}

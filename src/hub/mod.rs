//! The hub: accepts agencies over mutual TLS, checks every envelope's legal
//! basis, commits it, pushes each recipient's deliveries over its websocket,
//! and escalates missed deadlines.

mod admission;
mod batch;
pub mod clock;
pub mod config;
mod counted;
mod deadline;
mod error;
mod oversight;
mod peer;
mod policy;
mod rate;
pub mod retention;
mod router;
mod serve;
mod session;
mod slots;
mod submit;
mod wake;

use std::sync::Arc;

pub use config::{Deadlines, HubConfig, Limits, Retention};
pub use deadline::TickReport;
pub use error::HubError;
pub use serve::serve;

use crate::directory::{Directory, SignedDirectory};
use crate::store::HubStore;
use clock::{Clock, SystemClock};
use wake::Wakeups;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct Hub {
    store: Arc<dyn HubStore>,
    directory: Arc<Directory>,
    /// The same directory as the CA signed it, served to nodes.
    published: Arc<SignedDirectory>,
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
            store,
            directory: Arc::new(directory.directory().clone()),
            published: Arc::new(directory),
            signing: Arc::new(signing),
            wake: Arc::new(Wakeups::default()),
            sockets: slots::Slots::new(limits.max_sockets_per_agency),
            sends: Arc::new(rate::SendRate::new(&limits)),
            limits,
            deadlines: Arc::new(Deadlines::default()),
            clock: Arc::new(SystemClock),
            shutdown: tokio_util::sync::CancellationToken::new(),
            sessions: tokio_util::task::TaskTracker::new(),
            retention: Arc::new(retention::Schedule::new(Retention::default())),
        }
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

    /// The store, e.g. for the demo to show what the hub holds.
    pub fn store(&self) -> &Arc<dyn HubStore> {
        &self.store
    }
}

//! The hub: accepts agencies over mutual TLS, checks and commits envelopes,
//! and pushes each recipient's deliveries over its websocket.

pub mod config;
mod error;
mod peer;
mod router;
mod serve;
mod session;
mod submit;
mod wake;

use std::sync::Arc;

pub use config::{HubConfig, Limits};
pub use error::HubError;
pub use serve::serve;

use crate::directory::Directory;
use crate::store::HubStore;
use wake::Wakeups;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct Hub {
    store: Arc<dyn HubStore>,
    directory: Arc<Directory>,
    wake: Arc<Wakeups>,
    limits: Limits,
    shutdown: tokio_util::sync::CancellationToken,
}

impl Hub {
    /// A hub over `store`, admitting the agencies of `directory`.
    pub fn new(store: Arc<dyn HubStore>, directory: Directory, limits: Limits) -> Self {
        Self {
            store,
            directory: Arc::new(directory),
            wake: Arc::new(Wakeups::default()),
            limits,
            shutdown: tokio_util::sync::CancellationToken::new(),
        }
    }

    /// The store, e.g. for the demo to show what the hub holds.
    pub fn store(&self) -> &Arc<dyn HubStore> {
        &self.store
    }
}

//! One hub and its agencies' nodes in this process, over real mutual TLS on
//! loopback. The demo, the benchmark and the end-to-end tests all start them
//! here, so all three boot the way a deployment does (a bound listener, the
//! PKI from files, a store opened from its URL, nodes from `agency.toml`
//! values) and none of them drifts into a private shortcut.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::agency::{AgencyConfig, Node, NodeError};
use crate::crypto::{keys, tls};
use crate::directory::{DirectoryError, SignatureError, SignedDirectory};
use crate::hub::clock::Clock;
use crate::hub::{self, Deadlines, Hub, Limits, MetricsConfig};
use crate::store::HubStore;

/// Why a hub could not start.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("cannot bind the hub's listener: {0}")]
    Bind(#[from] std::io::Error),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error(transparent)]
    Key(#[from] crate::crypto::CryptoError),
}

/// How to run the hub; the defaults are a deployment's.
#[derive(Default)]
pub struct HubOptions {
    /// Size limits.
    pub limits: Limits,
    /// 受理 deadlines and how often they are checked.
    pub deadlines: Option<Deadlines>,
    /// The hub's clock (tests move a `ManualClock`).
    pub clock: Option<Arc<dyn Clock>>,
    /// Where to listen; a random loopback port when `None` (give the old
    /// address to restart a hub where its nodes expect it).
    pub addr: Option<SocketAddr>,
    /// The operations listener (`/metrics`, `/healthz`, `/readyz`), if any.
    pub operations: Option<MetricsConfig>,
}

/// A hub serving on loopback.
pub struct RunningHub {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its base URL, for nodes.
    pub url: String,
    /// Its store, to look at what it holds.
    pub store: Arc<dyn HubStore>,
    /// The hub itself (e.g. to run deadline checks).
    pub hub: Hub,
    /// Where the operations listener listens, if it runs.
    pub operations: Option<SocketAddr>,
    shutdown: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningHub {
    /// Serve `store` with the PKI and directory laid out in `certs` as
    /// `tsunagu certs example` lays them out (`ca.pem`, `hub.pem`,
    /// `hub-key.pem`, `hub-signing-key.txt`, `directory.toml` and its
    /// signature `directory.toml.sig`, verified against `ca.pem`).
    pub async fn start(
        certs: &Path,
        store: Arc<dyn HubStore>,
        options: HubOptions,
    ) -> Result<Self, FleetError> {
        let directory =
            SignedDirectory::load(&certs.join("directory.toml"), &certs.join("ca.pem"))?;
        let signing = keys::load_signing_key(&certs.join(crate::crypto::pki::HUB_SIGNING_KEY))?;
        directory.directory().check_hub_key(&signing)?;
        let tls = tls::server_config_from_files(
            &certs.join("ca.pem"),
            &certs.join("hub.pem"),
            &certs.join("hub-key.pem"),
        )?;
        let listener = TcpListener::bind(
            options
                .addr
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
        )
        .await?;
        let addr = listener.local_addr()?;
        let mut hub = Hub::new(store.clone(), directory, signing, options.limits);
        if let Some(deadlines) = options.deadlines {
            hub = hub.with_deadlines(deadlines);
        }
        if let Some(clock) = options.clock {
            hub = hub.with_clock(clock);
        }
        hub.note_hub_certificate(&certs.join("hub.pem"));
        let operations = match options.operations {
            Some(config) => {
                let listener = TcpListener::bind(config.listen).await?;
                let addr = listener.local_addr()?;
                tokio::spawn(hub::serve_operations(listener, hub.clone(), config));
                Some(addr)
            }
            None => None,
        };
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let task = tokio::spawn(hub::serve(listener, hub.clone(), tls, async move {
            stop.cancelled().await
        }));
        Ok(Self {
            addr,
            url: format!("https://127.0.0.1:{}", addr.port()),
            store,
            hub,
            operations,
            shutdown,
            task,
        })
    }

    /// Graceful stop; returns once the store is closed.
    pub async fn stop(self) -> std::io::Result<()> {
        self.shutdown.cancel();
        self.task.await.map_err(std::io::Error::other)?
    }
}

/// An agency's node, running or not.
pub struct RunningNode {
    /// The node.
    pub node: Arc<Node>,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl RunningNode {
    /// Open the node (keys, records, directory); not connected yet.
    pub async fn open(config: &AgencyConfig) -> Result<Self, NodeError> {
        Ok(Self {
            node: Arc::new(Node::open(config).await?),
            shutdown: CancellationToken::new(),
            task: None,
        })
    }

    /// Run it (`agency run`): keep connected, store and ack deliveries,
    /// send the outbox.
    pub fn start(&mut self) {
        let (node, shutdown) = (self.node.clone(), self.shutdown.clone());
        self.task = Some(tokio::spawn(async move { node.run(shutdown).await }));
    }

    /// Stop running and close the records.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take()
            && let Err(e) = task.await
            && e.is_panic()
        {
            // A node that panicked is a bug: let it surface where it is stopped.
            std::panic::resume_unwind(e.into_panic());
        }
        self.node.records().close().await;
    }
}

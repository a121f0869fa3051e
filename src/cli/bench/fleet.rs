//! Hub and nodes.

use super::hub_process::HubProcess;
use super::*;
use crate::store::HubStore;
use std::collections::hash_map::Entry;

/// The hub under measurement: in this process, or with `--hub-process` a
/// child `tsunagu serve` whose memory is read apart from the nodes' and the
/// load generator's.
pub(super) enum BenchHub {
    Here(RunningHub),
    Child {
        process: HubProcess,
        /// The same database, opened here to see what the hub holds.
        store: Arc<dyn HubStore>,
        url: String,
    },
}

impl BenchHub {
    /// Start the hub over the ephemeral PKI's files and `db_url`; a child's
    /// configuration and log go to `dir`.
    pub(super) async fn start(
        pki: &Pki,
        db_url: &str,
        dir: &Path,
        child: bool,
    ) -> anyhow::Result<Self> {
        if !child {
            return Ok(Self::Here(start_in_process(pki, db_url).await?));
        }
        let limits = crate::hub::Limits::default();
        let config = super::hub_process::write_config(
            dir,
            pki,
            db_url,
            limits.max_connections,
            limits.max_handshakes,
        )?;
        let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let process = HubProcess::start(&config, loopback, &dir.join("hub.log")).await?;
        // Opened once the child has migrated the database.
        let store = store::open(db_url)
            .await
            .context("opening the hub database beside the hub")?;
        Ok(Self::Child {
            url: format!("https://{}", process.addr),
            process,
            store,
        })
    }

    pub(super) fn url(&self) -> &str {
        match self {
            Self::Here(hub) => &hub.url,
            Self::Child { url, .. } => url,
        }
    }

    fn store(&self) -> &Arc<dyn HubStore> {
        match self {
            Self::Here(hub) => &hub.store,
            Self::Child { store, .. } => store,
        }
    }

    /// The hub's own resident memory now, when it runs as a child.
    pub(super) fn memory(&self) -> Option<Memory> {
        match self {
            Self::Here(_) => None,
            Self::Child { process, .. } => Some(process.memory()),
        }
    }

    /// The hub in this process (its operations listener can be scraped).
    pub(super) fn here(&self) -> Option<&RunningHub> {
        match self {
            Self::Here(hub) => Some(hub),
            Self::Child { .. } => None,
        }
    }

    pub(super) async fn stop(self) -> anyhow::Result<()> {
        match self {
            Self::Here(hub) => hub.stop().await?,
            Self::Child { process, store, .. } => {
                store.close().await;
                process.stop().await?;
            }
        }
        Ok(())
    }
}

/// The harness's hub in this process, over the ephemeral PKI's files.
async fn start_in_process(pki: &Pki, db_url: &str) -> anyhow::Result<RunningHub> {
    let store = store::open(db_url)
        .await
        .context("opening the hub database")?;
    let options = HubOptions {
        operations: Some(super::scrape::uncached()),
        // Every node of the bench is on 127.0.0.1: the per-address cap on
        // handshakes, meant for one attacker's address, would refuse the
        // senders' connections as they open at once.
        limits: crate::hub::Limits {
            max_handshakes_per_address: 0,
            ..Default::default()
        },
        ..HubOptions::default()
    };
    Ok(RunningHub::start(&pki.dir, store, options).await?)
}

/// Poll (every 20 ms) until no recipient has an unacknowledged delivery at
/// the hub: when the last ack was committed, or `None` after `PATIENCE`.
pub(super) async fn wait_acked(
    hub: &BenchHub,
    recipients: &[AgencyId],
) -> anyhow::Result<Option<Instant>> {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        let mut open = false;
        for agency in recipients {
            if !hub.store().pending(agency, Seq(0), 1).await?.is_empty() {
                open = true;
                break;
            }
        }
        if !open {
            return Ok(Some(Instant::now()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(None)
}

/// Every agency's node, running, with its events forwarded to one channel.
pub(super) struct Fleet {
    pub(super) nodes: Vec<Arc<Node>>,
    running: Vec<RunningNode>,
    collectors: Vec<JoinHandle<()>>,
}

impl Fleet {
    pub(super) async fn start(
        pki: &Pki,
        hub_url: &str,
        data: &Path,
        events: &mpsc::UnboundedSender<Observed>,
    ) -> anyhow::Result<Self> {
        let mut fleet = Fleet {
            nodes: Vec::new(),
            running: Vec::new(),
            collectors: Vec::new(),
        };
        for index in 0..pki.ids.len() {
            let mut running = RunningNode::open(&pki.config(index, hub_url, data))
                .await
                .with_context(|| format!("opening the node of {}", pki.ids[index]))?;
            let forward = collect(index, running.node.subscribe(), events.clone());
            fleet.collectors.push(tokio::spawn(forward));
            running.start();
            fleet.nodes.push(running.node.clone());
            fleet.running.push(running);
        }
        Ok(fleet)
    }

    /// Open one case per envelope, by its sender, 32 at a time (every
    /// referral names a case the hub issued).
    pub(super) async fn open_cases(&self, mut plan: Vec<Planned>) -> anyhow::Result<Vec<Planned>> {
        let permits = Arc::new(Semaphore::new(32));
        let mut opening = super::tasks::Tasks::new();
        for (index, planned) in plan.iter().enumerate() {
            let permit = permits.clone().acquire_owned().await?;
            let node = self.nodes[planned.sender].clone();
            opening.spawn(async move {
                let case = node.open_case().await;
                drop(permit);
                (index, case)
            })?;
        }
        for (index, case) in opening.finish().await? {
            plan[index].case = Some(case.context("opening a case at the hub")?);
        }
        Ok(plan)
    }

    pub(super) async fn stop(self) {
        drop(self.nodes);
        for running in self.running {
            running.stop().await;
        }
        for collector in &self.collectors {
            collector.abort();
        }
    }
}

/// A node event that matters to the benchmark, stamped when it arrived.
pub(super) enum Observed {
    Connected(usize),
    Stored {
        node: usize,
        id: EnvelopeId,
        at: Instant,
    },
    Trouble(String),
}

/// Forward node `index`'s events until the node is dropped.
pub(super) async fn collect(
    index: usize,
    mut events: broadcast::Receiver<NodeEvent>,
    out: mpsc::UnboundedSender<Observed>,
) {
    loop {
        let observed = match events.recv().await {
            Ok(NodeEvent::Stored { envelope_id, .. }) => Observed::Stored {
                node: index,
                id: envelope_id,
                at: Instant::now(),
            },
            Ok(NodeEvent::Connected { .. }) => Observed::Connected(index),
            // A verified audit checkpoint is routine, not trouble.
            Ok(NodeEvent::Checkpoint { .. }) => continue,
            Ok(other) => Observed::Trouble(format!("node {index}: {other:?}")),
            Err(RecvError::Lagged(n)) => {
                Observed::Trouble(format!("node {index}: {n} events missed (lagged)"))
            }
            Err(RecvError::Closed) => return,
        };
        if out.send(observed).is_err() {
            return;
        }
    }
}

/// Everything the nodes reported, first store of each delivery only.
pub(super) struct Observer {
    pub(super) rx: mpsc::UnboundedReceiver<Observed>,
    pub(super) connected: HashSet<usize>,
    pub(super) stored: HashMap<(EnvelopeId, usize), Instant>,
    pub(super) stored_twice: usize,
    pub(super) troubles: Vec<String>,
}

impl Observer {
    pub(super) fn new(rx: mpsc::UnboundedReceiver<Observed>) -> Self {
        Self {
            rx,
            connected: HashSet::new(),
            stored: HashMap::new(),
            stored_twice: 0,
            troubles: Vec::new(),
        }
    }

    pub(super) fn note(&mut self, observed: Observed) {
        match observed {
            Observed::Connected(node) => {
                self.connected.insert(node);
            }
            Observed::Stored { node, id, at } => {
                // The first store is the one measured; a second one would
                // break exactly-once and is counted, never hidden.
                match self.stored.entry((id, node)) {
                    Entry::Occupied(_) => self.stored_twice += 1,
                    Entry::Vacant(v) => {
                        v.insert(at);
                    }
                }
            }
            Observed::Trouble(trouble) => self.troubles.push(trouble),
        }
    }

    /// The next event, or `None` after `PATIENCE` without one.
    pub(super) async fn next(&mut self) -> Option<Observed> {
        tokio::time::timeout(PATIENCE, self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    pub(super) async fn wait_connected(&mut self, count: usize) -> anyhow::Result<()> {
        while self.connected.len() < count {
            let Some(observed) = self.next().await else {
                bail!(
                    "only {} of {count} nodes connected within {PATIENCE:?}; seen: {:?}",
                    self.connected.len(),
                    self.troubles
                );
            };
            self.note(observed);
        }
        Ok(())
    }

    /// Wait until every expected delivery is stored, or until nothing
    /// arrives for `PATIENCE` (recorded as trouble).
    pub(super) async fn wait_stored(
        &mut self,
        expected: impl Iterator<Item = (EnvelopeId, usize)>,
    ) {
        let mut missing: HashSet<_> = expected.filter(|k| !self.stored.contains_key(k)).collect();
        while !missing.is_empty() {
            let Some(observed) = self.next().await else {
                self.troubles.push(format!(
                    "{} deliveries not stored after {PATIENCE:?} without progress",
                    missing.len()
                ));
                return;
            };
            if let Observed::Stored { node, id, .. } = &observed {
                missing.remove(&(*id, *node));
            }
            self.note(observed);
        }
    }
}

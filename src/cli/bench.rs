//! `tsunagu bench delivery`: a hub and N agency nodes in one process, over
//! real mutual TLS on loopback, with an ephemeral PKI and temporary
//! databases. Sends M referrals with C sends in flight and reports accepted
//! envelopes per second and the latencies from each send to the hub's accept
//! and to each recipient's store-and-ack. A benchmark, not a test: it
//! measures and prints; only a setup failure stops it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use sqlx::Connection;
use tokio::net::TcpListener;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{Semaphore, broadcast, mpsc};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;
use tsunagu::agency::config::{NodeKeys, NodeTls};
use tsunagu::agency::sealed::{open_envelope, seal_draft};
use tsunagu::agency::{AgencyConfig, Draft, Node, NodeEvent, Sent};
use tsunagu::crypto::{pki, tls};
use tsunagu::directory::{AgencyKind, Directory};
use tsunagu::hub::{self, Hub, Limits};
use tsunagu::i18n::Lang;
use tsunagu::protocol::payload::{Author, Body, Payload};
use tsunagu::protocol::referral::demo_referral;
use tsunagu::protocol::{AgencyId, CaseId, EnvelopeId, Seq, Urgency};
use tsunagu::store;
use tsunagu::store::records::Records;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// 配送: 送信からハブの受理、受信機関の保存・受領確認まで / delivery: send → hub accept → each recipient's store and ack
    Delivery(DeliveryArgs),
}

#[derive(Args)]
pub struct DeliveryArgs {
    /// 機関の数（2以上。半数が送信元の産科医療機関）/ number of agencies (at least 2; half are sending clinics)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..=9999))]
    agencies: u32,
    /// 送信するエンベロープの数 / envelopes to send
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..))]
    envelopes: u32,
    /// 同時に送信中にする数 / sends in flight at once
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    concurrency: u32,
    /// ハブのデータベース / the hub's database
    #[arg(long, value_enum, default_value_t = DbChoice::Both)]
    database: DbChoice,
    /// PostgreSQL サーバの URL（測定用データベースを作成し、終了後に削除）/ PostgreSQL server URL (a fresh database is created, then dropped)
    #[arg(long, env = "TSUNAGU_TEST_PG_URL", hide_env_values = true)]
    pg_url: Option<String>,
    /// 小測定（暗号化・復号・記録の確定）の回数 / runs of each micro-measure (seal, open, record commit)
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    micro_runs: u32,
    /// 一時ディレクトリを作る場所（fsync の速さはディスク次第）/ where to create the temporary directory (fsync speed depends on the disk)
    #[arg(long)]
    tmp_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DbChoice {
    /// SQLite のみ / SQLite only
    Sqlite,
    /// PostgreSQL のみ / PostgreSQL only
    Postgres,
    /// SQLite と、URL があれば PostgreSQL / SQLite, and PostgreSQL when a URL is set
    Both,
}

/// Waiting longer than this for the next node event means something stalled.
const PATIENCE: Duration = Duration::from_secs(60);
/// Size of the payload in the sealing micro-measure.
const SEAL_PAYLOAD_BYTES: usize = 4096;
/// Heads every key file of the ephemeral PKI.
const KEY_COMMENT: &str = "tsunagu bench: ephemeral key, deleted with its temporary directory";

pub fn run(cmd: BenchCommand, lang: Lang) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Delivery(args) => {
            tokio::runtime::Runtime::new()?.block_on(delivery(args, lang))
        }
    }
}

async fn delivery(args: DeliveryArgs, lang: Lang) -> anyhow::Result<()> {
    let databases = databases(&args, lang)?;
    if std::env::var_os("RUST_LOG").is_none() {
        eprintln!(
            "{}",
            lang.pick(
                "注意: 既定のログ（info）は1件ごとに出力され測定に影響します。RUST_LOG=warn を推奨します。",
                "note: info logs are written for every envelope and cost time; RUST_LOG=warn is recommended."
            )
        );
    }
    let tmp = match &args.tmp_dir {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .context("creating the temporary directory")?;
    let pki = Arc::new(Pki::generate(
        &tmp.path().join("pki"),
        args.agencies as usize,
    )?);
    let payload = Arc::new(demo_payload());
    print_settings(&args, &pki, &payload, tmp.path(), lang)?;
    let mut micro = measure_seal(&pki, args.micro_runs)?;
    micro.record_commit = measure_record_commit(&pki, tmp.path(), args.micro_runs).await?;
    micro.print();
    let mut rows = Vec::new();
    for db in &databases {
        let figures = run_database(db, &args, &pki, &payload, tmp.path()).await?;
        figures.print();
        rows.push(figures);
    }
    print_summary(&args, &rows);
    Ok(())
}

/// The hub databases to measure, in order.
enum Database {
    Sqlite,
    Postgres { server: String },
}

impl Database {
    fn label(&self) -> &'static str {
        match self {
            Database::Sqlite => "SQLite",
            Database::Postgres { .. } => "PostgreSQL",
        }
    }
}

fn databases(args: &DeliveryArgs, lang: Lang) -> anyhow::Result<Vec<Database>> {
    let pg = args
        .pg_url
        .clone()
        .map(|server| Database::Postgres { server });
    Ok(match (args.database, pg) {
        (DbChoice::Sqlite, _) => vec![Database::Sqlite],
        (DbChoice::Postgres, Some(pg)) => vec![pg],
        (DbChoice::Postgres, None) => bail!(
            "--database postgres needs a server: pass --pg-url postgres://USER:PASSWORD@HOST/DB \
             or set {}",
            store::testing::PG_URL_VAR
        ),
        (DbChoice::Both, Some(pg)) => vec![Database::Sqlite, pg],
        (DbChoice::Both, None) => {
            println!(
                "{}",
                lang.pick(
                    &format!(
                        "PostgreSQL は省略します（--pg-url または {} が未設定）。",
                        store::testing::PG_URL_VAR
                    ),
                    &format!(
                        "PostgreSQL SKIPPED: neither --pg-url nor {} is set.",
                        store::testing::PG_URL_VAR
                    ),
                )
            );
            vec![Database::Sqlite]
        }
    })
}

// ---------------------------------------------------------------- the PKI

/// An ephemeral CA, hub certificate and agency key sets, written to files
/// the hub and the nodes load as they would in a deployment. Even-numbered
/// agencies are sending clinics; the others are recipients.
struct Pki {
    dir: PathBuf,
    ids: Vec<AgencyId>,
    materials: Vec<pki::AgencyMaterial>,
    directory: Directory,
    senders: Vec<usize>,
    recipients: Vec<usize>,
}

fn kind_of(index: usize) -> AgencyKind {
    match index % 4 {
        0 | 2 => AgencyKind::ObstetricClinic,
        1 => AgencyKind::Center,
        _ => AgencyKind::ChildWelfare,
    }
}

impl Pki {
    fn generate(dir: &Path, count: usize) -> anyhow::Result<Self> {
        let agencies = dir.join("agencies");
        std::fs::create_dir_all(&agencies).context("creating the PKI directory")?;
        let ca = pki::generate_ca("tsunagu bench CA (ephemeral)")?;
        let hub = pki::issue_server(&ca, &["127.0.0.1", "localhost"])?;
        // The temporary directory is private to this user (0700), so the
        // hub key needs no stricter mode of its own.
        write_file(&dir.join("ca.pem"), &ca.cert_pem)?;
        write_file(&dir.join("hub.pem"), &hub.cert_pem)?;
        write_file(&dir.join("hub-key.pem"), &hub.key_pem)?;
        let (mut ids, mut materials, mut entries) = (Vec::new(), Vec::new(), Vec::new());
        for index in 0..count {
            let id: AgencyId = format!("bench-{:04}", index + 1).parse()?;
            let material = pki::AgencyMaterial::generate(&ca, &id)?;
            pki::write_agency(&agencies.join(id.as_str()), &material, KEY_COMMENT)?;
            let name = format!("ベンチ機関 {:04}", index + 1);
            entries.push(material.directory_entry(&id, kind_of(index), &name));
            ids.push(id);
            materials.push(material);
        }
        let directory = Directory::new(entries)?;
        write_file(&dir.join("directory.toml"), &directory.to_toml())?;
        let (senders, recipients) =
            (0..count).partition(|&i| kind_of(i) == AgencyKind::ObstetricClinic);
        Ok(Self {
            dir: dir.to_owned(),
            ids,
            materials,
            directory,
            senders,
            recipients,
        })
    }

    /// Node configuration for agency `index`, like
    /// `AgencyConfig::from_example` but over the generated files.
    fn config(&self, index: usize, hub: &str, data: &Path) -> AgencyConfig {
        let id = &self.ids[index];
        let own = self.dir.join("agencies").join(id.as_str());
        AgencyConfig {
            id: id.clone(),
            hub: hub.to_owned(),
            database: store::testing::sqlite_url(data, &format!("{id}.db")),
            directory: Some(self.dir.join("directory.toml")),
            tls: NodeTls {
                ca: self.dir.join("ca.pem"),
                cert: own.join("cert.pem"),
                key: own.join("key.pem"),
            },
            keys: NodeKeys {
                age_identity: own.join("age-identity.txt"),
                signing_key: own.join("signing-key.txt"),
            },
        }
    }

    /// Envelope `k` goes from sender `k mod S` to recipients `k mod R` and
    /// `k+1 mod R`, spreading the load evenly over both sides.
    fn plan(&self, envelopes: usize) -> Vec<Planned> {
        let (s, r) = (self.senders.len(), self.recipients.len());
        (0..envelopes)
            .map(|k| {
                let mut to = vec![self.recipients[k % r], self.recipients[(k + 1) % r]];
                to.dedup();
                Planned {
                    sender: self.senders[k % s],
                    to,
                    case: None,
                }
            })
            .collect()
    }
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// One envelope to send: node indexes, and the case it is about (opened
/// at the hub before the measured run).
struct Planned {
    sender: usize,
    to: Vec<usize>,
    case: Option<CaseId>,
}

fn demo_payload() -> Payload {
    let today = time::OffsetDateTime::now_utc().date();
    Payload {
        author: Author {
            name: "佐藤 美咲".into(),
            role: "助産師".into(),
            contact: "03-0000-0000 内線 12".into(),
        },
        body: Body::Referral(Box::new(demo_referral(today))),
        justification: Some("特定妊婦と思われ、早期の支援が必要なため".into()),
    }
}

// ------------------------------------------------------- sealing micro-measure

struct MicroFigures {
    runs: u32,
    plaintext_bytes: usize,
    ciphertext_bytes: usize,
    age_recipients: usize,
    seal: Duration,
    open: Duration,
    record_commit: Duration,
}

/// Seal (age to the sender and its recipients, Ed25519 signature) and open
/// (verify, decrypt) a payload padded to 4 KiB of JSON, `runs` times each.
fn measure_seal(pki: &Pki, runs: u32) -> anyhow::Result<MicroFigures> {
    let sender = pki.senders[0];
    let to: Vec<usize> = pki.recipients.iter().take(2).copied().collect();
    let mut payload = demo_payload();
    let size = serde_json::to_vec(&payload)?.len();
    let Body::Referral(referral) = &mut payload.body else {
        anyhow::bail!("the demo payload is a referral");
    };
    referral
        .findings
        .push_str(&"x".repeat(SEAL_PAYLOAD_BYTES.saturating_sub(size)));
    let draft = draft(&pki.ids, &to, None, &payload);
    let signing = &pki.materials[sender].signing_key;
    let seal = || seal_draft(&pki.ids[sender], signing, &pki.directory, &draft);
    let mut envelope = seal()?;
    let started = Instant::now();
    for _ in 0..runs {
        envelope = seal()?;
    }
    let sealed = started.elapsed() / runs;
    let (reader, identity) = (&pki.ids[to[0]], &pki.materials[to[0]].age_identity);
    let started = Instant::now();
    for _ in 0..runs {
        open_envelope(&envelope, reader, identity, &pki.directory)?;
    }
    Ok(MicroFigures {
        runs,
        plaintext_bytes: serde_json::to_vec(&payload)?.len(),
        ciphertext_bytes: envelope.ciphertext.len(),
        age_recipients: to.len() + 1,
        seal: sealed,
        open: started.elapsed() / runs,
        record_commit: Duration::ZERO,
    })
}

/// One `store_delivery` commit in a node's own records (SQLite, WAL,
/// `synchronous=FULL`): the fsync every recipient pays per delivery before
/// it acknowledges.
async fn measure_record_commit(pki: &Pki, tmp: &Path, runs: u32) -> anyhow::Result<Duration> {
    let dir = tempfile::tempdir_in(tmp)?;
    let records = Records::open(&store::testing::sqlite_url(dir.path(), "probe.db")).await?;
    let to: Vec<usize> = pki.recipients.iter().take(2).copied().collect();
    let draft = draft(&pki.ids, &to, None, &demo_payload());
    let sender = pki.senders[0];
    let envelope = seal_draft(
        &pki.ids[sender],
        &pki.materials[sender].signing_key,
        &pki.directory,
        &draft,
    )?;
    let json = serde_json::to_vec(&envelope)?;
    let payload = serde_json::to_string(&draft.payload)?;
    let started = Instant::now();
    for seq in 1..=u64::from(runs) {
        // The same envelope each time: the row is kept once, but every call
        // still advances the cursor and commits.
        records
            .store_delivery(Seq(seq), &envelope, &json, &payload)
            .await?;
    }
    let elapsed = started.elapsed() / runs;
    records.close().await;
    Ok(elapsed)
}

impl MicroFigures {
    fn print(&self) {
        println!(
            "\nMicro-measures (one task, mean of {} runs):\n  \
             seal {} B of JSON → {} B ciphertext (age to {} recipients + Ed25519 sign): {:.3} ms\n  \
             open (verify + decrypt as one recipient):                                {:.3} ms\n  \
             node records: one store_delivery commit (SQLite WAL, synchronous=FULL):   {:.3} ms",
            self.runs,
            self.plaintext_bytes,
            self.ciphertext_bytes,
            self.age_recipients,
            ms(self.seal),
            ms(self.open),
            ms(self.record_commit),
        );
    }
}

/// A referral from a clinic to the municipality under the statutory basis
/// (no consent record needed), about `case`.
fn draft(ids: &[AgencyId], to: &[usize], case: Option<CaseId>, payload: &Payload) -> Draft {
    Draft {
        recipients: to.iter().map(|&i| ids[i].clone()).collect(),
        case_id: case,
        urgency: Urgency::Early,
        basis: Some(tsunagu::protocol::LegalBasis::ProvisionToMunicipality),
        purpose: Some(tsunagu::protocol::Purpose::Referral),
        action: None,
        payload: payload.clone(),
    }
}

// ------------------------------------------------------------- one database

async fn run_database(
    db: &Database,
    args: &DeliveryArgs,
    pki: &Arc<Pki>,
    payload: &Arc<Payload>,
    tmp: &Path,
) -> anyhow::Result<Figures> {
    let dir = tempfile::tempdir_in(tmp).context("creating the run's directory")?;
    println!("\n{} …", db.label());
    match db {
        Database::Sqlite => {
            let url = store::testing::sqlite_url(dir.path(), "hub.db");
            measure(db.label(), &url, args, pki, payload, dir.path()).await
        }
        Database::Postgres { server } => {
            let pg = PgDatabase::create(server).await?;
            let result = measure(db.label(), &pg.url, args, pki, payload, dir.path()).await;
            if let Err(e) = pg.drop_database().await {
                eprintln!("could not drop the benchmark database {}: {e:#}", pg.name);
            }
            result
        }
    }
}

/// Hub, nodes, a warm-up (one envelope per sender, not counted), the
/// measured run, and a clean shutdown.
async fn measure(
    label: &str,
    url: &str,
    args: &DeliveryArgs,
    pki: &Arc<Pki>,
    payload: &Arc<Payload>,
    dir: &Path,
) -> anyhow::Result<Figures> {
    let rss_start = Memory::now();
    let hub = RunningHub::start(pki, url).await?;
    let (events, rx) = mpsc::unbounded_channel();
    let mut observer = Observer::new(rx);
    let fleet = Fleet::start(pki, &hub.url, &dir.join("agencies"), &events).await?;
    observer.wait_connected(pki.ids.len()).await?;
    let rss_connected = Memory::now();
    let recipients: Vec<AgencyId> = pki.recipients.iter().map(|&i| pki.ids[i].clone()).collect();
    let warmup = Arc::new(fleet.open_cases(pki.plan(pki.senders.len())).await?);
    run_phase(&fleet, &warmup, pki.senders.len(), payload, &mut observer).await?;
    hub.wait_acked(&recipients).await?;
    let started = Instant::now();
    let plan = Arc::new(fleet.open_cases(pki.plan(args.envelopes as usize)).await?);
    println!(
        "  (opened {} cases in {:.2} s, not counted)",
        plan.len(),
        started.elapsed().as_secs_f64()
    );
    let concurrency = args.concurrency as usize;
    let sends = run_phase(&fleet, &plan, concurrency, payload, &mut observer).await?;
    let acked = hub.wait_acked(&recipients).await?;
    if acked.is_none() {
        observer.troubles.push(format!(
            "the hub still had unacknowledged deliveries after {PATIENCE:?}"
        ));
    }
    let rss_end = Memory::now();
    fleet.stop().await;
    hub.stop().await?;
    let mut figures = Figures::new(
        label,
        &plan,
        &sends,
        &observer,
        [rss_start, rss_connected, rss_end],
    );
    figures.hub_acked = figures.since_first(acked);
    Ok(figures)
}

/// A fresh database on the PostgreSQL server, dropped after the run.
struct PgDatabase {
    server: String,
    name: String,
    url: String,
}

impl PgDatabase {
    async fn create(server: &str) -> anyhow::Result<Self> {
        let name = format!("tsunagu_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(server)
            .await
            .context("connecting to PostgreSQL (--pg-url or TSUNAGU_TEST_PG_URL)")?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .context("creating the benchmark database")?;
        admin.close().await?;
        Ok(Self {
            url: with_database(server, &name),
            server: server.to_owned(),
            name,
        })
    }

    async fn drop_database(&self) -> anyhow::Result<()> {
        let mut admin = sqlx::PgConnection::connect(&self.server).await?;
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        Ok(())
    }
}

/// `server` with its database path replaced by `name` (scheme, credentials,
/// host and query kept).
fn with_database(server: &str, name: &str) -> String {
    let (head, query) = match server.split_once('?') {
        Some((head, query)) => (head, format!("?{query}")),
        None => (server, String::new()),
    };
    let authority = head.find("://").map_or(0, |i| i + 3);
    let base = match head[authority..].find('/') {
        Some(i) => &head[..authority + i],
        None => head,
    };
    format!("{base}/{name}{query}")
}

// ------------------------------------------------------------ hub and nodes

struct RunningHub {
    url: String,
    store: Arc<dyn store::HubStore>,
    stop: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningHub {
    async fn start(pki: &Pki, db_url: &str) -> anyhow::Result<Self> {
        let store = store::open(db_url)
            .await
            .context("opening the hub database")?;
        let tls = tls::server_config_from_files(
            &pki.dir.join("ca.pem"),
            &pki.dir.join("hub.pem"),
            &pki.dir.join("hub-key.pem"),
        )?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("https://{}", listener.local_addr()?);
        let hub = Hub::new(store.clone(), pki.directory.clone(), Limits::default());
        let stop = CancellationToken::new();
        let cancelled = stop.clone();
        let task = tokio::spawn(hub::serve(listener, hub, tls, async move {
            cancelled.cancelled().await
        }));
        Ok(Self {
            url,
            store,
            stop,
            task,
        })
    }

    /// Poll (every 20 ms) until no recipient has an unacknowledged delivery
    /// at the hub: when the last ack was committed, or `None` after `PATIENCE`.
    async fn wait_acked(&self, recipients: &[AgencyId]) -> anyhow::Result<Option<Instant>> {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            let mut open = false;
            for agency in recipients {
                if !self.store.pending(agency, Seq(0), 1).await?.is_empty() {
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

    /// Graceful stop: returns once the store is closed.
    async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        self.task.await?.context("the hub stopped with an error")
    }
}

/// Every agency's node, running, with its events forwarded to one channel.
struct Fleet {
    nodes: Vec<Arc<Node>>,
    stop: CancellationToken,
    runs: Vec<JoinHandle<()>>,
    collectors: Vec<JoinHandle<()>>,
}

impl Fleet {
    async fn start(
        pki: &Pki,
        hub_url: &str,
        data: &Path,
        events: &mpsc::UnboundedSender<Observed>,
    ) -> anyhow::Result<Self> {
        let mut fleet = Fleet {
            nodes: Vec::new(),
            stop: CancellationToken::new(),
            runs: Vec::new(),
            collectors: Vec::new(),
        };
        for index in 0..pki.ids.len() {
            let node = Node::open(&pki.config(index, hub_url, data))
                .await
                .with_context(|| format!("opening the node of {}", pki.ids[index]))?;
            let node = Arc::new(node);
            let forward = collect(index, node.subscribe(), events.clone());
            fleet.collectors.push(tokio::spawn(forward));
            let (running, stop) = (node.clone(), fleet.stop.clone());
            fleet
                .runs
                .push(tokio::spawn(async move { running.run(stop).await }));
            fleet.nodes.push(node);
        }
        Ok(fleet)
    }

    /// Open one case per envelope, by its sender, 32 at a time (every
    /// referral names a case the hub issued).
    async fn open_cases(&self, mut plan: Vec<Planned>) -> anyhow::Result<Vec<Planned>> {
        let permits = Arc::new(Semaphore::new(32));
        let mut opening = JoinSet::new();
        for (index, planned) in plan.iter().enumerate() {
            let permit = permits.clone().acquire_owned().await?;
            let node = self.nodes[planned.sender].clone();
            opening.spawn(async move {
                let case = node.open_case().await;
                drop(permit);
                (index, case)
            });
        }
        while let Some(opened) = opening.join_next().await {
            let (index, case) = opened?;
            plan[index].case = Some(case.context("opening a case at the hub")?);
        }
        Ok(plan)
    }

    async fn stop(self) {
        self.stop.cancel();
        for run in self.runs {
            let _ = run.await;
        }
        for collector in &self.collectors {
            collector.abort();
        }
        for node in &self.nodes {
            node.records().close().await;
        }
    }
}

/// A node event that matters to the benchmark, stamped when it arrived.
enum Observed {
    Connected(usize),
    Stored {
        node: usize,
        id: EnvelopeId,
        at: Instant,
    },
    Trouble(String),
}

/// Forward node `index`'s events until the node is dropped.
async fn collect(
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
struct Observer {
    rx: mpsc::UnboundedReceiver<Observed>,
    connected: HashSet<usize>,
    stored: HashMap<(EnvelopeId, usize), Instant>,
    troubles: Vec<String>,
}

impl Observer {
    fn new(rx: mpsc::UnboundedReceiver<Observed>) -> Self {
        Self {
            rx,
            connected: HashSet::new(),
            stored: HashMap::new(),
            troubles: Vec::new(),
        }
    }

    fn note(&mut self, observed: Observed) {
        match observed {
            Observed::Connected(node) => {
                self.connected.insert(node);
            }
            Observed::Stored { node, id, at } => {
                self.stored.entry((id, node)).or_insert(at);
            }
            Observed::Trouble(trouble) => self.troubles.push(trouble),
        }
    }

    /// The next event, or `None` after `PATIENCE` without one.
    async fn next(&mut self) -> Option<Observed> {
        tokio::time::timeout(PATIENCE, self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    async fn wait_connected(&mut self, count: usize) -> anyhow::Result<()> {
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
    async fn wait_stored(&mut self, expected: impl Iterator<Item = (EnvelopeId, usize)>) {
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

// ------------------------------------------------------------------ sending

/// One `Node::send`: when it was called, when it returned, and the envelope
/// id the hub accepted (or why it did not).
struct SendRecord {
    index: usize,
    start: Instant,
    end: Instant,
    outcome: Result<Accepted, String>,
}

struct Accepted {
    id: EnvelopeId,
    duplicate: bool,
}

/// Send the whole plan with `concurrency` sends in flight, noting node
/// events meanwhile; then wait until every recipient stored its deliveries.
async fn run_phase(
    fleet: &Fleet,
    plan: &Arc<Vec<Planned>>,
    concurrency: usize,
    payload: &Arc<Payload>,
    observer: &mut Observer,
) -> anyhow::Result<Vec<SendRecord>> {
    let mut sending = spawn_sends(fleet, plan, concurrency, payload);
    let sends = loop {
        tokio::select! {
            done = &mut sending => break done.context("the sending task panicked")??,
            Some(observed) = observer.rx.recv() => observer.note(observed),
        }
    };
    let expected = sends.iter().flat_map(|s| match &s.outcome {
        Ok(a) => plan[s.index].to.iter().map(|&r| (a.id, r)).collect(),
        Err(_) => Vec::new(),
    });
    observer.wait_stored(expected).await;
    Ok(sends)
}

fn spawn_sends(
    fleet: &Fleet,
    plan: &Arc<Vec<Planned>>,
    concurrency: usize,
    payload: &Arc<Payload>,
) -> JoinHandle<anyhow::Result<Vec<SendRecord>>> {
    let nodes = fleet.nodes.clone();
    let ids: Arc<Vec<AgencyId>> = Arc::new(nodes.iter().map(|n| n.id().clone()).collect());
    let (plan, payload) = (plan.clone(), payload.clone());
    tokio::spawn(async move {
        let permits = Arc::new(Semaphore::new(concurrency));
        let mut sends = JoinSet::new();
        for (index, planned) in plan.iter().enumerate() {
            let permit = permits.clone().acquire_owned().await?;
            let node = nodes[planned.sender].clone();
            let draft = draft(&ids, &planned.to, planned.case.clone(), &payload);
            sends.spawn(async move {
                let record = send_one(index, &node, &draft).await;
                drop(permit);
                record
            });
        }
        Ok(sends.join_all().await)
    })
}

async fn send_one(index: usize, node: &Node, draft: &Draft) -> SendRecord {
    let start = Instant::now();
    let outcome = match node.send(draft).await {
        Ok(Sent::Accepted { id, duplicate }) => Ok(Accepted { id, duplicate }),
        Ok(Sent::Queued { reason, .. }) => Err(format!("queued (hub unreachable): {reason}")),
        Err(e) => Err(e.to_string()),
    };
    SendRecord {
        index,
        start,
        end: Instant::now(),
        outcome,
    }
}

// ------------------------------------------------------------------ figures

/// p50, p99 (nearest rank) and max of a set of durations.
#[derive(Clone, Copy)]
struct Spread {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

impl Spread {
    fn of(mut samples: Vec<Duration>) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_unstable();
        let rank = |p: f64| {
            let n = samples.len() as f64;
            samples[((p * n).ceil() as usize).clamp(1, samples.len()) - 1]
        };
        Some(Self {
            p50: rank(0.50),
            p99: rank(0.99),
            max: samples[samples.len() - 1],
        })
    }

    fn show(spread: Option<Self>) -> String {
        match spread {
            Some(s) => format!(
                "p50 {:>8.2} ms   p99 {:>8.2} ms   max {:>8.2} ms",
                ms(s.p50),
                ms(s.p99),
                ms(s.max)
            ),
            None => "no samples".into(),
        }
    }
}

/// VmRSS and VmHWM of this process (hub and every node), in KiB.
#[derive(Clone, Copy)]
struct Memory {
    rss: Option<u64>,
    peak: Option<u64>,
}

impl Memory {
    fn now() -> Self {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| {
            status.lines().find_map(|line| {
                let value = line.strip_prefix(name)?.strip_prefix(':')?;
                value.trim().strip_suffix("kB")?.trim().parse().ok()
            })
        };
        Self {
            rss: field("VmRSS"),
            peak: field("VmHWM"),
        }
    }
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Figures {
    database: String,
    first_send: Option<Instant>,
    attempted: usize,
    accepted: usize,
    duplicates: usize,
    failures: Vec<String>,
    wall: Duration,
    send: Option<Spread>,
    ack: Option<Spread>,
    delivered: usize,
    expected: usize,
    all_stored: Option<Duration>,
    hub_acked: Option<Duration>,
    memory: [Memory; 3],
    troubles: Vec<String>,
}

impl Figures {
    fn new(
        database: &str,
        plan: &[Planned],
        sends: &[SendRecord],
        observer: &Observer,
        memory: [Memory; 3],
    ) -> Self {
        let first = sends.iter().map(|s| s.start).min();
        let accepted: Vec<(&SendRecord, &Accepted)> = sends
            .iter()
            .filter_map(|s| s.outcome.as_ref().ok().map(|a| (s, a)))
            .collect();
        let last_accept = accepted.iter().map(|(s, _)| s.end).max();
        let (mut acks, mut expected, mut last_stored) = (Vec::new(), 0, None);
        for (send, a) in &accepted {
            for &r in &plan[send.index].to {
                expected += 1;
                if let Some(&at) = observer.stored.get(&(a.id, r)) {
                    acks.push(at.saturating_duration_since(send.start));
                    last_stored = last_stored.max(Some(at));
                }
            }
        }
        let since_first = |t: Option<Instant>| Some(t?.saturating_duration_since(first?));
        Self {
            database: database.to_owned(),
            first_send: first,
            attempted: sends.len(),
            accepted: accepted.len(),
            duplicates: accepted.iter().filter(|(_, a)| a.duplicate).count(),
            failures: sends
                .iter()
                .filter_map(|s| s.outcome.as_ref().err().cloned())
                .collect(),
            wall: since_first(last_accept).unwrap_or_default(),
            send: Spread::of(accepted.iter().map(|(s, _)| s.end - s.start).collect()),
            delivered: acks.len(),
            ack: Spread::of(acks),
            expected,
            all_stored: since_first(last_stored).filter(|_| expected > 0),
            hub_acked: None,
            memory,
            troubles: observer.troubles.clone(),
        }
    }

    /// How long after the first send `t` was.
    fn since_first(&self, t: Option<Instant>) -> Option<Duration> {
        Some(t?.saturating_duration_since(self.first_send?))
    }

    fn throughput(&self) -> f64 {
        self.accepted as f64 / self.wall.as_secs_f64().max(f64::EPSILON)
    }

    fn print(&self) {
        let [start, connected, end] = self.memory;
        println!("── {} ──", self.database);
        println!(
            "  accepted envelopes            {} / {} (duplicates {})",
            self.accepted, self.attempted, self.duplicates
        );
        println!(
            "  throughput                    {:.0} envelopes/s ({:.2} s from the first send to the last accept)",
            self.throughput(),
            self.wall.as_secs_f64()
        );
        println!(
            "  send → hub accept             {}",
            Spread::show(self.send)
        );
        println!("  send → recipient stored+ack   {}", Spread::show(self.ack));
        println!(
            "  deliveries stored             {} / {}, the last {} after the first send",
            self.delivered,
            self.expected,
            secs(self.all_stored)
        );
        println!(
            "  every ack committed at hub    {} after the first send (polled every 20 ms)",
            secs(self.hub_acked)
        );
        println!(
            "  RSS (hub + all nodes)         start {} → connected {} → end {} (peak {})",
            mib(start.rss),
            mib(connected.rss),
            mib(end.rss),
            mib(end.peak)
        );
        self.print_problems();
    }

    fn print_problems(&self) {
        let problems: Vec<&String> = self.failures.iter().chain(&self.troubles).collect();
        if problems.is_empty() {
            println!("  problems seen                 none");
            return;
        }
        println!(
            "  problems seen                 {} failed sends, {} node events:",
            self.failures.len(),
            self.troubles.len()
        );
        for problem in problems.iter().take(8) {
            println!("    - {problem}");
        }
    }
}

// ------------------------------------------------------------------- output

fn print_settings(
    args: &DeliveryArgs,
    pki: &Pki,
    payload: &Payload,
    tmp: &Path,
    lang: Lang,
) -> anyhow::Result<()> {
    let per_envelope = pki.recipients.len().min(2);
    println!(
        "{}",
        lang.pick("配送ベンチマーク", "tsunagu delivery benchmark")
    );
    println!("  machine        {}", machine());
    println!(
        "  agencies       {} ({} sending clinics, {} recipients: centers / child welfare)",
        pki.ids.len(),
        pki.senders.len(),
        pki.recipients.len()
    );
    println!(
        "  envelopes      {} × {} recipients = {} deliveries, after a warm-up of {} (not counted)",
        args.envelopes,
        per_envelope,
        args.envelopes as usize * per_envelope,
        pki.senders.len()
    );
    println!("  concurrency    {} sends in flight", args.concurrency);
    println!(
        "  payload        demo referral, {} B of JSON before encryption",
        serde_json::to_vec(payload)?.len()
    );
    println!(
        "  files          {} (hub SQLite, every node's SQLite records, PKI)",
        tmp.display()
    );
    Ok(())
}

/// `nproc`, CPU model and kernel.
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "{cpus} CPUs (nproc), {model}, Linux {}, load average {} before the run",
        kernel.trim(),
        load.join(" ")
    )
}

/// One Markdown row per database, ready for docs/benchmarks.md.
fn print_summary(args: &DeliveryArgs, rows: &[Figures]) {
    println!(
        "\n| database | agencies | envelopes | in flight | accepted/s | accept p50 | accept p99 \
         | ack p50 | ack p99 | ack max | all stored | all acked at hub | RSS end |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for f in rows {
        let (send, ack) = (f.send, f.ack);
        let cells = [
            cell(send.map(|s| s.p50)),
            cell(send.map(|s| s.p99)),
            cell(ack.map(|a| a.p50)),
            cell(ack.map(|a| a.p99)),
            cell(ack.map(|a| a.max)),
            secs(f.all_stored),
            secs(f.hub_acked),
            mib(f.memory[2].rss),
        ];
        println!(
            "| {} | {} | {} | {} | {:.0} | {} |",
            f.database,
            args.agencies,
            args.envelopes,
            args.concurrency,
            f.throughput(),
            cells.join(" | ")
        );
    }
}

fn secs(d: Option<Duration>) -> String {
    d.map_or("?".into(), |d| format!("{:.2} s", d.as_secs_f64()))
}

fn cell(d: Option<Duration>) -> String {
    d.map_or("–".into(), |d| format!("{:.1} ms", ms(d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_path_is_replaced_and_the_rest_kept() {
        assert_eq!(
            with_database(
                "postgres://u:p@localhost:5432/postgres?sslmode=disable",
                "b"
            ),
            "postgres://u:p@localhost:5432/b?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://localhost", "b"),
            "postgres://localhost/b"
        );
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples = (1..=100).map(Duration::from_millis).collect();
        let s = Spread::of(samples).unwrap();
        let ms = Duration::from_millis;
        assert_eq!((s.p50, s.p99, s.max), (ms(50), ms(99), ms(100)));
    }
}

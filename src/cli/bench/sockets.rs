//! `tsunagu bench sockets --count N`: N agencies, each with its own client
//! certificate, hold one idle mutually authenticated websocket each to a
//! hub running as a child process. Reports the hub's memory idle and with
//! the N sockets, then stops the hub with SIGTERM, starts it again on the
//! same port and database, and reports how long the N light clients —
//! reconnecting by themselves with the node's own backoff — take to be
//! welcomed again.

use super::hub_only::{clients, light_receiver};
use super::hub_process::{HubProcess, write_config};
use super::*;
use crate::agency::client::HubClient;
use crate::agency::node::backoff;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio_util::sync::CancellationToken;

#[derive(Args)]
pub struct SocketsArgs {
    /// 開いておくソケットの数（1機関に1本、機関ごとに別のクライアント証明書）/ idle sockets to hold open, one agency (own client certificate) each
    #[arg(long)]
    count: u32,
    /// ハブのデータベース / the hub's database
    #[arg(long, alias = "database", value_enum, default_value_t = SocketsDb::Sqlite)]
    db: SocketsDb,
    /// PostgreSQL サーバの URL（測定用データベースを作成し、終了後に削除）/ PostgreSQL server URL (a fresh database is created, then dropped)
    #[arg(long, env = "TSUNAGU_TEST_PG_URL", hide_env_values = true)]
    pg_url: Option<String>,
    /// 最初に同時に開く接続の数 / connections being opened at once at the start
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    concurrency: u32,
    /// 一時ディレクトリを作る場所 / where to create the temporary directory
    #[arg(long)]
    tmp_dir: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SocketsDb {
    /// SQLite
    Sqlite,
    /// PostgreSQL（--pg-url が必要）/ PostgreSQL (needs --pg-url)
    Postgres,
}

/// TLS handshakes the bench's hub lets run at once: the hub's default.
const HANDSHAKES: usize = 256;
/// Connection slots above `--count` (a reconnecting client whose old
/// connection the hub has not yet seen closed holds two for a moment).
const SPARE_CONNECTIONS: usize = 64;
/// Descriptors either process needs besides the sockets: the hub keeps 64
/// (`hub::admission`), the bench its runtime, files and stdio.
const RESERVED_FILES: u64 = 64;

/// Options the benchmark cannot run with; nothing is started.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(super) enum SocketsError {
    #[error("--count 0 opens no socket: give at least 1")]
    NoSockets,
    #[error(
        "--count {count} needs {needed} open files in the hub process, \
         but the file limit (RLIMIT_NOFILE, hard) is {limit}: raise `ulimit -Hn` or lower --count"
    )]
    FileLimit { count: u32, needed: u64, limit: u64 },
    #[error(
        "--db postgres needs a server: pass --pg-url postgres://USER:PASSWORD@HOST/DB or set {}",
        store::testing::PG_URL_VAR
    )]
    NoPgServer,
}

impl SocketsError {
    /// The refusal for staff: Japanese first, what to change.
    pub(super) fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Self::NoSockets, Lang::Ja) => {
                "--count 0 ではソケットを1本も開きません。1以上を指定してください。".to_owned()
            }
            (
                Self::FileLimit {
                    count,
                    needed,
                    limit,
                },
                Lang::Ja,
            ) => format!(
                "--count {count} にはハブのプロセスで {needed} 個のファイルを開く必要がありますが、\
                 ファイル数の上限（RLIMIT_NOFILE のハード上限）は {limit} です。\
                 `ulimit -Hn` を上げるか --count を減らしてください。"
            ),
            (Self::NoPgServer, Lang::Ja) => format!(
                "--db postgres にはサーバが必要です。--pg-url postgres://USER:PASSWORD@HOST/DB \
                 を指定するか {} を設定してください。",
                store::testing::PG_URL_VAR
            ),
            (e, Lang::En) => e.to_string(),
        }
    }
}

/// Descriptors the hub needs for `count` sockets with the bench's limits.
fn descriptors_needed(count: u32) -> u64 {
    u64::from(count) + (SPARE_CONNECTIONS + HANDSHAKES) as u64 + RESERVED_FILES
}

/// Check the options and raise this process's file limit to its hard limit
/// (the hub child inherits it). Returns the limit now in force.
fn check(args: &SocketsArgs) -> Result<u64, SocketsError> {
    if args.count == 0 {
        return Err(SocketsError::NoSockets);
    }
    if args.db == SocketsDb::Postgres && args.pg_url.is_none() {
        return Err(SocketsError::NoPgServer);
    }
    // Unreadable: assume the common default rather than refuse.
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let needed = descriptors_needed(args.count);
    if needed > limit {
        return Err(SocketsError::FileLimit {
            count: args.count,
            needed,
            limit,
        });
    }
    Ok(limit)
}

pub(super) async fn run(args: SocketsArgs, lang: Lang) -> anyhow::Result<()> {
    let limit = check(&args).map_err(|e| anyhow::anyhow!(e.message(lang)))?;
    let tmp = temp_dir(args.tmp_dir.as_deref())?;
    let count = args.count as usize;
    let started = Instant::now();
    let shape = Shape {
        agencies: count,
        senders: 0,
        recipients: 0,
    };
    let pki = Pki::generate(&tmp.path().join("pki"), shape)?;
    let generated = started.elapsed();
    print_settings(&args, &pki, generated, limit, tmp.path(), lang);
    let figures = match &args.pg_url {
        Some(server) if args.db == SocketsDb::Postgres => {
            let pg = PgDatabase::create(server).await?;
            let figures = measure(&args, &pki, tmp.path(), &pg.url).await;
            if let Err(e) = pg.drop_database().await {
                eprintln!("could not drop the benchmark database {}: {e:#}", pg.name);
            }
            figures?
        }
        _ => {
            let url = store::testing::sqlite_url(tmp.path(), "hub.db");
            measure(&args, &pki, tmp.path(), &url).await?
        }
    };
    figures.print(&args);
    figures.verdict()
}

fn print_settings(
    args: &SocketsArgs,
    pki: &Pki,
    generated: Duration,
    limit: u64,
    tmp: &Path,
    lang: Lang,
) {
    say!(
        "{}",
        lang.pick("ソケットベンチマーク", "tsunagu sockets benchmark")
    );
    say!("  machine        {}", machine());
    say!(
        "  sockets        {} idle mutually authenticated websockets, one agency (own client certificate) each, light clients in one process",
        args.count
    );
    say!(
        "  PKI            {} agencies' keys, certificates and signed directory generated in {:.2} s",
        pki.ids.len(),
        generated.as_secs_f64()
    );
    say!(
        "  hub            a child process (tsunagu serve) on 127.0.0.1, {}",
        db_label(args)
    );
    say!(
        "  hub limits     max_connections {}, max_handshakes {HANDSHAKES}, max_handshakes_per_address 0 (every client is on 127.0.0.1)",
        max_connections(args.count)
    );
    say!(
        "  file limit     {limit} per process (needed by the hub: {})",
        descriptors_needed(args.count)
    );
    say!(
        "  opening        {} connections at once; after the restart each client reconnects alone with the node's backoff",
        args.concurrency
    );
    say!("  files          {}", tmp.display());
}

fn db_label(args: &SocketsArgs) -> &'static str {
    match args.db {
        SocketsDb::Sqlite => "SQLite",
        SocketsDb::Postgres => "PostgreSQL",
    }
}

fn max_connections(count: u32) -> usize {
    count as usize + SPARE_CONNECTIONS
}

/// Everything measured in one run.
struct SocketFigures {
    count: usize,
    cold_start: Duration,
    idle: Memory,
    opened: Duration,
    with_sockets: Memory,
    descriptors: Option<usize>,
    bench: Memory,
    stop: Duration,
    restart: Duration,
    /// Each client's first welcome after the new hub's ready line, from it.
    resumed: Vec<Duration>,
    /// Welcomes seen before the new hub was ready (none expected).
    early: usize,
    after_resume: Memory,
    /// Sessions that failed or ended, over the whole run.
    failed_attempts: u64,
    /// Deliveries received (an idle socket receives none).
    deliveries: usize,
}

async fn measure(
    args: &SocketsArgs,
    pki: &Pki,
    tmp: &Path,
    db_url: &str,
) -> anyhow::Result<SocketFigures> {
    let config = write_config(tmp, pki, db_url, max_connections(args.count), HANDSHAKES)?;
    let log = tmp.join("hub.log");
    let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
    let hub = HubProcess::start(&config, loopback, &log).await?;
    let (cold_start, idle) = (hub.cold_start, hub.memory());
    let url = format!("https://{}", hub.addr);
    let mut fleet = LightFleet::open(clients(pki, &url)?, args.concurrency as usize).await;
    fleet.wait_welcomed(hub.ready).await?;
    let opened = hub.ready.elapsed();
    let (with_sockets, descriptors, bench) = (hub.memory(), hub.descriptors(), Memory::now());
    let addr = hub.addr;
    fleet.forget_welcomes();
    let stop = hub.stop().await?;
    let stopped = Instant::now();
    let hub = HubProcess::start(&config, addr, &log).await?;
    let restart = hub.ready - stopped;
    let welcomed = fleet.wait_welcomed(hub.ready).await;
    let after_resume = hub.memory();
    let (failed_attempts, deliveries) = fleet.stop().await;
    let ready = hub.ready;
    hub.stop().await?;
    let welcomed = welcomed.with_context(|| format!("resuming (hub log: {})", log.display()))?;
    let early = welcomed.iter().filter(|&&at| at < ready).count();
    let resumed = welcomed
        .iter()
        .map(|at| at.saturating_duration_since(ready))
        .collect();
    Ok(SocketFigures {
        count: pki.ids.len(),
        cold_start,
        idle,
        opened,
        with_sockets,
        descriptors,
        bench,
        stop,
        restart,
        resumed,
        early,
        after_resume,
        failed_attempts,
        deliveries,
    })
}

/// N light clients, each reconnecting as a real node does.
struct LightFleet {
    count: usize,
    stop: CancellationToken,
    tasks: JoinSet<()>,
    welcomes: mpsc::UnboundedReceiver<(usize, Instant)>,
    observed: mpsc::UnboundedReceiver<Observed>,
    failed: Arc<AtomicU64>,
}

impl LightFleet {
    /// Start one light node per client, `concurrency` of them connecting
    /// at once: each holds a permit until its first welcome.
    async fn open(clients: Vec<Arc<HubClient>>, concurrency: usize) -> Self {
        let (welcome_tx, welcomes) = mpsc::unbounded_channel();
        let (observed_tx, observed) = mpsc::unbounded_channel();
        let permits = Arc::new(Semaphore::new(concurrency));
        let mut fleet = Self {
            count: clients.len(),
            stop: CancellationToken::new(),
            tasks: JoinSet::new(),
            welcomes,
            observed,
            failed: Arc::new(AtomicU64::new(0)),
        };
        for (index, client) in clients.into_iter().enumerate() {
            // Never closed: acquiring cannot fail.
            let permit = permits.clone().acquire_owned().await.ok();
            let node = LightNode {
                index,
                client,
                welcomes: welcome_tx.clone(),
                observed: observed_tx.clone(),
                failed: fleet.failed.clone(),
            };
            fleet.tasks.spawn(node.run(permit, fleet.stop.clone()));
        }
        fleet
    }

    /// Wait for every client's next welcome (the first one each sends from
    /// now on); their instants, or an error naming how many are missing
    /// after `PATIENCE` without any.
    async fn wait_welcomed(&mut self, since: Instant) -> anyhow::Result<Vec<Instant>> {
        let mut first: Vec<Option<Instant>> = vec![None; self.count];
        let mut missing = self.count;
        while missing > 0 {
            let next = tokio::time::timeout(PATIENCE, self.welcomes.recv()).await;
            let Ok(Some((index, at))) = next else {
                bail!(
                    "{missing} of {} sockets not welcomed, none for {PATIENCE:?} ({:.1} s after the hub was ready)",
                    self.count,
                    since.elapsed().as_secs_f64()
                );
            };
            if first[index].replace(at).is_none() {
                missing -= 1;
            }
        }
        Ok(first.into_iter().flatten().collect())
    }

    /// Drop the welcomes seen so far, so the next wait counts only new ones.
    fn forget_welcomes(&mut self) {
        while self.welcomes.try_recv().is_ok() {}
    }

    /// Stop every client; returns the failed sessions and deliveries seen.
    async fn stop(mut self) -> (u64, usize) {
        self.stop.cancel();
        while self.tasks.join_next().await.is_some() {}
        let mut deliveries = 0;
        while let Ok(observed) = self.observed.try_recv() {
            deliveries += usize::from(matches!(observed, Observed::Stored { .. }));
        }
        (self.failed.load(Ordering::Relaxed), deliveries)
    }
}

/// One light client: the hub-only light receiver, reconnecting with the
/// node's own jittered backoff (`agency::node::backoff`), its failures
/// reset at each welcome as the node resets them.
struct LightNode {
    index: usize,
    client: Arc<HubClient>,
    welcomes: mpsc::UnboundedSender<(usize, Instant)>,
    observed: mpsc::UnboundedSender<Observed>,
    failed: Arc<AtomicU64>,
}

impl LightNode {
    async fn run(
        self,
        mut permit: Option<tokio::sync::OwnedSemaphorePermit>,
        stop: CancellationToken,
    ) {
        let mut failures = 0u32;
        loop {
            let on_welcome = || {
                failures = 0;
                permit = None;
                let _ = self.welcomes.send((self.index, Instant::now()));
            };
            let session = light_receiver(
                self.index,
                self.client.clone(),
                self.observed.clone(),
                on_welcome,
            );
            tokio::select! {
                // Ended or failed: either way a node reconnects.
                _ = session => {}
                _ = stop.cancelled() => return,
            }
            self.failed.fetch_add(1, Ordering::Relaxed);
            failures = failures.saturating_add(1);
            tokio::select! {
                _ = tokio::time::sleep(backoff(failures)) => {}
                _ = stop.cancelled() => return,
            }
        }
    }
}

impl SocketFigures {
    fn per_socket_kib(&self) -> Option<f64> {
        let grown = self.with_sockets.rss?.checked_sub(self.idle.rss?)?;
        Some(grown as f64 / self.count as f64)
    }

    /// First, median and last resumed, from the new hub's ready line.
    fn resumed_spread(&self) -> Option<[Duration; 3]> {
        let mut sorted = self.resumed.clone();
        sorted.sort_unstable();
        let (first, last) = (*sorted.first()?, *sorted.last()?);
        Some([first, sorted[(sorted.len() - 1) / 2], last])
    }

    fn print(&self, args: &SocketsArgs) {
        let n = self.count;
        say!("── {} ──", db_label(args));
        say!(
            "  hub cold start to ready       {:.0} ms (directory of {n} agencies loaded and verified)",
            ms(self.cold_start)
        );
        say!("  hub RSS idle                  {}", mib(self.idle.rss));
        say!(
            "  sockets welcomed              {n} / {n}, {:.2} s from the hub's ready line",
            self.opened.as_secs_f64()
        );
        say!(
            "  hub RSS with {n} sockets{}{} ({} KiB per socket above idle)",
            pad(n),
            mib(self.with_sockets.rss),
            self.per_socket_kib()
                .map_or("?".into(), |k| format!("{k:.1}"))
        );
        say!(
            "  hub open descriptors          {}",
            self.descriptors.map_or("?".into(), |d| d.to_string())
        );
        say!("  bench process RSS             {}", mib(self.bench.rss));
        say!(
            "  hub stop (SIGTERM → exit)     {:.2} s",
            self.stop.as_secs_f64()
        );
        say!(
            "  hub start again to ready      {:.0} ms (same port and database)",
            ms(self.restart)
        );
        say!(
            "  sockets resumed               {} / {n} (welcomed before the ready line {})",
            self.resumed.len(),
            self.early
        );
        if let Some([first, median, last]) = self.resumed_spread() {
            say!(
                "  resumed after the ready line  first {:.2} s, median {:.2} s, last {:.2} s",
                first.as_secs_f64(),
                median.as_secs_f64(),
                last.as_secs_f64()
            );
        }
        say!(
            "  sessions ended or refused     {} (each followed by the node's backoff)",
            self.failed_attempts
        );
        say!(
            "  hub RSS after resuming        {}",
            mib(self.after_resume.rss)
        );
        say!(
            "  deliveries                    {} (none sent: an idle socket receives none)",
            self.deliveries
        );
        self.print_row(args);
    }

    fn print_row(&self, args: &SocketsArgs) {
        let spread = self.resumed_spread();
        let at = |i: usize| secs(spread.map(|s| s[i]));
        say!(
            "\n| database | sockets | hub RSS idle | hub RSS with sockets | per socket | hub fds | bench RSS | cold start | restart to ready | resumed first | median | last |"
        );
        say!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        say!(
            "| {} | {} | {} | {} | {} KiB | {} | {} | {:.0} ms | {:.0} ms | {} | {} | {} |",
            db_label(args),
            self.count,
            mib(self.idle.rss),
            mib(self.with_sockets.rss),
            self.per_socket_kib()
                .map_or("?".into(), |k| format!("{k:.1}")),
            self.descriptors.map_or("?".into(), |d| d.to_string()),
            mib(self.bench.rss),
            ms(self.cold_start),
            ms(self.restart),
            at(0),
            at(1),
            at(2)
        );
    }

    /// Not every socket back, or a delivery that should not exist: the
    /// run failed, whatever it printed.
    fn verdict(&self) -> anyhow::Result<()> {
        if self.resumed.len() != self.count || self.deliveries != 0 {
            bail!(
                "{} of {} sockets resumed, {} deliveries received",
                self.resumed.len(),
                self.count,
                self.deliveries
            );
        }
        Ok(())
    }
}

/// Spaces that align the value after "hub RSS with N sockets".
fn pad(n: usize) -> String {
    let label = format!("hub RSS with {n} sockets");
    " ".repeat(30usize.saturating_sub(label.len()).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hub_needs_a_descriptor_per_socket_plus_its_handshakes_and_reserve() {
        assert_eq!(descriptors_needed(10_000), 10_000 + 64 + 256 + 64);
    }
}

//! One database.

use super::*;

/// The whole system, or with `--hub-only` the hub alone.
async fn measure_mode(
    label: &str,
    url: &str,
    args: &DeliveryArgs,
    pki: &Arc<Pki>,
    payload: &Arc<Payload>,
    dir: &Path,
) -> anyhow::Result<Figures> {
    if args.hub_only {
        super::hub_only::measure(label, url, args, pki, payload, dir).await
    } else {
        measure(label, url, args, pki, payload, dir).await
    }
}

pub(super) async fn run_database(
    db: &Database,
    args: &DeliveryArgs,
    pki: &Arc<Pki>,
    payload: &Arc<Payload>,
    tmp: &Path,
) -> anyhow::Result<Figures> {
    let dir = tempfile::tempdir_in(tmp).context("creating the run's directory")?;
    say!("\n{} …", db.label());
    match db {
        Database::Sqlite => {
            let url = store::testing::sqlite_url(dir.path(), "hub.db");
            measure_mode(db.label(), &url, args, pki, payload, dir.path()).await
        }
        Database::Postgres { server } => {
            let pg = PgDatabase::create(server).await?;
            let result = measure_mode(db.label(), &pg.url, args, pki, payload, dir.path()).await;
            if let Err(e) = pg.drop_database().await {
                eprintln!("could not drop the benchmark database {}: {e:#}", pg.name);
            }
            result
        }
    }
}

/// Hub, nodes, a warm-up (one envelope per sender, not counted), the
/// measured run, and a clean shutdown.
pub(super) async fn measure(
    label: &str,
    url: &str,
    args: &DeliveryArgs,
    pki: &Arc<Pki>,
    payload: &Arc<Payload>,
    dir: &Path,
) -> anyhow::Result<Figures> {
    let rss_start = Memory::now();
    let hub = BenchHub::start(pki, url, dir, args.hub_process).await?;
    let hub_start = hub.memory();
    let (events, rx) = mpsc::unbounded_channel();
    let mut observer = Observer::new(rx);
    let fleet = Fleet::start(pki, hub.url(), &dir.join("agencies"), &events).await?;
    observer.wait_connected(pki.ids.len()).await?;
    let (rss_connected, hub_connected) = (Memory::now(), hub.memory());
    let recipients: Vec<AgencyId> = pki.recipients.iter().map(|&i| pki.ids[i].clone()).collect();
    let warmup = Arc::new(fleet.open_cases(pki.plan(pki.senders.len())).await?);
    let warmup_pace = Pace {
        concurrency: pki.senders.len(),
        rate: None,
    };
    run_phase(&fleet, &warmup, warmup_pace, payload, &mut observer).await?;
    wait_acked(&hub, &recipients).await?;
    let started = Instant::now();
    let plan = Arc::new(fleet.open_cases(pki.plan(args.envelopes as usize)).await?);
    say!(
        "  (opened {} cases in {:.2} s, not counted)",
        plan.len(),
        started.elapsed().as_secs_f64()
    );
    let pace = Pace {
        concurrency: args.concurrency as usize,
        rate: args.rate,
    };
    let sends = run_phase(&fleet, &plan, pace, payload, &mut observer).await?;
    let acked = wait_acked(&hub, &recipients).await?;
    if acked.is_none() {
        observer.troubles.push(format!(
            "the hub still had unacknowledged deliveries after {PATIENCE:?}"
        ));
    }
    let (rss_end, hub_end) = (Memory::now(), hub.memory());
    // After the measured run, so it cannot disturb it.
    let scraped = match hub.here() {
        Some(here) => super::scrape::scrape_cost(here, args.micro_runs).await?,
        None => None,
    };
    if let Some((scrape, bytes)) = scraped {
        say!(
            "  (/metrics with {} agencies, {} scrapes, uncached: p50 {:.2} ms, p99 {:.2} ms, {} bytes)",
            pki.ids.len(),
            args.micro_runs,
            scrape.p50.as_secs_f64() * 1e3,
            scrape.p99.as_secs_f64() * 1e3,
            bytes
        );
    }
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
    figures.hub_memory = [hub_start, hub_connected, hub_end];
    figures.offered = args.rate;
    Ok(figures)
}

/// A fresh database on the PostgreSQL server, dropped after the run.
pub(super) struct PgDatabase {
    pub(super) server: String,
    pub(super) name: String,
    pub(super) url: String,
}

impl PgDatabase {
    pub(super) async fn create(server: &str) -> anyhow::Result<Self> {
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
            url: crate::store::testing::with_database(server, &name),
            server: server.to_owned(),
            name,
        })
    }

    pub(super) async fn drop_database(&self) -> anyhow::Result<()> {
        let mut admin = sqlx::PgConnection::connect(&self.server).await?;
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        Ok(())
    }
}

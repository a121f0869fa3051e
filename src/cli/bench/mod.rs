//! `tsunagu bench delivery`: a hub and N agency nodes in one process, over
//! real mutual TLS on loopback, with an ephemeral PKI and temporary
//! databases. Sends M referrals with C sends in flight and reports accepted
//! envelopes per second and the latencies from each send to the hub's accept
//! and to each recipient's store-and-ack. A benchmark, not a test: it
//! measures and prints; only a setup failure stops it.

use crate::cli::output::say;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::agency::config::{NodeKeys, NodeTls};
use crate::agency::sealed::{open_envelope, seal_draft};
use crate::agency::{AgencyConfig, Draft, Node, NodeEvent, Sent};
use crate::crypto::pki;
use crate::directory::Directory;
use crate::fleet::{HubOptions, RunningHub, RunningNode};
use crate::i18n::Lang;
use crate::protocol::payload::{Author, Body, Payload};
use crate::protocol::referral::demo_referral;
use crate::protocol::{AgencyId, AgencyKind, CaseId, EnvelopeId, Seq, Urgency};
use crate::store::records::Records;
use crate::{provision, store};
use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use sqlx::Connection;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{Semaphore, broadcast, mpsc};
use tokio::task::{JoinHandle, JoinSet};

mod database;
mod ephemeral;
mod figures;
mod fleet;
mod hub_only;
mod hub_process;
mod ledger_import;
mod micro;
mod output;
mod scrape;
mod send;
mod sockets;
mod tasks;
mod workload;
use database::*;
use ephemeral::*;
use figures::*;
use fleet::*;
use micro::*;
use output::*;
use send::*;
use workload::Shape;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// 配送: 送信からハブの受理、受信機関の保存・受領確認まで / delivery: send → hub accept → each recipient's store and ack
    Delivery(DeliveryArgs),
    /// 支援台帳の取り込み: N 行の .xlsx を生成して新しいノードに取り込む / support ledger import: an N-row workbook into a fresh node
    LedgerImport(ledger_import::LedgerImportArgs),
    /// 待機ソケット: N 本の相互認証ソケットでのハブのメモリと、再起動後の再接続時間 / idle sockets: the hub's memory with N mutually authenticated sockets, and the time to resume after a restart
    Sockets(sockets::SocketsArgs),
}

#[derive(Args)]
pub struct DeliveryArgs {
    /// 機関の数（2以上）/ number of agencies (at least 2)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..=9999))]
    agencies: u32,
    /// 送信元（産科医療機関）の数。既定は半数 / sending agencies (clinics); default half the agencies
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    senders: Option<u32>,
    /// 1通あたりの受信機関の数。既定は2 / recipients of each envelope; default 2
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    recipients: Option<u32>,
    /// 連絡票を埋めて JSON をこのバイト数にする。既定はデモの連絡票のまま / pad the referral's JSON to this many bytes; default the demo referral as it is
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=8 * 1024 * 1024))]
    payload_bytes: Option<u32>,
    /// 開ループ: 毎秒この数を予定時刻どおりに送り、遅延を予定時刻から測る / open loop: offer this many envelopes/s on a fixed schedule, latency from each scheduled send
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    rate: Option<u32>,
    /// ハブだけを測る: 事前に暗号化・署名し、軽量クライアントが受信即受領確認 / measure the hub alone: envelopes sealed before timing, light clients ack on receipt
    #[arg(long)]
    hub_only: bool,
    /// ハブを子プロセス（tsunagu serve）で動かし、そのメモリを別に測る / run the hub as a child `tsunagu serve`, its memory measured apart from the nodes' and the load generator's
    #[arg(long)]
    hub_process: bool,
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
        BenchCommand::LedgerImport(args) => {
            tokio::runtime::Runtime::new()?.block_on(ledger_import::run(args, lang))
        }
        BenchCommand::Sockets(args) => {
            tokio::runtime::Runtime::new()?.block_on(sockets::run(args, lang))
        }
    }
}

async fn delivery(args: DeliveryArgs, lang: Lang) -> anyhow::Result<()> {
    let refused = |e: workload::WorkloadError| anyhow::anyhow!(e.message(lang));
    let shape = workload::shape(args.agencies, args.senders, args.recipients).map_err(refused)?;
    workload::modes(args.hub_only, args.rate).map_err(refused)?;
    let payload = Arc::new(workload::payload(args.payload_bytes).map_err(refused)?);
    let databases = databases(&args, lang)?;
    let tmp = temp_dir(args.tmp_dir.as_deref())?;
    let pki = Arc::new(Pki::generate(&tmp.path().join("pki"), shape)?);
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
    print_summary(&args, shape, workload::json_len(&payload), &rows);
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
            say!(
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

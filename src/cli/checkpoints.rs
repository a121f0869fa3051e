//! `tsunagu agency checkpoints show | export`: the hub's signed audit
//! checkpoints this node holds. Read from the node's own records, without
//! the hub: they are what the hub's operator (or an auditor) checks the
//! hub's history against, so they must be readable when the hub is not
//! trusted or not running.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use crate::agency::AgencyConfig;
use crate::cli::output::say;
use crate::i18n::Lang;
use crate::protocol::checkpoint::CheckpointFile;
use crate::store::records::{CheckpointRow, RestoreRow};

#[derive(Subcommand)]
pub enum CheckpointsCommand {
    /// 保持している監査チェックポイントと、履歴の書き換えの検出 / the checkpoints held, and any sign the hub's history was rewritten
    Show(ConfigArg),
    /// ハブの `audit verify --checkpoints` 用に書き出す（JSON） / export them (JSON) for the hub's `audit verify --checkpoints`
    Export {
        #[command(flatten)]
        node: ConfigArg,
        /// 出力先 / output file
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args)]
pub struct ConfigArg {
    /// 機関ノードの設定ファイル / agency node config
    #[arg(long, default_value = "agency.toml")]
    config: PathBuf,
}

pub async fn run(cmd: CheckpointsCommand, lang: Lang) -> anyhow::Result<()> {
    match cmd {
        CheckpointsCommand::Show(node) => show(&node.config, lang).await,
        CheckpointsCommand::Export { node, out } => export(&node.config, &out, lang).await,
    }
}

type Held = (AgencyConfig, Vec<CheckpointRow>, Vec<RestoreRow>);

async fn held(config: &Path, lang: Lang) -> anyhow::Result<Held> {
    let config = super::agency::load_config(config, lang)?;
    let records = crate::agency::node::open_records(&config)
        .await
        .with_context(|| {
            lang.pick(
                "機関ノードのデータベースを開けません",
                "cannot open the node's database",
            )
        })?;
    let rows = records.checkpoints().await;
    let restores = records.restores().await;
    records.close().await;
    Ok((config, rows?, restores?))
}

/// A contradiction exits non-zero, so a monitoring job can raise it.
async fn show(config: &Path, lang: Lang) -> anyhow::Result<()> {
    let (_, rows, restores) = held(config, lang).await?;
    for restore in &restores {
        say!(
            "{} {}: {} {} → {}、{} {} → {}、{} {}",
            lang.pick(
                "ハブはバックアップから復元されました（それ以前のチェックポイントは証拠として保持しています）",
                "the hub was restored from a backup (the checkpoints from before are kept as evidence)"
            ),
            restore.detected_at,
            lang.pick("エポック", "epoch"),
            restore.from_epoch,
            restore.to_epoch,
            lang.pick("監査ログの件数", "audit chain"),
            restore.chain_before.map_or_else(|| "?".into(), |n| n.to_string()),
            restore.chain_after.map_or_else(|| "?".into(), |n| n.to_string()),
            lang.pick("再送", "resent"),
            restore.resent,
        );
    }
    let Some(latest) = rows.iter().rev().find(|r| r.contradicts.is_none()) else {
        say!(
            "{}",
            lang.pick(
                "監査チェックポイントはまだありません。",
                "no audit checkpoint held yet."
            )
        );
        return Ok(());
    };
    say!(
        "{} {}（{} {} {}、{} {}）",
        lang.pick(
            "保持している監査チェックポイント:",
            "audit checkpoints held:"
        ),
        rows.len(),
        lang.pick("最新: 件数", "latest: entries"),
        latest.count,
        latest.head,
        lang.pick("受信", "received"),
        latest.received_at,
    );
    let contradictions: Vec<_> = rows.iter().filter_map(|r| r.contradicts.as_ref()).collect();
    if contradictions.is_empty() {
        return Ok(());
    }
    for why in &contradictions {
        eprintln!("  {why}");
    }
    bail!(
        "{} {}",
        lang.pick(
            "ハブの監査ログが書き換えられた可能性があります。ハブの管理者に連絡し、チェックポイントを書き出して `tsunagu audit verify --checkpoints` で確認してください。矛盾:",
            "the hub's audit history may have been rewritten: tell the hub's operator, export the checkpoints and check them with `tsunagu audit verify --checkpoints`. contradictions:"
        ),
        contradictions.len()
    )
}

async fn export(config: &Path, out: &Path, lang: Lang) -> anyhow::Result<()> {
    let (config, rows, _) = held(config, lang).await?;
    let file = CheckpointFile {
        agency: config.id,
        checkpoints: rows.iter().map(CheckpointRow::signed).collect(),
    };
    let text = serde_json::to_string_pretty(&file)?;
    std::fs::write(out, text).with_context(|| out.display().to_string())?;
    eprintln!(
        "{} {}",
        lang.pick("書き出したチェックポイント:", "checkpoints exported:"),
        file.checkpoints.len()
    );
    Ok(())
}

//! `tsunagu admin …`: what the operator of a deployment does by hand, away
//! from the hub (the CA key is needed for some of it and never sits on the
//! hub).

mod agency;
mod backup;
mod directory;
mod retention;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;

use crate::hub::HubConfig;
use crate::i18n::Lang;
use crate::store::HubStore;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// 機関ディレクトリの署名・検証・差分 / sign, verify or compare the agency directory
    #[command(subcommand)]
    Directory(directory::DirectoryCommand),
    /// 稼働中のハブのデータベースをバックアップ / an online backup of the hub's database
    Backup(backup::BackupArgs),
    /// 手作業で復元したデータベースに新しいエポックを付ける / begin a new epoch on a database restored by hand
    NewEpoch(backup::NewEpochArgs),
    /// 機関の追加・変更・取り消し・一覧 / add, update, revoke or list agencies
    #[command(subcommand)]
    Agency(agency::AgencyCommand),
    /// 事例の法的保全（追加・解除・一覧） / legal hold per case (add, release, list)
    #[command(subcommand)]
    Hold(retention::HoldCommand),
    /// 保存期間を過ぎたエンベロープ本文を削除 / purge envelope bodies past their retention
    Purge {
        /// ハブの設定ファイル / hub config file
        #[arg(long)]
        config: std::path::PathBuf,
        /// 件数だけを表示し、何も削除しない / print the counts, change nothing
        #[arg(long)]
        dry_run: bool,
        /// JSON で出力する / print JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: AdminCommand, lang: Lang) -> anyhow::Result<()> {
    match cmd {
        AdminCommand::Directory(cmd) => directory::run(cmd, lang),
        AdminCommand::Backup(args) => backup::backup(args, lang),
        AdminCommand::NewEpoch(args) => backup::new_epoch(args, lang),
        AdminCommand::Agency(cmd) => agency::run(cmd, lang),
        AdminCommand::Hold(cmd) => retention::hold(cmd, lang),
        AdminCommand::Purge {
            config,
            dry_run,
            json,
        } => retention::purge_now(&config, dry_run, json, lang),
    }
}

/// The hub's `hub.toml`, for the commands that act on its database.
fn hub_config(path: &Path, lang: Lang) -> anyhow::Result<HubConfig> {
    HubConfig::load(path).with_context(|| {
        format!(
            "{}: {}",
            lang.pick(
                "ハブの設定ファイルを読み込めません（--config でハブの hub.toml を指定してください）",
                "cannot read the hub config (name the hub's hub.toml with --config)"
            ),
            path.display()
        )
    })
}

/// The hub's database named by `config`.
async fn hub_store(config: &HubConfig, lang: Lang) -> anyhow::Result<Arc<dyn HubStore>> {
    crate::store::open(&config.database_url)
        .await
        .with_context(|| {
            lang.pick(
                "ハブのデータベースを開けません。hub.toml の database_url を確認してください",
                "cannot open the hub database; check database_url in hub.toml",
            )
        })
}

//! `tsunagu agency support-ledger …`: the center's 支援台帳 on its node —
//! the morning list and the rows (`rows`), and Excel in and out
//! (`exchange`).

use clap::Subcommand;

use crate::agency::Node;
use crate::agency::support_ledger::kept_by;
use crate::i18n::Lang;

mod exchange;
mod rows;

#[derive(Subcommand)]
pub enum SupportLedgerCommand {
    #[command(flatten)]
    Rows(rows::RowsCommand),
    #[command(flatten)]
    Exchange(exchange::ExchangeCommand),
}

pub async fn run(cmd: SupportLedgerCommand, lang: Lang) -> anyhow::Result<()> {
    match cmd {
        SupportLedgerCommand::Rows(cmd) => rows::run(cmd, lang).await,
        SupportLedgerCommand::Exchange(cmd) => exchange::run(cmd, lang).await,
    }
}

/// Refuse on any node but the center's: the 支援台帳 is the center's.
fn center(node: &Node, lang: Lang) -> anyhow::Result<()> {
    if kept_by(node) {
        return Ok(());
    }
    let name = node
        .directory()
        .get(node.id())
        .map_or(node.id().to_string(), |a| a.name.clone());
    anyhow::bail!(
        "{}（{} {name}）\n{}",
        lang.pick(
            "支援台帳はこども家庭センターのノードだけが扱います",
            "the support ledger is kept on the center's node only"
        ),
        lang.pick("このノード:", "this node:"),
        lang.pick(
            "次の手順: センターの担当者に依頼するか、センターのノードの設定ファイルを --config に指定してください。何も変わっていません。",
            "next: ask the center's staff, or name the center node's config with --config. Nothing was changed.",
        )
    )
}

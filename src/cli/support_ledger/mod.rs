//! `tsunagu agency support-ledger …`: the center's 支援台帳 on its node —
//! the morning list and the rows (`rows`), and Excel in and out
//! (`exchange`).

use clap::Subcommand;

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

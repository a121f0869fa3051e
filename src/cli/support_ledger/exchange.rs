//! PLACEHOLDER: replaced by the helper who owns this file.

use clap::Subcommand;

use crate::i18n::Lang;

#[derive(Subcommand)]
pub enum ExchangeCommand {
    /// PLACEHOLDER
    PlaceholderExchange,
}

pub async fn run(_cmd: ExchangeCommand, _lang: Lang) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}

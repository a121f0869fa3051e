//! PLACEHOLDER: replaced by the helper who owns this file.

use clap::Subcommand;

use crate::i18n::Lang;

#[derive(Subcommand)]
pub enum RowsCommand {
    /// PLACEHOLDER
    PlaceholderRows,
}

pub async fn run(_cmd: RowsCommand, _lang: Lang) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}

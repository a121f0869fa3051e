//! `tsunagu certs …` (being written).

use clap::Subcommand;
use tsunagu::i18n::Lang;

#[derive(Subcommand)]
pub enum CertsCommand {}

pub fn run(cmd: CertsCommand, _lang: Lang) -> anyhow::Result<()> {
    match cmd {}
}

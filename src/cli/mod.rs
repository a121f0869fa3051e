//! Command-line interface: parse flags, set up logging, dispatch. The
//! argument types live here too (`choices`, `referral_flags`), not in the
//! modules they drive. A module of the library, not of the binary, so that it
//! may implement clap's traits for protocol types (orphan rule).

mod admin;
mod agency;
mod audit;
mod bench;
mod certs;
mod checkpoints;
mod choices;
mod demo;
mod exchange;
mod keys;
mod labels;
mod ledger;
mod meeting;
mod note;
mod operator;
mod output;
mod plan;
mod referral_flags;
mod report;
mod serve;
mod staff;
mod support_ledger;
mod table;

use std::process::ExitCode;

use crate::i18n::Lang;
use clap::{Parser, Subcommand};

/// tsunagu（つなぐ）— 母子保健・児童福祉の機関をつなぐ安全な連絡ハブ
#[derive(Parser)]
#[command(name = "tsunagu", version, about)]
struct Cli {
    /// 表示言語 / language for messages (ja, en)
    #[arg(long, global = true, value_enum, default_value_t = Lang::Ja, env = "TSUNAGU_LANG")]
    lang: Lang,
    /// ログを JSON で出力する / write logs as JSON lines
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// ハブを起動 / run the hub
    Serve(serve::ServeArgs),
    /// 機関ノード / agency node
    #[command(subcommand)]
    Agency(agency::AgencyCommand),
    /// デモ: ハブと5機関で1件の連絡票を送受信 / demo: a hub and five agencies play one case
    Demo(demo::DemoArgs),
    /// 監査ログ / the audit log
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// 証明書と鍵 / certificates and keys
    #[command(subcommand)]
    Certs(certs::CertsCommand),
    /// 運用管理（ディレクトリの署名など）/ administration (signing the directory, …)
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// 性能測定 / benchmarks
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn init_tracing(json: bool, default_level: &str) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    // Colour only for a person at a terminal: a pipe, a file or the
    // journal gets plain text an operator can grep.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo narrates on stdout, including the refusals it provokes on
    // purpose; their warnings would only drown the story.
    let default_level = match cli.command {
        Command::Demo(_) => "error",
        // Per-envelope info lines would be part of what the benchmark measures.
        Command::Bench(_) => "warn",
        _ => "info",
    };
    init_tracing(cli.log_json, default_level);
    let result = match cli.command {
        Command::Serve(args) => serve::run(args, cli.lang),
        Command::Agency(cmd) => agency::run(cmd, cli.lang),
        Command::Demo(args) => demo::run(args, cli.lang),
        Command::Audit(cmd) => audit::run(cmd, cli.lang),
        Command::Certs(cmd) => certs::run(cmd, cli.lang),
        Command::Admin(cmd) => admin::run(cmd, cli.lang),
        Command::Bench(cmd) => bench::run(cmd, cli.lang),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    // The command examples in the docs are run, not only parsed:
    // tests/e2e/doc_examples.rs.

    #[test]
    fn every_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn a_referral_file_combines_with_also_category() {
        let argv = [
            "tsunagu",
            "agency",
            "send",
            "--to",
            "minato-center",
            "--case",
            "case-3fa2c81b09d4",
            "--basis",
            "provision-to-municipality",
            "--justification",
            "x",
            "--author-name",
            "a",
            "--author-role",
            "b",
            "--author-contact",
            "c",
            "--file",
            "referral.toml",
            "--also-category",
            "economic",
        ];
        if let Err(e) = super::Cli::try_parse_from(argv) {
            panic!("{e}");
        }
    }
}

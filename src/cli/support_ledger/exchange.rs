//! `tsunagu agency support-ledger import | export`: the center's 支援台帳 in
//! from .xlsx or CSV (the mapping shown, a dry run, every refused row
//! reported, nothing half-imported) and out to .xlsx or CSV.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

mod report;

use super::super::agency::open_config;
use super::super::output::{self, say};
use crate::agency::Node;
use crate::agency::support_ledger;
use crate::agency::support_ledger::exchange::{
    self, MAX_FILE_BYTES, Override, ReadError, export, parse_override, plan, read,
};
use crate::i18n::Lang;
use crate::protocol::Timestamp;
use crate::protocol::day::Day;

#[derive(Subcommand)]
pub enum ExchangeCommand {
    /// 支援台帳を Excel（.xlsx）または CSV から取り込む（列の対応・ドライラン・拒否した行の理由を表示） / import the ledger from .xlsx or CSV
    Import(ImportArgs),
    /// 支援台帳を Excel（.xlsx）または CSV に書き出す（所有者のみ読める） / export the ledger to .xlsx or CSV (owner-only file)
    Export(ExportArgs),
}

#[derive(Args)]
pub struct ImportArgs {
    /// 機関ノードの設定ファイル / agency node config
    #[arg(long, default_value = "agency.toml")]
    config: PathBuf,
    /// 取り込むファイル（.xlsx または .csv、50 MB まで） / the file to import (.xlsx or .csv, up to 50 MB)
    file: PathBuf,
    /// 計画を表示するだけで何も書き込まない / show the plan, write nothing
    #[arg(long)]
    dry_run: bool,
    /// 列の対応を指定する（例: --map 'カナ=furigana' --map '備考=無視'） / map a column (e.g. --map 'カナ=furigana', --map '備考=ignore')
    #[arg(long = "map", value_name = "列名=項目")]
    map: Vec<String>,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ExportArgs {
    /// 機関ノードの設定ファイル / agency node config
    #[arg(long, default_value = "agency.toml")]
    config: PathBuf,
    /// 書き出すファイル（拡張子 .xlsx または .csv） / file to write (.xlsx or .csv)
    #[arg(long)]
    out: PathBuf,
    /// 結果を JSON で出力する / print the result as JSON
    #[arg(long)]
    json: bool,
}

pub async fn run(cmd: ExchangeCommand, lang: Lang) -> anyhow::Result<()> {
    // What can be checked before the node is opened is: a bad flag stores nothing.
    let config = match &cmd {
        ExchangeCommand::Import(a) => &a.config,
        ExchangeCommand::Export(a) => &a.config,
    };
    let checked = match &cmd {
        ExchangeCommand::Import(a) => Some(import_input(a, lang)?),
        ExchangeCommand::Export(a) => {
            export_format(&a.out, lang)?;
            None
        }
    };
    let node = open_config(config, lang).await?;
    let result = match (super::center(&node, lang), cmd, checked) {
        (Err(e), _, _) => Err(e),
        (Ok(()), ExchangeCommand::Import(a), Some((bytes, overrides))) => {
            import(&node, &a, &bytes, &overrides, lang).await
        }
        (Ok(()), ExchangeCommand::Export(a), _) => export_to(&node, &a, lang).await,
        (Ok(()), ExchangeCommand::Import(_), None) => Ok(()),
    };
    node.records().close().await;
    result
}

/// The file's bytes (refused over the limit before it is read) and the
/// overrides.
fn import_input(a: &ImportArgs, lang: Lang) -> anyhow::Result<(Vec<u8>, Vec<Override>)> {
    let overrides = a
        .map
        .iter()
        .map(|m| parse_override(m).map_err(|p| anyhow::anyhow!(p.text(lang))))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cannot = |e: std::io::Error| {
        anyhow::anyhow!(
            "{} {}: {e}\n{}",
            lang.pick("ファイルを読めません:", "cannot read"),
            a.file.display(),
            lang.pick(
                "次の手順: 取り込むファイルのパスを確かめてください。何も取り込んでいません。",
                "next: check the path of the file to import. Nothing was imported.",
            )
        )
    };
    let size = std::fs::metadata(&a.file).map_err(cannot)?.len();
    if size > MAX_FILE_BYTES as u64 {
        bail!(
            "{}\n{}",
            ReadError::TooLarge(size as usize).text(lang),
            lang.pick("何も取り込んでいません。", "Nothing was imported.")
        );
    }
    Ok((std::fs::read(&a.file).map_err(cannot)?, overrides))
}

async fn import(
    node: &Node,
    a: &ImportArgs,
    bytes: &[u8],
    overrides: &[Override],
    lang: Lang,
) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let today = Day::of(now);
    let nothing = lang.pick("何も取り込んでいません。", "Nothing was imported.");
    let book = match read::read(bytes) {
        Ok(book) => book,
        Err(e) => bail!("{}\n{nothing}", e.text(lang)),
    };
    let ledger = support_ledger::load(node.records(), today).await?;
    let bar = progress(book.rows.lines.len() as u64, lang);
    let plan = plan::plan(&book, overrides, &ledger, today, &mut || bar.inc(1));
    bar.finish_and_clear();
    if !plan.importable() {
        report::plan(&plan, a.json, None, lang)?;
        bail!(
            "{}\n{}{nothing}",
            lang.pick(
                "取り込めない行があります（理由は上の一覧のとおり）。",
                "some rows cannot be imported (see the reasons above)."
            ),
            lang.pick(
                "次の手順: ファイルを直すか --map で列の対応を指定して、もう一度実行してください。",
                "next: correct the file or map the columns with --map, and run it again. ",
            )
        );
    }
    if a.dry_run {
        return report::plan(&plan, a.json, None, lang);
    }
    let by = crate::cli::operator::person();
    let spinner = progress(0, lang);
    spinner.set_message(lang.pick("書き込み中…", "writing…"));
    let written = exchange::import(node.records(), &plan, &by, now).await;
    spinner.finish_and_clear();
    match written {
        Ok(done) => report::plan(&plan, a.json, Some(done), lang),
        Err(e) => bail!(
            "{}: {e}\n{}{nothing}",
            lang.pick("取り込めませんでした", "the import failed"),
            lang.pick(
                "次の手順: 取り込みの間に台帳が変更されました。もう一度実行してください。",
                "next: the ledger changed meanwhile; run it again. ",
            )
        ),
    }
}

/// A bar on a terminal (a spinner when `len` is 0); nothing on a pipe.
fn progress(len: u64, lang: Lang) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    if len == 0 {
        return ProgressBar::new_spinner();
    }
    let bar = ProgressBar::new(len);
    let template = match lang {
        Lang::Ja => "{bar:40} {pos}/{len} 行を確認",
        Lang::En => "{bar:40} {pos}/{len} rows checked",
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FileFormat {
    Xlsx,
    Csv,
}

fn export_format(out: &Path, lang: Lang) -> anyhow::Result<FileFormat> {
    match out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("xlsx") => Ok(FileFormat::Xlsx),
        Some("csv") => Ok(FileFormat::Csv),
        _ => bail!(
            "{} {}\n{}",
            lang.pick(
                "書き出すファイルの拡張子は .xlsx か .csv にしてください:",
                "the file to write must end in .xlsx or .csv:"
            ),
            out.display(),
            lang.pick(
                "次の手順: --out ledger.xlsx のように指定してください。何も書き出していません。",
                "next: give e.g. --out ledger.xlsx. Nothing was written.",
            )
        ),
    }
}

async fn export_to(node: &Node, a: &ExportArgs, lang: Lang) -> anyhow::Result<()> {
    let ledger = support_ledger::load(node.records(), Day::of(Timestamp::now())).await?;
    let format = export_format(&a.out, lang)?;
    let bytes = match format {
        FileFormat::Xlsx => export::xlsx(&ledger)?,
        FileFormat::Csv => export::csv(&ledger)?.into_bytes(),
    };
    crate::cli::output::write_export(&a.out, &bytes, lang)?;
    // A CSV holds one sheet: the rows, without the 接触記録.
    let contacts: usize = match format {
        FileFormat::Xlsx => ledger.subjects.iter().map(|s| s.contacts.len()).sum(),
        FileFormat::Csv => 0,
    };
    if a.json {
        return output::json(&serde_json::json!({
            "out": a.out.display().to_string(),
            "rows": ledger.subjects.len(),
            "contacts": contacts,
        }));
    }
    say!(
        "{} {}（{} {}、{} {}）",
        lang.pick("書き出しました:", "written:"),
        a.out.display(),
        lang.pick("行", "rows"),
        ledger.subjects.len(),
        lang.pick("接触記録", "contacts"),
        contacts
    );
    if format == FileFormat::Csv {
        say!(
            "{}",
            lang.pick(
                "CSV には接触記録を含みません。接触記録も書き出すには .xlsx にしてください。",
                "a CSV holds the rows only; export to .xlsx to include the contacts."
            )
        );
    }
    Ok(())
}

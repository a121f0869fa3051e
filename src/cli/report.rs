//! `tsunagu agency report --from --to [--json] [--charts DIR]`: the center's
//! indicators (事業評価) for a period, as a 検証票-like table, JSON, and
//! charts as SVG and PNG; `agency report target --year --indicator
//! --value`: the fiscal year's 目標値 for an indicator.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::{Args, Subcommand};

use super::agency::open_config;
use super::output::{self, say};
use super::table::Table;
use crate::agency::Node;
use crate::agency::support_ledger::kept_by;
use crate::agency::support_ledger::report::charts::{self, Chart};
use crate::agency::support_ledger::report::{
    self, Category, DEFS, Indicator, Period, Report, checked_target, number,
};
use crate::i18n::Lang;
use crate::protocol::Timestamp;
use crate::protocol::day::Day;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    command: Option<ReportCommand>,
    #[command(flatten)]
    show: ShowArgs,
}

#[derive(Subcommand)]
enum ReportCommand {
    /// 年度の目標値を設定（同じ指標は置き換え） / set a fiscal year's target for an indicator (replaces)
    Target(TargetArgs),
}

#[derive(Args)]
struct ShowArgs {
    /// 機関ノードの設定ファイル / agency node config
    #[arg(long, default_value = "agency.toml")]
    config: PathBuf,
    /// 開始日（YYYY-MM-DD、この日を含む） / first day (included)
    #[arg(long)]
    from: Option<String>,
    /// 終了日（YYYY-MM-DD、この日を含む） / last day (included)
    #[arg(long)]
    to: Option<String>,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
    /// グラフ（SVG と PNG）を書き出すフォルダー / folder to write the charts to (SVG and PNG)
    #[arg(long, value_name = "DIR")]
    charts: Option<PathBuf>,
}

#[derive(Args)]
struct TargetArgs {
    /// 機関ノードの設定ファイル / agency node config
    #[arg(long, default_value = "agency.toml")]
    config: PathBuf,
    /// 年度（4月始まり。例: 2026 は 2026-04-01〜2027-03-31） / fiscal year (April to March)
    #[arg(long)]
    year: i32,
    /// 指標ID（agency report の --json の id） / indicator id
    #[arg(long)]
    indicator: String,
    /// 目標値（件数・%・日数） / the target (a count, a per cent, or days)
    #[arg(long, allow_hyphen_values = true)]
    value: String,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

pub async fn run(args: ReportArgs, lang: Lang) -> anyhow::Result<()> {
    match args.command {
        Some(ReportCommand::Target(a)) => target(a, lang).await,
        None => show(args.show, lang).await,
    }
}

/// Refuse on any node but the center's: the indicators are its 支援台帳's.
fn center(node: &Node, lang: Lang) -> anyhow::Result<()> {
    if kept_by(node) {
        return Ok(());
    }
    bail!(
        "{}\n{}",
        lang.pick(
            "事業評価の指標は、こども家庭センターのノードだけが支援台帳から作ります。",
            "the indicators are made from the support ledger, on the center's node only.",
        ),
        lang.pick(
            "次の手順: センターのノードの設定ファイルを --config に指定してください。何も記録していません。",
            "next: name the center node's config with --config. Nothing was recorded.",
        )
    )
}

fn period(a: &ShowArgs, lang: Lang) -> anyhow::Result<Period> {
    let (Some(from), Some(to)) = (&a.from, &a.to) else {
        bail!(
            "{}",
            lang.pick(
                "期間を指定してください: --from 2026-04-01 --to 2027-03-31 のように開始日と終了日を入れます。",
                "name the period: --from 2026-04-01 --to 2027-03-31 (first and last day).",
            )
        );
    };
    Period::parse(from, to).map_err(|e| anyhow::anyhow!("{}", e.text(lang)))
}

async fn show(a: ShowArgs, lang: Lang) -> anyhow::Result<()> {
    // The period first: a bad one is refused before the node is opened.
    let period = period(&a, lang)?;
    let node = open_config(&a.config, lang).await?;
    center(&node, lang)?;
    let today = Day::of(Timestamp::now());
    let report = report::build(&node, period, today, lang).await?;
    let written = match &a.charts {
        Some(dir) => write_charts(&report, dir, lang)?,
        None => Vec::new(),
    };
    if a.json {
        return output::json(&serde_json::json!({
            "report": report,
            "charts": written,
        }));
    }
    print(&report, lang);
    for file in written {
        say!("{} {file}", lang.pick("グラフ:", "chart:"));
    }
    Ok(())
}

fn print(report: &Report, lang: Lang) {
    say!(
        "{} {} 〜 {}（{} {}{}）",
        lang.pick("事業評価", "Indicators"),
        report.from,
        report.to,
        lang.pick("年度", "fiscal year"),
        report.fiscal_year,
        lang.pick(
            format!("、集計日 {}", report.today).as_str(),
            format!(", as of {}", report.today).as_str()
        ),
    );
    for category in Category::ALL {
        let mut table = Table::new(&[
            lang.pick("指標", "indicator"),
            lang.pick("実績値", "actual"),
            lang.pick("分子/分母・件数", "numerator/denominator"),
            lang.pick("目標値", "target"),
            lang.pick("達成割合", "achieved"),
            lang.pick("判定", "judgement"),
            "ID",
        ]);
        for i in report.indicators.iter().filter(|i| i.category == *category) {
            table.row(row(i, lang));
        }
        say!();
        say!("■ {}", category.label(lang));
        table.print();
    }
    say!();
    say!(
        "{}",
        lang.pick(
            "判定: 達成割合 100% 以上 順調、80% 以上 やや遅れ、80% 未満 遅れ。定義は --json または docs/indicators.md を参照。",
            "Judgement: 100 % or more on track, 80 % or more slightly behind, below 80 % behind. Definitions: --json or docs/indicators.md.",
        )
    );
}

fn row(i: &Indicator, lang: Lang) -> Vec<String> {
    vec![
        i.name.into(),
        i.actual_text(lang),
        i.value.detail(lang),
        i.target_text(),
        i.achievement_text(),
        i.judgement_text(lang).into(),
        i.id.into(),
    ]
}

/// Write both charts in both formats to `dir` (owner-only files).
fn write_charts(report: &Report, dir: &Path, lang: Lang) -> anyhow::Result<Vec<String>> {
    if let Err(e) = crate::crypto::files::create_dir(dir) {
        bail!(
            "{} {}: {}\n{}",
            lang.pick("フォルダーを作れません:", "cannot create the folder"),
            dir.display(),
            e.source,
            lang.pick(
                "次の手順: 書き込めるフォルダーを --charts に指定してください。",
                "next: name a folder you can write to with --charts.",
            )
        );
    }
    let fail = |e: charts::ChartError| {
        anyhow::anyhow!(
            "{}: {e}\n{}",
            lang.pick("グラフを描けません", "cannot draw the charts"),
            lang.pick(
                "次の手順: fonts-noto-cjk（日本語）または fonts-dejavu-core をインストールしてください。表は --charts なしで出せます。",
                "next: install fonts-noto-cjk (Japanese) or fonts-dejavu-core. The table prints without --charts.",
            )
        )
    };
    let mut written = Vec::new();
    for chart in [Chart::Trend, Chart::Breakdown] {
        let svg = charts::svg(report, chart, lang).map_err(fail)?;
        let png = charts::png(report, chart, lang).map_err(fail)?;
        for (ext, bytes) in [("svg", svg.into_bytes()), ("png", png)] {
            let path = dir.join(format!("{}.{ext}", chart.name()));
            if let Err(e) = crate::crypto::files::write_secret_bytes(&path, &bytes) {
                bail!(
                    "{} {}: {}",
                    lang.pick("書き出せません:", "cannot write"),
                    path.display(),
                    e.source
                );
            }
            written.push(path.display().to_string());
        }
    }
    Ok(written)
}

async fn target(a: TargetArgs, lang: Lang) -> anyhow::Result<()> {
    let value = match checked_target(a.year, &a.indicator, &a.value) {
        Ok(v) => v,
        Err(e) => bail!(
            "{}\n{}",
            e.text(lang),
            lang.pick(
                "指標IDは agency report --json の id です。何も記録していません。",
                "Indicator ids are the ids of agency report --json. Nothing was recorded.",
            )
        ),
    };
    let node = open_config(&a.config, lang).await?;
    center(&node, lang)?;
    let id = a.indicator.trim();
    node.records().set_support_target(a.year, id, value).await?;
    let def = DEFS.iter().find(|d| d.id == id);
    if a.json {
        return output::json(&serde_json::json!({
            "year": a.year,
            "indicator": id,
            "target": value,
        }));
    }
    say!(
        "{} {} {}: {}{}",
        lang.pick("目標値を設定しました:", "target set:"),
        a.year,
        def.map_or(id, |d| lang.pick(d.name.0, d.name.1)),
        number(value),
        def.map_or("", |d| d.unit.label(lang)),
    );
    Ok(())
}

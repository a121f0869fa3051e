//! `tsunagu agency ledger set | list | export | agenda`: the 進行管理台帳 on
//! the 調整機関's node.

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};

mod json;
mod refusals;

use json::{RowJson, agenda_json, row_json};
use refusals::{coordinator, set_error};

use super::agency::open_config;
use super::labels;
use super::output::{self, say};
use super::table::Table;
use crate::agency::Node;
use crate::agency::ledger::{
    self, AGENDA_DAYS, AbuseType, EntryChange, Filter, LedgerRow, ProgressStatus, Route,
};
use crate::i18n::Lang;
use crate::protocol::case::CaseClassification;
use crate::protocol::day::Day;
use crate::protocol::meeting::Level;
use crate::protocol::{AgencyId, CaseId, Timestamp};

#[derive(Subcommand)]
pub enum LedgerCommand {
    /// ケースの台帳項目を記録・変更（指定した項目だけ変わる） / record or change a case's entry (only what you name changes)
    Set(Box<SetArgs>),
    /// 台帳の一覧 / list the ledger
    List(ListArgs),
    /// 台帳を CSV で書き出す（Excel で開ける UTF-8 BOM 付き） / export the ledger as CSV (UTF-8 with BOM, for Excel)
    Export(ExportArgs),
    /// 実務者会議の議題: 見直し期限の来るケースと関係機関 / practitioners' meeting agenda: cases due for review and their agencies
    Agenda(AgendaArgs),
}

#[derive(Args)]
pub struct ConfigArg {
    /// 機関ノードの設定ファイル / agency node config
    #[arg(long, default_value = "agency.toml")]
    config: PathBuf,
}

#[derive(Args)]
pub struct SetArgs {
    #[command(flatten)]
    node: ConfigArg,
    /// ケースID / case id
    #[arg(long)]
    case: CaseId,
    /// ケース番号（例: 2026-012） / case number
    #[arg(long)]
    number: Option<String>,
    /// 受理日（YYYY-MM-DD） / day received
    #[arg(long)]
    received_on: Option<String>,
    /// 受理経路 / route
    #[arg(long, value_enum)]
    route: Option<Route>,
    /// 虐待種別: physical（身体的）, sexual（性的）, psychological（心理的）, neglect（ネグレクト）をカンマ区切りで、none で消去 / abuse types, comma-separated; none clears
    #[arg(long, value_delimiter = ',', value_name = "TYPE")]
    abuse: Option<Vec<String>>,
    /// 危険度 / risk level
    #[arg(long, value_enum)]
    risk: Option<Level>,
    /// 援助方針 / support policy
    #[arg(long)]
    policy: Option<String>,
    /// 状態 / status
    #[arg(long, value_enum)]
    status: Option<ProgressStatus>,
    /// 状態の理由（終結・送致・移管では必須） / reason (required for closed, referred, transferred)
    #[arg(long)]
    reason: Option<String>,
    /// 次回見直し日（YYYY-MM-DD、省略時は前回検討の3か月後） / next review (default: three months after the last review)
    #[arg(long)]
    next_review: Option<String>,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct FilterArgs {
    /// 見直し期限の来るケースだけ（--until まで） / only cases due for review (by --until)
    #[arg(long)]
    due: bool,
    /// 見直し期限の基準日（省略時は今日から14日後） / due by this day (default: 14 days from today)
    #[arg(long)]
    until: Option<String>,
    /// 区分 / classification
    #[arg(long, value_enum)]
    classification: Option<CaseClassification>,
    /// 主担当機関（機関ID） / lead agency id
    #[arg(long)]
    lead: Option<AgencyId>,
    /// 状態 / status
    #[arg(long, value_enum)]
    status: Option<ProgressStatus>,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    node: ConfigArg,
    #[command(flatten)]
    filter: FilterArgs,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    node: ConfigArg,
    #[command(flatten)]
    filter: FilterArgs,
    /// 書き出すファイル（所有者のみ読める） / file to write (readable by its owner only)
    #[arg(long)]
    out: PathBuf,
    /// 結果を JSON で出力する / print the result as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct AgendaArgs {
    #[command(flatten)]
    node: ConfigArg,
    /// この日までに見直し期限の来るケース（省略時は今日から14日後） / cases due by this day (default: 14 days from today)
    #[arg(long)]
    until: Option<String>,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

pub async fn run(cmd: LedgerCommand, lang: Lang) -> anyhow::Result<()> {
    // Flags are checked before the node is opened: a bad one stores nothing.
    let (config, today) = (config_of(&cmd), Day::of(Timestamp::now()));
    let checked = Checked::of(&cmd, today, lang)?;
    let node = open_config(config, lang).await?;
    let result = match coordinator(&node, lang) {
        Ok(()) => dispatch(&node, cmd, checked, lang).await,
        Err(e) => Err(e),
    };
    node.records().close().await;
    result
}

fn config_of(cmd: &LedgerCommand) -> &std::path::Path {
    match cmd {
        LedgerCommand::Set(a) => &a.node.config,
        LedgerCommand::List(a) => &a.node.config,
        LedgerCommand::Export(a) => &a.node.config,
        LedgerCommand::Agenda(a) => &a.node.config,
    }
}

/// The flags that need more than clap checks, parsed.
struct Checked {
    change: EntryChange,
    filter: Filter,
    until: Day,
}

impl Checked {
    fn of(cmd: &LedgerCommand, today: Day, lang: Lang) -> anyhow::Result<Self> {
        let default_until = today.plus_days(AGENDA_DAYS);
        let mut checked = Checked {
            change: EntryChange::default(),
            filter: Filter::default(),
            until: default_until,
        };
        match cmd {
            LedgerCommand::Set(a) => checked.change = change(a, lang)?,
            LedgerCommand::List(ListArgs { filter, .. })
            | LedgerCommand::Export(ExportArgs { filter, .. }) => {
                checked.until =
                    day_flag("--until", filter.until.as_deref(), lang)?.unwrap_or(default_until);
                checked.filter = Filter {
                    due_by: (filter.due || filter.until.is_some()).then_some(checked.until),
                    classification: filter.classification,
                    lead: filter.lead.clone(),
                    status: filter.status,
                };
            }
            LedgerCommand::Agenda(a) => {
                checked.until =
                    day_flag("--until", a.until.as_deref(), lang)?.unwrap_or(default_until)
            }
        }
        Ok(checked)
    }
}

pub(super) fn day_flag(flag: &str, value: Option<&str>, lang: Lang) -> anyhow::Result<Option<Day>> {
    let Some(value) = value else { return Ok(None) };
    match value.trim().parse::<Day>() {
        Ok(day) => Ok(Some(day)),
        Err(_) => bail!(
            "{flag} {}: {value}\n{}",
            lang.pick("の日付が正しくありません", "is not a valid date"),
            lang.pick(
                "次の手順: 2026-11-20 のように YYYY-MM-DD で指定してください。何も記録していません。",
                "next: give it as YYYY-MM-DD, e.g. 2026-11-20. Nothing was recorded.",
            )
        ),
    }
}

fn change(a: &SetArgs, lang: Lang) -> anyhow::Result<EntryChange> {
    let abuse_types = match &a.abuse {
        None => None,
        Some(names) if names.iter().any(|n| n == "none") => Some(Vec::new()),
        Some(names) => Some(
            names
                .iter()
                .map(|n| abuse_type(n, lang))
                .collect::<anyhow::Result<_>>()?,
        ),
    };
    Ok(EntryChange {
        case_number: a.number.clone(),
        received_on: day_flag("--received-on", a.received_on.as_deref(), lang)?,
        route: a.route,
        abuse_types,
        risk: a.risk,
        policy: a.policy.clone(),
        status: a.status,
        status_reason: a.reason.clone(),
        next_review: day_flag("--next-review", a.next_review.as_deref(), lang)?,
    })
}

fn abuse_type(name: &str, lang: Lang) -> anyhow::Result<AbuseType> {
    if let Some(t) = AbuseType::parse(name.trim()) {
        return Ok(t);
    }
    let known: Vec<String> = AbuseType::ALL
        .iter()
        .map(|t| format!("{}（{}）", t.as_str(), t.label(lang)))
        .collect();
    bail!(
        "{} {name}\n{} {}, none",
        lang.pick(
            "--abuse の虐待種別が正しくありません:",
            "unknown --abuse type:"
        ),
        lang.pick("次の手順: 次から選んでください:", "next: choose from"),
        known.join(", ")
    )
}

async fn dispatch(
    node: &Node,
    cmd: LedgerCommand,
    checked: Checked,
    lang: Lang,
) -> anyhow::Result<()> {
    match cmd {
        LedgerCommand::Set(a) => set(node, &a, checked.change, lang).await,
        LedgerCommand::List(a) => list(node, &checked, a.json, lang).await,
        LedgerCommand::Export(a) => export(node, &checked, &a, lang).await,
        LedgerCommand::Agenda(a) => agenda(node, checked.until, a.json, lang).await,
    }
}

async fn set(node: &Node, a: &SetArgs, change: EntryChange, lang: Lang) -> anyhow::Result<()> {
    let closing = change.status == Some(ProgressStatus::Closed);
    let now = Timestamp::now();
    if let Err(e) = ledger::set(node.records(), node.id(), &a.case, change, now).await {
        return Err(set_error(e, lang));
    }
    let rows = ledger::rows(node.records(), node.id(), now).await?;
    let Some(row) = rows.iter().find(|r| r.case_id == a.case) else {
        bail!(
            "{} {}",
            lang.pick("台帳にありません:", "not on the ledger:"),
            a.case
        );
    };
    if a.json {
        return output::json(&row_json(node, row, Day::of(now), lang));
    }
    say!(
        "{} {}（{} {}）",
        lang.pick("台帳を更新しました:", "ledger updated:"),
        row.case_id,
        lang.pick("ケース番号", "case number"),
        row.case_number.as_deref().unwrap_or("-")
    );
    say!(
        "{} {}  {} {}",
        lang.pick("状態:", "status:"),
        row.status.label(lang),
        lang.pick("次回見直し:", "next review:"),
        row.next_review
    );
    if closing {
        say!(
            "{} agency case --case {} --close --note …",
            lang.pick(
                "要対協の登録も終結するには（構成機関との共有が終わります）:",
                "to close the registration with the council too (sharing among members ends):"
            ),
            row.case_id
        );
    }
    Ok(())
}

async fn list(node: &Node, checked: &Checked, json: bool, lang: Lang) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let today = Day::of(now);
    let rows: Vec<LedgerRow> = ledger::rows(node.records(), node.id(), now)
        .await?
        .into_iter()
        .filter(|r| checked.filter.matches(r))
        .collect();
    if json {
        let listed: Vec<RowJson> = rows
            .iter()
            .map(|r| row_json(node, r, today, lang))
            .collect();
        return output::json(&listed);
    }
    if rows.is_empty() {
        say!(
            "{}",
            lang.pick("該当するケースはありません", "no cases match")
        );
        return Ok(());
    }
    let mut table = Table::new(&[
        lang.pick("ケース番号", "number"),
        lang.pick("受理日", "received"),
        lang.pick("区分", "classification"),
        lang.pick("危険度", "risk"),
        lang.pick("主担当機関", "lead"),
        lang.pick("前回検討", "last review"),
        lang.pick("次回見直し", "next review"),
        lang.pick("状態", "status"),
        lang.pick("ケースID", "case id"),
    ]);
    for r in &rows {
        let overdue = if r.status.is_open() && r.next_review < today {
            lang.pick(" ⚠期限超過", " ⚠overdue")
        } else {
            ""
        };
        table.row(vec![
            r.case_number.clone().unwrap_or_else(|| "-".into()),
            r.received_on.to_string(),
            r.classification.label(lang).to_owned(),
            r.risk.map_or("-", |l| l.label(lang)).to_owned(),
            labels::agency(node, r.lead.as_str()).name,
            r.last_reviewed.map_or("-".into(), |d| d.to_string()),
            format!("{}{overdue}", r.next_review),
            r.status.label(lang).to_owned(),
            r.case_id.to_string(),
        ]);
    }
    table.print();
    Ok(())
}

async fn export(node: &Node, checked: &Checked, a: &ExportArgs, lang: Lang) -> anyhow::Result<()> {
    let rows: Vec<LedgerRow> = ledger::rows(node.records(), node.id(), Timestamp::now())
        .await?
        .into_iter()
        .filter(|r| checked.filter.matches(r))
        .collect();
    let name = |id: &AgencyId| labels::agency(node, id.as_str()).name;
    let text = ledger::csv::export(&rows, name, lang)?;
    output::write_export(&a.out, text.as_bytes(), lang)?;
    if a.json {
        return output::json(&serde_json::json!({
            "out": a.out.display().to_string(),
            "cases": rows.len(),
        }));
    }
    say!(
        "{} {}（{}{}）",
        lang.pick("台帳を書き出しました:", "ledger written to"),
        a.out.display(),
        rows.len(),
        lang.pick("件", " cases")
    );
    Ok(())
}

async fn agenda(node: &Node, until: Day, json: bool, lang: Lang) -> anyhow::Result<()> {
    let agenda = ledger::due_cases(node.records(), node.id(), Timestamp::now(), until).await?;
    if json {
        return output::json(&agenda_json(node, &agenda, lang));
    }
    match lang {
        Lang::Ja => say!("実務者会議の議題: 見直し期限が {until} までのケース"),
        Lang::En => say!("practitioners' meeting agenda: cases due by {until}"),
    }
    if agenda.cases.is_empty() {
        say!(
            "{}",
            lang.pick("該当するケースはありません", "no cases are due")
        );
        return Ok(());
    }
    let mut table = Table::new(&[
        lang.pick("次回見直し", "next review"),
        lang.pick("ケース番号", "number"),
        lang.pick("区分", "classification"),
        lang.pick("危険度", "risk"),
        lang.pick("主担当機関", "lead"),
        lang.pick("関係機関", "agencies with a role"),
        lang.pick("ケースID", "case id"),
    ]);
    let name = |id: &AgencyId| labels::agency(node, id.as_str()).name;
    for c in &agenda.cases {
        table.row(vec![
            c.next_review.to_string(),
            c.case_number.clone().unwrap_or_else(|| "-".into()),
            c.classification.label(lang).to_owned(),
            c.risk.map_or("-", |l| l.label(lang)).to_owned(),
            name(&c.lead),
            c.members.iter().map(name).collect::<Vec<_>>().join("、"),
            c.case_id.to_string(),
        ]);
    }
    table.print();
    let invitees: Vec<String> = agenda
        .invitees(node.id(), node.directory())
        .iter()
        .map(name)
        .collect();
    say!(
        "{} {}",
        lang.pick("招集する機関:", "agencies to invite:"),
        invitees.join("、")
    );
    Ok(())
}

//! `tsunagu agency support-ledger list | show | add | set | contact |
//! link`: the center's 支援台帳 from the command line — the morning list,
//! a row with everything computed, and every change through the core's
//! one function for it. Who did it is `USER`, else the OS account (`cli::operator::person`).

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};

mod add;
mod change;
mod fields;
mod json;
mod list;
mod refusals;
mod show;

use fields::{Changes, FieldArgs};
use refusals::nothing;

use crate::agency::Node;
use crate::agency::support_ledger::{
    self as core, ContactKind, ContactPoint, MorningFilter, Subject, Tier,
};
use crate::cli::agency::open_config;
use crate::cli::ledger::day_flag;
use crate::cli::output::say;
use crate::i18n::Lang;
use crate::protocol::day::Day;
use crate::protocol::{CaseId, Timestamp};

#[derive(Subcommand)]
pub enum RowsCommand {
    /// 朝の一覧: 接触の時期が来た行、台帳にない連絡票、見直し時期の支援プラン / the morning list: rows due for contact, referrals not on the ledger, plans due for review
    List(ListArgs),
    /// 一行のすべて: 項目、計算した日付と規則、伴走型相談支援、健診、履歴、連携ケース / one row: its items, computed dates and their rules, contact points, checkups, history, linked cases
    Show(ShowArgs),
    /// 行を追加（項目を指定、--file、または --from-case で連絡票から） / add a row (from flags, --file, or a referral with --from-case)
    Add(Box<AddArgs>),
    /// 行の項目を変更（指定した項目だけ変わる） / change a row's items (only those named)
    Set(Box<SetArgs>),
    /// 接触を記録（電話・面接・訪問・来所・関係機関から） / record a contact
    Contact(ContactArgs),
    /// ケース（連絡票・会議・プラン）を行に結び付ける / link a case to a row
    Link(LinkArgs),
}

#[derive(Args)]
pub struct ConfigArg {
    /// 機関ノードの設定ファイル / agency node config
    #[arg(long, default_value = "agency.toml")]
    config: PathBuf,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    node: ConfigArg,
    /// 次回接触が今日まで（超過を含む）の行だけ / only rows due for contact today or overdue
    #[arg(long, conflicts_with = "by")]
    due: bool,
    /// 次回接触がこの日まで（YYYY-MM-DD）の行だけ / only rows due by this day
    #[arg(long)]
    by: Option<String>,
    /// 支援区分 / tier
    #[arg(long, value_enum)]
    tier: Option<Tier>,
    /// 担当地区 / district
    #[arg(long)]
    district: Option<String>,
    /// 担当保健師 / nurse in charge
    #[arg(long)]
    staff: Option<String>,
    /// 終結した行も / closed rows too
    #[arg(long)]
    closed: bool,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ShowArgs {
    #[command(flatten)]
    node: ConfigArg,
    /// 台帳番号 / ledger number
    number: String,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct AddArgs {
    #[command(flatten)]
    node: ConfigArg,
    #[command(flatten)]
    fields: FieldArgs,
    /// 項目を書いた TOML ファイル（項目名は FIELDS、フラグが優先） / a TOML file of the items (flags win)
    #[arg(long)]
    file: Option<PathBuf>,
    /// このケースで受け取った最新の連絡票から行を作り、ケースを結び付ける / start the row from the latest referral received about this case, and link it
    #[arg(long)]
    from_case: Option<CaseId>,
    /// 出生連絡の子どもの行の台帳番号（--from-case と） / the baby's ledger number, from a 出生連絡 (with --from-case)
    #[arg(long, requires = "from_case")]
    child_number: Option<String>,
    /// 最初の支援区分の理由（--from-case では省略可） / why the row gets its first tier (optional with --from-case)
    #[arg(long)]
    reason: Option<String>,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct SetArgs {
    #[command(flatten)]
    node: ConfigArg,
    /// 台帳番号 / ledger number
    row: String,
    #[command(flatten)]
    fields: FieldArgs,
    /// 支援区分を変える理由（--tier では必須） / why the tier changes (required with --tier)
    #[arg(long)]
    reason: Option<String>,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ContactArgs {
    #[command(flatten)]
    node: ConfigArg,
    /// 台帳番号 / ledger number
    number: String,
    /// 種別 / kind
    #[arg(long, value_enum)]
    kind: ContactKind,
    /// 接触した日（YYYY-MM-DD、省略時は今日） / day of the contact (default: today)
    #[arg(long)]
    day: Option<String>,
    /// 対応した職員（省略時は実行した人） / who made it (default: you)
    #[arg(long)]
    staff: Option<String>,
    /// 概要 / summary
    #[arg(long, default_value = "")]
    summary: String,
    /// 伴走型相談支援のどの面接・訪問にあたるか / the 伴走型 contact point it fulfils
    #[arg(long, value_enum)]
    point: Option<ContactPoint>,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct LinkArgs {
    #[command(flatten)]
    node: ConfigArg,
    /// 台帳番号 / ledger number
    number: String,
    /// 結び付けるケースID / the case to link
    #[arg(long)]
    case: CaseId,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

pub async fn run(cmd: RowsCommand, lang: Lang) -> anyhow::Result<()> {
    // Flags are checked before the node is opened: a bad one stores nothing.
    let now = Timestamp::now();
    let checked = Checked::of(&cmd, Day::of(now), lang)?;
    let node = open_config(config_of(&cmd), lang).await?;
    let result = match super::center(&node, lang) {
        Ok(()) => dispatch(&node, cmd, checked, now, lang).await,
        Err(e) => Err(e),
    };
    node.records().close().await;
    result
}

fn config_of(cmd: &RowsCommand) -> &std::path::Path {
    match cmd {
        RowsCommand::List(a) => &a.node.config,
        RowsCommand::Show(a) => &a.node.config,
        RowsCommand::Add(a) => &a.node.config,
        RowsCommand::Set(a) => &a.node.config,
        RowsCommand::Contact(a) => &a.node.config,
        RowsCommand::Link(a) => &a.node.config,
    }
}

/// The flags that need more than clap checks, parsed.
#[derive(Default)]
struct Checked {
    filter: MorningFilter,
    changes: Changes,
    /// A whole new row (`add` without `--from-case`).
    subject: Option<Subject>,
    day: Option<Day>,
}

impl Checked {
    fn of(cmd: &RowsCommand, today: Day, lang: Lang) -> anyhow::Result<Self> {
        let mut checked = Checked::default();
        match cmd {
            RowsCommand::List(a) => {
                let by = day_flag("--by", a.by.as_deref(), lang)?;
                checked.filter = MorningFilter {
                    due_by: by.or(a.due.then_some(today)),
                    tier: a.tier,
                    district: a.district.clone(),
                    staff: a.staff.clone(),
                    closed: a.closed,
                };
            }
            RowsCommand::Add(a) => {
                let mut changes = match &a.file {
                    Some(path) => fields::from_file(path, lang)?,
                    None => Changes::new(),
                };
                changes.extend(a.fields.changes(lang)?);
                if a.from_case.is_none() {
                    if a.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                        bail!(
                            "{}{}",
                            lang.pick(
                                "最初の支援区分の理由が必要です（履歴に残ります）。次の手順: --reason に理由（例: 妊娠届出時の面接）を書いてください。",
                                "the first tier needs a reason (it is kept in the history). next: write it in --reason.",
                            ),
                            nothing(lang)
                        );
                    }
                    let subject = fields::apply(&Subject::default(), &changes, lang)?;
                    fields::check(&subject, today, lang)?;
                    checked.subject = Some(subject);
                }
                checked.changes = changes;
            }
            RowsCommand::Set(a) => {
                let changes = a.fields.changes(lang)?;
                if changes.is_empty() {
                    bail!(
                        "{}{}",
                        lang.pick(
                            "変更する項目がありません。次の手順: --tier・--staff・--district など変える項目を指定してください（--help に一覧）。",
                            "nothing to change. next: name the items to change, e.g. --tier, --staff, --district (see --help).",
                        ),
                        nothing(lang)
                    );
                }
                if a.fields.tier.is_some()
                    && a.reason.as_deref().is_none_or(|r| r.trim().is_empty())
                {
                    bail!("{}{}", refusals::tier_reason(lang), nothing(lang));
                }
                checked.changes = changes;
            }
            RowsCommand::Contact(a) => {
                let day = day_flag("--day", a.day.as_deref(), lang)?.unwrap_or(today);
                if day > today {
                    bail!(
                        "{} {day}\n{}{}",
                        lang.pick("接触した日が未来の日付です:", "the contact's day is in the future:"),
                        lang.pick(
                            "次の手順: 接触した日を --day に指定してください（予定は次回接触予定日として set --next-contact-on で）。",
                            "next: give the day it happened with --day (a plan goes in set --next-contact-on).",
                        ),
                        nothing(lang)
                    );
                }
                checked.day = Some(day);
            }
            RowsCommand::Show(_) | RowsCommand::Link(_) => {}
        }
        Ok(checked)
    }
}

async fn dispatch(
    node: &Node,
    cmd: RowsCommand,
    checked: Checked,
    now: Timestamp,
    lang: Lang,
) -> anyhow::Result<()> {
    match cmd {
        RowsCommand::List(a) => list::run(node, &checked.filter, now, a.json, lang).await,
        RowsCommand::Show(a) => show::run(node, &a.number, now, a.json, lang).await,
        RowsCommand::Add(a) => add::run(node, &a, checked, now, lang).await,
        RowsCommand::Set(a) => change::set(node, &a, &checked.changes, now, lang).await,
        RowsCommand::Contact(a) => change::contact(node, &a, checked.day, now, lang).await,
        RowsCommand::Link(a) => change::link(node, &a, now, lang).await,
    }
}

/// The row with this 台帳番号, as the ledger shows it today.
async fn row(
    node: &Node,
    number: &str,
    now: Timestamp,
    lang: Lang,
) -> anyhow::Result<core::SubjectView> {
    let ledger = core::load(node.records(), Day::of(now)).await?;
    ledger
        .by_number(number.trim())
        .cloned()
        .ok_or_else(|| refusals::unknown_number(number, lang))
}

/// Say what changed, and show the row as it now stands.
async fn done(
    node: &Node,
    number: &str,
    what: (&str, &str),
    now: Timestamp,
    json: bool,
    lang: Lang,
) -> anyhow::Result<()> {
    if json {
        return show::run(node, number, now, true, lang).await;
    }
    say!("{} {number}", lang.pick(what.0, what.1));
    let v = row(node, number, now, lang).await?;
    say!("{}", list::next_contact_line(&v, Day::of(now), lang));
    Ok(())
}

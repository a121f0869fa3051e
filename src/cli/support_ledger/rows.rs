//! `tsunagu agency support-ledger list | show | add | set | contact |
//! link`: the center's 支援台帳 from the command line — the morning list,
//! a row with everything computed, and every change through the core's
//! one function for it. Who did it is the OS user (`USER`).

use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Subcommand};

mod fields;
mod json;
mod list;
mod refusals;
mod show;

use fields::{Changes, FieldArgs};
use refusals::{nothing, refused};

use crate::agency::Node;
use crate::agency::support_ledger::{
    self as core, Contact, ContactKind, ContactPoint, MorningFilter, Subject, Tier, prefill,
};
use crate::cli::agency::open_config;
use crate::cli::ledger::day_flag;
use crate::cli::output::{self, say};
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
    let result = match refusals::center(&node, lang) {
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

/// Who is doing it, from the command line: the OS user.
fn operator() -> String {
    std::env::var("USER").unwrap_or_else(|_| "unknown".into())
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
        RowsCommand::Add(a) => add(node, &a, checked, now, lang).await,
        RowsCommand::Set(a) => set(node, &a, &checked.changes, now, lang).await,
        RowsCommand::Contact(a) => contact(node, &a, checked.day, now, lang).await,
        RowsCommand::Link(a) => link(node, &a, now, lang).await,
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

async fn add(
    node: &Node,
    a: &AddArgs,
    checked: Checked,
    now: Timestamp,
    lang: Lang,
) -> anyhow::Result<()> {
    let by = operator();
    if let Some(subject) = checked.subject {
        let reason = a.reason.as_deref().unwrap_or_default().trim();
        let number = subject.number.clone();
        core::add(node.records(), vec![subject], reason, &by, now)
            .await
            .map_err(|e| refused(e, lang))?;
        return done(
            node,
            &number,
            ("行を追加しました:", "row added:"),
            now,
            a.json,
            lang,
        )
        .await;
    }
    let Some(case) = &a.from_case else {
        bail!("internal: add without a row or a case");
    };
    from_case(node, a, case, &checked.changes, &by, now, lang).await
}

/// A row started from the latest referral about `case`: the mother's, and
/// with `--child-number` her baby's from a 出生連絡. When the case is on
/// the ledger already, only the baby's row is new.
async fn from_case(
    node: &Node,
    a: &AddArgs,
    case: &CaseId,
    changes: &Changes,
    by: &str,
    now: Timestamp,
    lang: Lang,
) -> anyhow::Result<()> {
    let records = node.records();
    let Some(referral) = prefill::latest_referral(records, case).await? else {
        return Err(refusals::no_referral(case, lang));
    };
    let reason = a
        .reason
        .clone()
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(|| {
            format!(
                "{} {case}",
                lang.pick("連絡票から作成: ケース", "from the referral of case")
            )
        });
    let ledger = core::load(records, Day::of(now)).await?;
    let linked = ledger.by_case(case).map(|v| v.subject.number.clone());
    let given = changes
        .get("number")
        .and_then(|n| n.as_str())
        .map(str::to_owned);
    let mother_number = match (&linked, given) {
        (Some(n), None) => n.clone(),
        (Some(n), Some(_)) => bail!(
            "{} {case} → {n}\n{}{}",
            lang.pick("このケースは既に行に結び付いています:", "the case is already on row"),
            lang.pick(
                "次の手順: 子どもの行だけなら --number を外して --child-number を指定してください。",
                "next: for the baby's row alone, drop --number and give --child-number.",
            ),
            nothing(lang)
        ),
        (None, Some(n)) => n,
        (None, None) => bail!(
            "{}{}",
            lang.pick(
                "新しい行の台帳番号が必要です。次の手順: --number に台帳番号（例: R8-0012）を指定してください。",
                "the new row needs a ledger number. next: give it with --number.",
            ),
            nothing(lang)
        ),
    };
    let child = match &a.child_number {
        None => None,
        Some(m) => Some(prefill::child(&referral, m, &mother_number).ok_or_else(|| {
            anyhow::anyhow!(
                "{} {case}\n{}{}",
                lang.pick(
                    "このケースの最新の連絡票は出生連絡（出産後・子どもの記載あり）ではありません:",
                    "the latest referral about the case is not a 出生連絡 (after birth, with the baby):"
                ),
                lang.pick(
                    "次の手順: 出生連絡を受け取ってから実行するか、子どもの行を項目を指定して add で作ってください。",
                    "next: wait for the 出生連絡, or add the baby's row with its flags.",
                ),
                nothing(lang)
            )
        })?),
    };
    let result = match (&linked, child) {
        (Some(_), Some(child)) => {
            let number = child.number.clone();
            core::add(records, vec![child], &reason, by, now)
                .await
                .map(|_| number)
        }
        (Some(n), None) => bail!(
            "{} {case} → {n}\n{}{}",
            lang.pick("このケースは既に行に結び付いています:", "the case is already on row"),
            lang.pick(
                "次の手順: agency support-ledger show で確認してください。出生連絡なら --child-number で子どもの行を作れます。",
                "next: see it with agency support-ledger show; for a 出生連絡, --child-number adds the baby's row.",
            ),
            nothing(lang)
        ),
        (None, child) => {
            let mother = fields::apply(&prefill::mother(&referral, &mother_number), changes, lang)?;
            core::add_linked_with(records, mother, case, child.into_iter().collect(), &reason, by, now)
                .await
                .map(|_| mother_number.clone())
        }
    };
    let number = result.map_err(|e| refused(e, lang))?;
    done(
        node,
        &number,
        ("行を追加しました:", "row added:"),
        now,
        a.json,
        lang,
    )
    .await
}

async fn set(
    node: &Node,
    a: &SetArgs,
    changes: &Changes,
    now: Timestamp,
    lang: Lang,
) -> anyhow::Result<()> {
    let v = row(node, &a.row, now, lang).await?;
    let subject = fields::apply(&v.subject, changes, lang)?;
    let number = subject.number.clone();
    core::update(
        node.records(),
        &v.id,
        v.version,
        subject,
        a.reason.as_deref(),
        &operator(),
        now,
    )
    .await
    .map_err(|e| refused(e, lang))?;
    done(
        node,
        &number,
        ("行を変更しました:", "row changed:"),
        now,
        a.json,
        lang,
    )
    .await
}

async fn contact(
    node: &Node,
    a: &ContactArgs,
    day: Option<Day>,
    now: Timestamp,
    lang: Lang,
) -> anyhow::Result<()> {
    let v = row(node, &a.number, now, lang).await?;
    let by = operator();
    let contact = Contact {
        day: day.unwrap_or(Day::of(now)),
        kind: a.kind,
        staff: a.staff.clone().unwrap_or_else(|| by.clone()),
        summary: a.summary.clone(),
        point: a.point,
        recorded_by: by,
        recorded_at: now,
    };
    core::record_contact(node.records(), &v.id, contact)
        .await
        .map_err(|e| refused(e, lang))?;
    done(
        node,
        &v.subject.number,
        ("接触を記録しました:", "contact recorded:"),
        now,
        a.json,
        lang,
    )
    .await
}

async fn link(node: &Node, a: &LinkArgs, now: Timestamp, lang: Lang) -> anyhow::Result<()> {
    let v = row(node, &a.number, now, lang).await?;
    if !node.records().holds_case(&a.case).await? {
        return Err(refusals::unknown_case(&a.case, lang));
    }
    // Linking again what is already linked here changes nothing.
    if !v.cases.iter().any(|l| l.case == a.case) {
        core::link_case(node.records(), &v.id, &a.case, &operator(), now)
            .await
            .map_err(|e| refused(e, lang))?;
    }
    if a.json {
        return output::json(&serde_json::json!({
            "number": v.subject.number,
            "case_id": a.case,
        }));
    }
    say!(
        "{} {} → {}",
        lang.pick("ケースを結び付けました:", "case linked:"),
        a.case,
        v.subject.number
    );
    Ok(())
}

//! The `agency plan` commands' arguments, and the plan file they read.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use super::super::exchange::{AuthorArgs, BasisArgs};
use super::super::labels;
use crate::agency::plans::PlanChanges;
use crate::directory::Directory;
use crate::i18n::Lang;
use crate::protocol::day::Day;
use crate::protocol::plan::SupportPlan;
use crate::protocol::{AgencyId, CaseId, InfoCategory, MeetingId, PlanId, Timestamp};

#[derive(Subcommand)]
pub enum PlanCommand {
    /// 支援プランを作成（版1）して共有 / write a new plan (version 1) and share it
    New(Box<NewArgs>),
    /// 最新版から次の版を作って共有 / make the next version from the latest and share it
    Revise(Box<ReviseArgs>),
    /// 版を表示（省略時は最新版） / show a version (the latest unless named)
    Show(ShowArgs),
    /// 2つの版の差分 / what changed between two versions
    Diff(DiffArgs),
    /// この機関が担当する支援（期限順） / this agency's actions across all plans, by due date
    Actions(NodeArgs),
    /// この機関が持つ支援プラン / the plans this agency holds
    List(NodeArgs),
}

#[derive(Args)]
pub struct NodeArgs {
    /// 機関ノードの設定ファイル / agency node config
    #[arg(long, default_value = "agency.toml")]
    pub config: PathBuf,
    /// JSON で出力する / print JSON
    #[arg(long)]
    pub json: bool,
}

/// Who receives what, under which basis, written by whom.
#[derive(Args)]
pub struct ShareArgs {
    /// 全体を送る機関（機関ID・名称・種別、カンマ区切り） / agencies that receive the whole plan (id, name or kind)
    #[arg(long, value_delimiter = ',')]
    pub whole: Vec<String>,
    /// 担当部分だけを送る機関（機関ID・名称・種別、カンマ区切り） / agencies that receive only their part
    #[arg(long, value_delimiter = ',', requires = "part_categories")]
    pub part: Vec<String>,
    /// 担当部分に含まれる情報区分（カンマ区切り） / information categories a part discloses
    #[arg(long = "part-category", value_delimiter = ',', value_enum)]
    pub part_categories: Vec<InfoCategory>,
    #[command(flatten)]
    pub basis: BasisArgs,
    #[command(flatten)]
    pub author: AuthorArgs,
}

#[derive(Args)]
pub struct NewArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// ケースID / case id
    #[arg(long)]
    pub case: CaseId,
    /// 支援プランのファイル（TOML、examples/plan.toml を参照） / the plan (TOML; see examples/plan.toml)
    #[arg(long)]
    pub file: PathBuf,
    /// 作成日（省略時はファイルの値、なければ今日） / the plan's date (default: the file's, else today)
    #[arg(long)]
    pub made_on: Option<Day>,
    /// 見直し日（ファイルの値より優先、どちらもなければ作成日の3か月後） / review date (overrides the file's; default: 3 months after the plan's date)
    #[arg(long)]
    pub review_on: Option<Day>,
    #[command(flatten)]
    pub share: ShareArgs,
}

#[derive(Args)]
pub struct ReviseArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// 支援プランID / plan id
    #[arg(long)]
    pub plan: PlanId,
    /// 変更点のファイル（TOML、書いた項目だけ変わる） / a TOML file of changes (only what it names changes)
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// この会議の会議録の決定事項から作る / make it from this meeting's decisions (its minutes)
    #[arg(long)]
    pub from_meeting: Option<MeetingId>,
    /// 作成日（省略時は今日） / the version's date (default: today)
    #[arg(long)]
    pub made_on: Option<Day>,
    /// 見直し日 / review date
    #[arg(long)]
    pub review_on: Option<Day>,
    /// 本人の意向（書き直す） / her wishes, rewritten
    #[arg(long)]
    pub wishes: Option<String>,
    /// 目標を追加（複数可） / add a goal (repeatable)
    #[arg(long)]
    pub add_goal: Vec<String>,
    /// 目標を削除（書かれたとおりに、複数可） / drop a goal, as written (repeatable)
    #[arg(long)]
    pub drop_goal: Vec<String>,
    /// 主担当機関（機関ID・名称・種別） / lead agency (id, name or kind)
    #[arg(long)]
    pub lead: Option<String>,
    /// 主担当機関の連絡先 / the lead's contact
    #[arg(long)]
    pub lead_contact: Option<String>,
    /// キーパーソン / key person
    #[arg(long)]
    pub key_person: Option<String>,
    /// 本人が作成に参加したか / whether she took part (true/false)
    #[arg(long)]
    pub took_part: Option<bool>,
    /// 本人に交付したか / whether she was given a copy (true/false)
    #[arg(long)]
    pub copy_given: Option<bool>,
    #[command(flatten)]
    pub share: ShareArgs,
}

impl ReviseArgs {
    /// The changes the flags give.
    pub fn changes(&self, directory: &Directory, lang: Lang) -> anyhow::Result<PlanChanges> {
        let lead = match &self.lead {
            Some(l) => Some(agency(directory, l, lang)?),
            None => None,
        };
        Ok(PlanChanges {
            wishes: self.wishes.clone(),
            add_goals: self.add_goal.clone(),
            drop_goals: self.drop_goal.clone(),
            lead,
            lead_contact: self.lead_contact.clone(),
            key_person: self.key_person.clone(),
            person_took_part: self.took_part,
            copy_given: self.copy_given,
            made_on: self.made_on,
            review_on: self.review_on,
            ..PlanChanges::default()
        })
    }
}

#[derive(Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// 支援プランID / plan id
    #[arg(long)]
    pub plan: PlanId,
    /// 版（省略時は最新） / version (default: the latest held)
    #[arg(long)]
    pub version: Option<u32>,
}

#[derive(Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub node: NodeArgs,
    /// 支援プランID / plan id
    #[arg(long)]
    pub plan: PlanId,
    /// 比較元の版 / from version
    #[arg(long)]
    pub from: u32,
    /// 比較先の版 / to version
    #[arg(long)]
    pub to: u32,
}

/// An agency named on the command line, or what to do.
pub fn agency(directory: &Directory, text: &str, lang: Lang) -> anyhow::Result<AgencyId> {
    labels::resolve(directory, text).with_context(|| {
        format!(
            "{} {text}",
            lang.pick(
                "ディレクトリにない機関です（機関ID・名称・種別を確認してください）:",
                "no such agency in the directory (check its id, name or kind):"
            )
        )
    })
}

pub fn agencies(
    directory: &Directory,
    texts: &[String],
    lang: Lang,
) -> anyhow::Result<Vec<AgencyId>> {
    let mut ids: Vec<AgencyId> = Vec::new();
    for t in texts {
        let id = agency(directory, t, lang)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The keys a plan file may have (a misspelt one would silently drop
/// what staff wrote).
const PLAN_KEYS: [&str; 12] = [
    "wishes",
    "goals",
    "actions",
    "lead",
    "lead_contact",
    "key_person",
    "person_took_part",
    "copy_given",
    "made_on",
    "review_on",
    "from_meeting",
    "categories",
];

fn read_table(path: &Path, lang: Lang) -> anyhow::Result<toml::Table> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "{} {}",
            lang.pick("ファイルを読めません:", "cannot read file"),
            path.display()
        )
    })?;
    toml::from_str(&text).with_context(|| invalid(path, lang))
}

fn invalid(path: &Path, lang: Lang) -> String {
    format!(
        "{} {}",
        lang.pick(
            "支援プランのファイルの形式が正しくありません（examples/plan.toml を参照）:",
            "the plan file is not valid (see examples/plan.toml):"
        ),
        path.display()
    )
}

/// A plan from its TOML file, dates given on the command line winning.
pub fn load_plan(
    path: &Path,
    made_on: Option<Day>,
    review_on: Option<Day>,
    lang: Lang,
) -> anyhow::Result<SupportPlan> {
    let mut table = read_table(path, lang)?;
    if let Some(key) = table.keys().find(|k| !PLAN_KEYS.contains(&k.as_str())) {
        bail!(
            "{}\n{} {key}",
            invalid(path, lang),
            lang.pick("知らない項目:", "unknown field:")
        );
    }
    let today = Day::of(Timestamp::now());
    match made_on {
        Some(d) => {
            table.insert("made_on".into(), d.to_string().into());
        }
        None => {
            table
                .entry("made_on")
                .or_insert_with(|| today.to_string().into());
        }
    }
    // 見直し: every three months unless staff say otherwise.
    let review_on = review_on.or_else(|| {
        let made_on: Option<Day> = table.get("made_on")?.as_str()?.parse().ok();
        let given = table.contains_key("review_on");
        (!given).then(|| made_on.map(|d| d.plus_months(3)))?
    });
    if let Some(d) = review_on {
        table.insert("review_on".into(), d.to_string().into());
    }
    table.try_into().with_context(|| invalid(path, lang))
}

/// Changes from a TOML file (the fields of `PlanChanges`).
pub fn load_changes(path: &Path, lang: Lang) -> anyhow::Result<PlanChanges> {
    read_table(path, lang)?
        .try_into()
        .with_context(|| invalid(path, lang))
}

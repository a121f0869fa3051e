//! `tsunagu agency meeting …`: case meetings — schedule, answer, move,
//! cancel, minutes, show, list — and how their envelopes read to staff.

use std::fmt::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::agency::{known_recipients, open_config};
use super::exchange::{self, AuthorArgs, BasisArgs};
use super::labels;
use super::output::{self, say};
use super::table::Table;
use crate::agency::Node;
use crate::agency::ledger::Seating;
use crate::agency::meetings::{
    self, HeldMinutes, MeetingView, Sharing, answer_draft, cancel_draft, invitation_draft,
    minutes_drafts, reschedule_draft,
};
use crate::i18n::Lang;
use crate::protocol::day::{parse_local, show_local};
use crate::protocol::meeting::{
    Answer, Attendance, Expectation, Invitation, MeetingKind, MeetingSchedule, Minutes,
    MinutesExcerpt, Role,
};
use crate::protocol::payload::Body;
use crate::protocol::{AgencyId, CaseId, InfoCategory, MeetingId, Timestamp};

#[derive(Subcommand)]
pub enum MeetingCommand {
    /// 会議を開催する（案内を送る） / schedule a meeting (send the invitations)
    Schedule(Box<ScheduleArgs>),
    /// 出欠を回答する / answer an invitation
    Answer(Box<AnswerArgs>),
    /// 日程・場所を変更する（招待した全機関へ） / move a meeting (tells every invitee)
    Reschedule(Box<RescheduleArgs>),
    /// 会議を中止する（招待した全機関へ） / cancel a meeting (tells every invitee)
    Cancel(Box<CancelArgs>),
    /// 会議録を送る（出席機関へ全文、ほかは抜粋） / share the minutes (full to attendees, excerpts to others)
    Minutes(Box<MinutesArgs>),
    /// 会議の詳細と出欠 / a meeting, its answers and minutes
    Show(ShowArgs),
    /// 会議の一覧 / the meetings this agency organises or is invited to
    List(ListArgs),
}

#[derive(Args)]
pub struct NodeConfig {
    /// 機関ノードの設定ファイル / agency node config
    #[arg(long, default_value = "agency.toml")]
    config: PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum KindArg {
    /// 個別ケース検討会議
    IndividualCase,
    /// 実務者会議（調整機関のみ）
    Practitioners,
    /// 関係者会議
    Stakeholders,
    /// 支援プラン検討のケース会議
    PlanReview,
}

impl From<KindArg> for MeetingKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::IndividualCase => MeetingKind::IndividualCase,
            KindArg::Practitioners => MeetingKind::Practitioners,
            KindArg::Stakeholders => MeetingKind::Stakeholders,
            KindArg::PlanReview => MeetingKind::PlanReview,
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum AttendanceArg {
    /// 出席
    Attend,
    /// 欠席
    Decline,
    /// 代理出席
    Proxy,
}

impl From<AttendanceArg> for Attendance {
    fn from(a: AttendanceArg) -> Self {
        match a {
            AttendanceArg::Attend => Attendance::Attend,
            AttendanceArg::Decline => Attendance::Decline,
            AttendanceArg::Proxy => Attendance::Proxy,
        }
    }
}

#[derive(Args)]
pub struct ScheduleArgs {
    #[command(flatten)]
    node: NodeConfig,
    /// 会議の種類 / kind of meeting
    #[arg(long, value_enum)]
    kind: KindArg,
    /// ケースID / case id
    #[arg(long, required_unless_present = "from_ledger")]
    case: Option<CaseId>,
    /// 実務者会議で扱うほかのケース（カンマ区切り） / further cases (practitioners' meeting)
    #[arg(long, value_delimiter = ',')]
    more_cases: Vec<CaseId>,
    /// 実務者会議: 進行管理台帳で見直し時期の来たケースを議題にし、役割のある構成機関を招待する（調整機関のみ） / practitioners' meeting: take the cases due for review from the progress ledger and invite the members with a role in them
    #[arg(long, conflicts_with_all = ["case", "more_cases", "invite", "agenda"])]
    from_ledger: bool,
    /// --from-ledger: この日までに見直し時期が来るケース（既定: 開催日） / --from-ledger: cases due by this day (default: the meeting's day)
    #[arg(long, requires = "from_ledger")]
    until: Option<crate::protocol::day::Day>,
    /// 開始日時（日本時間、例 "2026-12-03 14:00"） / start, JST
    #[arg(long)]
    at: String,
    /// 時間（分） / length in minutes
    #[arg(long, default_value_t = 60)]
    minutes: u32,
    /// 場所 / place
    #[arg(long, default_value = "")]
    place: String,
    /// オンライン会議のURL / online meeting link
    #[arg(long)]
    online: Option<String>,
    /// 議題 / agenda
    #[arg(long, required_unless_present = "from_ledger")]
    agenda: Option<String>,
    /// 招待する機関ID（カンマ区切り） / invitees, comma-separated
    #[arg(long, value_delimiter = ',', required_unless_present = "from_ledger")]
    invite: Vec<AgencyId>,
    /// 機関への依頼事項（例 sakura-clinic=健診の受診状況を報告、複数可） / what an invitee is asked for
    #[arg(long = "expect", value_name = "AGENCY=TEXT")]
    expect: Vec<String>,
    /// 案内に含まれる本人の情報区分（カンマ区切り） / categories the agenda discloses
    #[arg(long = "category", value_delimiter = ',', value_enum, required = true)]
    categories: Vec<InfoCategory>,
    #[command(flatten)]
    basis: BasisArgs,
    #[command(flatten)]
    author: AuthorArgs,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct AnswerArgs {
    #[command(flatten)]
    node: NodeConfig,
    /// 会議ID / meeting id
    meeting: MeetingId,
    /// 出欠 / answer
    #[arg(long, value_enum)]
    attendance: AttendanceArg,
    /// 出席する人の氏名（代理出席では代理の方） / who attends
    #[arg(long, default_value = "")]
    attendee_name: String,
    /// 出席する人の職種 / their role
    #[arg(long, default_value = "")]
    attendee_role: String,
    /// 開催機関への連絡 / a note to the organiser
    #[arg(long, default_value = "")]
    note: String,
    #[command(flatten)]
    author: AuthorArgs,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct RescheduleArgs {
    #[command(flatten)]
    node: NodeConfig,
    /// 会議ID / meeting id
    meeting: MeetingId,
    /// 新しい開始日時（日本時間） / new start, JST
    #[arg(long)]
    at: String,
    /// 時間（分、省略時は変更なし） / length in minutes (unchanged if omitted)
    #[arg(long)]
    minutes: Option<u32>,
    /// 新しい場所（省略時は変更なし） / new place (unchanged if omitted)
    #[arg(long)]
    place: Option<String>,
    /// 変更の理由 / why it moved
    #[arg(long, default_value = "")]
    note: String,
    #[command(flatten)]
    author: AuthorArgs,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct CancelArgs {
    #[command(flatten)]
    node: NodeConfig,
    /// 会議ID / meeting id
    meeting: MeetingId,
    /// 中止の理由 / why
    #[arg(long)]
    note: String,
    #[command(flatten)]
    author: AuthorArgs,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct MinutesArgs {
    #[command(flatten)]
    node: NodeConfig,
    /// 会議ID / meeting id
    meeting: MeetingId,
    /// 会議録ファイル（TOML、examples/minutes.toml 参照） / the minutes (TOML, see examples/minutes.toml)
    #[arg(long)]
    file: PathBuf,
    /// 全文を送る機関（省略時は出席と回答した全機関） / who gets the full minutes (default: every agency that answered it attends)
    #[arg(long, value_delimiter = ',')]
    full_to: Option<Vec<AgencyId>>,
    /// 抜粋（その機関の役割・主担当機関・次回見直し日）を送る機関 / who gets an excerpt (its role, the lead, the next review)
    #[arg(long, value_delimiter = ',')]
    excerpt_to: Vec<AgencyId>,
    /// 抜粋に含まれる情報区分 / categories an excerpt discloses
    #[arg(long, value_delimiter = ',', value_enum, default_value = "basic")]
    excerpt_category: Vec<InfoCategory>,
    #[command(flatten)]
    basis: BasisArgs,
    #[command(flatten)]
    author: AuthorArgs,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ShowArgs {
    #[command(flatten)]
    node: NodeConfig,
    /// 会議ID / meeting id
    meeting: MeetingId,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    node: NodeConfig,
    /// このケースの会議だけ / only this case's meetings
    #[arg(long)]
    case: Option<CaseId>,
    /// JSON で出力する / print JSON
    #[arg(long)]
    json: bool,
}

pub async fn run(cmd: MeetingCommand, lang: Lang) -> anyhow::Result<()> {
    match cmd {
        MeetingCommand::Schedule(a) => schedule(*a, lang).await,
        MeetingCommand::Answer(a) => answer(*a, lang).await,
        MeetingCommand::Reschedule(a) => reschedule(*a, lang).await,
        MeetingCommand::Cancel(a) => cancel(*a, lang).await,
        MeetingCommand::Minutes(a) => minutes_cmd(*a, lang).await,
        MeetingCommand::Show(a) => show(a, lang).await,
        MeetingCommand::List(a) => list(a, lang).await,
    }
}

fn when(text: &str, lang: Lang) -> anyhow::Result<Timestamp> {
    parse_local(text).with_context(|| {
        lang.pick(
            "日時は「2026-12-03 14:00」（日本時間）の形で書いてください",
            "write the time as \"2026-12-03 14:00\" (JST)",
        )
    })
}

fn expectations(items: &[String], lang: Lang) -> anyhow::Result<Vec<Expectation>> {
    items
        .iter()
        .map(|item| {
            let Some((agency, text)) = item.split_once('=') else {
                bail!(
                    "{} {item}",
                    lang.pick(
                        "--expect は 機関ID=依頼事項 の形で書いてください:",
                        "write --expect as AGENCY=TEXT:"
                    )
                );
            };
            Ok(Expectation {
                agency: agency.trim().parse()?,
                text: text.trim().to_owned(),
            })
        })
        .collect()
}

/// The 実務者会議 the ledger seats: the cases due for review by `until` and
/// the council members with a role in them.
async fn from_ledger(
    node: &Node,
    until: crate::protocol::day::Day,
    lang: Lang,
) -> anyhow::Result<Seating> {
    let agenda =
        crate::agency::ledger::due_cases(node.records(), node.id(), Timestamp::now(), until).await;
    let agenda = match agenda {
        Ok(a) => a,
        Err(e) => {
            node.records().close().await;
            return Err(e.into());
        }
    };
    let Some(seating) = agenda.seating(node.id(), node.directory(), lang) else {
        node.records().close().await;
        bail!(
            "{} {until}",
            lang.pick(
                "進行管理台帳に見直し時期の来たケースがありません（agency ledger agenda で確認できます）:",
                "no case on the progress ledger is due for review by (see agency ledger agenda):"
            )
        );
    };
    Ok(seating)
}

async fn schedule(args: ScheduleArgs, lang: Lang) -> anyhow::Result<()> {
    let starts_at = when(&args.at, lang)?;
    let expectations = expectations(&args.expect, lang)?;
    let (basis, justification) = args.basis.resolve(lang)?;
    let kind: MeetingKind = args.kind.into();
    if args.from_ledger && kind != MeetingKind::Practitioners {
        bail!(
            "{}",
            lang.pick(
                "--from-ledger は実務者会議（--kind practitioners）で使います",
                "--from-ledger is for a practitioners' meeting (--kind practitioners)"
            )
        );
    }
    let node = open_config(&args.node.config, lang).await?;
    let coordinator = node
        .directory()
        .get(node.id())
        .is_some_and(|a| a.kind == crate::protocol::AgencyKind::Yotaikyo);
    if args.from_ledger && !coordinator {
        node.records().close().await;
        bail!(
            "{}",
            lang.pick(
                "進行管理台帳は要対協の調整機関のノードにだけあります。実務者会議の開催は調整機関に依頼してください",
                "the progress ledger lives on the council's coordinating body's node only: ask it to schedule the practitioners' meeting"
            )
        );
    }
    let table = if args.from_ledger {
        let until = args
            .until
            .unwrap_or_else(|| crate::protocol::day::Day::of(starts_at));
        from_ledger(&node, until, lang).await?
    } else {
        let Some(case) = args.case else {
            node.records().close().await;
            bail!(
                "{}",
                lang.pick(
                    "--case でケースIDを指定してください",
                    "name the case with --case"
                )
            );
        };
        Seating {
            case,
            more_cases: args.more_cases,
            invite: args.invite,
            agenda: args.agenda.unwrap_or_default(),
        }
    };
    known_recipients(&node, &table.invite, lang).await?;
    let meeting = MeetingSchedule {
        meeting_id: MeetingId::new(),
        kind,
        more_cases: table.more_cases,
        starts_at,
        duration_minutes: args.minutes,
    };
    let id = meeting.meeting_id;
    let sharing = Sharing {
        basis,
        justification,
        author: args.author.author(),
    };
    let invitation = Invitation {
        place: args.place,
        online: args.online,
        agenda: table.agenda,
        expectations,
        note: String::new(),
        categories: args.categories,
    };
    let draft = invitation_draft(&table.case, meeting, table.invite, invitation, &sharing);
    send_one(&node, &draft, Some(id), Out(lang, args.json)).await
}

/// How a meeting command prints.
#[derive(Clone, Copy)]
struct Out(Lang, bool);

/// What a meeting command tells a script.
#[derive(Serialize)]
struct MeetingSent {
    meeting_id: Option<MeetingId>,
    sent: Vec<Sent>,
}

/// One envelope a meeting command sent.
#[derive(Serialize)]
struct Sent {
    envelope_id: crate::protocol::EnvelopeId,
    /// `stored` (committed by the hub) or `queued` (the running node sends it).
    status: &'static str,
    to: Vec<AgencyId>,
    detail: Option<String>,
}

/// Send drafts in order and say what the hub did with each; the first
/// refusal stops (and names the agency and the next step).
async fn send_all(
    node: &Node,
    drafts: &[crate::agency::Draft],
    meeting: Option<MeetingId>,
    Out(lang, json): Out,
) -> anyhow::Result<()> {
    let mut sent = Vec::new();
    for draft in drafts {
        match node.send(draft).await {
            Ok(crate::agency::Sent::Accepted { id, .. }) => sent.push(Sent {
                envelope_id: id,
                status: "stored",
                to: draft.recipients.clone(),
                detail: None,
            }),
            Ok(crate::agency::Sent::Queued { id, reason }) => sent.push(Sent {
                envelope_id: id,
                status: "queued",
                to: draft.recipients.clone(),
                detail: Some(reason),
            }),
            Err(e) => {
                node.records().close().await;
                return Err(exchange::hub_error(node, e, lang));
            }
        }
    }
    node.records().close().await;
    if json {
        return output::json(&MeetingSent {
            meeting_id: meeting,
            sent,
        });
    }
    for s in &sent {
        let to: Vec<String> =
            s.to.iter()
                .map(|a| labels::agency(node, a.as_str()).name)
                .collect();
        match s.status {
            "stored" => say!(
                "{} {} → {}",
                lang.pick(
                    "送信しました（ハブが保存済み）:",
                    "sent (stored by the hub):"
                ),
                s.envelope_id,
                to.join("、")
            ),
            _ => say!(
                "{} {} → {}",
                lang.pick(
                    "送信待ちにしました（稼働中のノードが送ります）:",
                    "queued (the running node sends it):"
                ),
                s.envelope_id,
                to.join("、")
            ),
        }
    }
    if let Some(id) = meeting {
        say!("{} {id}", lang.pick("会議ID:", "meeting id:"));
    }
    Ok(())
}

async fn send_one(
    node: &Node,
    draft: &crate::agency::Draft,
    meeting: Option<MeetingId>,
    out: Out,
) -> anyhow::Result<()> {
    send_all(node, std::slice::from_ref(draft), meeting, out).await
}

/// The meeting as this node knows it, or a clear error (records closed).
async fn known(node: &Node, id: MeetingId, lang: Lang) -> anyhow::Result<MeetingView> {
    let found = meetings::meeting(node.records(), node.id(), id).await;
    match found {
        Ok(Some(m)) => Ok(m),
        Ok(None) => {
            node.records().close().await;
            bail!(
                "{} {id}",
                lang.pick(
                    "この機関はその会議の案内を持っていません（meeting list で会議IDを確認してください）:",
                    "this agency holds no invitation to that meeting (see meeting list for ids):"
                )
            )
        }
        Err(e) => {
            node.records().close().await;
            Err(e.into())
        }
    }
}

async fn answer(args: AnswerArgs, lang: Lang) -> anyhow::Result<()> {
    let attendance: Attendance = args.attendance.into();
    if attendance.attends() && args.attendee_name.trim().is_empty() {
        bail!(
            "{}",
            lang.pick(
                "出席・代理出席では --attendee-name に出席する人の氏名を書いてください",
                "name who attends with --attendee-name"
            )
        );
    }
    let node = open_config(&args.node.config, lang).await?;
    let meeting = known(&node, args.meeting, lang).await?;
    let answer = Answer {
        attendee_name: args.attendee_name,
        attendee_role: args.attendee_role,
        note: args.note,
    };
    let draft = answer_draft(&meeting, attendance, answer, &args.author.author());
    send_one(
        &node,
        &draft,
        Some(meeting.meeting_id),
        Out(lang, args.json),
    )
    .await
}

async fn reschedule(args: RescheduleArgs, lang: Lang) -> anyhow::Result<()> {
    let starts_at = when(&args.at, lang)?;
    let node = open_config(&args.node.config, lang).await?;
    let meeting = known(&node, args.meeting, lang).await?;
    let invitation = Invitation {
        place: args
            .place
            .unwrap_or_else(|| meeting.invitation.place.clone()),
        note: args.note,
        ..meeting.invitation.clone()
    };
    let minutes = args.minutes.unwrap_or(meeting.duration_minutes);
    let draft = reschedule_draft(
        &meeting,
        starts_at,
        minutes,
        invitation,
        &args.author.author(),
    );
    send_one(
        &node,
        &draft,
        Some(meeting.meeting_id),
        Out(lang, args.json),
    )
    .await
}

async fn cancel(args: CancelArgs, lang: Lang) -> anyhow::Result<()> {
    let node = open_config(&args.node.config, lang).await?;
    let meeting = known(&node, args.meeting, lang).await?;
    let draft = cancel_draft(&meeting, args.note, &args.author.author());
    send_one(
        &node,
        &draft,
        Some(meeting.meeting_id),
        Out(lang, args.json),
    )
    .await
}

async fn minutes_cmd(args: MinutesArgs, lang: Lang) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file).with_context(|| {
        format!(
            "{} {}",
            lang.pick(
                "会議録ファイルを読めません:",
                "cannot read the minutes file:"
            ),
            args.file.display()
        )
    })?;
    let minutes: Minutes = toml::from_str(&text).with_context(|| {
        lang.pick(
            "会議録ファイルの形式が正しくありません（examples/minutes.toml を参照）",
            "the minutes file is not valid (see examples/minutes.toml)",
        )
    })?;
    if minutes.categories.is_empty() {
        bail!(
            "{}",
            lang.pick(
                "会議録に含まれる情報区分を categories に書いてください",
                "list the categories the minutes disclose in `categories`"
            )
        );
    }
    let (basis, justification) = args.basis.resolve(lang)?;
    let node = open_config(&args.node.config, lang).await?;
    let meeting = known(&node, args.meeting, lang).await?;
    let full_to = args.full_to.unwrap_or_else(|| meeting.attending());
    known_recipients(&node, &full_to, lang).await?;
    known_recipients(&node, &args.excerpt_to, lang).await?;
    let sharing = Sharing {
        basis,
        justification,
        author: args.author.author(),
    };
    let drafts = minutes_drafts(
        &meeting,
        &minutes,
        full_to,
        &args.excerpt_to,
        &args.excerpt_category,
        &sharing,
    );
    if drafts.is_empty() {
        node.records().close().await;
        bail!(
            "{}",
            lang.pick(
                "送り先がありません。出席の回答がまだなら --full-to か --excerpt-to で機関を指定してください",
                "nobody to send to: no one has answered that they attend; name agencies with --full-to or --excerpt-to"
            )
        );
    }
    send_all(
        &node,
        &drafts,
        Some(meeting.meeting_id),
        Out(lang, args.json),
    )
    .await
}

/// A meeting for `--json`: wire names with labels, agencies with names.
#[derive(Serialize)]
struct MeetingJson {
    meeting_id: MeetingId,
    kind: labels::Labeled,
    case_id: CaseId,
    more_cases: Vec<CaseId>,
    organiser: labels::AgencyRef,
    starts_at: Timestamp,
    starts_at_jst: String,
    duration_minutes: u32,
    status: labels::Labeled,
    invitation: Invitation,
    invitees: Vec<InviteeJson>,
    moved: Option<String>,
    cancelled: Option<String>,
    minutes: Option<HeldMinutes>,
}

#[derive(Serialize)]
struct InviteeJson {
    agency: labels::AgencyRef,
    attendance: Option<labels::Labeled>,
    answer: Option<Answer>,
}

fn status(m: &MeetingView, lang: Lang) -> labels::Labeled {
    match (&m.cancelled, &m.minutes) {
        (Some(_), _) => labels::Labeled::new("cancelled", lang.pick("中止", "cancelled")),
        (None, Some(_)) => labels::Labeled::new("minuted", lang.pick("会議録あり", "minuted")),
        (None, None) => labels::Labeled::new("scheduled", lang.pick("開催予定", "scheduled")),
    }
}

fn attendance(a: Option<Attendance>, lang: Lang) -> Option<labels::Labeled> {
    a.map(|a| labels::Labeled::new(a.as_str(), a.label(lang)))
}

fn meeting_json(node: &Node, m: &MeetingView, lang: Lang) -> MeetingJson {
    MeetingJson {
        meeting_id: m.meeting_id,
        kind: labels::Labeled::new(m.kind.as_str(), m.kind.label(lang)),
        case_id: m.case_id.clone(),
        more_cases: m.more_cases.clone(),
        organiser: labels::agency(node, m.organiser.as_str()),
        starts_at: m.starts_at,
        starts_at_jst: show_local(m.starts_at),
        duration_minutes: m.duration_minutes,
        status: status(m, lang),
        invitation: m.invitation.clone(),
        invitees: m
            .invitees
            .iter()
            .map(|i| InviteeJson {
                agency: labels::agency(node, i.agency.as_str()),
                attendance: attendance(i.attendance, lang),
                answer: i.answer.clone(),
            })
            .collect(),
        moved: m.moved.clone(),
        cancelled: m.cancelled.clone(),
        minutes: m.minutes.clone(),
    }
}

async fn show(args: ShowArgs, lang: Lang) -> anyhow::Result<()> {
    let node = open_config(&args.node.config, lang).await?;
    let m = known(&node, args.meeting, lang).await?;
    node.records().close().await;
    if args.json {
        return output::json(&meeting_json(&node, &m, lang));
    }
    say!(
        "{}（{}）  {}",
        m.kind.label(lang),
        status(&m, lang).label,
        m.meeting_id
    );
    say!(
        "{} {}  {} {}{}",
        lang.pick("日時:", "when:"),
        show_local(m.starts_at),
        m.duration_minutes,
        lang.pick("分", "min"),
        lang.pick("（日本時間）", " (JST)")
    );
    say!("{} {}", lang.pick("ケース:", "case:"), m.case_id);
    for c in &m.more_cases {
        say!("      {c}");
    }
    say!(
        "{} {}",
        lang.pick("開催機関:", "organiser:"),
        labels::agency(&node, m.organiser.as_str()).name
    );
    if let Some(why) = &m.cancelled {
        say!("{} {why}", lang.pick("中止の理由:", "cancelled because:"));
    }
    if let Some(why) = m.moved.as_ref().filter(|w| !w.is_empty()) {
        say!("{} {why}", lang.pick("変更の理由:", "moved because:"));
    }
    let named = |text: String| labels::named(node.directory(), &text);
    say!("{}", named(invitation(&m.invitation, lang)));
    let mut table = Table::new(&[
        lang.pick("招待機関", "invitee"),
        lang.pick("出欠", "answer"),
        lang.pick("出席者", "attendee"),
    ]);
    for i in &m.invitees {
        table.row(vec![
            labels::agency(&node, i.agency.as_str()).name,
            i.attendance
                .map_or(lang.pick("未回答", "no answer"), |a| a.label(lang))
                .to_owned(),
            i.answer
                .as_ref()
                .filter(|a| !a.attendee_name.is_empty())
                .map_or_else(String::new, |a| {
                    format!("{}（{}）", a.attendee_name, a.attendee_role)
                }),
        ]);
    }
    table.print();
    match &m.minutes {
        Some(HeldMinutes::Full(minutes_held)) => {
            say!("\n{}", lang.pick("【会議録】", "[minutes]"));
            say!("{}", named(minutes(minutes_held, lang)));
        }
        Some(HeldMinutes::Excerpt(e)) => {
            say!("\n{}", lang.pick("【会議録（抜粋）】", "[minutes excerpt]"));
            say!("{}", named(excerpt(e, lang)));
        }
        None => {}
    }
    Ok(())
}

async fn list(args: ListArgs, lang: Lang) -> anyhow::Result<()> {
    let node = open_config(&args.node.config, lang).await?;
    let all = meetings::meetings(node.records(), node.id()).await;
    node.records().close().await;
    let all: Vec<MeetingView> = all?
        .into_iter()
        .filter(|m| {
            args.case
                .as_ref()
                .is_none_or(|c| &m.case_id == c || m.more_cases.contains(c))
        })
        .collect();
    if args.json {
        let listed: Vec<MeetingJson> = all.iter().map(|m| meeting_json(&node, m, lang)).collect();
        return output::json(&listed);
    }
    if all.is_empty() {
        say!("{}", lang.pick("会議はありません。", "no meetings."));
        return Ok(());
    }
    let mut table = Table::new(&[
        lang.pick("日時（日本時間）", "when (JST)"),
        lang.pick("種類", "kind"),
        lang.pick("ケース", "case"),
        lang.pick("開催機関", "organiser"),
        lang.pick("状態", "status"),
        lang.pick("出席の回答", "attending"),
        lang.pick("会議ID", "meeting id"),
    ]);
    for m in &all {
        let answered = m.invitees.iter().filter(|i| i.attendance.is_some()).count();
        table.row(vec![
            show_local(m.starts_at),
            m.kind.label(lang).to_owned(),
            m.case_id.to_string(),
            labels::agency(&node, m.organiser.as_str()).name,
            status(m, lang).label,
            format!(
                "{}/{}（{answered}{}）",
                m.attending().len(),
                m.invitees.len(),
                lang.pick("件回答", " answered")
            ),
            m.meeting_id.to_string(),
        ]);
    }
    table.print();
    Ok(())
}

/// A meeting envelope's body as staff read it.
pub fn render(body: &Body, lang: Lang) -> String {
    match body {
        Body::MeetingInvitation(i) | Body::MeetingChange(i) => invitation(i, lang),
        Body::MeetingAnswer(a) => {
            let mut out = format!(
                "{} {}（{}）",
                lang.pick("出席者:", "attendee:"),
                a.attendee_name,
                a.attendee_role
            );
            if !a.note.is_empty() {
                let _ = write!(out, "\n{}", a.note);
            }
            out
        }
        Body::Minutes(m) => minutes(m, lang),
        Body::MinutesExcerpt(e) => excerpt(e, lang),
        _ => String::new(),
    }
}

fn invitation(i: &Invitation, lang: Lang) -> String {
    let mut out = String::new();
    if !i.note.is_empty() {
        let _ = writeln!(out, "{} {}", lang.pick("連絡:", "note:"), i.note);
    }
    let _ = writeln!(out, "{} {}", lang.pick("場所:", "place:"), i.place);
    if let Some(link) = &i.online {
        let _ = writeln!(out, "{} {link}", lang.pick("オンライン:", "online:"));
    }
    let _ = write!(out, "{} {}", lang.pick("議題:", "agenda:"), i.agenda);
    for e in &i.expectations {
        let _ = write!(
            out,
            "\n{} {}: {}",
            lang.pick("依頼事項", "asked of"),
            e.agency,
            e.text
        );
    }
    out
}

fn roles(out: &mut String, roles: &[Role], lang: Lang) {
    if roles.is_empty() {
        return;
    }
    let _ = write!(out, "\n{}", lang.pick("役割分担:", "roles:"));
    for r in roles {
        let _ = write!(out, "\n  - {}: {}", r.agency, r.task);
    }
}

fn minutes(m: &Minutes, lang: Lang) -> String {
    let mut out = String::new();
    if let Some(t) = m.held_at {
        let _ = writeln!(
            out,
            "{} {}",
            lang.pick("開催日時:", "held at:"),
            show_local(t)
        );
    }
    let _ = writeln!(out, "{} {}", lang.pick("場所:", "place:"), m.place);
    let _ = write!(out, "{}", lang.pick("出席者:", "attendees:"));
    for a in &m.attendees {
        let _ = write!(out, "\n  - {} {}（{}）", a.agency, a.name, a.role);
    }
    let field = |out: &mut String, ja: &str, en: &str, v: &str| {
        if !v.is_empty() {
            let _ = write!(out, "\n{} {v}", lang.pick(ja, en));
        }
    };
    field(&mut out, "ケースの概要:", "case summary:", &m.case_summary);
    field(
        &mut out,
        "共有された情報:",
        "information shared:",
        &m.information_shared,
    );
    if m.risk.is_some() || m.urgency.is_some() || !m.assessment.is_empty() {
        let level = |l: Option<crate::protocol::meeting::Level>| {
            l.map_or("—", |l| l.label(lang)).to_owned()
        };
        let _ = write!(
            out,
            "\n{} {} / {} {} {}",
            lang.pick("アセスメント: 危険度", "assessment: risk"),
            level(m.risk),
            lang.pick("緊急度", "urgency"),
            level(m.urgency),
            m.assessment
        );
    }
    if !m.decisions.is_empty() {
        let _ = write!(out, "\n{}", lang.pick("決定事項:", "decisions:"));
        for d in &m.decisions {
            let _ = write!(out, "\n  - {d}");
        }
    }
    if let Some(lead) = &m.lead {
        let _ = write!(
            out,
            "\n{} {lead} {}",
            lang.pick("主担当機関:", "lead agency:"),
            m.lead_contact
        );
    }
    field(&mut out, "キーパーソン:", "key person:", &m.key_person);
    roles(&mut out, &m.roles, lang);
    field(
        &mut out,
        "次期までの支援:",
        "support until next review:",
        &m.next_support,
    );
    if let Some(d) = m.next_review {
        let _ = write!(
            out,
            "\n{} {d}",
            lang.pick("次回・見直し日:", "next review:")
        );
    }
    out
}

fn excerpt(e: &MinutesExcerpt, lang: Lang) -> String {
    let mut out = String::new();
    if let Some(t) = e.held_at {
        let _ = write!(
            out,
            "{} {}",
            lang.pick("開催日時:", "held at:"),
            show_local(t)
        );
    }
    roles(&mut out, &e.roles, lang);
    if let Some(lead) = &e.lead {
        let _ = write!(
            out,
            "\n{} {lead} {}",
            lang.pick("主担当機関:", "lead agency:"),
            e.lead_contact
        );
    }
    if let Some(d) = e.next_review {
        let _ = write!(
            out,
            "\n{} {d}",
            lang.pick("次回・見直し日:", "next review:")
        );
    }
    out
}

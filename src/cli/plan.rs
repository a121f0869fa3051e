//! `tsunagu agency plan new | revise | show | diff | actions | list`:
//! support plans (支援プラン) — a version written from a TOML file or revised
//! from the latest in one step, shared whole to some agencies and as their
//! part to others — and how plan envelopes read to staff.

mod args;
mod view;

use anyhow::{Context, bail};
use serde::Serialize;

pub use args::PlanCommand;
use args::{DiffArgs, NewArgs, ReviseArgs, ShareArgs, ShowArgs};
pub use view::render;

use super::agency::open_config;
use super::exchange::{self, hub_error};
use super::labels;
use super::output::{self, say};
use super::table::Table;
use crate::agency::Node;
use crate::agency::plans::{
    self, Held, HeldVersion, OurAction, PlanChanges, PlanSend, PlanSent, diff,
};
use crate::agency::{NodeError, Sent};
use crate::i18n::Lang;
use crate::protocol::day::Day;
use crate::protocol::plan::{PlanPart, SupportPlan};
use crate::protocol::{AgencyId, CaseId, EnvelopeId, PlanId, Timestamp};

pub async fn run(cmd: PlanCommand, lang: Lang) -> anyhow::Result<()> {
    let node_args = match &cmd {
        PlanCommand::New(a) => &a.node,
        PlanCommand::Revise(a) => &a.node,
        PlanCommand::Show(a) => &a.node,
        PlanCommand::Diff(a) => &a.node,
        PlanCommand::Actions(n) | PlanCommand::List(n) => n,
    };
    let out = exchange::Out {
        lang,
        json: node_args.json,
    };
    let node = open_config(&node_args.config, lang).await?;
    let result = match cmd {
        PlanCommand::New(a) => new(&node, *a, out).await,
        PlanCommand::Revise(a) => revise(&node, *a, out).await,
        PlanCommand::Show(a) => show(&node, a, out).await,
        PlanCommand::Diff(a) => show_diff(&node, a, out).await,
        PlanCommand::Actions(_) => actions(&node, out).await,
        PlanCommand::List(_) => list(&node, out).await,
    };
    node.records().close().await;
    result
}

fn today() -> Day {
    Day::of(Timestamp::now())
}

async fn new(node: &Node, args: NewArgs, out: exchange::Out) -> anyhow::Result<()> {
    let plan = args::load_plan(&args.file, args.made_on, args.review_on, out.lang)?;
    let send = share(
        node,
        args.case,
        PlanId::new(),
        1,
        None,
        plan,
        &args.share,
        out.lang,
    )?;
    print_sent(node, &send, plans::send_plan(node, &send).await, out)
}

async fn revise(node: &Node, args: ReviseArgs, out: exchange::Out) -> anyhow::Result<()> {
    let lang = out.lang;
    let latest = plans::latest(node.records(), args.plan)
        .await?
        .ok_or_else(|| not_held(args.plan, lang))?;
    let Held::Whole(base) = &latest.content else {
        bail!(
            "{}",
            lang.pick(
                "この機関が持つのは担当部分だけなので改訂できません。主担当機関に改訂を依頼してください。",
                "this agency holds only its part, so it cannot revise the plan: ask the lead agency"
            )
        );
    };
    let mut changes = match &args.file {
        Some(path) => args::load_changes(path, lang)?,
        None => PlanChanges::default(),
    };
    if let Some(meeting) = args.from_meeting {
        let minutes = plans::minutes_of(node.records(), meeting)
            .await?
            .with_context(|| {
                format!(
                    "{} {meeting}",
                    lang.pick(
                        "この機関の記録にその会議の会議録がありません:",
                        "no minutes of that meeting in this agency's records:"
                    )
                )
            })?;
        changes = PlanChanges::from_minutes(&minutes, meeting, base).and(changes);
    }
    let changes = changes.and(args.changes(node.directory(), lang)?);
    let plan = changes.apply(base, today());
    let next = latest.version + 1;
    let send = share(
        node,
        latest.case_id.clone(),
        latest.plan_id,
        next,
        Some(latest.version),
        plan,
        &args.share,
        lang,
    )?;
    print_sent(node, &send, plans::send_plan(node, &send).await, out)
}

fn not_held(plan: PlanId, lang: Lang) -> anyhow::Error {
    anyhow::anyhow!(
        "{} {plan}\n{}",
        lang.pick(
            "この機関の記録にない支援プランです:",
            "not a plan in this agency's records:"
        ),
        lang.pick(
            "次の手順: agency plan list で、この機関が持つ支援プランのIDを確認してください。",
            "next: list the plans this agency holds with agency plan list."
        )
    )
}

/// The version ready to send, after the checks staff can act on before
/// anything leaves the node (the hub checks them again).
#[allow(clippy::too_many_arguments)]
fn share(
    node: &Node,
    case: CaseId,
    plan_id: PlanId,
    version: u32,
    based_on: Option<u32>,
    plan: SupportPlan,
    share: &ShareArgs,
    lang: Lang,
) -> anyhow::Result<PlanSend> {
    let directory = node.directory();
    if let Some(a) = plan
        .roles()
        .iter()
        .chain([&plan.lead])
        .find(|a| directory.get(a).is_none())
    {
        bail!(
            "{} {a}",
            lang.pick(
                "支援内容の担当機関・主担当機関がディレクトリにありません（機関IDを確認してください）:",
                "an agency given an action or the lead is not in the directory (check its id):"
            )
        );
    }
    if plan.review_on <= plan.made_on {
        bail!(
            "{} {} / {} {}",
            lang.pick(
                "見直し日は作成日より後にしてください。作成日:",
                "the review date must come after the plan's date; made on"
            ),
            plan.made_on,
            lang.pick("見直し日:", "review on"),
            plan.review_on
        );
    }
    let (basis, _, justification) = share.basis.resolve(lang)?;
    Ok(PlanSend {
        case,
        plan_id,
        version,
        based_on,
        plan,
        whole: args::agencies(directory, &share.whole, lang)?,
        parts: args::agencies(directory, &share.part, lang)?,
        part_categories: share.part_categories.clone(),
        basis,
        justification,
        author: share.author.author(),
    })
}

/// What the hub said to one envelope, for scripts.
#[derive(Serialize)]
struct EnvelopeResult {
    envelope_id: Option<EnvelopeId>,
    /// `stored`, `queued` or `refused`.
    status: &'static str,
    recipients: Vec<labels::AgencyRef>,
    detail: Option<String>,
}

/// A version sent, for scripts.
#[derive(Serialize)]
struct SentJson {
    plan_id: PlanId,
    version: u32,
    based_on: Option<u32>,
    case_id: CaseId,
    whole: EnvelopeResult,
    parts: Vec<EnvelopeResult>,
}

fn result_of(
    node: &Node,
    to: &[AgencyId],
    r: Result<Sent, NodeError>,
    lang: Lang,
) -> EnvelopeResult {
    let (envelope_id, status, detail) = match r {
        Ok(Sent::Accepted { id, .. }) => (Some(id), "stored", None),
        Ok(Sent::Queued { id, reason }) => (Some(id), "queued", Some(reason)),
        Err(e) => (None, "refused", Some(hub_error(node, e, lang).to_string())),
    };
    EnvelopeResult {
        envelope_id,
        status,
        recipients: to
            .iter()
            .map(|a| labels::agency(node, a.as_str()))
            .collect(),
        detail,
    }
}

/// The version's outcome: a refused version is an error with the hub's
/// reason and next step; a refused part is reported after what was sent.
fn print_sent(
    node: &Node,
    send: &PlanSend,
    sent: PlanSent,
    out: exchange::Out,
) -> anyhow::Result<()> {
    let lang = out.lang;
    let whole = match sent.whole {
        Err(e) => return Err(hub_error(node, e, lang)),
        ok => result_of(node, &send.whole, ok, lang),
    };
    let parts: Vec<EnvelopeResult> = sent
        .parts
        .into_iter()
        .map(|(to, r)| result_of(node, &[to], r, lang))
        .collect();
    let refused = parts.iter().filter(|p| p.status == "refused").count();
    if out.json {
        output::json(&SentJson {
            plan_id: send.plan_id,
            version: send.version,
            based_on: send.based_on,
            case_id: send.case.clone(),
            whole,
            parts,
        })?;
    } else {
        print_sent_text(send, &whole, &parts, lang);
    }
    if refused > 0 {
        bail!(
            "{}",
            lang.pick(
                "版は記録されましたが、送れなかった担当部分があります（上の理由を確認してください）。",
                "the version is recorded, but some parts were not shared (see the reasons above)"
            )
        );
    }
    Ok(())
}

fn print_sent_text(send: &PlanSend, whole: &EnvelopeResult, parts: &[EnvelopeResult], lang: Lang) {
    let recorded = if whole.status == "queued" {
        lang.pick(
            "は、まだハブに届いていないため送信待ちにしました。稼働中のノード（agency run）が順に送ります",
            " is not yet taken by the hub: queued, and the running node (agency run) sends it in order",
        )
    } else {
        lang.pick(
            "を記録しました（ハブが保存済み）",
            " recorded (stored by the hub)",
        )
    };
    say!(
        "{} {}{recorded}",
        lang.pick("支援プラン 版", "support plan version"),
        send.version
    );
    say!("{} {}", lang.pick("プランID:", "plan id:"), send.plan_id);
    say!("{} {}", lang.pick("ケースID:", "case id:"), send.case);
    let names = |r: &EnvelopeResult| {
        r.recipients
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join("、")
    };
    let whole_to = if whole.recipients.is_empty() {
        lang.pick(
            "（なし・この機関の記録のみ）",
            "(none: kept in this agency's records)",
        )
        .to_owned()
    } else {
        names(whole)
    };
    say!(
        "{} {whole_to}  {}",
        lang.pick("全体を送付:", "whole plan to:"),
        whole
            .envelope_id
            .map_or_else(String::new, |i| i.to_string())
    );
    for p in parts {
        match (&p.envelope_id, &p.detail) {
            (Some(id), _) => say!(
                "{} {}  {id}",
                lang.pick("担当部分を送付:", "part shared with:"),
                names(p)
            ),
            (None, detail) => say!(
                "{} {}: {}",
                lang.pick("⚠ 担当部分を送れません", "⚠ part not shared with"),
                names(p),
                detail.as_deref().unwrap_or_default()
            ),
        }
    }
}

/// One version, for scripts.
#[derive(Serialize)]
struct VersionJson {
    plan_id: PlanId,
    case_id: CaseId,
    version: u32,
    based_on: Option<u32>,
    /// All versions of this plan this node holds.
    versions_held: Vec<u32>,
    /// The sender; absent when this agency wrote it.
    from: Option<labels::AgencyRef>,
    author: crate::protocol::payload::Author,
    envelope_id: EnvelopeId,
    created_at: Timestamp,
    /// `whole` or `part`.
    held: &'static str,
    plan: Option<SupportPlan>,
    part: Option<PlanPart>,
    consent_ended: Option<String>,
}

async fn show(node: &Node, args: ShowArgs, out: exchange::Out) -> anyhow::Result<()> {
    let lang = out.lang;
    let all = plans::versions(node.records(), args.plan).await?;
    let held: Vec<u32> = all.iter().map(|v| v.version).collect();
    let chosen = match args.version {
        Some(n) => all.iter().find(|v| v.version == n),
        None => all.last(),
    };
    let Some(v) = chosen else {
        if all.is_empty() {
            return Err(not_held(args.plan, lang));
        }
        bail!(
            "{} {} ({} {held:?})",
            lang.pick(
                "この機関はその版を持っていません:",
                "this agency does not hold version"
            ),
            args.version.unwrap_or_default(),
            lang.pick("保持している版", "versions held")
        );
    };
    if out.json {
        let (held_as, plan, part) = match &v.content {
            Held::Whole(p) => ("whole", Some((**p).clone()), None),
            Held::Part(p) => ("part", None, Some(p.clone())),
        };
        return output::json(&VersionJson {
            plan_id: v.plan_id,
            case_id: v.case_id.clone(),
            version: v.version,
            based_on: v.based_on,
            versions_held: held,
            from: v.from.as_ref().map(|a| labels::agency(node, a.as_str())),
            author: v.author.clone(),
            envelope_id: v.envelope_id,
            created_at: v.created_at,
            held: held_as,
            plan,
            part,
            consent_ended: v.consent_end_reason.clone(),
        });
    }
    print_version(node, v, &held, lang);
    Ok(())
}

fn print_version(node: &Node, v: &HeldVersion, held: &[u32], lang: Lang) {
    if v.consent_end_reason.is_some() {
        say!(
            "⚠ {}",
            lang.pick(
                "この記録の根拠となった同意は終了しています。以後この情報を共有しないでください",
                "the consent this record was shared under has ended; share nothing more from it"
            )
        );
    }
    let based = v.based_on.map_or_else(String::new, |b| {
        format!("（{} {b}）", lang.pick("元の版", "based on"))
    });
    say!(
        "{} {}  {} {}{based}",
        lang.pick("支援プラン:", "support plan:"),
        v.plan_id,
        lang.pick("版", "version"),
        v.version
    );
    say!("{} {}", lang.pick("ケースID:", "case id:"), v.case_id);
    if let Some(from) = &v.from {
        say!(
            "{} {}",
            lang.pick("差出人:", "from:"),
            labels::agency(node, from.as_str()).name
        );
    }
    say!(
        "{} {}（{}・{}）",
        lang.pick("記入者:", "author:"),
        v.author.name,
        v.author.role,
        v.author.contact
    );
    let held: Vec<String> = held.iter().map(u32::to_string).collect();
    say!(
        "{} {}",
        lang.pick("この機関が持つ版:", "versions held:"),
        held.join(", ")
    );
    let body = match &v.content {
        Held::Whole(p) => crate::protocol::payload::Body::SupportPlan(p.clone()),
        Held::Part(p) => crate::protocol::payload::Body::PlanPart(p.clone()),
    };
    say!("{}", render(&body, lang, node.directory()));
}

async fn show_diff(node: &Node, args: DiffArgs, out: exchange::Out) -> anyhow::Result<()> {
    let lang = out.lang;
    let all = plans::versions(node.records(), args.plan).await?;
    if all.is_empty() {
        return Err(not_held(args.plan, lang));
    }
    let whole = |n: u32| match all.iter().find(|v| v.version == n).map(|v| &v.content) {
        Some(Held::Whole(p)) => Ok(p),
        Some(Held::Part(_)) => Err(anyhow::anyhow!(
            "{} {n}",
            lang.pick(
                "差分には版の全体が必要ですが、この機関が持つのは担当部分だけです: 版",
                "a diff needs the whole plan, but this agency holds only its part of version"
            )
        )),
        None => Err(anyhow::anyhow!(
            "{} {n}",
            lang.pick(
                "この機関はその版を持っていません: 版",
                "this agency does not hold version"
            )
        )),
    };
    let d = diff(whole(args.from)?, whole(args.to)?);
    if out.json {
        return output::json(&serde_json::json!({
            "plan_id": args.plan,
            "from": args.from,
            "to": args.to,
            "changes": d,
        }));
    }
    say!(
        "{} {}  {} {} → {}",
        lang.pick("支援プラン:", "support plan:"),
        args.plan,
        lang.pick("版", "version"),
        args.from,
        args.to
    );
    for line in view::diff_lines(&d, lang, node.directory()) {
        say!("  {line}");
    }
    Ok(())
}

/// One of our actions, for scripts.
#[derive(Serialize)]
struct ActionJson {
    due: Day,
    what: String,
    frequency: String,
    from: Option<Day>,
    until: Option<Day>,
    review_on: Day,
    lead: labels::AgencyRef,
    case_id: CaseId,
    plan_id: PlanId,
    version: u32,
}

async fn actions(node: &Node, out: exchange::Out) -> anyhow::Result<()> {
    let lang = out.lang;
    let held = plans::held_versions(node.records()).await?;
    let ours: Vec<OurAction> = plans::our_actions(held, node.id());
    if out.json {
        let rows: Vec<ActionJson> = ours
            .into_iter()
            .map(|a| ActionJson {
                due: a.due,
                what: a.action.what,
                frequency: a.action.frequency,
                from: a.action.from,
                until: a.action.until,
                review_on: a.review_on,
                lead: labels::agency(node, a.lead.as_str()),
                case_id: a.case_id,
                plan_id: a.plan_id,
                version: a.version,
            })
            .collect();
        return output::json(&rows);
    }
    if ours.is_empty() {
        say!(
            "{}",
            lang.pick(
                "この機関が担当する支援はありません。",
                "no actions for this agency."
            )
        );
        return Ok(());
    }
    let mut table = Table::new(&[
        lang.pick("期限", "due"),
        lang.pick("支援内容", "action"),
        lang.pick("頻度", "how often"),
        lang.pick("期間", "period"),
        lang.pick("見直し日", "review on"),
        lang.pick("主担当機関", "lead agency"),
        lang.pick("ケースID", "case"),
        lang.pick("プランID（版）", "plan (version)"),
    ]);
    for a in ours {
        table.row(vec![
            a.due.to_string(),
            a.action.what.clone(),
            a.action.frequency.clone(),
            view::period(&a.action, lang)
                .split_once(' ')
                .map_or_else(|| "—".to_owned(), |(_, p)| p.to_owned()),
            a.review_on.to_string(),
            labels::agency(node, a.lead.as_str()).name,
            a.case_id.to_string(),
            format!("{}（{}）", a.plan_id, a.version),
        ]);
    }
    table.print();
    Ok(())
}

/// A plan this node holds, for scripts.
#[derive(Serialize)]
struct PlanRowJson {
    plan_id: PlanId,
    case_id: CaseId,
    latest_version: u32,
    /// `whole` or `part`.
    held: &'static str,
    lead: labels::AgencyRef,
    review_on: Day,
    from: Option<labels::AgencyRef>,
}

async fn list(node: &Node, out: exchange::Out) -> anyhow::Result<()> {
    let lang = out.lang;
    let held = plans::held_versions(node.records()).await?;
    let rows: Vec<PlanRowJson> = plans::latest_of_each(held)
        .into_iter()
        .map(|v| PlanRowJson {
            plan_id: v.plan_id,
            case_id: v.case_id.clone(),
            latest_version: v.version,
            held: match v.content {
                Held::Whole(_) => "whole",
                Held::Part(_) => "part",
            },
            lead: labels::agency(node, v.content.lead().as_str()),
            review_on: v.content.review_on(),
            from: v.from.as_ref().map(|a| labels::agency(node, a.as_str())),
        })
        .collect();
    if out.json {
        return output::json(&rows);
    }
    if rows.is_empty() {
        say!(
            "{}",
            lang.pick("支援プランはありません。", "no support plans.")
        );
        return Ok(());
    }
    let mut table = Table::new(&[
        lang.pick("ケースID", "case"),
        lang.pick("プランID", "plan id"),
        lang.pick("最新版", "latest"),
        lang.pick("保持", "held"),
        lang.pick("主担当機関", "lead agency"),
        lang.pick("見直し日", "review on"),
        lang.pick("作成機関", "written by"),
    ]);
    for r in rows {
        table.row(vec![
            r.case_id.to_string(),
            r.plan_id.to_string(),
            r.latest_version.to_string(),
            if r.held == "whole" {
                lang.pick("全体", "whole")
            } else {
                lang.pick("担当部分", "part")
            }
            .to_owned(),
            r.lead.name,
            r.review_on.to_string(),
            r.from.map_or_else(
                || lang.pick("この機関", "this agency").to_owned(),
                |a| a.name,
            ),
        ]);
    }
    table.print();
    Ok(())
}

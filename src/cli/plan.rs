//! `tsunagu agency plan new | revise | show | diff | actions | list`:
//! support plans (支援プラン) — a version written from a TOML file or revised
//! from the latest in one step, shared whole to some agencies and as their
//! part to others — and how plan envelopes read to staff.

mod args;
mod read;
mod view;

use anyhow::{Context, bail};
use serde::Serialize;

pub use args::PlanCommand;
use args::{NewArgs, ReviseArgs, ShareArgs};
pub use view::{diff_lines, render};

use super::agency::open_config;
use super::exchange::{self, hub_error};
use super::labels;
use super::output::{self, say};
use crate::agency::Node;
use crate::agency::plans::{self, Held, PlanChanges, PlanSend, PlanSent};
use crate::agency::{NodeError, Sent};
use crate::i18n::Lang;
use crate::protocol::day::Day;
use crate::protocol::plan::SupportPlan;
use crate::protocol::{AgencyId, CaseId, EnvelopeId, PlanId};

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
        PlanCommand::Show(a) => read::show(&node, a, out).await,
        PlanCommand::Diff(a) => read::diff(&node, a, out).await,
        PlanCommand::Actions(_) => read::actions(&node, out).await,
        PlanCommand::List(_) => read::list(&node, out).await,
    };
    node.records().close().await;
    result
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
        let minutes = plans::minutes_of(node.records(), node.id(), meeting)
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
    let plan = changes.apply(base, Day::today());
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

pub(super) fn not_held(plan: PlanId, lang: Lang) -> anyhow::Error {
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
    let (basis, justification) = share.basis.resolve(lang)?;
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
    match lang {
        Lang::Ja => say!("支援プラン 版{} {recorded}", send.version),
        Lang::En => say!("support plan version {}{recorded}", send.version),
    }
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

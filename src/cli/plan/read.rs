//! The `agency plan` commands that read what this node holds: show, diff,
//! our actions, list.

use anyhow::bail;
use serde::Serialize;

use super::args::{DiffArgs, ShowArgs};
use super::{not_held, render, view};
use crate::agency::Node;
use crate::agency::plans::{self, Held, HeldVersion, OurAction};
use crate::cli::exchange;
use crate::cli::labels;
use crate::cli::output::{self, say};
use crate::cli::table::Table;
use crate::i18n::Lang;
use crate::protocol::day::Day;
use crate::protocol::plan::{PlanPart, SupportPlan};
use crate::protocol::{CaseId, EnvelopeId, PlanId, Timestamp};

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

pub async fn show(node: &Node, args: ShowArgs, out: exchange::Out) -> anyhow::Result<()> {
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

pub async fn diff(node: &Node, args: DiffArgs, out: exchange::Out) -> anyhow::Result<()> {
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
    let d = plans::diff(whole(args.from)?, whole(args.to)?);
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

pub async fn actions(node: &Node, out: exchange::Out) -> anyhow::Result<()> {
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

pub async fn list(node: &Node, out: exchange::Out) -> anyhow::Result<()> {
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

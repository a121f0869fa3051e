//! `support-ledger show NUMBER`: one row whole — every item, the dates the
//! rules computed with the rule behind each, the 伴走型相談支援 points and
//! checkups with their state and who, the tier history with who and why,
//! the contacts, and the linked cases with what the node holds of them.

use serde::Serialize;
use serde_json::Value;

use super::json::{NextJson, RowJson, row_json};
use crate::agency::Node;
use crate::agency::ledger::sources::{self, Sources};
use crate::agency::support_ledger::{self as core, FIELDS, Progress, SubjectKind, SubjectView};
use crate::cli::labels::{self, AgencyRef, Labeled};
use crate::cli::output::{self, say};
use crate::i18n::Lang;
use crate::protocol::day::{Day, show_local};
use crate::protocol::meeting::Level;
use crate::protocol::{CaseId, Timestamp};

#[derive(Serialize)]
struct ShowJson {
    #[serde(flatten)]
    row: RowJson,
    /// Every item by its [`FIELDS`] name.
    items: Value,
    points: Vec<ProgressJson>,
    checkups: Vec<ProgressJson>,
    tiers: Vec<TierJson>,
    contacts: Vec<ContactJson>,
    cases: Vec<CaseJson>,
}

/// A contact point or a checkup: its state, window, and when and by whom
/// it was done.
#[derive(Serialize)]
struct ProgressJson {
    what: Labeled,
    state: Labeled,
    from: Option<Day>,
    due: Option<Day>,
    until: Option<Day>,
    done_on: Option<Day>,
    done_by: Option<String>,
}

#[derive(Serialize)]
struct TierJson {
    from: Option<Labeled>,
    to: Labeled,
    reason: String,
    by: String,
    at: Timestamp,
}

#[derive(Serialize)]
struct ContactJson {
    day: Day,
    kind: Labeled,
    staff: String,
    summary: String,
    point: Option<Labeled>,
    recorded_by: String,
}

#[derive(Serialize)]
struct CaseJson {
    case_id: CaseId,
    linked_by: String,
    linked_at: Timestamp,
    referrals: Vec<ReferralJson>,
    meetings: Vec<MeetingJson>,
    plans: Vec<PlanJson>,
}

#[derive(Serialize)]
struct ReferralJson {
    from: AgencyRef,
    received_at: Timestamp,
}

#[derive(Serialize)]
struct MeetingJson {
    kind: Labeled,
    /// JST.
    starts_at: String,
    cancelled: bool,
    minutes: bool,
}

#[derive(Serialize)]
struct PlanJson {
    version: u32,
    review_on: Day,
}

pub async fn run(
    node: &Node,
    number: &str,
    now: Timestamp,
    json: bool,
    lang: Lang,
) -> anyhow::Result<()> {
    let today = Day::of(now);
    let v = super::row(node, number, now, lang).await?;
    let sources = sources::read(node.records(), node.id()).await?;
    let mut cases = Vec::new();
    for link in &v.cases {
        cases.push(case_json(node, link, &sources, lang).await?);
    }
    let shown = ShowJson {
        row: row_json(&v, today, lang),
        items: serde_json::to_value(&v.subject)?,
        points: v
            .computed
            .points
            .iter()
            .map(|(p, s)| progress(Labeled::new(p.as_str(), p.label(lang)), s, lang))
            .collect(),
        checkups: v
            .computed
            .checkups
            .iter()
            .map(|(c, s)| progress(Labeled::new(c.as_str(), c.label(lang)), s, lang))
            .collect(),
        tiers: v
            .tiers
            .iter()
            .map(|t| TierJson {
                from: t.from.map(|f| Labeled::new(f.as_str(), f.label(lang))),
                to: Labeled::new(t.to.as_str(), t.to.label(lang)),
                reason: t.reason.clone(),
                by: t.by.clone(),
                at: t.at,
            })
            .collect(),
        contacts: v
            .contacts
            .iter()
            .map(|c| ContactJson {
                day: c.day,
                kind: Labeled::new(c.kind.as_str(), c.kind.label(lang)),
                staff: c.staff.clone(),
                summary: c.summary.clone(),
                point: c.point.map(|p| Labeled::new(p.as_str(), p.label(lang))),
                recorded_by: c.recorded_by.clone(),
            })
            .collect(),
        cases,
    };
    if json {
        return output::json(&shown);
    }
    print(&v, &shown, lang);
    Ok(())
}

async fn case_json(
    node: &Node,
    link: &core::Link,
    sources: &Sources,
    lang: Lang,
) -> anyhow::Result<CaseJson> {
    let referrals = node
        .records()
        .case_records(&link.case)
        .await?
        .into_iter()
        .filter(|r| !r.sent && r.kind == "referral")
        .map(|r| ReferralJson {
            from: labels::agency(node, &r.sender),
            received_at: r.created_at,
        })
        .collect();
    let meetings = sources
        .meetings
        .iter()
        .filter(|m| m.case_id == link.case || m.more_cases.contains(&link.case))
        .map(|m| MeetingJson {
            kind: Labeled::new(m.kind.as_str(), m.kind.label(lang)),
            starts_at: show_local(m.starts_at),
            cancelled: m.cancelled.is_some(),
            minutes: m.minutes.is_some(),
        })
        .collect();
    let mut plans: Vec<(String, PlanJson)> = Vec::new();
    for p in sources.plans.iter().filter(|p| p.case == link.case) {
        let plan = PlanJson {
            version: p.version,
            review_on: p.review_on,
        };
        let id = p.plan_id.to_string();
        match plans.iter_mut().find(|(i, _)| *i == id) {
            Some((_, latest)) if latest.version < p.version => *latest = plan,
            Some(_) => {}
            None => plans.push((id, plan)),
        }
    }
    Ok(CaseJson {
        case_id: link.case.clone(),
        linked_by: link.by.clone(),
        linked_at: link.at,
        referrals,
        meetings,
        plans: plans.into_iter().map(|(_, p)| p).collect(),
    })
}

fn progress(what: Labeled, p: &Progress, lang: Lang) -> ProgressJson {
    let state = serde_json::to_value(p)
        .ok()
        .and_then(|v| v.get("state").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    let mut out = ProgressJson {
        what,
        state: Labeled::new(&state, p.label(lang)),
        from: None,
        due: None,
        until: None,
        done_on: None,
        done_by: None,
    };
    match p {
        Progress::Unscheduled => {}
        Progress::Upcoming { from, due, until } | Progress::Due { from, due, until } => {
            (out.from, out.due, out.until) = (Some(*from), Some(*due), Some(*until));
        }
        Progress::Missed { due, until } => (out.due, out.until) = (Some(*due), Some(*until)),
        Progress::Done { day, staff } => {
            out.done_on = Some(*day);
            out.done_by = (!staff.is_empty()).then(|| staff.clone());
        }
    }
    out
}

fn print(v: &SubjectView, s: &ShowJson, lang: Lang) {
    say!(
        "{} {}（{}）",
        v.subject.number,
        v.subject.name,
        v.subject.kind.label(lang)
    );
    say!();
    say!("■ {}", lang.pick("項目", "items"));
    for (field, ja, en) in FIELDS {
        let value = item(s.items.get(*field), field, lang);
        say!("  {}: {value}", lang.pick(ja, en));
    }
    say!();
    say!("■ {}", lang.pick("計算した日付（規則）", "computed (rule)"));
    if let (SubjectKind::Child, Some(m)) = (v.subject.kind, s.row.age_months) {
        say!("  {}: {m}", lang.pick("月齢", "age in months"));
    }
    if let Some(w) = s.row.pregnancy_weeks {
        say!("  {}: {w}", lang.pick("妊娠週数", "weeks pregnant"));
    }
    let tier_rule = s
        .row
        .tier_rule
        .as_ref()
        .map(|r| format!("（{}）", r.label))
        .unwrap_or_default();
    say!(
        "  {}: {}{tier_rule}",
        lang.pick("支援区分（適用）", "tier followed at"),
        s.row.tier.label
    );
    let last = s.row.last_contact.map_or("-".into(), |d| d.to_string());
    say!("  {}: {last}", lang.pick("最終接触", "last contact"));
    say!(
        "  {}: {}",
        lang.pick("次回接触", "next contact"),
        next(&s.row.next_contact, lang)
    );
    print_progress(
        lang.pick("伴走型相談支援", "伴走型 contact points"),
        &s.points,
        lang,
    );
    print_progress(lang.pick("乳幼児健診", "checkups"), &s.checkups, lang);
    say!();
    say!("■ {}", lang.pick("支援区分の履歴", "tier history"));
    for t in &s.tiers {
        let from = t.from.as_ref().map_or("-", |f| f.label.as_str());
        say!(
            "  {} {from} → {}  {}: {}  {}: {}",
            show_local(t.at),
            t.to.label,
            lang.pick("理由", "why"),
            t.reason,
            lang.pick("変更者", "by"),
            t.by
        );
    }
    say!();
    say!("■ {}", lang.pick("接触記録", "contacts"));
    if s.contacts.is_empty() {
        say!("  {}", lang.pick("まだありません", "none yet"));
    }
    for c in &s.contacts {
        let point = c
            .point
            .as_ref()
            .map(|p| format!("［{}］", p.label))
            .unwrap_or_default();
        say!(
            "  {} {} {}{point} {}",
            c.day,
            c.kind.label,
            c.staff,
            c.summary
        );
    }
    print_cases(&s.cases, lang);
}

fn next(n: &Option<NextJson>, lang: Lang) -> String {
    match n {
        None => "-".into(),
        Some(n) => {
            let late = match (n.overdue_days, lang) {
                (0, _) => String::new(),
                (d, Lang::Ja) => format!("（{d}日超過）"),
                (d, Lang::En) => format!(" ({d} days overdue)"),
            };
            format!("{}{late} {}", n.day, n.rule.label)
        }
    }
}

/// An item as staff read it: coded values by their label, blank as 「-」.
fn item(value: Option<&Value>, field: &str, lang: Lang) -> String {
    use crate::agency::support_ledger::Tier;
    let Some(value) = value else {
        return "-".into();
    };
    match (field, value) {
        ("kind", Value::String(s)) => {
            SubjectKind::parse(s).map_or(s.clone(), |k| k.label(lang).into())
        }
        ("tier", Value::String(s)) => Tier::parse(s).map_or(s.clone(), |t| t.label(lang).into()),
        ("urgency" | "severity", Value::String(s)) => {
            Level::parse(s).map_or(s.clone(), |l| l.label(lang).into())
        }
        (_, Value::Bool(b)) => lang
            .pick(
                if *b { "あり" } else { "なし" },
                if *b { "yes" } else { "no" },
            )
            .into(),
        (_, Value::String(s)) if s.is_empty() => "-".into(),
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

fn print_progress(title: &str, items: &[ProgressJson], lang: Lang) {
    if items.is_empty() {
        return;
    }
    say!();
    say!("■ {title}");
    for p in items {
        let detail = match (&p.done_on, &p.due, &p.until) {
            (Some(day), _, _) => {
                let by = p
                    .done_by
                    .as_deref()
                    .map(|b| format!(" {b}"))
                    .unwrap_or_default();
                format!("{day}{by}")
            }
            (None, Some(due), Some(until)) => match lang {
                Lang::Ja => format!("予定日 {due}（{until} まで）"),
                Lang::En => format!("due {due} (until {until})"),
            },
            _ => String::new(),
        };
        say!("  {}: {} {detail}", p.what.label, p.state.label);
    }
}

fn print_cases(cases: &[CaseJson], lang: Lang) {
    say!();
    say!("■ {}", lang.pick("連携ケース", "linked cases"));
    if cases.is_empty() {
        say!("  {}", lang.pick("まだありません", "none yet"));
    }
    for c in cases {
        say!(
            "  {}（{} {} {}）",
            c.case_id,
            lang.pick("結び付け:", "linked by"),
            c.linked_by,
            show_local(c.linked_at)
        );
        for r in &c.referrals {
            say!(
                "    {} {} {}",
                lang.pick("連絡票", "referral"),
                show_local(r.received_at),
                r.from.name
            );
        }
        for m in &c.meetings {
            let state = match (m.cancelled, m.minutes) {
                (true, _) => lang.pick("（中止）", " (cancelled)"),
                (false, true) => lang.pick("（記録あり）", " (minutes)"),
                _ => "",
            };
            say!("    {} {}{state}", m.kind.label, m.starts_at);
        }
        for p in &c.plans {
            match lang {
                Lang::Ja => say!("    支援プラン 第{}版 見直し日 {}", p.version, p.review_on),
                Lang::En => say!("    support plan v{} review on {}", p.version, p.review_on),
            }
        }
    }
}

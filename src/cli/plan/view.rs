//! How plans read to staff: a whole plan, a part, what changed between two
//! versions; agencies by the names the directory gives them.

use std::fmt::Write;

use crate::agency::plans::PlanDiff;
use crate::directory::Directory;
use crate::i18n::Lang;
use crate::protocol::AgencyId;
use crate::protocol::day::Day;
use crate::protocol::payload::Body;
use crate::protocol::plan::{PlanAction, PlanPart, SupportPlan};

/// An agency as staff know it.
pub fn name(directory: &Directory, id: &AgencyId) -> String {
    directory
        .get(id)
        .map_or_else(|| id.to_string(), |a| a.name.clone())
}

/// A plan envelope's body as staff read it.
pub fn render(body: &Body, lang: Lang, directory: &Directory) -> String {
    match body {
        Body::SupportPlan(p) => whole(p, lang, directory),
        Body::PlanPart(p) => part(p, lang, directory),
        _ => String::new(),
    }
}

/// 「期間 2026-06-01〜2026-08-31」, or nothing without a period.
pub fn period(a: &PlanAction, lang: Lang) -> String {
    if a.from.is_none() && a.until.is_none() {
        return String::new();
    }
    let day = |d: Option<Day>| d.map_or(String::new(), |d| d.to_string());
    format!(
        "{} {}〜{}",
        lang.pick("期間", "period"),
        day(a.from),
        day(a.until)
    )
}

/// One action: agency, what, how often, when.
pub fn action_line(a: &PlanAction, lang: Lang, directory: &Directory) -> String {
    let mut line = format!("{}: {}", name(directory, &a.agency), a.what);
    if !a.frequency.is_empty() {
        let _ = write!(line, "（{}）", a.frequency);
    }
    let period = period(a, lang);
    if !period.is_empty() {
        let _ = write!(line, " {period}");
    }
    line
}

fn yes_no(b: bool, lang: Lang) -> &'static str {
    if b {
        lang.pick("あり", "yes")
    } else {
        lang.pick("なし", "no")
    }
}

fn whole(p: &SupportPlan, lang: Lang, directory: &Directory) -> String {
    let mut out = format!("{} {}", lang.pick("本人の意向:", "her wishes:"), p.wishes);
    let _ = write!(out, "\n{}", lang.pick("目標:", "goals:"));
    for g in &p.goals {
        let _ = write!(out, "\n  - {g}");
    }
    let _ = write!(out, "\n{}", lang.pick("支援内容:", "actions:"));
    for a in &p.actions {
        let _ = write!(out, "\n  - {}", action_line(a, lang, directory));
    }
    let _ = write!(
        out,
        "\n{} {} {}",
        lang.pick("主担当機関:", "lead agency:"),
        name(directory, &p.lead),
        p.lead_contact
    );
    if !p.key_person.is_empty() {
        let _ = write!(
            out,
            "\n{} {}",
            lang.pick("キーパーソン:", "key person:"),
            p.key_person
        );
    }
    let _ = write!(
        out,
        "\n{} {} / {} {}",
        lang.pick("本人参画:", "she took part:"),
        yes_no(p.person_took_part, lang),
        lang.pick("交付:", "copy given:"),
        yes_no(p.copy_given, lang)
    );
    let _ = write!(
        out,
        "\n{} {} / {} {}",
        lang.pick("作成日:", "made on:"),
        p.made_on,
        lang.pick("見直し日:", "review on:"),
        p.review_on
    );
    if let Some(m) = p.from_meeting {
        let _ = write!(out, "\n{} {m}", lang.pick("会議:", "meeting:"));
    }
    out
}

fn part(p: &PlanPart, lang: Lang, directory: &Directory) -> String {
    let mut out = String::from(lang.pick("担当する支援:", "your actions:"));
    for a in &p.actions {
        let _ = write!(out, "\n  - {}", action_line(a, lang, directory));
    }
    let _ = write!(
        out,
        "\n{} {} {}\n{} {}",
        lang.pick("主担当機関:", "lead agency:"),
        name(directory, &p.lead),
        p.lead_contact,
        lang.pick("見直し日:", "review on:"),
        p.review_on
    );
    out
}

/// What changed, one line each; 「変更なし」 when nothing did.
pub fn diff_lines(d: &PlanDiff, lang: Lang, directory: &Directory) -> Vec<String> {
    let mut lines = Vec::new();
    let mut changed = |label: &str, before: String, after: String| {
        lines.push(format!("{label} {before} → {after}"));
    };
    if let Some(c) = &d.wishes {
        changed(
            lang.pick("本人の意向:", "her wishes:"),
            c.before.clone(),
            c.after.clone(),
        );
    }
    if let Some(c) = &d.lead {
        changed(
            lang.pick("主担当機関:", "lead agency:"),
            name(directory, &c.before),
            name(directory, &c.after),
        );
    }
    if let Some(c) = &d.lead_contact {
        changed(
            lang.pick("連絡先:", "lead contact:"),
            c.before.clone(),
            c.after.clone(),
        );
    }
    if let Some(c) = &d.key_person {
        changed(
            lang.pick("キーパーソン:", "key person:"),
            c.before.clone(),
            c.after.clone(),
        );
    }
    if let Some(c) = &d.person_took_part {
        let (b, a) = (yes_no(c.before, lang), yes_no(c.after, lang));
        changed(lang.pick("本人参画:", "she took part:"), b.into(), a.into());
    }
    if let Some(c) = &d.copy_given {
        let (b, a) = (yes_no(c.before, lang), yes_no(c.after, lang));
        changed(lang.pick("交付:", "copy given:"), b.into(), a.into());
    }
    if let Some(c) = &d.made_on {
        changed(
            lang.pick("作成日:", "made on:"),
            c.before.to_string(),
            c.after.to_string(),
        );
    }
    if let Some(c) = &d.review_on {
        changed(
            lang.pick("見直し日:", "review on:"),
            c.before.to_string(),
            c.after.to_string(),
        );
    }
    for g in &d.goals_added {
        lines.push(format!("{} {g}", lang.pick("目標（追加）:", "goal added:")));
    }
    for g in &d.goals_removed {
        lines.push(format!(
            "{} {g}",
            lang.pick("目標（削除）:", "goal removed:")
        ));
    }
    for a in &d.actions_added {
        let a = action_line(a, lang, directory);
        lines.push(format!(
            "{} {a}",
            lang.pick("支援内容（追加）:", "action added:")
        ));
    }
    for a in &d.actions_removed {
        let a = action_line(a, lang, directory);
        lines.push(format!(
            "{} {a}",
            lang.pick("支援内容（削除）:", "action removed:")
        ));
    }
    for c in &d.actions_changed {
        lines.push(format!(
            "{} {} → {}",
            lang.pick("支援内容（変更）:", "action changed:"),
            action_line(&c.before, lang, directory),
            action_line(&c.after, lang, directory)
        ));
    }
    if d.from_meeting.is_some() {
        lines.push(lang.pick("会議: 変更あり", "meeting: changed").into());
    }
    if d.categories.is_some() {
        lines.push(
            lang.pick("情報区分: 変更あり", "categories: changed")
                .into(),
        );
    }
    if lines.is_empty() {
        lines.push(lang.pick("変更なし", "no changes").into());
    }
    lines
}

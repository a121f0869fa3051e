//! `tsunagu agency plan …`: support plans — new, revise, show, diff, our
//! actions — and how plan envelopes read to staff.

use std::fmt::Write;

use crate::i18n::Lang;
use crate::protocol::payload::Body;
use crate::protocol::plan::{PlanAction, PlanPart, SupportPlan};

/// A plan envelope's body as staff read it.
pub fn render(body: &Body, lang: Lang) -> String {
    match body {
        Body::SupportPlan(p) => whole(p, lang),
        Body::PlanPart(p) => part(p, lang),
        _ => String::new(),
    }
}

fn action_line(a: &PlanAction, lang: Lang) -> String {
    let mut line = format!("  - {}: {}", a.agency, a.what);
    if !a.frequency.is_empty() {
        let _ = write!(line, "（{}）", a.frequency);
    }
    if a.from.is_some() || a.until.is_some() {
        let day = |d: Option<crate::protocol::day::Day>| d.map_or(String::new(), |d| d.to_string());
        let _ = write!(
            line,
            " {} {}〜{}",
            lang.pick("期間", "period"),
            day(a.from),
            day(a.until)
        );
    }
    line
}

fn whole(p: &SupportPlan, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}",
        lang.pick("本人の意向:", "her wishes:"),
        p.wishes
    );
    let _ = write!(out, "{}", lang.pick("目標:", "goals:"));
    for g in &p.goals {
        let _ = write!(out, "\n  - {g}");
    }
    let _ = write!(out, "\n{}", lang.pick("支援内容:", "actions:"));
    for a in &p.actions {
        let _ = write!(out, "\n{}", action_line(a, lang));
    }
    let _ = write!(
        out,
        "\n{} {} {}",
        lang.pick("主担当機関:", "lead agency:"),
        p.lead,
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
    let yes_no = |b: bool| {
        if b {
            lang.pick("あり", "yes")
        } else {
            lang.pick("なし", "no")
        }
    };
    let _ = write!(
        out,
        "\n{} {} / {} {}",
        lang.pick("本人参画:", "she took part:"),
        yes_no(p.person_took_part),
        lang.pick("交付:", "copy given:"),
        yes_no(p.copy_given)
    );
    let _ = write!(
        out,
        "\n{} {} / {} {}",
        lang.pick("作成日:", "made on:"),
        p.made_on,
        lang.pick("見直し日:", "review on:"),
        p.review_on
    );
    out
}

fn part(p: &PlanPart, lang: Lang) -> String {
    let mut out = String::from(lang.pick("担当する支援:", "your actions:"));
    for a in &p.actions {
        let _ = write!(out, "\n{}", action_line(a, lang));
    }
    let _ = write!(
        out,
        "\n{} {} {}\n{} {}",
        lang.pick("主担当機関:", "lead agency:"),
        p.lead,
        p.lead_contact,
        lang.pick("見直し日:", "review on:"),
        p.review_on
    );
    out
}

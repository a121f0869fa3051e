//! `tsunagu agency meeting …`: case meetings — schedule, answer, move,
//! cancel, minutes — and how their envelopes read to staff.

use std::fmt::Write;

use crate::i18n::Lang;
use crate::protocol::day::show_local;
use crate::protocol::meeting::{Invitation, Minutes, MinutesExcerpt, Role};
use crate::protocol::payload::Body;

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

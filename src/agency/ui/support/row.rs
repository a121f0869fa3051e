//! One row of the 支援台帳 (`/support/{id}`): its items, the dates the
//! rules compute (each with the rule in words), the 伴走型相談支援 points
//! and checkups with their state, the tier history, the contacts, and the
//! linked cases with the timeline of what this node holds about each (the
//! case page's own). The contact form (`POST /support/{id}/contact`, also
//! posted from the morning list) and linking a case by its id (`POST
//! /support/{id}/link`, also the morning list's 「この行に紐付ける」).
//! Each view is written to the access log with the 台帳番号.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{MorningQuery, Next, age, kinds, ledger, ledger_failed, next};
use crate::agency::staff::Viewed;
use crate::agency::support_ledger::subject::field_label;
use crate::agency::support_ledger::{
    self, Contact, ContactKind, ContactPoint, FIELDS, Progress, SubjectView, SupportLedgerError,
};
use crate::agency::ui::UiState;
use crate::agency::ui::auth::SignedIn;
use crate::agency::ui::cases::{self, Entry};
use crate::agency::ui::error::{PageError, center_only};
use crate::agency::ui::inbox::local_time;
use crate::agency::ui::lang::{Chrome, PageLang};
use crate::agency::ui::meetings::form::{Fields, Posted, Problems};
use crate::i18n::Lang;
use crate::protocol::day::Day;
use crate::protocol::meeting::Level;
use crate::protocol::{CaseId, Timestamp};

/// A 伴走型 point or a checkup, as the row shows it.
pub struct Step {
    pub what: &'static str,
    pub state: &'static str,
    /// The window, or the day it was done.
    pub when: String,
    pub who: String,
    pub late: bool,
}

fn step(what: &'static str, p: &Progress, lang: Lang) -> Step {
    let (when, who) = match p {
        Progress::Unscheduled => (String::new(), String::new()),
        Progress::Upcoming { from, due, until } | Progress::Due { from, due, until } => (
            match lang {
                Lang::Ja => format!("{from}〜{until}（目安 {due}）"),
                Lang::En => format!("{from} to {until} (aim {due})"),
            },
            String::new(),
        ),
        Progress::Missed { due, until } => (
            match lang {
                Lang::Ja => format!("目安 {due}・{until} まで"),
                Lang::En => format!("aim {due}, until {until}"),
            },
            String::new(),
        ),
        Progress::Done { day, staff } => (day.to_string(), staff.clone()),
    };
    Step {
        what,
        state: p.label(lang),
        when,
        who,
        late: matches!(p, Progress::Missed { .. }),
    }
}

/// A tier change as the history shows it.
pub struct TierLine {
    pub from: &'static str,
    pub to: &'static str,
    pub by: String,
    pub at: String,
    pub reason: String,
}

/// A contact as the row shows it.
pub struct ContactLine {
    pub day: String,
    pub kind: &'static str,
    pub staff: String,
    pub summary: String,
    pub point: &'static str,
}

/// A linked case and what this node holds about it.
pub struct LinkedCase {
    pub id: String,
    pub by: String,
    pub at: String,
    pub entries: Vec<Entry>,
}

#[derive(Template)]
#[template(path = "ui/support_row.html")]
struct RowPage {
    chrome: Chrome,
    id: String,
    number: String,
    name: String,
    notice: Option<&'static str>,
    items: Vec<(&'static str, String)>,
    age: String,
    tier: &'static str,
    tier_rule: Option<&'static str>,
    last_contact: String,
    next: Option<Next>,
    points: Vec<Step>,
    checkups: Vec<Step>,
    tiers: Vec<TierLine>,
    contacts: Vec<ContactLine>,
    cases: Vec<LinkedCase>,
    kinds: Vec<(&'static str, &'static str)>,
    point_choices: Vec<(&'static str, &'static str)>,
    today: String,
    /// The contact and link forms as entered, and what is wrong with them.
    v: Fields,
    problems: Problems,
}

/// An item's value in staff's words.
fn shown(v: &SubjectView, field: &str, lang: Lang) -> String {
    let s = &v.subject;
    let text = match field {
        "kind" => s.kind.label(lang).to_owned(),
        "tier" => s.tier.label(lang).to_owned(),
        "needs_support" => lang
            .pick(
                if s.needs_support { "あり" } else { "なし" },
                if s.needs_support { "yes" } else { "no" },
            )
            .to_owned(),
        "urgency" => s.urgency.map_or("", |l: Level| l.label(lang)).to_owned(),
        "severity" => s.severity.map_or("", |l: Level| l.label(lang)).to_owned(),
        _ => match serde_json::to_value(s)
            .ok()
            .and_then(|j| j.get(field).cloned())
        {
            Some(serde_json::Value::String(t)) => t,
            _ => String::new(),
        },
    };
    if text.is_empty() { "—".into() } else { text }
}

async fn row_page(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    v: &SubjectView,
    form: Fields,
    problems: Problems,
    notice: Option<&'static str>,
) -> Result<RowPage, PageError> {
    signed
        .viewed(state, Viewed::SupportSubject, &v.subject.number)
        .await?;
    let today = Day::of(Timestamp::now());
    let mut cases = Vec::new();
    for link in &v.cases {
        let entries = cases::timeline(state, signed, &link.case, lang)
            .await?
            .map(|t| t.entries)
            .unwrap_or_default();
        cases.push(LinkedCase {
            id: link.case.to_string(),
            by: link.by.clone(),
            at: local_time(link.at),
            entries,
        });
    }
    let c = &v.computed;
    Ok(RowPage {
        chrome: signed.chrome(lang),
        id: v.id.clone(),
        number: v.subject.number.clone(),
        name: v.subject.name.clone(),
        notice,
        items: FIELDS
            .iter()
            .map(|(f, _, _)| (field_label(f, lang), shown(v, f, lang)))
            .collect(),
        age: age(v, today, lang),
        tier: c.tier.label(lang),
        tier_rule: c.tier_rule.map(|r| r.label(lang)),
        last_contact: c.last_contact.map_or("—".into(), |d| d.to_string()),
        next: next(v, today, lang),
        points: c
            .points
            .iter()
            .map(|(p, s)| step(p.label(lang), s, lang))
            .collect(),
        checkups: c
            .checkups
            .iter()
            .map(|(k, s)| step(k.label(lang), s, lang))
            .collect(),
        tiers: v
            .tiers
            .iter()
            .rev()
            .map(|t| TierLine {
                from: t.from.map_or("—", |f| f.label(lang)),
                to: t.to.label(lang),
                by: t.by.clone(),
                at: local_time(t.at),
                reason: t.reason.clone(),
            })
            .collect(),
        contacts: v
            .contacts
            .iter()
            .rev()
            .map(|k| ContactLine {
                day: k.day.to_string(),
                kind: k.kind.label(lang),
                staff: k.staff.clone(),
                summary: k.summary.clone(),
                point: k.point.map_or("", |p| p.label(lang)),
            })
            .collect(),
        cases,
        kinds: kinds(lang),
        point_choices: ContactPoint::ALL
            .iter()
            .map(|p| (p.as_str(), p.label(lang)))
            .collect(),
        today: today.to_string(),
        v: form,
        problems,
    })
}

#[derive(Deserialize)]
pub struct RowQuery {
    #[serde(default)]
    done: String,
}

fn done_notice(done: &str, lang: Lang) -> Option<&'static str> {
    Some(match done {
        "added" => lang.pick("行を追加しました。", "The row was added."),
        "saved" => lang.pick("行を保存しました。", "The row was saved."),
        "contact" => lang.pick(
            "接触を記録しました。次回接触予定日を計算し直しました。",
            "The contact was recorded; the next contact day was recomputed.",
        ),
        "linked" => lang.pick("ケースを紐付けました。", "The case was linked."),
        _ => return None,
    })
}

/// The contact form's defaults: a phone call today, by the signed-in member.
fn contact_defaults(signed: &SignedIn) -> Fields {
    Fields(vec![
        ("kind".into(), "phone".into()),
        ("staff".into(), signed.member.name.clone()),
    ])
}

/// One row, its view written to the access log.
#[tracing::instrument(skip_all)]
pub async fn page(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
    Query(q): Query<RowQuery>,
) -> Result<Html<String>, PageError> {
    center_only(&state.node)?;
    let ledger = ledger(&state, Day::of(Timestamp::now())).await?;
    let v = ledger.get(&id).ok_or(PageError::NotFound)?;
    let form = contact_defaults(&signed);
    let notice = done_notice(&q.done, lang);
    let page = row_page(&state, &signed, lang, v, form, Problems::default(), notice).await?;
    Ok(Html(page.render()?))
}

/// The row page again, with what is wrong with a form (422).
async fn refused_form(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    id: &str,
    f: Fields,
    p: Problems,
) -> Result<Response, PageError> {
    let ledger = ledger(state, Day::of(Timestamp::now())).await?;
    let v = ledger.get(id).ok_or(PageError::NotFound)?;
    let page = row_page(state, signed, lang, v, f, p, None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
}

/// Where a change made from the morning list or the row goes back to.
fn back(f: &Fields, id: &str, done: &str) -> Redirect {
    match f.get("from") {
        "list" => {
            let q = MorningQuery::from_posted(f.get("back")).encoded();
            let sep = if q.is_empty() { "" } else { "&" };
            Redirect::to(&format!("/support?{q}{sep}done={done}&row={id}"))
        }
        _ => Redirect::to(&format!("/support/{id}?done={done}")),
    }
}

/// Record a contact: back where it was entered, or the row page with the
/// problem at its field.
#[tracing::instrument(skip_all)]
pub async fn contact(
    State(state): State<UiState>,
    Path(id): Path<String>,
    Posted { signed, lang, f }: Posted,
) -> Result<Response, PageError> {
    let node = &state.node;
    center_only(node)?;
    let now = Timestamp::now();
    let mut p = Problems::default();
    let kind = ContactKind::parse(f.get("kind"));
    if kind.is_none() {
        p.add(
            "kind",
            lang.pick(
                "種別を一覧から選んでください。",
                "Choose the kind from the list.",
            ),
        );
    }
    let day = f.get("day").parse::<Day>().ok();
    match day {
        None => p.add(
            "day",
            lang.pick(
                "日付は 2026-04-01 のように入力してください。",
                "Enter the day as 2026-04-01.",
            ),
        ),
        Some(d) if d > Day::of(now) => p.add(
            "day",
            lang.pick(
                "未来の日付の接触は記録できません。接触した日を入力してください。",
                "A contact cannot be in the future: enter the day it happened.",
            ),
        ),
        Some(_) => {}
    }
    if f.get("staff").is_empty() {
        p.add(
            "staff",
            lang.pick("対応者を入力してください。", "Enter who made the contact."),
        );
    }
    let point = match f.get("point") {
        "" => None,
        name => {
            let point = ContactPoint::parse(name);
            if point.is_none() {
                p.add(
                    "point",
                    lang.pick(
                        "伴走型相談支援の時期を一覧から選んでください。",
                        "Choose the contact point from the list.",
                    ),
                );
            }
            point
        }
    };
    if let (Some(kind), Some(day), true) = (kind, day, p.is_empty()) {
        let contact = Contact {
            day,
            kind,
            staff: f.get("staff").to_owned(),
            summary: f.get("summary").to_owned(),
            point,
            recorded_by: signed.member.name.clone(),
            recorded_at: now,
        };
        match support_ledger::record_contact(node.records(), &id, contact).await {
            Ok(()) => return Ok(back(&f, &id, "contact").into_response()),
            Err(SupportLedgerError::BadContact(why)) => p.add(
                "day",
                match lang {
                    Lang::Ja => {
                        "接触を記録できませんでした。日付と対応者を確かめてください。".to_owned()
                    }
                    Lang::En => format!("The contact cannot be kept: {why}."),
                },
            ),
            Err(e) => return Err(ledger_failed(e)),
        }
    }
    refused_form(&state, &signed, lang, &id, f, p).await
}

/// Link a case to the row, a person confirming it is hers.
#[tracing::instrument(skip_all)]
pub async fn link(
    State(state): State<UiState>,
    Path(id): Path<String>,
    Posted { signed, lang, f }: Posted,
) -> Result<Response, PageError> {
    let node = &state.node;
    center_only(node)?;
    let now = Timestamp::now();
    let mut p = Problems::default();
    let case = f.get("case").parse::<CaseId>().ok();
    let held = match &case {
        Some(c) => !node.records().case_records(c).await?.is_empty(),
        None => false,
    };
    match &case {
        None => p.add(
            "case",
            lang.pick(
                "ケースIDの形式が違います。ケースの画面に表示される ID をそのまま貼り付けてください。",
                "That is not a case id: paste the id shown on the case's page.",
            ),
        ),
        Some(c) if !held => p.add(
            "case",
            match lang {
                Lang::Ja => format!("このノードにはケース {c} の記録がありません。ケースIDを確かめてください。"),
                Lang::En => format!("This node holds nothing about case {c}: check the id."),
            },
        ),
        Some(_) => {}
    }
    if let (Some(case), true) = (&case, p.is_empty()) {
        let by = signed.member.name.as_str();
        match support_ledger::link_case(node.records(), &id, case, by, now).await {
            Ok(()) => return Ok(back(&f, &id, "linked").into_response()),
            Err(SupportLedgerError::CaseLinked(_)) => {
                let ledger = ledger(&state, Day::of(now)).await?;
                let holder = ledger
                    .by_case(case)
                    .map(|v| format!("{} {}", v.subject.number, v.subject.name))
                    .unwrap_or_default();
                p.add(
                    "case",
                    match lang {
                        Lang::Ja => format!("ケース {case} は既に台帳番号 {holder} の行に紐付いています。1つのケースは1つの行にだけ紐付けられます。"),
                        Lang::En => format!("Case {case} is already linked to row {holder}; a case belongs to one row only."),
                    },
                );
            }
            Err(e) => return Err(ledger_failed(e)),
        }
    }
    refused_form(&state, &signed, lang, &id, f, p).await
}

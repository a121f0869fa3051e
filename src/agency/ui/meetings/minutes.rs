//! `GET/POST /meetings/{id}/minutes`: the organiser writes the minutes on
//! the national sample's items (those of `examples/minutes.toml`) and
//! shares them: in full to the invitees that attended, as an excerpt (their
//! role, the lead, the next review) to others — the same envelopes as the
//! CLI's `meeting minutes`, each checked by the hub under the basis.

use crate::agency::ui::meetings::form::Posted;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::form::{Fields, Problems, bases, basis, categories, chosen_categories, outcome};
use super::known;
use crate::agency::Node;
use crate::agency::meetings::{MeetingView, Sharing, minutes_drafts};
use crate::agency::ui::UiState;
use crate::agency::ui::auth::SignedIn;
use crate::agency::ui::error::PageError;
use crate::agency::ui::lang::{Chrome, PageLang};
use crate::i18n::Lang;
use crate::protocol::day::{Day, parse_local, show_local};
use crate::protocol::meeting::{Attendee, Level, Minutes, Role};
use crate::protocol::{AgencyId, InfoCategory, Timestamp};

/// An agency at the table (the organiser, then each invitee).
pub struct Seat {
    pub index: usize,
    pub id: String,
    pub name: String,
    /// An invitee (may receive the minutes), not the organiser.
    pub invitee: bool,
    pub attends: bool,
}

#[derive(Template)]
#[template(path = "ui/meeting_minutes.html")]
struct MinutesPage {
    chrome: Chrome,
    id: String,
    title: String,
    seats: Vec<Seat>,
    levels: Vec<(&'static str, &'static str)>,
    categories: Vec<(String, &'static str)>,
    bases: Vec<(&'static str, &'static str)>,
    v: Fields,
    problems: Problems,
    refusal: Option<String>,
    /// The form is offered (this node organises an open meeting).
    open: bool,
}

impl MinutesPage {
    fn checked(&self, name: &str, value: &str) -> bool {
        self.v.all(name).contains(&value)
    }
}

fn seats(node: &Node, m: &MeetingView) -> Vec<Seat> {
    let attending = m.attending();
    std::iter::once((&m.organiser, false))
        .chain(m.invitees.iter().map(|i| (&i.agency, true)))
        .enumerate()
        .map(|(index, (a, invitee))| Seat {
            index,
            id: a.to_string(),
            name: node.directory().name_of(a.as_str()),
            invitee,
            attends: attending.contains(a),
        })
        .collect()
}

fn page(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    m: &MeetingView,
    v: Fields,
    problems: Problems,
) -> MinutesPage {
    MinutesPage {
        chrome: signed.chrome(lang),
        id: m.meeting_id.to_string(),
        title: format!("{} {}", m.kind.label(lang), show_local(m.starts_at)),
        seats: seats(&state.node, m),
        levels: [Level::High, Level::Medium, Level::Low]
            .iter()
            .map(|l| (l.as_str(), l.label(lang)))
            .collect(),
        categories: categories(lang),
        bases: bases(lang),
        v,
        problems,
        refusal: None,
        open: &m.organiser == state.node.id() && m.cancelled.is_none(),
    }
}

/// Why this node may not minute the meeting, if so.
fn not_ours(state: &UiState, m: &MeetingView, problems: &mut Problems, lang: Lang) {
    if &m.organiser != state.node.id() {
        problems.add(
            "meeting",
            lang.pick(
                "会議録を送れるのは開催機関だけです。会議録は開催機関から届きます。",
                "Only the organiser shares the minutes; they come from the organiser.",
            ),
        );
    } else if m.cancelled.is_some() {
        problems.add(
            "meeting",
            lang.pick(
                "この会議は中止されたため、会議録は送れません。",
                "This meeting was cancelled: it has no minutes.",
            ),
        );
    }
}

/// The form, filled with what the meeting already says: its time and
/// place, the organiser as lead, the full minutes to those that attend and
/// an excerpt to the others.
pub async fn form(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let m = known(&state, &id).await?;
    let mut problems = Problems::default();
    not_ours(&state, &m, &mut problems, lang);
    let mut v = vec![
        (
            "held_at".into(),
            show_local(m.starts_at).replacen(' ', "T", 1),
        ),
        ("place".into(), m.invitation.place.clone()),
        ("lead".into(), m.organiser.to_string()),
        ("basis".into(), "consent".into()),
        ("excerpt_categories".into(), "basic".into()),
    ];
    for s in seats(&state.node, &m).iter().filter(|s| s.invitee) {
        let to = if s.attends { "full_to" } else { "excerpt_to" };
        v.push((to.into(), s.id.clone()));
    }
    let page = page(&state, &signed, lang, &m, Fields(v), problems);
    Ok(Html(page.render()?))
}

fn optional_day(f: &Fields, name: &'static str, lang: Lang, p: &mut Problems) -> Option<Day> {
    let text = f.get(name);
    if text.is_empty() {
        return None;
    }
    let day = text.parse::<Day>().ok();
    if day.is_none() {
        p.add(
            name,
            lang.pick(
                "日付は 2027-03-01 のように入力してください。",
                "Write the date as 2027-03-01.",
            ),
        );
    }
    day
}

fn held_at(f: &Fields, lang: Lang, p: &mut Problems) -> Option<Timestamp> {
    let text = f.get("held_at");
    if text.is_empty() {
        return None;
    }
    let at = parse_local(text).ok();
    if at.is_none() {
        p.add(
            "held_at",
            lang.pick(
                "開催日時は「2026-12-03 14:00」の形（日本時間）で入力してください。",
                "Write the time as \"2026-12-03 14:00\" (JST).",
            ),
        );
    }
    at
}

/// The minutes as written on the form.
fn written(f: &Fields, seats: &[Seat], lang: Lang, p: &mut Problems) -> Minutes {
    let mut attendees = Vec::new();
    let mut roles = Vec::new();
    for s in seats {
        let Ok(agency) = s.id.parse::<AgencyId>() else {
            continue;
        };
        let name = f.get(&format!("att{}_name", s.index));
        if !name.is_empty() {
            attendees.push(Attendee {
                agency: agency.clone(),
                role: f.get(&format!("att{}_role", s.index)).to_owned(),
                name: name.to_owned(),
            });
        }
        let task = f.get(&format!("role{}", s.index));
        if !task.is_empty() {
            roles.push(Role {
                agency,
                task: task.to_owned(),
            });
        }
    }
    let lead = seats
        .iter()
        .find(|s| s.id == f.get("lead"))
        .and_then(|s| s.id.parse().ok());
    Minutes {
        held_at: held_at(f, lang, p),
        place: f.get("place").to_owned(),
        attendees,
        case_summary: f.get("case_summary").to_owned(),
        information_shared: f.get("information_shared").to_owned(),
        risk: Level::parse(f.get("risk")),
        urgency: Level::parse(f.get("urgency")),
        assessment: f.get("assessment").to_owned(),
        decisions: f.lines("decisions"),
        lead,
        lead_contact: f.get("lead_contact").to_owned(),
        key_person: f.get("key_person").to_owned(),
        roles,
        next_support: f.get("next_support").to_owned(),
        next_review: optional_day(f, "next_review", lang, p),
        categories: chosen_categories(f, "categories", lang, p),
    }
}

/// The invitees ticked in `name`.
fn ticked(f: &Fields, seats: &[Seat], name: &str) -> Vec<AgencyId> {
    seats
        .iter()
        .filter(|s| s.invitee && f.all(name).contains(&s.id.as_str()))
        .filter_map(|s| s.id.parse().ok())
        .collect()
}

/// Check the form, then send the full minutes and each excerpt in turn; the
/// first refusal stops and is shown, with what had already gone.
#[tracing::instrument(skip_all, fields(meeting = %id))]
pub async fn submit(
    State(state): State<UiState>,
    Path(id): Path<String>,
    Posted { signed, lang, f }: Posted,
) -> Result<Response, PageError> {
    let m = known(&state, &id).await?;
    let mut p = Problems::default();
    not_ours(&state, &m, &mut p, lang);
    let seats = seats(&state.node, &m);
    let minutes = written(&f, &seats, lang, &mut p);
    let full_to = ticked(&f, &seats, "full_to");
    let excerpt_to = ticked(&f, &seats, "excerpt_to");
    if full_to.is_empty() && excerpt_to.is_empty() {
        p.add(
            "full_to",
            lang.pick(
                "送り先がありません。全文または抜粋を送る機関を選んでください。",
                "Nobody to send to: choose who gets the full minutes or an excerpt.",
            ),
        );
    } else if full_to.iter().any(|a| excerpt_to.contains(a)) {
        p.add(
            "full_to",
            lang.pick(
                "同じ機関に全文と抜粋の両方は送れません。どちらか一方を選んでください。",
                "An agency gets the full minutes or an excerpt, not both.",
            ),
        );
    }
    let excerpt_categories: Vec<InfoCategory> = match excerpt_to.is_empty() {
        true => vec![],
        false => chosen_categories(&f, "excerpt_categories", lang, &mut p),
    };
    let chosen = basis(&f, lang, &mut p);
    let (Some((basis, justification)), true) = (chosen, p.is_empty()) else {
        let page = page(&state, &signed, lang, &m, f, p);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    };
    let sharing = Sharing {
        basis,
        justification,
        author: signed.member.author(),
    };
    let drafts = minutes_drafts(
        &m,
        &minutes,
        full_to,
        &excerpt_to,
        &excerpt_categories,
        &sharing,
    );
    let mut queued = false;
    for (i, draft) in drafts.iter().enumerate() {
        match outcome(&state.node, state.node.send(draft).await, lang) {
            Ok(stored) => queued |= !stored,
            Err(why) => {
                let why = match i {
                    0 => why,
                    _ => format!(
                        "{why}\n{}",
                        lang.pick(
                            "（これより前の宛先には送信済みです。残りの宛先だけを選んで送り直してください。）",
                            "(The ones before it were sent: choose only the rest and send again.)",
                        )
                    ),
                };
                let mut page = page(&state, &signed, lang, &m, f, Problems::default());
                page.refusal = Some(why);
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
            }
        }
    }
    let queued = if queued { "&queued=1" } else { "" };
    let to = format!("/meetings/{}?done=minuted{queued}", m.meeting_id);
    Ok(Redirect::to(&to).into_response())
}

//! `GET /meetings/new` and its POST: schedule a meeting — its case, kind,
//! time (JST), place, agenda, the invitees chosen by name from the
//! directory, the categories it discloses and the legal basis (as the
//! CLI's `meeting schedule`). Bad input is named at its field and nothing
//! is sent; the hub's refusal is shown with agencies by name.

use crate::agency::ui::meetings::form::Posted;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::form::{
    Fields, Problems, agencies, bases, basis, categories, chosen_categories, others, outcome,
};
use crate::agency::meetings::{Sharing, invitation_draft};
use crate::agency::ui::UiState;
use crate::agency::ui::auth::SignedIn;
use crate::agency::ui::error::PageError;
use crate::agency::ui::lang::{Chrome, PageLang};
use crate::i18n::Lang;
use crate::protocol::day::{parse_local, show_local};
use crate::protocol::meeting::{Expectation, Invitation, MeetingKind, MeetingSchedule};
use crate::protocol::{CaseId, MeetingId, Timestamp};

/// The longest meeting the hub accepts, in minutes.
const MAX_MINUTES: u32 = 24 * 60;

/// The start, from `at` (`YYYY-MM-DDTHH:MM` or `YYYY-MM-DD HH:MM`, JST),
/// which must be to come.
pub fn starts_at(f: &Fields, lang: Lang, problems: &mut Problems) -> Option<Timestamp> {
    let text = f.get("at");
    let Ok(at) = parse_local(text) else {
        problems.add(
            "at",
            match text.is_empty() {
                true => lang.pick(
                    "開始日時を入力してください（日本時間）。",
                    "Enter the start time (JST).",
                ),
                false => lang.pick(
                    "開始日時は「2026-12-03 14:00」の形（日本時間）で入力してください。",
                    "Write the start as \"2026-12-03 14:00\" (JST).",
                ),
            },
        );
        return None;
    };
    if at <= Timestamp::now() {
        let said = match lang {
            Lang::Ja => format!(
                "開始日時 {} は過ぎています。これからの日時を指定してください。",
                show_local(at)
            ),
            Lang::En => format!(
                "The start {} (JST) has passed: choose a time to come.",
                show_local(at)
            ),
        };
        problems.add("at", said);
        return None;
    }
    Some(at)
}

/// The length in minutes, 1 to 24 hours.
pub fn duration(f: &Fields, lang: Lang, problems: &mut Problems) -> Option<u32> {
    match f.get("minutes").parse::<u32>() {
        Ok(m) if (1..=MAX_MINUTES).contains(&m) => Some(m),
        _ => {
            problems.add(
                "minutes",
                lang.pick(
                    "時間は1分から1440分（24時間）までの数で入力してください。",
                    "Enter the length as a number of minutes from 1 to 1440.",
                ),
            );
            None
        }
    }
}

#[derive(Template)]
#[template(path = "ui/meeting_new.html")]
struct NewPage {
    chrome: Chrome,
    kinds: Vec<(&'static str, &'static str)>,
    agencies: Vec<(String, String)>,
    categories: Vec<(String, &'static str)>,
    bases: Vec<(&'static str, &'static str)>,
    /// What was entered (kept when the form comes back).
    v: Fields,
    problems: Problems,
    refusal: Option<String>,
    queued: bool,
}

impl NewPage {
    fn checked(&self, name: &str, value: &str) -> bool {
        self.v.all(name).contains(&value)
    }
}

fn page(
    signed: &SignedIn,
    lang: Lang,
    node: &crate::agency::Node,
    v: Fields,
    problems: Problems,
) -> NewPage {
    NewPage {
        chrome: signed.chrome(lang),
        kinds: MeetingKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label(lang)))
            .collect(),
        agencies: others(node),
        categories: categories(lang),
        bases: bases(lang),
        v,
        problems,
        refusal: None,
        queued: false,
    }
}

#[derive(Deserialize)]
pub struct NewQuery {
    case: Option<String>,
}

/// The empty form (the case filled in when linked from a case).
pub async fn form(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Query(q): Query<NewQuery>,
) -> Result<Html<String>, PageError> {
    let v = Fields(vec![
        ("case".into(), q.case.unwrap_or_default()),
        ("minutes".into(), "60".into()),
        ("kind".into(), MeetingKind::IndividualCase.as_str().into()),
        ("basis".into(), "consent".into()),
    ]);
    let page = page(&signed, lang, &state.node, v, Problems::default());
    Ok(Html(page.render()?))
}

fn case(f: &Fields, lang: Lang, problems: &mut Problems) -> Option<CaseId> {
    match f.get("case").parse::<CaseId>() {
        Ok(c) => Some(c),
        Err(_) => {
            problems.add(
                "case",
                match f.get("case").is_empty() {
                    true => lang.pick("ケースIDを入力してください。", "Enter the case id."),
                    false => lang.pick(
                        "ケースIDの形式が正しくありません。ケースの画面に表示される ID を貼り付けてください。",
                        "That is not a case id: paste the id shown on the case's page.",
                    ),
                },
            );
            None
        }
    }
}

/// Check the form, then send the invitation signed by the member.
#[tracing::instrument(skip_all)]
pub async fn submit(
    State(state): State<UiState>,
    Posted { signed, lang, f }: Posted,
) -> Result<Response, PageError> {
    let node = &state.node;
    let mut problems = Problems::default();
    let case = case(&f, lang, &mut problems);
    let kind = MeetingKind::parse(f.get("kind"));
    if kind.is_none() {
        problems.add(
            "kind",
            lang.pick(
                "会議の種類を選んでください。",
                "Choose the kind of meeting.",
            ),
        );
    }
    let at = starts_at(&f, lang, &mut problems);
    let minutes = duration(&f, lang, &mut problems);
    let invite = agencies(node, &f, "invite");
    if invite.is_empty() {
        problems.add(
            "invite",
            lang.pick(
                "招待する機関を1つ以上選んでください。",
                "Choose at least one agency to invite.",
            ),
        );
    }
    let cats = chosen_categories(&f, "categories", lang, &mut problems);
    let chosen_basis = basis(&f, lang, &mut problems);
    let (Some(case), Some(kind), Some(at), Some(minutes), Some((basis, justification)), true) =
        (case, kind, at, minutes, chosen_basis, problems.is_empty())
    else {
        let page = page(&signed, lang, node, f, problems);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    };
    let meeting = MeetingSchedule {
        meeting_id: MeetingId::new(),
        kind,
        more_cases: vec![],
        starts_at: at,
        duration_minutes: minutes,
    };
    let id = meeting.meeting_id;
    let invitation = Invitation {
        place: f.get("place").to_owned(),
        online: Some(f.get("online").to_owned()).filter(|o| !o.is_empty()),
        agenda: f.get("agenda").to_owned(),
        expectations: invite
            .iter()
            .filter_map(|a| {
                let text = f.get(&format!("expect_{a}"));
                (!text.is_empty()).then(|| Expectation {
                    agency: a.clone(),
                    text: text.to_owned(),
                })
            })
            .collect(),
        note: String::new(),
        categories: cats,
    };
    let sharing = Sharing {
        basis,
        justification,
        author: signed.member.author(),
    };
    let draft = invitation_draft(&case, meeting, invite, invitation, &sharing);
    match outcome(node, node.send(&draft).await, lang) {
        Ok(true) => Ok(Redirect::to(&format!("/meetings/{id}?done=scheduled")).into_response()),
        // Not yet a meeting: it is one once the hub takes the invitation.
        Ok(false) => {
            let mut page = page(&signed, lang, node, Fields(vec![]), Problems::default());
            page.queued = true;
            Ok(Html(page.render()?).into_response())
        }
        Err(why) => {
            let mut page = page(&signed, lang, node, f, Problems::default());
            page.refusal = Some(why);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
    }
}

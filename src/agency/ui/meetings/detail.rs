//! One meeting (`GET /meetings/{id}`): details, invitees and their answers
//! (a fragment the page's script fetches again when something arrives),
//! the minutes held, and the forms open to this agency — answer as an
//! invitee; move, cancel and minute as the organiser.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::form::{Posted, Problems, outcome};
use super::schedule::{duration, starts_at};
use super::{known, status};
use crate::agency::meetings::{
    HeldMinutes, MeetingView, answer_draft, cancel_draft, reschedule_draft,
};
use crate::agency::staff::Viewed;
use crate::agency::ui::UiState;
use crate::agency::ui::auth::{SignedIn, Watching};
use crate::agency::ui::error::PageError;
use crate::agency::ui::lang::{Chrome, PageLang};
use crate::agency::{Draft, Node};
use crate::directory::Directory;
use crate::i18n::Lang;
use crate::protocol::AgencyId;
use crate::protocol::day::show_local;
use crate::protocol::meeting::{Answer, Attendance, Invitation, Level, Minutes, Role};

/// An invitee and its answer as shown.
pub struct InviteeRow {
    pub agency: String,
    pub answer: String,
    pub answered: bool,
    pub attendee: String,
    pub note: String,
}

/// The answers fragment.
#[derive(Template)]
#[template(path = "ui/meeting_answers.html")]
pub struct Answers {
    pub lang: Lang,
    pub rows: Vec<InviteeRow>,
}

/// A minutes field as shown: its label and its text (untrusted: escaped).
pub struct Line {
    pub label: &'static str,
    pub text: String,
}

/// The minutes held, field by field.
pub struct MinutesView {
    pub full: bool,
    pub lines: Vec<Line>,
}

#[derive(Template)]
#[template(path = "ui/meeting.html")]
struct MeetingPage {
    chrome: Chrome,
    id: String,
    kind: String,
    when: String,
    duration: u32,
    case_id: String,
    more_cases: Vec<String>,
    organiser: String,
    status: &'static str,
    cancelled: Option<String>,
    moved: Option<String>,
    invitation: Invitation,
    expectations: Vec<(String, String)>,
    /// The answers, as the fragment shows them.
    lang: Lang,
    rows: Vec<InviteeRow>,
    minutes: Option<MinutesView>,
    organising: bool,
    invited: bool,
    open: bool,
    /// `YYYY-MM-DDTHH:MM`, for the move form.
    at_value: String,
    done: Option<&'static str>,
    refusal: Option<String>,
    problems: Problems,
}

fn answer_rows(node: &Node, m: &MeetingView, lang: Lang) -> Answers {
    let rows = m
        .invitees
        .iter()
        .map(|i| {
            let answer = i.answer.clone().unwrap_or_default();
            let attendee = match answer.attendee_name.is_empty() {
                true => String::new(),
                false if answer.attendee_role.is_empty() => answer.attendee_name.clone(),
                false => format!("{}（{}）", answer.attendee_name, answer.attendee_role),
            };
            InviteeRow {
                agency: node.directory().name_of(i.agency.as_str()),
                answer: i
                    .attendance
                    .map_or(lang.pick("未回答", "No answer yet"), |a| a.label(lang))
                    .to_owned(),
                answered: i.attendance.is_some(),
                attendee,
                note: answer.note,
            }
        })
        .collect();
    Answers { lang, rows }
}

fn named(d: &Directory, a: &AgencyId) -> String {
    d.name_of(a.as_str())
}

fn roles_text(d: &Directory, roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| format!("{}: {}", named(d, &r.agency), r.task))
        .collect::<Vec<_>>()
        .join("\n")
}

fn level(l: Option<Level>, lang: Lang) -> String {
    l.map_or("—", |l| l.label(lang)).to_owned()
}

fn minutes_view(d: &Directory, m: &Minutes, lang: Lang) -> Vec<Line> {
    let t = |ja, en| lang.pick(ja, en);
    let attendees = m
        .attendees
        .iter()
        .map(|a| format!("{} {}（{}）", named(d, &a.agency), a.name, a.role))
        .collect::<Vec<_>>()
        .join("\n");
    vec![
        Line {
            label: t("開催日時", "Held at"),
            text: m.held_at.map(show_local).unwrap_or_default(),
        },
        Line {
            label: t("場所", "Place"),
            text: m.place.clone(),
        },
        Line {
            label: t("出席者", "Attendees"),
            text: attendees,
        },
        Line {
            label: t("ケースの概要", "Case summary"),
            text: m.case_summary.clone(),
        },
        Line {
            label: t("共有された情報", "Information shared"),
            text: m.information_shared.clone(),
        },
        Line {
            label: t(
                "アセスメント（危険度・緊急度）",
                "Assessment (risk, urgency)",
            ),
            text: format!(
                "{} {} / {} {}\n{}",
                t("危険度", "risk"),
                level(m.risk, lang),
                t("緊急度", "urgency"),
                level(m.urgency, lang),
                m.assessment
            ),
        },
        Line {
            label: t("決定事項", "Decisions"),
            text: m.decisions.join("\n"),
        },
        Line {
            label: t("主担当機関・連絡先", "Lead agency and contact"),
            text: m.lead.as_ref().map_or_else(String::new, |l| {
                format!("{} {}", named(d, l), m.lead_contact)
            }),
        },
        Line {
            label: t("キーパーソン", "Key person"),
            text: m.key_person.clone(),
        },
        Line {
            label: t("役割分担", "Roles"),
            text: roles_text(d, &m.roles),
        },
        Line {
            label: t("次期までの支援", "Support until the next review"),
            text: m.next_support.clone(),
        },
        Line {
            label: t("次回・見直し日", "Next review"),
            text: m.next_review.map(|d| d.to_string()).unwrap_or_default(),
        },
    ]
}

fn held_minutes(d: &Directory, m: &MeetingView, lang: Lang) -> Option<MinutesView> {
    let t = |ja, en| lang.pick(ja, en);
    match m.minutes.as_ref()? {
        HeldMinutes::Full(minutes) => Some(MinutesView {
            full: true,
            lines: minutes_view(d, minutes, lang),
        }),
        HeldMinutes::Excerpt(e) => Some(MinutesView {
            full: false,
            lines: vec![
                Line {
                    label: t("開催日時", "Held at"),
                    text: e.held_at.map(show_local).unwrap_or_default(),
                },
                Line {
                    label: t("この機関の役割", "Our role"),
                    text: roles_text(d, &e.roles),
                },
                Line {
                    label: t("主担当機関・連絡先", "Lead agency and contact"),
                    text: e.lead.as_ref().map_or_else(String::new, |l| {
                        format!("{} {}", named(d, l), e.lead_contact)
                    }),
                },
                Line {
                    label: t("次回・見直し日", "Next review"),
                    text: e.next_review.map(|d| d.to_string()).unwrap_or_default(),
                },
            ],
        }),
    }
}

/// What a redirect after a send says.
fn done_text(done: &str, queued: bool, lang: Lang) -> Option<&'static str> {
    if queued {
        return Some(lang.pick(
            "ハブに接続できないため送信待ちです（接続が戻りしだい自動で送ります）。",
            "Waiting to be sent: the hub cannot be reached (it is sent as soon as it can be).",
        ));
    }
    Some(match done {
        "scheduled" => lang.pick("会議の案内を送りました。", "The invitation was sent."),
        "answered" => lang.pick("出欠を回答しました。", "Your answer was sent."),
        "moved" => lang.pick(
            "日程の変更を招待したすべての機関に送りました。",
            "The new time was sent to every invitee.",
        ),
        "cancelled" => lang.pick(
            "中止を招待したすべての機関に送りました。",
            "The cancellation was sent to every invitee.",
        ),
        "minuted" => lang.pick("会議録を送りました。", "The minutes were sent."),
        _ => return None,
    })
}

#[derive(Deserialize)]
pub struct Flash {
    done: Option<String>,
    queued: Option<String>,
}

/// What the page shows besides the meeting: a flash, a refusal, problems.
struct Said {
    done: Option<&'static str>,
    refusal: Option<String>,
    problems: Problems,
}

async fn render(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    m: MeetingView,
    said: Said,
) -> Result<Html<String>, PageError> {
    let node = &state.node;
    let id = m.meeting_id.to_string();
    signed.viewed(state, Viewed::Meeting, &id).await?;
    let d = node.directory();
    let when = show_local(m.starts_at);
    let page = MeetingPage {
        chrome: signed.chrome(lang),
        kind: m.kind.label(lang).to_owned(),
        at_value: when.replacen(' ', "T", 1),
        when,
        duration: m.duration_minutes,
        case_id: m.case_id.to_string(),
        more_cases: m.more_cases.iter().map(ToString::to_string).collect(),
        organiser: d.name_of(m.organiser.as_str()),
        status: status(&m, lang),
        moved: m.moved.clone().filter(|w| !w.is_empty()),
        expectations: m
            .invitation
            .expectations
            .iter()
            .map(|e| (named(d, &e.agency), e.text.clone()))
            .collect(),
        lang,
        rows: answer_rows(node, &m, lang).rows,
        minutes: held_minutes(d, &m, lang),
        organising: &m.organiser == node.id(),
        invited: m.invitees.iter().any(|i| &i.agency == node.id()),
        open: m.cancelled.is_none(),
        cancelled: m.cancelled,
        invitation: m.invitation,
        id,
        done: said.done,
        refusal: said.refusal,
        problems: said.problems,
    };
    Ok(Html(page.render()?))
}

/// The meeting page; every view is written to the access log first.
#[tracing::instrument(skip_all, fields(meeting = %id))]
pub async fn page(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Html<String>, PageError> {
    let m = known(&state, &id).await?;
    let said = Said {
        done: flash
            .done
            .as_deref()
            .and_then(|d| done_text(d, flash.queued.is_some(), lang)),
        refusal: None,
        problems: Problems::default(),
    };
    render(&state, &signed, lang, m, said).await
}

/// The answers alone, for the page's live refresh (not counted as
/// activity; the page view that shows them is in the access log).
pub async fn answers_fragment(
    state: &UiState,
    id: &str,
    lang: Lang,
) -> Result<Html<String>, PageError> {
    let m = known(state, id).await?;
    Ok(Html(answer_rows(&state.node, &m, lang).render()?))
}

pub async fn answers(
    State(state): State<UiState>,
    _watching: Watching,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    answers_fragment(&state, &id, lang).await
}

/// The page again, 422, with what is wrong or why the hub refused.
async fn refused(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    m: MeetingView,
    said: Said,
) -> Result<Response, PageError> {
    let html = render(state, signed, lang, m, said).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}

/// Send one draft; back to the page with `done`, or the page with the
/// hub's reason.
async fn send(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    m: MeetingView,
    draft: Draft,
    done: &str,
) -> Result<Response, PageError> {
    match outcome(&state.node, state.node.send(&draft).await, lang) {
        Ok(stored) => {
            let queued = if stored { "" } else { "&queued=1" };
            let to = format!("/meetings/{}?done={done}{queued}", m.meeting_id);
            Ok(Redirect::to(&to).into_response())
        }
        Err(why) => {
            let said = Said {
                done: None,
                refusal: Some(why),
                problems: Problems::default(),
            };
            refused(state, signed, lang, m, said).await
        }
    }
}

fn cancelled_problem(problems: &mut Problems, lang: Lang) {
    problems.add(
        "meeting",
        lang.pick(
            "この会議は中止されたため、回答・変更・会議録はできません。何も送っていません。必要なら新しい会議を開いてください。",
            "This meeting was cancelled: it takes no answer, change or minutes. Nothing was sent. Schedule a new meeting if needed.",
        ),
    );
}

/// 出席 / 代理出席 / 欠席, with who comes and a note, to the organiser.
#[tracing::instrument(skip_all, fields(meeting = %id))]
pub async fn answer(
    State(state): State<UiState>,
    Path(id): Path<String>,
    Posted { signed, lang, f }: Posted,
) -> Result<Response, PageError> {
    let m = known(&state, &id).await?;
    let mut problems = Problems::default();
    if m.cancelled.is_some() {
        cancelled_problem(&mut problems, lang);
    } else if !m.invitees.iter().any(|i| &i.agency == state.node.id()) {
        problems.add(
            "meeting",
            lang.pick(
                "この機関はこの会議に招待されていないため、回答できません。",
                "This agency is not invited to this meeting, so it cannot answer.",
            ),
        );
    }
    let attendance = Attendance::parse(f.get("attendance"));
    match attendance {
        None => problems.add(
            "attendance",
            lang.pick(
                "出席・代理出席・欠席のどれかを選んでください。",
                "Choose attend, proxy or decline.",
            ),
        ),
        Some(a) if a.attends() && f.get("attendee_name").is_empty() => problems.add(
            "attendee_name",
            lang.pick(
                "出席・代理出席では、出席する人の氏名を書いてください。",
                "Name who attends.",
            ),
        ),
        Some(_) => {}
    }
    let Some(attendance) = attendance.filter(|_| problems.is_empty()) else {
        return refused(&state, &signed, lang, m, form_said(problems)).await;
    };
    let answer = Answer {
        attendee_name: f.get("attendee_name").to_owned(),
        attendee_role: f.get("attendee_role").to_owned(),
        note: f.get("note").to_owned(),
    };
    let draft = answer_draft(&m, attendance, answer, &signed.member.author());
    send(&state, &signed, lang, m, draft, "answered").await
}

fn form_said(problems: Problems) -> Said {
    Said {
        done: None,
        refusal: None,
        problems,
    }
}

/// Only the organiser moves, cancels or minutes its meeting.
fn organiser_only(state: &UiState, m: &MeetingView, problems: &mut Problems, lang: Lang) {
    if &m.organiser != state.node.id() {
        problems.add(
            "meeting",
            lang.pick(
                "日程の変更・中止・会議録は開催機関だけができます。開催機関に依頼してください。",
                "Only the organiser moves, cancels or minutes a meeting: ask the organiser.",
            ),
        );
    } else if m.cancelled.is_some() {
        cancelled_problem(problems, lang);
    }
}

/// A new time (and length, place), with why, to every invitee.
#[tracing::instrument(skip_all, fields(meeting = %id))]
pub async fn reschedule(
    State(state): State<UiState>,
    Path(id): Path<String>,
    Posted { signed, lang, f }: Posted,
) -> Result<Response, PageError> {
    let m = known(&state, &id).await?;
    let mut problems = Problems::default();
    organiser_only(&state, &m, &mut problems, lang);
    let at = starts_at(&f, lang, &mut problems);
    let minutes = duration(&f, lang, &mut problems);
    let (Some(at), Some(minutes), true) = (at, minutes, problems.is_empty()) else {
        return refused(&state, &signed, lang, m, form_said(problems)).await;
    };
    let place = match f.get("place") {
        "" => m.invitation.place.clone(),
        p => p.to_owned(),
    };
    let invitation = Invitation {
        place,
        note: f.get("note").to_owned(),
        ..m.invitation.clone()
    };
    let draft = reschedule_draft(&m, at, minutes, invitation, &signed.member.author());
    send(&state, &signed, lang, m, draft, "moved").await
}

/// Cancel, telling every invitee why.
#[tracing::instrument(skip_all, fields(meeting = %id))]
pub async fn cancel(
    State(state): State<UiState>,
    Path(id): Path<String>,
    Posted { signed, lang, f }: Posted,
) -> Result<Response, PageError> {
    let m = known(&state, &id).await?;
    let mut problems = Problems::default();
    organiser_only(&state, &m, &mut problems, lang);
    if f.get("note").is_empty() {
        problems.add(
            "cancel_note",
            lang.pick(
                "中止の理由を書いてください（招待したすべての機関に届きます）。",
                "Write why it is cancelled (every invitee is told).",
            ),
        );
    }
    if !problems.is_empty() {
        return refused(&state, &signed, lang, m, form_said(problems)).await;
    }
    let draft = cancel_draft(&m, f.get("note").to_owned(), &signed.member.author());
    send(&state, &signed, lang, m, draft, "cancelled").await
}

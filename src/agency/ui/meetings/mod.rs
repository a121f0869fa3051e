//! Case meetings: `GET /meetings` (upcoming and past, as a list and a month
//! calendar), scheduling (`/meetings/new`), one meeting with its answers,
//! the answer, move and cancel forms and the minutes (`/meetings/{id}`).
//! Built on `agency::meetings`, as the CLI's `agency meeting` is; every
//! send is signed by the logged-in member.

mod detail;
pub(in crate::agency::ui) mod form;
mod minutes;
pub(in crate::agency::ui) mod schedule;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::{get, post};
use serde::Deserialize;

use super::UiState;
use super::auth::SignedIn;
use super::error::PageError;
use super::lang::{Chrome, PageLang};
use crate::agency::Node;
use crate::agency::meetings::{self as agenda, MeetingView};
use crate::i18n::Lang;
use crate::protocol::day::{Day, JST, show_local};
use crate::protocol::{MeetingId, Timestamp};

/// The meeting screens' routes.
pub fn routes() -> Router<UiState> {
    Router::new()
        .route("/meetings", get(list))
        .route("/meetings/new", get(schedule::form).post(schedule::submit))
        .route("/meetings/{id}", get(detail::page))
        .route("/meetings/{id}/answers", get(detail::answers))
        .route("/meetings/{id}/answer", post(detail::answer))
        .route("/meetings/{id}/reschedule", post(detail::reschedule))
        .route("/meetings/{id}/cancel", post(detail::cancel))
        .route(
            "/meetings/{id}/minutes",
            get(minutes::form).post(minutes::submit),
        )
}

/// One meeting in the list and the calendar.
pub struct Item {
    pub id: String,
    pub when: String,
    /// `HH:MM`, for the calendar.
    pub time: String,
    pub kind: String,
    pub case_id: String,
    pub place: String,
    pub organiser: String,
    pub status: String,
    pub cancelled: bool,
    /// This agency's part: organiser (with the answers so far) or its answer.
    pub ours: String,
}

/// Where the meeting stands, in the staff's words.
pub fn status(m: &MeetingView, lang: Lang) -> &'static str {
    match (&m.cancelled, &m.minutes) {
        (Some(_), _) => lang.pick("中止", "Cancelled"),
        (None, Some(_)) => lang.pick("会議録あり", "Minuted"),
        (None, None) => lang.pick("開催予定", "Scheduled"),
    }
}

/// This agency's part in a meeting.
fn ours(node: &Node, m: &MeetingView, lang: Lang) -> String {
    if &m.organiser == node.id() {
        let answered = m.invitees.iter().filter(|i| i.attendance.is_some()).count();
        return match lang {
            Lang::Ja => format!(
                "開催機関（出席 {}・回答 {answered}/{}）",
                m.attending().len(),
                m.invitees.len()
            ),
            Lang::En => format!(
                "Organiser ({} attending, {answered}/{} answered)",
                m.attending().len(),
                m.invitees.len()
            ),
        };
    }
    m.invitees
        .iter()
        .find(|i| &i.agency == node.id())
        .and_then(|i| i.attendance)
        .map_or(lang.pick("未回答", "Not answered"), |a| a.label(lang))
        .to_owned()
}

fn item(node: &Node, m: &MeetingView, lang: Lang) -> Item {
    let when = show_local(m.starts_at);
    Item {
        id: m.meeting_id.to_string(),
        time: when.get(11..).unwrap_or_default().to_owned(),
        when,
        kind: m.kind.label(lang).to_owned(),
        case_id: m.case_id.to_string(),
        place: m.invitation.place.clone(),
        organiser: node.directory().name_of(m.organiser.as_str()),
        status: status(m, lang).to_owned(),
        cancelled: m.cancelled.is_some(),
        ours: ours(node, m, lang),
    }
}

/// A day of the month calendar (`None` before the 1st and after the last).
pub struct Cell {
    pub day: Option<u8>,
    pub today: bool,
    pub items: Vec<Item>,
}

/// The month shown: its weeks (Monday first), and its neighbours' links.
pub struct Month {
    pub title: String,
    /// Monday to Sunday.
    pub weekdays: [&'static str; 7],
    pub weeks: Vec<Vec<Cell>>,
    pub prev: String,
    pub next: String,
}

#[derive(Deserialize)]
pub struct ListQuery {
    month: Option<String>,
}

#[derive(Template)]
#[template(path = "ui/meetings.html")]
struct ListPage {
    chrome: Chrome,
    sections: [Section; 2],
    month: Month,
}

/// Upcoming or past meetings.
pub struct Section {
    pub heading: &'static str,
    pub empty: &'static str,
    pub items: Vec<Item>,
}

/// `YYYY-MM` as a month's first day; `None` when malformed.
fn month_start(text: &str) -> Option<time::Date> {
    let (y, m) = text.split_once('-')?;
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(y.parse().ok()?, month, 1).ok()
}

fn month_name(d: time::Date) -> String {
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

fn month(node: &Node, all: &[MeetingView], first: time::Date, lang: Lang) -> Month {
    let today = Timestamp::now().datetime().to_offset(JST).date();
    let days = first.month().length(first.year());
    let lead = first.weekday().number_days_from_monday();
    let mut cells: Vec<Cell> = (0..lead)
        .map(|_| Cell {
            day: None,
            today: false,
            items: vec![],
        })
        .collect();
    for d in 1..=days {
        let date = first.replace_day(d).unwrap_or(first);
        let items = all
            .iter()
            .filter(|m| m.starts_at.datetime().to_offset(JST).date() == date)
            .map(|m| item(node, m, lang))
            .collect();
        cells.push(Cell {
            day: Some(d),
            today: date == today,
            items,
        });
    }
    while !cells.len().is_multiple_of(7) {
        cells.push(Cell {
            day: None,
            today: false,
            items: vec![],
        });
    }
    let mut weeks = Vec::new();
    let mut cells = cells.into_iter().peekable();
    while cells.peek().is_some() {
        weeks.push(cells.by_ref().take(7).collect());
    }
    let prev = first
        .previous_day()
        .map_or(first, |d| d.replace_day(1).unwrap_or(d));
    let next = first
        .replace_day(days)
        .ok()
        .and_then(|d| d.next_day())
        .unwrap_or(first);
    Month {
        title: match lang {
            Lang::Ja => format!("{}年{}月", first.year(), u8::from(first.month())),
            Lang::En => format!("{} {}", first.month(), first.year()),
        },
        weekdays: match lang {
            Lang::Ja => ["月", "火", "水", "木", "金", "土", "日"],
            Lang::En => ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        },
        weeks,
        prev: month_name(prev),
        next: month_name(next),
    }
}

/// Upcoming and past meetings this node organises or is invited to, and
/// the month calendar.
pub async fn list(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Query(q): Query<ListQuery>,
) -> Result<Html<String>, PageError> {
    let node = &state.node;
    let all = agenda::meetings(node.records(), node.id()).await?;
    let now = Timestamp::now();
    let this_month = Day::of(now).start().datetime().to_offset(JST).date();
    let first = q
        .month
        .as_deref()
        .and_then(month_start)
        .unwrap_or_else(|| this_month.replace_day(1).unwrap_or(this_month));
    let (past, upcoming): (Vec<&MeetingView>, Vec<&MeetingView>) =
        all.iter().partition(|m| m.starts_at < now);
    let page = ListPage {
        chrome: signed.chrome(lang),
        sections: [
            Section {
                heading: lang.pick("これからの会議", "Upcoming"),
                empty: lang.pick("これからの会議はありません。", "No upcoming meetings."),
                items: upcoming.iter().map(|m| item(node, m, lang)).collect(),
            },
            Section {
                heading: lang.pick("過去の会議（新しい順）", "Past, most recent first"),
                empty: lang.pick("過去の会議はありません。", "No past meetings."),
                items: past.iter().rev().map(|m| item(node, m, lang)).collect(),
            },
        ],
        month: month(node, &all, first, lang),
    };
    Ok(Html(page.render()?))
}

/// The meeting as this node knows it, or 404.
async fn known(state: &UiState, id: &str) -> Result<MeetingView, PageError> {
    let id: MeetingId = id.parse().map_err(|_| PageError::NotFound)?;
    agenda::meeting(state.node.records(), state.node.id(), id)
        .await?
        .ok_or(PageError::NotFound)
}

//! `/admin/access-log`: who viewed which record and when, for 管理者 only,
//! filtered by person, record and date (Japan days), and the same rows as a
//! CSV download. Reading it is itself written to the log (by
//! [`StaffAccounts::access_log`](crate::agency::staff::StaffAccounts::access_log)).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::UiState;
use super::auth::SignedIn;
use super::error::PageError;
use super::inbox::local_time;
use super::lang::{Chrome, PageLang};
use crate::agency::staff::{AccessEntry, Actor, Viewed, write_csv};
use crate::i18n::Lang;
use crate::protocol::Timestamp;
use crate::protocol::day::Day;

/// The most rows the page shows (newest first); the CSV has them all.
const PAGE_ROWS: usize = 500;

/// The filters, as the GET form sends them (so a filtered view survives a
/// reload and can be bookmarked).
#[derive(Deserialize, Default)]
pub struct Filters {
    /// A staff id, or empty for everyone.
    #[serde(default)]
    who: String,
    /// Part of a record id.
    #[serde(default)]
    record: String,
    /// First day (YYYY-MM-DD, Japan), inclusive.
    #[serde(default)]
    from: String,
    /// Last day, inclusive.
    #[serde(default)]
    to: String,
}

/// The filters checked: a range of instants and the rest as typed.
struct Range {
    from: Option<Timestamp>,
    to: Option<Timestamp>,
}

/// Why the dates cannot be used, at their field.
#[derive(Default)]
struct DateErrors {
    from: Option<String>,
    to: Option<String>,
}

fn day(text: &str, lang: Lang) -> Result<Option<Day>, String> {
    match text.trim() {
        "" => Ok(None),
        t => t.parse::<Day>().map(Some).map_err(|_| {
            lang.pick(
                "日付は 2026-04-01 の形で入力してください。",
                "Enter the date as 2026-04-01.",
            )
            .to_owned()
        }),
    }
}

fn range(f: &Filters, lang: Lang) -> Result<Range, DateErrors> {
    let from = day(&f.from, lang);
    let to = day(&f.to, lang);
    match (from, to) {
        (Ok(Some(a)), Ok(Some(b))) if a.days_until(b) < 0 => Err(DateErrors {
            from: None,
            to: Some(
                lang.pick(
                    "終了日は開始日と同じか、それより後の日にしてください。",
                    "The last day must be on or after the first day.",
                )
                .to_owned(),
            ),
        }),
        (Ok(from), Ok(to)) => Ok(Range {
            from: from.map(Day::start),
            to: to.map(|d| d.plus_days(1).start()),
        }),
        (from, to) => Err(DateErrors {
            from: from.err(),
            to: to.err(),
        }),
    }
}

/// The entries the filters select, oldest first.
async fn select(
    state: &UiState,
    signed: &SignedIn,
    f: &Filters,
    range: &Range,
) -> Result<Vec<AccessEntry>, PageError> {
    let entries = state
        .accounts
        .access_log(
            Actor::Staff(&signed.member),
            range.from,
            range.to,
            Timestamp::now(),
        )
        .await
        .map_err(super::admin::internal)?;
    let who = f.who.trim();
    let record = f.record.trim();
    Ok(entries
        .into_iter()
        .filter(|e| who.is_empty() || e.staff_id.to_string() == who)
        .filter(|e| record.is_empty() || e.record_id.contains(record))
        .collect())
}

struct EntryRow {
    at: String,
    name: String,
    role: &'static str,
    what: &'static str,
    record: String,
    /// Where the record opens, if it is one the UI shows.
    link: Option<String>,
}

struct WhoOption {
    id: String,
    name: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "ui/admin_log.html")]
struct LogPage {
    chrome: Chrome,
    who: Vec<WhoOption>,
    record: String,
    from: String,
    to: String,
    errors: DateErrors,
    rows: Vec<EntryRow>,
    /// How many entries matched (the page shows at most [`PAGE_ROWS`]).
    total: usize,
    /// The CSV link with the same filters.
    csv: String,
}

fn entry_row(e: AccessEntry, lang: Lang) -> EntryRow {
    let link = match e.what {
        Viewed::Envelope => Some(format!("/envelopes/{}", e.record_id)),
        _ => None,
    };
    let record = match e.what {
        Viewed::AccessLog => read_range(&e.record_id, lang),
        _ => e.record_id,
    };
    EntryRow {
        at: local_time(e.at),
        role: e.staff_role.label(lang),
        what: e.what.label(lang),
        name: e.staff_name,
        record,
        link,
    }
}

/// The range a reading of the log covered (`FROM/TO`, either empty), as
/// staff read it.
fn read_range(range: &str, lang: Lang) -> String {
    let end = |t: &str, open: &str| match t.parse::<Timestamp>() {
        Ok(t) => local_time(t),
        Err(_) => open.to_owned(),
    };
    let (from, to) = range.split_once('/').unwrap_or((range, ""));
    format!(
        "{} 〜 {}",
        end(from, lang.pick("最初", "start")),
        end(to, lang.pick("現在", "now"))
    )
}

fn query_string(f: &Filters) -> String {
    let pairs = [
        ("who", &f.who),
        ("record", &f.record),
        ("from", &f.from),
        ("to", &f.to),
    ];
    pairs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", percent(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
}

/// `text` fit for a query string.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The log, filtered, newest first.
pub async fn page(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Query(f): Query<Filters>,
) -> Result<Response, PageError> {
    signed.require_administrator()?;
    let staff = state
        .accounts
        .list()
        .await
        .map_err(super::admin::internal)?;
    let who = staff
        .into_iter()
        .map(|m| WhoOption {
            selected: m.id.to_string() == f.who.trim(),
            id: m.id.to_string(),
            name: m.name,
        })
        .collect();
    let (status, errors, entries) = match range(&f, lang) {
        Ok(r) => (
            StatusCode::OK,
            DateErrors::default(),
            select(&state, &signed, &f, &r).await?,
        ),
        Err(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors, Vec::new()),
    };
    let total = entries.len();
    let rows = entries
        .into_iter()
        .rev()
        .take(PAGE_ROWS)
        .map(|e| entry_row(e, lang))
        .collect();
    let page = LogPage {
        chrome: signed.chrome(lang),
        who,
        csv: format!("/admin/access-log.csv?{}", query_string(&f)),
        record: f.record,
        from: f.from,
        to: f.to,
        errors,
        rows,
        total,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// The same entries as a CSV download (UTF-8 with a BOM, for Excel).
pub async fn csv(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Query(f): Query<Filters>,
) -> Result<Response, PageError> {
    signed.require_administrator()?;
    let Ok(r) = range(&f, lang) else {
        // The page says which date is wrong, at its field.
        return page(State(state), signed, PageLang(lang), Query(f)).await;
    };
    let entries = select(&state, &signed, &f, &r).await?;
    let mut bytes = Vec::new();
    write_csv(&entries, &mut bytes).map_err(|e| PageError::Staff(format!("csv: {e}")))?;
    let name = format!(
        "attachment; filename=\"access-log-{}.csv\"",
        Day::of(Timestamp::now())
    );
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

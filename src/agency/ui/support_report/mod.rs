//! 事業評価 on the center's node: `GET /support/report?from=&to=` (the
//! indicators laid out as the PDCA 検証票, 様式1, with the charts; printable),
//! `GET /support/report/chart/{trend|breakdown}.{svg|png}` (the charts, served
//! same-origin for `<img src>`), and `POST /support/report/targets` (a
//! fiscal year's 目標値). Any other node answers 403.

mod targets;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::UiState;
use super::auth::SignedIn;
use super::error::{PageError, center_only};
use super::lang::{Chrome, PageLang};
use super::meetings::form::Problems;
use crate::agency::support_ledger::SupportLedgerError;
use crate::agency::support_ledger::report::charts::{self, Chart};
use crate::agency::support_ledger::report::{self, Category, DEFS, Period, PeriodError, Report};
use crate::i18n::Lang;
use crate::protocol::Timestamp;
use crate::protocol::day::Day;

/// The report's routes.
pub fn routes() -> Router<UiState> {
    Router::new()
        .route("/support/report", get(page))
        .route("/support/report/chart/{file}", get(chart))
        .route("/support/report/targets", post(targets::set))
}

/// The period as the query carries it (blank: the fiscal year to date).
#[derive(Deserialize, Default, Clone)]
pub struct PeriodQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// Set after a target was saved.
    #[serde(default)]
    saved: String,
}

impl PeriodQuery {
    /// The period asked for; blank days default to the fiscal year of today,
    /// from its first day to today.
    fn period(&self, today: Day) -> Result<Period, PeriodError> {
        let start = Period::of_fiscal_year(Period::fiscal_year_of(today))
            .map_or(today, |fy| fy.from)
            .to_string();
        let or = |text: &str, default: String| match text.trim() {
            "" => default,
            t => t.to_owned(),
        };
        Period::parse(&or(&self.from, start), &or(&self.to, today.to_string()))
    }
}

/// An indicator as the page shows it.
pub struct Line {
    pub id: &'static str,
    pub name: &'static str,
    pub definition: &'static str,
    pub numerator: &'static str,
    pub denominator: &'static str,
    pub detail: String,
    pub actual: String,
    pub target: String,
    pub achievement: String,
    pub judgement: &'static str,
    /// `on_track`, `slightly_behind`, `behind` or empty: the badge's class.
    pub judged: &'static str,
    /// (title, "label n、label n…") of each breakdown.
    pub breakdowns: Vec<(String, String)>,
}

/// One category's table.
pub struct Section {
    pub title: &'static str,
    pub lines: Vec<Line>,
}

#[derive(Template)]
#[template(path = "ui/support_report.html")]
struct ReportPage {
    chrome: Chrome,
    from: String,
    to: String,
    problems: Problems,
    /// Empty when the period was refused.
    sections: Vec<Section>,
    fiscal_year: i32,
    today: String,
    /// `from=…&to=…` of the period shown, for the charts.
    query: String,
    charts: Vec<(String, &'static str)>,
    /// The target form: the indicators, what was entered, and whether it saved.
    indicators: Vec<(&'static str, &'static str)>,
    target: targets::Entered,
    target_problems: Problems,
    saved: bool,
}

/// The report of the period asked for, or the form with why the period was
/// refused (400).
#[tracing::instrument(skip_all)]
pub async fn page(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    center_only(&state.node)?;
    let view = View {
        q: q.clone(),
        target: targets::Entered::default(),
        target_problems: Problems::default(),
    };
    render(&state, &signed, lang, view).await
}

/// What a render of the page is given beyond the report.
pub(super) struct View {
    pub q: PeriodQuery,
    pub target: targets::Entered,
    pub target_problems: Problems,
}

pub(super) async fn render(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    view: View,
) -> Result<Response, PageError> {
    let today = Day::of(Timestamp::now());
    let mut problems = Problems::default();
    let (report, status) = match view.q.period(today) {
        Ok(period) => (
            Some(build(state, period, today, lang).await?),
            StatusCode::OK,
        ),
        Err(e) => {
            problems.add(e.field(), e.text(lang));
            (None, StatusCode::BAD_REQUEST)
        }
    };
    let status = if view.target_problems.is_empty() {
        status
    } else {
        StatusCode::BAD_REQUEST
    };
    let (from, to) = match &report {
        Some(r) => (r.from.to_string(), r.to.to_string()),
        None => (view.q.from.trim().to_owned(), view.q.to.trim().to_owned()),
    };
    let query = format!("from={from}&to={to}");
    let mut target = view.target;
    if target.year.is_empty() {
        target.year = report
            .as_ref()
            .map_or(Period::fiscal_year_of(today), |r| r.fiscal_year)
            .to_string();
    }
    let page = ReportPage {
        chrome: signed.chrome(lang),
        sections: report.as_ref().map_or_else(Vec::new, |r| sections(r, lang)),
        fiscal_year: report.as_ref().map_or(0, |r| r.fiscal_year),
        today: today.to_string(),
        charts: [Chart::Trend, Chart::Breakdown]
            .into_iter()
            .map(|c| (c.name().to_owned(), c.title(lang)))
            .collect(),
        indicators: DEFS
            .iter()
            .map(|d| (d.id, lang.pick(d.name.0, d.name.1)))
            .collect(),
        saved: !view.q.saved.is_empty() && view.target_problems.is_empty(),
        from,
        to,
        problems,
        query,
        target,
        target_problems: view.target_problems,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn build(
    state: &UiState,
    period: Period,
    today: Day,
    lang: Lang,
) -> Result<Report, PageError> {
    report::build(&state.node, period, today, lang)
        .await
        .map_err(|e| match e {
            SupportLedgerError::Store(e) => PageError::Store(e),
            other => PageError::Staff(other.to_string()),
        })
}

fn sections(report: &Report, lang: Lang) -> Vec<Section> {
    Category::ALL
        .iter()
        .map(|c| Section {
            title: c.label(lang),
            lines: report
                .indicators
                .iter()
                .filter(|i| i.category == *c)
                .map(|i| Line {
                    id: i.id,
                    name: i.name,
                    definition: i.definition,
                    numerator: i.numerator,
                    denominator: i.denominator,
                    detail: i.value.detail(lang),
                    actual: i.actual_text(lang),
                    target: i.target_text(),
                    achievement: i.achievement_text(),
                    judgement: i.judgement_text(lang),
                    judged: i.judgement.map_or("", |j| j.as_str()),
                    breakdowns: i
                        .breakdowns
                        .iter()
                        .map(|b| {
                            let parts: Vec<String> = b
                                .parts
                                .iter()
                                .map(|p| format!("{} {}", p.label, p.count))
                                .collect();
                            (b.title.clone(), parts.join(lang.pick("、", ", ")))
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect()
}

/// A chart of the period, as SVG (for the page) or PNG (to download).
#[tracing::instrument(skip_all)]
pub async fn chart(
    State(state): State<UiState>,
    _signed: SignedIn,
    PageLang(lang): PageLang,
    Path(file): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    center_only(&state.node)?;
    let (name, ext) = file.rsplit_once('.').ok_or(PageError::NotFound)?;
    let which = Chart::parse(name).ok_or(PageError::NotFound)?;
    let today = Day::of(Timestamp::now());
    let Ok(period) = q.period(today) else {
        return Ok((
            StatusCode::BAD_REQUEST,
            lang.pick("期間が正しくありません", "bad period"),
        )
            .into_response());
    };
    let report = build(&state, period, today, lang).await?;
    let drawn = match ext {
        "svg" => charts::svg(&report, which, lang).map(|s| (s.into_bytes(), "image/svg+xml")),
        "png" => charts::png(&report, which, lang).map(|b| (b, "image/png")),
        _ => return Err(PageError::NotFound),
    };
    match drawn {
        Ok((bytes, media)) => Ok((
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(media)),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            bytes,
        )
            .into_response()),
        Err(e) => {
            tracing::warn!(error = %e, "chart not drawn");
            Ok((
                StatusCode::SERVICE_UNAVAILABLE,
                lang.pick(
                    "グラフを描けません（フォントがありません）。システム管理者に fonts-noto-cjk のインストールを依頼してください。",
                    "The chart cannot be drawn (no font). Ask the administrator to install fonts-noto-cjk.",
                ),
            )
                .into_response())
        }
    }
}

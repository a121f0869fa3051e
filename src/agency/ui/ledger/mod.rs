//! The 進行管理台帳 on the 調整機関's node: `GET /ledger` (the rows with the
//! filters of `agency ledger list`, and the 実務者会議 agenda of `ledger
//! agenda`), `GET /ledger.csv` (the file `ledger export` writes, every case
//! in it written to the access log), and one case's entry with the form of
//! `ledger set` (`/ledger/{case}`). Any other node answers 403, saying
//! whose ledger it is.

use crate::agency::ui::meetings::form::Posted;
mod entry;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::UiState;
use super::auth::SignedIn;
use super::error::PageError;
use super::lang::{Chrome, PageLang};
use super::meetings::form::{Fields, Problems};
use super::meetings::form::{chosen_categories, outcome};
use super::meetings::schedule::{duration, starts_at};
use crate::agency::Node;
use crate::agency::ledger::{self, AGENDA_DAYS, Filter, LedgerError, LedgerRow, ProgressStatus};
use crate::agency::meetings::{Sharing, invitation_draft};
use crate::agency::staff::Viewed;
use crate::i18n::Lang;
use crate::protocol::case::CaseClassification;
use crate::protocol::day::{Day, show_local};
use crate::protocol::meeting::{Invitation, MeetingKind, MeetingSchedule};
use crate::protocol::{AgencyId, AgencyKind, Timestamp};
use crate::protocol::{LegalBasis, MeetingId};

/// The ledger's routes.
pub fn routes() -> Router<UiState> {
    Router::new()
        .route("/ledger", get(list))
        .route("/ledger.csv", get(export))
        .route("/ledger/meeting", axum::routing::post(practitioners))
        .route("/ledger/{case}", get(entry::entry).post(entry::set))
}

const CLASSIFICATIONS: [CaseClassification; 3] = [
    CaseClassification::ProtectionNeeded,
    CaseClassification::SupportNeeded,
    CaseClassification::SpecifiedExpectantMother,
];

/// The ledger is the 調整機関's: refuse on any other node.
fn coordinator(node: &Node) -> Result<(), PageError> {
    match node.directory().get(node.id()) {
        Some(a) if a.kind == AgencyKind::Yotaikyo => Ok(()),
        _ => Err(PageError::NotCoordinator),
    }
}

/// The filters, as the query carries them.
#[derive(Deserialize, Default)]
pub struct FilterQuery {
    #[serde(default)]
    due: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    classification: String,
    #[serde(default)]
    lead: String,
    #[serde(default)]
    status: String,
}

impl FilterQuery {
    /// The filter (and the agenda's day), or what is wrong with it.
    fn parse(&self, today: Day, lang: Lang, p: &mut Problems) -> (Filter, Day) {
        let until = match self.until.trim() {
            "" => today.plus_days(AGENDA_DAYS),
            text => text.parse().unwrap_or_else(|_| {
                p.add(
                    "until",
                    lang.pick(
                        "基準日は 2027-02-28 のように入力してください。",
                        "Enter the day as 2027-02-28.",
                    ),
                );
                today.plus_days(AGENDA_DAYS)
            }),
        };
        let filter = Filter {
            due_by: (!self.due.is_empty() || !self.until.trim().is_empty()).then_some(until),
            classification: CaseClassification::parse(&self.classification),
            lead: self.lead.parse().ok(),
            status: ProgressStatus::parse(&self.status),
        };
        (filter, until)
    }
}

/// The filter as a query string, for the CSV link: only values that
/// parsed, so nothing a request carried is echoed into the link.
fn query(filter: &Filter, until: Day) -> String {
    let mut q = Vec::new();
    if filter.due_by.is_some() {
        q.push(format!("due=1&until={until}"));
    }
    if let Some(c) = filter.classification {
        q.push(format!("classification={}", c.as_str()));
    }
    if let Some(l) = &filter.lead {
        q.push(format!("lead={l}"));
    }
    if let Some(s) = filter.status {
        q.push(format!("status={}", s.as_str()));
    }
    q.join("&")
}

/// A ledger row as shown.
pub struct Row {
    pub case_id: String,
    pub number: String,
    pub received_on: String,
    pub classification: &'static str,
    pub risk: &'static str,
    pub lead: String,
    pub last_reviewed: String,
    pub next_review: String,
    pub overdue: bool,
    pub next_meeting: String,
    pub status: &'static str,
}

fn row(node: &Node, r: &LedgerRow, today: Day, lang: Lang) -> Row {
    Row {
        case_id: r.case_id.to_string(),
        number: r
            .case_number
            .clone()
            .unwrap_or_else(|| lang.pick("番号未設定", "No number yet").into()),
        received_on: r.received_on.to_string(),
        classification: r.classification.label(lang),
        risk: r.risk.map_or("—", |l| l.label(lang)),
        lead: node.directory().name_of(r.lead.as_str()),
        last_reviewed: r.last_reviewed.map_or("—".into(), |d| d.to_string()),
        next_review: r.next_review.to_string(),
        overdue: r.status.is_open() && r.next_review < today,
        next_meeting: r.next_meeting.map_or(String::new(), show_local),
        status: r.status.label(lang),
    }
}

/// A case on the agenda.
pub struct AgendaRow {
    pub case_id: String,
    pub number: String,
    pub classification: &'static str,
    pub risk: &'static str,
    pub next_review: String,
    pub lead: String,
    pub members: String,
}

#[derive(Template)]
#[template(path = "ui/ledger.html")]
struct LedgerPage {
    chrome: Chrome,
    q: FilterQuery,
    csv: String,
    problems: Problems,
    rows: Vec<Row>,
    until: String,
    agenda: Vec<AgendaRow>,
    invitees: String,
    /// The 実務者会議 form as entered, and why the hub refused it.
    v: Fields,
    refusal: Option<String>,
    categories: Vec<(String, &'static str)>,
    classifications: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    agencies: Vec<(String, String)>,
}

/// The ledger, filtered, and the agenda of cases due by the day given.
pub async fn list(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Query(q): Query<FilterQuery>,
) -> Result<Response, PageError> {
    coordinator(&state.node)?;
    let page = ledger_page(
        &state,
        &signed,
        lang,
        q,
        Fields(vec![]),
        Problems::default(),
    )
    .await?;
    let status = match page.problems.is_empty() {
        true => StatusCode::OK,
        false => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// The ledger page; `v` and `problems` carry the 実務者会議 form back.
async fn ledger_page(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    q: FilterQuery,
    v: Fields,
    mut problems: Problems,
) -> Result<LedgerPage, PageError> {
    let node = &state.node;
    let now = Timestamp::now();
    let today = Day::of(now);
    let (filter, until) = q.parse(today, lang, &mut problems);
    let all = ledger::rows(node.records(), node.id(), now)
        .await
        .map_err(ledger_store)?;
    let rows = all
        .iter()
        .filter(|r| filter.matches(r))
        .map(|r| row(node, r, today, lang))
        .collect();
    let agenda = ledger::Agenda::of(&all, until);
    let name = |a: &AgencyId| node.directory().name_of(a.as_str());
    let invitees = agenda
        .invitees(node.id(), node.directory())
        .iter()
        .map(name)
        .collect::<Vec<_>>()
        .join("、");
    let agenda = agenda
        .cases
        .iter()
        .map(|c| AgendaRow {
            case_id: c.case_id.to_string(),
            number: c.case_number.clone().unwrap_or_else(|| "—".into()),
            classification: c.classification.label(lang),
            risk: c.risk.map_or("—", |l| l.label(lang)),
            next_review: c.next_review.to_string(),
            lead: name(&c.lead),
            members: c.members.iter().map(name).collect::<Vec<_>>().join("、"),
        })
        .collect();
    let mut v = v;
    if v.get("minutes").is_empty() {
        v.0.push(("minutes".into(), "120".into()));
    }
    Ok(LedgerPage {
        chrome: signed.chrome(lang),
        csv: query(&filter, until),
        q,
        problems,
        refusal: None,
        v,
        categories: super::meetings::form::categories(lang),
        rows,
        until: until.to_string(),
        agenda,
        invitees,
        classifications: CLASSIFICATIONS
            .iter()
            .map(|c| (c.as_str(), c.label(lang)))
            .collect(),
        statuses: ProgressStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label(lang)))
            .collect(),
        agencies: super::meetings::form::others(node),
    })
}

/// A 実務者会議 that takes up every case on the agenda (due by `until`)
/// and invites the council members with a role in them, shared under
/// 要対協での共有 — as `meeting schedule --kind practitioners --from-ledger`.
#[tracing::instrument(skip_all)]
pub async fn practitioners(
    State(state): State<UiState>,
    Posted { signed, lang, f }: Posted,
) -> Result<Response, PageError> {
    let node = &state.node;
    coordinator(node)?;
    let mut p = Problems::default();
    let at = starts_at(&f, lang, &mut p);
    let minutes = duration(&f, lang, &mut p);
    let cats = chosen_categories(&f, "categories", lang, &mut p);
    let justification = f.get("justification").to_owned();
    if justification.is_empty() {
        p.add(
            "justification",
            lang.pick(
                "要対協での共有の理由を書いてください（例: 要対協登録ケースの進行管理のため）。",
                "Write why council sharing applies (e.g. progress review of registered cases).",
            ),
        );
    }
    let until = f.get("until").parse::<Day>().ok();
    let seating = match until {
        Some(until) => ledger::due_cases(node.records(), node.id(), Timestamp::now(), until)
            .await
            .map_err(ledger_store)?
            .seating(node.id(), node.directory(), lang),
        None => None,
    };
    if seating.is_none() {
        p.add(
            "until",
            lang.pick(
                "議題にするケース（見直し期限の来たケース）がありません。基準日を変えて一覧を開き直してください。",
                "No case is due for review by that day: change the day and reload the list.",
            ),
        );
    }
    let q = FilterQuery {
        until: f.get("until").to_owned(),
        ..FilterQuery::default()
    };
    let (Some(at), Some(minutes), Some(seating), true) = (at, minutes, seating, p.is_empty())
    else {
        let page = ledger_page(&state, &signed, lang, q, f, p).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    };
    let meeting = MeetingSchedule {
        meeting_id: MeetingId::new(),
        kind: MeetingKind::Practitioners,
        more_cases: seating.more_cases,
        starts_at: at,
        duration_minutes: minutes,
    };
    let id = meeting.meeting_id;
    let invitation = Invitation {
        place: f.get("place").to_owned(),
        agenda: seating.agenda,
        categories: cats,
        ..Invitation::default()
    };
    let sharing = Sharing {
        basis: LegalBasis::YotaikyoSharing,
        justification: Some(justification),
        author: signed.member.author(),
    };
    let draft = invitation_draft(&seating.case, meeting, seating.invite, invitation, &sharing);
    match outcome(node, node.send(&draft).await, lang) {
        Ok(true) => Ok(Redirect::to(&format!("/meetings/{id}?done=scheduled")).into_response()),
        Ok(false) => Ok(Redirect::to("/meetings").into_response()),
        Err(why) => {
            let mut page = ledger_page(&state, &signed, lang, q, f, Problems::default()).await?;
            page.refusal = Some(why);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
    }
}

/// A ledger error that is not the staff's to fix.
fn ledger_store(e: LedgerError) -> PageError {
    match e {
        LedgerError::Store(e) => PageError::Store(e),
        other => PageError::Store(crate::store::StoreError::Corrupt(other.to_string())),
    }
}

/// The CSV `agency ledger export` writes (UTF-8 with a BOM, CRLF), as a
/// download; each case in it is written to the access log first.
#[tracing::instrument(skip_all)]
pub async fn export(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Query(q): Query<FilterQuery>,
) -> Result<Response, PageError> {
    let node = &state.node;
    coordinator(node)?;
    let now = Timestamp::now();
    let (filter, _) = q.parse(Day::of(now), lang, &mut Problems::default());
    let rows: Vec<LedgerRow> = ledger::rows(node.records(), node.id(), now)
        .await
        .map_err(ledger_store)?
        .into_iter()
        .filter(|r| filter.matches(r))
        .collect();
    for r in &rows {
        state
            .accounts
            .record_view(&signed.member, Viewed::LedgerEntry, r.case_id.as_str(), now)
            .await?;
    }
    let name = |a: &AgencyId| node.directory().name_of(a.as_str());
    let text = ledger::csv::export(&rows, name, lang)
        .map_err(|e| PageError::Store(crate::store::StoreError::Corrupt(e.to_string())))?;
    let file = format!("ledger-{}.csv", Day::of(now));
    let mut response = text.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

impl LedgerPage {
    fn checked(&self, name: &str, value: &str) -> bool {
        self.v.all(name).contains(&value)
    }
}

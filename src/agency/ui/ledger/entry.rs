//! One case's line of the 進行管理台帳 (`/ledger/{case}`): the row as the
//! ledger folds it, and the form of `agency ledger set` for the
//! 調整機関's own entry — each field given replaces the entry's; a refused
//! change is named at its field and nothing is recorded.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{Row, coordinator, ledger_store, row};
use crate::agency::Node;
use crate::agency::ledger::{
    self, AbuseType, ChangeError, EntryChange, LedgerError, LedgerRow, ProgressStatus, Route,
};
use crate::agency::staff::Viewed;
use crate::agency::ui::UiState;
use crate::agency::ui::auth::SignedIn;
use crate::agency::ui::error::PageError;
use crate::agency::ui::lang::{Chrome, PageLang};
use crate::agency::ui::meetings::form::{Fields, Posted, Problems};
use crate::i18n::Lang;
use crate::protocol::day::Day;
use crate::protocol::meeting::Level;
use crate::protocol::{AgencyId, CaseId, Timestamp};

#[derive(Template)]
#[template(path = "ui/ledger_entry.html")]
struct EntryPage {
    chrome: Chrome,
    row: Row,
    key_person: String,
    policy: String,
    members: String,
    route: String,
    abuse: Vec<&'static str>,
    reason: String,
    v: Fields,
    problems: Problems,
    done: bool,
    routes: Vec<(&'static str, &'static str)>,
    abuse_types: Vec<(&'static str, &'static str)>,
    levels: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
}

impl EntryPage {
    fn checked(&self, name: &str, value: &str) -> bool {
        self.v.all(name).contains(&value)
    }
}

#[derive(Deserialize)]
pub struct EntryQuery {
    done: Option<String>,
}

async fn the_row(state: &UiState, case: &CaseId) -> Result<Option<LedgerRow>, PageError> {
    let node = &state.node;
    let rows = ledger::rows(node.records(), node.id(), Timestamp::now())
        .await
        .map_err(ledger_store)?;
    Ok(rows.into_iter().find(|r| &r.case_id == case))
}

/// The form's values from the row as it stands.
fn values(r: &LedgerRow) -> Fields {
    let mut v = vec![
        ("number".into(), r.case_number.clone().unwrap_or_default()),
        ("received_on".into(), r.received_on.to_string()),
        (
            "route".into(),
            r.route.map_or("", |x| x.as_str()).to_owned(),
        ),
        ("risk".into(), r.risk.map_or("", |x| x.as_str()).to_owned()),
        ("policy".into(), r.policy.clone()),
        ("status".into(), r.status.as_str().to_owned()),
        ("reason".into(), r.status_reason.clone()),
        ("next_review".into(), r.next_review.to_string()),
    ];
    for a in &r.abuse_types {
        v.push(("abuse".into(), a.as_str().to_owned()));
    }
    Fields(v)
}

fn entry_page(
    signed: &SignedIn,
    node: &Node,
    r: &LedgerRow,
    lang: Lang,
    v: Fields,
    problems: Problems,
    done: bool,
) -> EntryPage {
    let today = Day::of(Timestamp::now());
    let name = |a: &AgencyId| node.directory().name_of(a.as_str());
    EntryPage {
        chrome: signed.chrome(lang),
        row: row(node, r, today, lang),
        key_person: r.key_person.clone(),
        policy: r.policy.clone(),
        members: r.members.iter().map(name).collect::<Vec<_>>().join("、"),
        route: r.route.map_or("—", |x| x.label(lang)).to_owned(),
        abuse: r.abuse_types.iter().map(|a| a.label(lang)).collect(),
        reason: r.status_reason.clone(),
        v,
        problems,
        done,
        routes: Route::ALL
            .iter()
            .map(|x| (x.as_str(), x.label(lang)))
            .collect(),
        abuse_types: AbuseType::ALL
            .iter()
            .map(|x| (x.as_str(), x.label(lang)))
            .collect(),
        levels: [Level::High, Level::Medium, Level::Low]
            .iter()
            .map(|x| (x.as_str(), x.label(lang)))
            .collect(),
        statuses: ProgressStatus::ALL
            .iter()
            .map(|x| (x.as_str(), x.label(lang)))
            .collect(),
    }
}

/// One case's row and the form to change the 調整機関's entry.
#[tracing::instrument(skip_all)]
pub async fn entry(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Path(case): Path<String>,
    Query(q): Query<EntryQuery>,
) -> Result<Html<String>, PageError> {
    coordinator(&state.node)?;
    let case: CaseId = case.parse().map_err(|_| PageError::NotFound)?;
    let r = the_row(&state, &case).await?.ok_or(PageError::NotFound)?;
    signed
        .viewed(&state, Viewed::LedgerEntry, case.as_str())
        .await?;
    let page = entry_page(
        &signed,
        &state.node,
        &r,
        lang,
        values(&r),
        Problems::default(),
        q.done.is_some(),
    );
    Ok(Html(page.render()?))
}

fn day(f: &Fields, name: &'static str, lang: Lang, p: &mut Problems) -> Option<Day> {
    let text = f.get(name);
    if text.is_empty() {
        return None;
    }
    let d = text.parse().ok();
    if d.is_none() {
        p.add(
            name,
            lang.pick(
                "日付は 2026-11-20 のように入力してください。",
                "Enter the date as 2026-11-20.",
            ),
        );
    }
    d
}

/// The change the form asks for: each field given replaces the entry's.
fn change(f: &Fields, lang: Lang, p: &mut Problems) -> EntryChange {
    let text = |name: &str| Some(f.get(name).to_owned()).filter(|t| !t.is_empty());
    EntryChange {
        case_number: text("number"),
        received_on: day(f, "received_on", lang, p),
        route: Route::parse(f.get("route")),
        abuse_types: Some(
            f.all("abuse")
                .into_iter()
                .filter_map(AbuseType::parse)
                .collect(),
        ),
        risk: Level::parse(f.get("risk")),
        policy: Some(f.get("policy").to_owned()),
        status: ProgressStatus::parse(f.get("status")),
        status_reason: Some(f.get("reason").to_owned()),
        next_review: day(f, "next_review", lang, p),
    }
}

/// What a refused change says, at its field.
fn refused_change(e: LedgerError, lang: Lang, p: &mut Problems) -> Result<(), PageError> {
    match e {
        LedgerError::Change(ChangeError::FutureReceipt(_)) => p.add(
            "received_on",
            lang.pick(
                "受理日が未来の日付です。受理した日を入力してください。",
                "The day received is in the future: enter the day it was received.",
            ),
        ),
        LedgerError::Change(ChangeError::ReasonMissing(status)) => p.add(
            "reason",
            match lang {
                Lang::Ja => format!(
                    "状態「{}」には理由が必要です（例: 転出のため移管）。",
                    status.label(lang)
                ),
                Lang::En => format!("The status {} needs a reason.", status.label(lang)),
            },
        ),
        LedgerError::Change(ChangeError::BlankNumber) => p.add(
            "number",
            lang.pick("ケース番号が空です。", "The case number is blank."),
        ),
        LedgerError::Change(ChangeError::Empty) => p.add(
            "number",
            lang.pick("変更する項目がありません。", "Nothing to change."),
        ),
        LedgerError::NumberTaken(t) => p.add(
            "number",
            match lang {
                Lang::Ja => format!(
                    "ケース番号 {} は既にケース {} で使われています。別の番号を入力してください。",
                    t.number, t.case_id
                ),
                Lang::En => format!(
                    "Case number {} is already used by case {}: enter another.",
                    t.number, t.case_id
                ),
            },
        ),
        LedgerError::UnknownCase(_) | LedgerError::NotRegistered(_) => {
            return Err(PageError::NotFound);
        }
        LedgerError::Store(e) => return Err(PageError::Store(e)),
    }
    Ok(())
}

/// Change the entry (as `ledger set`); back to the page when done, the
/// form with the problem at its field (422, nothing recorded) if not.
#[tracing::instrument(skip_all)]
pub async fn set(
    State(state): State<UiState>,
    Path(case): Path<String>,
    Posted { signed, lang, f }: Posted,
) -> Result<Response, PageError> {
    let node = &state.node;
    coordinator(node)?;
    let case: CaseId = case.parse().map_err(|_| PageError::NotFound)?;
    let r = the_row(&state, &case).await?.ok_or(PageError::NotFound)?;
    let mut p = Problems::default();
    let change = change(&f, lang, &mut p);
    if p.is_empty()
        && let Err(e) =
            ledger::set(node.records(), node.id(), &case, change, Timestamp::now()).await
    {
        refused_change(e, lang, &mut p)?;
    }
    if p.is_empty() {
        return Ok(Redirect::to(&format!("/ledger/{case}?done=1")).into_response());
    }
    let page = entry_page(&signed, node, &r, lang, f, p, false);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
}

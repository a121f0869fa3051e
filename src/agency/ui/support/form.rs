//! The row form (`/support/new`, `/support/{id}/edit`): one input per item
//! of `FIELDS`, labelled with its heading, selects for the coded items and
//! date inputs for the days. What is wrong is named at its field (and in a
//! summary linking to it) with the typed values kept; nothing is written.
//! A tier change asks for its reason; an edit of a row someone else
//! changed meanwhile is refused (409). A new row started from a received
//! referral (`?case=`) is prefilled from it and saved linked to its case.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::ledger_failed;
use crate::agency::support_ledger::prefill::latest_referral;
use crate::agency::support_ledger::subject::DAY_FIELDS;
use crate::agency::support_ledger::subject::field_label;
use crate::agency::support_ledger::{
    self, FIELDS, Subject, SubjectKind, SupportLedgerError, Tier, prefill,
};
use crate::agency::ui::UiState;
use crate::agency::ui::auth::SignedIn;
use crate::agency::ui::error::{PageError, center_only};
use crate::agency::ui::lang::{Chrome, PageLang};
use crate::agency::ui::meetings::form::{Fields, Posted, Problems};
use crate::i18n::Lang;
use crate::protocol::day::Day;
use crate::protocol::meeting::Level;
use crate::protocol::{CaseId, Timestamp};

/// How an item is entered.
pub enum Input {
    Text,
    Area,
    Date,
    Check,
    /// A coded item: its choices (a blank one first when it may be blank).
    Select(Vec<(&'static str, &'static str)>),
}

const AREAS: &[&str] = &[
    "household",
    "history",
    "needs_reason",
    "birth_status",
    "employment",
];

fn input(field: &str, lang: Lang) -> Input {
    let levels = || {
        let mut all = vec![("", "—")];
        all.extend(
            [Level::High, Level::Medium, Level::Low]
                .iter()
                .map(|l| (l.as_str(), l.label(lang))),
        );
        all
    };
    match field {
        "kind" => Input::Select(
            SubjectKind::ALL
                .iter()
                .map(|k| (k.as_str(), k.label(lang)))
                .collect(),
        ),
        "tier" => Input::Select(
            Tier::ALL
                .iter()
                .map(|t| (t.as_str(), t.label(lang)))
                .collect(),
        ),
        "urgency" | "severity" => Input::Select(levels()),
        "needs_support" => Input::Check,
        f if DAY_FIELDS.contains(&f) => Input::Date,
        f if AREAS.contains(&f) => Input::Area,
        _ => Input::Text,
    }
}

/// One item of the form.
pub struct Item {
    pub name: &'static str,
    pub label: &'static str,
    pub input: Input,
    pub value: String,
    pub required: bool,
    /// Takes the form's whole width.
    pub wide: bool,
    pub hint: &'static str,
}

/// The items under one heading.
pub struct Group {
    pub legend: &'static str,
    pub items: Vec<Item>,
}

/// The headings, by the first field under each (FIELDS keeps the order).
fn legend(field: &str, lang: Lang) -> Option<&'static str> {
    Some(match field {
        "number" => lang.pick("基本", "Basics"),
        "notified_on" => lang.pick("妊娠・出産", "Pregnancy and birth"),
        "needs_support" => lang.pick("支援", "Support"),
        "birth_status" => lang.pick("子ども（出生・健診）", "Child (birth, checkups)"),
        "closed_on" => lang.pick("終結", "Closing"),
        _ => return None,
    })
}

fn hint(field: &str, lang: Lang) -> &'static str {
    match field {
        "mother" => lang.pick("子どもの行だけ: 母の行の台帳番号", "A child's row only"),
        "next_contact_on" => lang.pick(
            "空欄なら、支援区分と最終接触日・伴走型相談支援の時期から計算します。",
            "Blank: computed from the tier, the last contact and the contact points.",
        ),
        "birth_date" => lang.pick("子どもの行では必須", "Required for a child"),
        "needs_reason" => lang.pick("要支援「あり」なら必須", "Required when support is needed"),
        "closed_on" => lang.pick(
            "転出・年齢到達などで追わなくなった日。朝の確認の一覧から外れます。",
            "The day the center stopped following the row.",
        ),
        _ => "",
    }
}

fn groups(v: &Fields, lang: Lang) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for &(name, ja, en) in FIELDS {
        if let Some(legend) = legend(name, lang) {
            groups.push(Group {
                legend,
                items: Vec::new(),
            });
        }
        let item = Item {
            name,
            label: lang.pick(ja, en),
            input: input(name, lang),
            value: v.get(name).to_owned(),
            required: matches!(name, "number" | "kind" | "name" | "tier"),
            wide: AREAS.contains(&name),
            hint: hint(name, lang),
        };
        if let Some(g) = groups.last_mut() {
            g.items.push(item);
        }
    }
    groups
}

/// A row as the form's values.
fn values(s: &Subject) -> Fields {
    let Ok(Value::Object(map)) = serde_json::to_value(s) else {
        return Fields(Vec::new());
    };
    Fields(
        map.into_iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k, s)),
                Value::Bool(true) => Some((k, "1".into())),
                _ => None,
            })
            .collect(),
    )
}

/// The row the form describes, or what is wrong with it, at each field.
fn subject(f: &Fields, today: Day, lang: Lang, p: &mut Problems) -> Option<Subject> {
    let mut map = Map::new();
    for &(name, _, _) in FIELDS {
        let text = f.get(name);
        let value = match (input(name, lang), text.is_empty()) {
            (Input::Check, _) => Value::Bool(!text.is_empty()),
            (Input::Select(_), true) if matches!(name, "kind" | "tier") => {
                p.add(name, choose(name, lang));
                continue;
            }
            // Every text item but the mother's number is a plain string.
            (Input::Text | Input::Area, true) if name != "mother" => Value::String(String::new()),
            (_, true) => continue,
            (Input::Date, false) => match text.parse::<Day>() {
                Ok(d) => Value::String(d.to_string()),
                Err(_) => {
                    p.add(
                        name,
                        match lang {
                            Lang::Ja => format!(
                                "{}は 2026-04-01 のように日付で入力してください。",
                                field_label(name, lang)
                            ),
                            Lang::En => format!(
                                "Enter {} as a date like 2026-04-01.",
                                field_label(name, lang)
                            ),
                        },
                    );
                    continue;
                }
            },
            (Input::Select(choices), false) => {
                if !choices.iter().any(|(v, _)| *v == text) {
                    p.add(name, choose(name, lang));
                    continue;
                }
                Value::String(text.into())
            }
            (Input::Text | Input::Area, false) => Value::String(text.into()),
        };
        map.insert(name.into(), value);
    }
    if !p.is_empty() {
        return None;
    }
    let Ok(subject) = serde_json::from_value::<Subject>(Value::Object(map)) else {
        // Every item was checked above: a row that still does not read is
        // a form this page did not send.
        p.add(
            "number",
            lang.pick(
                "入力を読み取れませんでした。",
                "The form could not be read.",
            ),
        );
        return None;
    };
    for problem in subject.problems(today) {
        p.add(problem.field(), problem.text(lang));
    }
    p.is_empty().then_some(subject)
}

fn choose(field: &str, lang: Lang) -> String {
    match lang {
        Lang::Ja => format!("{}を一覧から選んでください。", field_label(field, lang)),
        Lang::En => format!("Choose {} from the list.", field_label(field, lang)),
    }
}

/// A refused write, at its field; `Err` for what is not the staff's to fix.
fn refused(e: SupportLedgerError, lang: Lang, p: &mut Problems) -> Result<(), PageError> {
    match e {
        SupportLedgerError::Invalid(problems) => {
            for problem in problems {
                p.add(problem.field(), problem.text(lang));
            }
        }
        SupportLedgerError::NumberTaken(n) => p.add("number", taken(&n, lang)),
        SupportLedgerError::TierReasonMissing => p.add("tier_reason", reason_needed(lang)),
        SupportLedgerError::CaseLinked(case) => p.add(
            "case",
            match lang {
                Lang::Ja => format!("ケース {case} は既にほかの行に紐付いています。台帳の一覧から、その行を開いてください。"),
                Lang::En => format!("Case {case} is already linked to another row."),
            },
        ),
        other => return Err(ledger_failed(other)),
    }
    Ok(())
}

fn taken(number: &str, lang: Lang) -> String {
    match lang {
        Lang::Ja => format!(
            "台帳番号 {number} は既にほかの行で使われています。別の番号を入力してください。"
        ),
        Lang::En => format!("Ledger number {number} is already used: enter another."),
    }
}

fn reason_needed(lang: Lang) -> &'static str {
    lang.pick(
        "支援区分を変えるときは、その理由を書いてください（例: 要対協で特定妊婦と判断）。",
        "A tier change needs its reason (e.g. judged a specified expectant mother by the council).",
    )
}

#[derive(Template)]
#[template(path = "ui/support_form.html")]
struct FormPage {
    chrome: Chrome,
    /// `None`: a new row.
    id: Option<String>,
    title: String,
    version: i64,
    /// The referral's case a new row is started from.
    case: Option<String>,
    from_referral: Option<String>,
    groups: Vec<Group>,
    v: Fields,
    problems: Problems,
    /// Someone else changed the row meanwhile.
    stale: bool,
    /// The baby's row a 出生連絡 adds with the mother's.
    baby: Option<Baby>,
}

impl FormPage {
    fn problem_list(&self) -> Vec<(String, &str)> {
        self.problems
            .0
            .iter()
            .map(|(f, m)| (format!("#f-{f}"), m.as_str()))
            .collect()
    }
}

#[derive(Deserialize)]
pub struct NewQuery {
    case: Option<String>,
}

/// The form for a new row; from a referral when `?case=` names one this
/// node received.
#[tracing::instrument(skip_all)]
pub async fn new_form(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Query(q): Query<NewQuery>,
) -> Result<Html<String>, PageError> {
    center_only(&state.node)?;
    let page = match q.case.as_deref().filter(|c| !c.is_empty()) {
        Some(case) => {
            let case: CaseId = case.parse().map_err(|_| PageError::NotFound)?;
            let from = from_referral(&state, &case, lang).await?;
            let mut v = values(&from.mother);
            if from.child.is_some() {
                v.0.push(("with_child".into(), "1".into()));
            }
            let mut page = new_page(
                &signed,
                lang,
                v,
                Problems::default(),
                Some(case.to_string()),
                Some(from.line),
            );
            page.baby = from.child.as_ref().map(|c| baby(c, lang));
            page
        }
        None => new_page(
            &signed,
            lang,
            values(&Subject::default()),
            Problems::default(),
            None,
            None,
        ),
    };
    Ok(Html(page.render()?))
}

/// What a new row started from a referral holds: the mother's row as the
/// referral describes her, the baby's from a 出生連絡, and a line naming
/// where it came from.
struct FromReferral {
    mother: Subject,
    child: Option<Subject>,
    line: String,
}

async fn from_referral(
    state: &UiState,
    case: &CaseId,
    lang: Lang,
) -> Result<FromReferral, PageError> {
    let referral = latest_referral(state.node.records(), case)
        .await?
        .ok_or(PageError::NotFound)?;
    let line = match lang {
        Lang::Ja => format!(
            "ケース {case} の連絡票から作成します。連絡票の内容を写してあります。台帳番号と支援区分を決め、内容を確かめてから保存してください。"
        ),
        Lang::En => format!(
            "Started from the referral on case {case}, whose content is copied in. Give the ledger number and the tier, check the rest, then save."
        ),
    };
    Ok(FromReferral {
        mother: prefill::mother(&referral, ""),
        child: prefill::child(&referral, "", ""),
        line,
    })
}

/// The baby's row from a 出生連絡, as the form describes it.
pub struct Baby {
    pub summary: String,
}

fn baby(child: &Subject, lang: Lang) -> Baby {
    let born = child.birth_date.map(|d| d.to_string()).unwrap_or_default();
    Baby {
        summary: match lang {
            Lang::Ja => format!("{}・生年月日 {born}・{}", child.name, child.birth_status),
            Lang::En => format!("{}, born {born}, {}", child.name, child.birth_status),
        },
    }
}

fn new_page(
    signed: &SignedIn,
    lang: Lang,
    v: Fields,
    problems: Problems,
    case: Option<String>,
    from_referral: Option<String>,
) -> FormPage {
    FormPage {
        chrome: signed.chrome(lang),
        id: None,
        title: lang
            .pick("支援台帳: 新しい行", "Support ledger: new row")
            .into(),
        version: 0,
        case,
        from_referral,
        groups: groups(&v, lang),
        v,
        problems,
        stale: false,
        baby: None,
    }
}

/// Add the row (linked to the referral's case when it started from one).
#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<UiState>,
    Posted { signed, lang, f }: Posted,
) -> Result<Response, PageError> {
    let node = &state.node;
    center_only(node)?;
    let now = Timestamp::now();
    let mut p = Problems::default();
    let case = match f.get("case") {
        "" => None,
        c => Some(c.parse::<CaseId>().map_err(|_| PageError::BadForm)?),
    };
    let from = match &case {
        Some(c) => Some(from_referral(&state, c, lang).await?),
        None => None,
    };
    let child_wanted = from
        .as_ref()
        .and_then(|r| r.child.as_ref())
        .filter(|_| !f.get("with_child").is_empty());
    let child_number = f.get("child_number");
    if child_wanted.is_some() && child_number.is_empty() {
        p.add(
            "child_number",
            lang.pick("赤ちゃんの台帳番号を入力してください（赤ちゃんの行を作らないときは、チェックを外してください）。", "Enter the baby's ledger number (or untick the baby's row)."),
        );
    }
    if let Some(subject) = subject(&f, Day::of(now), lang, &mut p)
        && p.is_empty()
    {
        let by = signed.member.name.as_str();
        // Kept in the tier history as staff write it, whatever the page's language.
        let reason = "新規登録";
        let records = node.records();
        let added = match (&case, child_wanted) {
            (Some(case), Some(child)) => {
                let child = Subject {
                    number: child_number.to_owned(),
                    mother: Some(subject.number.clone()),
                    ..child.clone()
                };
                support_ledger::add_linked_with(
                    records,
                    subject,
                    case,
                    vec![child],
                    reason,
                    by,
                    now,
                )
                .await
                .map(|ids| ids.into_iter().next().unwrap_or_default())
            }
            (Some(case), None) => {
                support_ledger::add_linked(records, subject, case, reason, by, now).await
            }
            (None, _) => support_ledger::add(records, vec![subject], reason, by, now)
                .await
                .map(|ids| ids.into_iter().next().unwrap_or_default()),
        };
        match added {
            Ok(id) => return Ok(Redirect::to(&format!("/support/{id}?done=added")).into_response()),
            Err(SupportLedgerError::NumberTaken(n)) if n == child_number => {
                p.add("child_number", taken(&n, lang))
            }
            Err(e) => refused(e, lang, &mut p)?,
        }
    }
    let baby_view = from
        .as_ref()
        .and_then(|r| r.child.as_ref())
        .map(|c| baby(c, lang));
    let mut page = new_page(
        &signed,
        lang,
        f,
        p,
        case.map(|c| c.to_string()),
        from.map(|r| r.line),
    );
    page.baby = baby_view;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
}

fn edit_page(
    signed: &SignedIn,
    lang: Lang,
    id: &str,
    version: i64,
    title: String,
    v: Fields,
    problems: Problems,
) -> FormPage {
    FormPage {
        chrome: signed.chrome(lang),
        id: Some(id.to_owned()),
        title,
        version,
        case: None,
        from_referral: None,
        groups: groups(&v, lang),
        v,
        problems,
        stale: false,
        baby: None,
    }
}

fn edit_title(s: &Subject, lang: Lang) -> String {
    format!(
        "{}: {} {}",
        lang.pick("行を編集", "Edit row"),
        s.number,
        s.name
    )
}

/// The form with the row as it stands.
#[tracing::instrument(skip_all)]
pub async fn edit_form(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    center_only(&state.node)?;
    let ledger = super::ledger(&state, Day::of(Timestamp::now())).await?;
    let v = ledger.get(&id).ok_or(PageError::NotFound)?;
    signed
        .viewed(
            &state,
            crate::agency::staff::Viewed::SupportSubject,
            &v.subject.number,
        )
        .await?;
    let title = edit_title(&v.subject, lang);
    let page = edit_page(
        &signed,
        lang,
        &id,
        v.version,
        title,
        values(&v.subject),
        Problems::default(),
    );
    Ok(Html(page.render()?))
}

/// Replace the row's items; back to the row when done.
#[tracing::instrument(skip_all)]
pub async fn save(
    State(state): State<UiState>,
    Path(id): Path<String>,
    Posted { signed, lang, f }: Posted,
) -> Result<Response, PageError> {
    let node = &state.node;
    center_only(node)?;
    let now = Timestamp::now();
    let ledger = super::ledger(&state, Day::of(now)).await?;
    let current = ledger.get(&id).ok_or(PageError::NotFound)?;
    let version: i64 = f.get("version").parse().map_err(|_| PageError::BadForm)?;
    let mut p = Problems::default();
    let mut stale = false;
    if let Some(subject) = subject(&f, Day::of(now), lang, &mut p) {
        let reason = Some(f.get("tier_reason")).filter(|r| !r.is_empty());
        if subject.tier != current.subject.tier && reason.is_none() {
            p.add("tier_reason", reason_needed(lang));
        } else {
            let by = signed.member.name.as_str();
            match support_ledger::update(node.records(), &id, version, subject, reason, by, now)
                .await
            {
                Ok(()) => {
                    return Ok(Redirect::to(&format!("/support/{id}?done=saved")).into_response());
                }
                Err(SupportLedgerError::Stale) => stale = true,
                Err(e) => refused(e, lang, &mut p)?,
            }
        }
    }
    let title = edit_title(&current.subject, lang);
    let mut page = edit_page(&signed, lang, &id, version, title, f, p);
    page.stale = stale;
    let status = match stale {
        true => StatusCode::CONFLICT,
        false => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Ok((status, Html(page.render()?)).into_response())
}

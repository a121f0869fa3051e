//! The plan editor: version 1 (`/plans/new`) or the next version, filled
//! from the latest (`/plans/{id}/revise`): her wishes, goals, actions with
//! their agency and dates, the lead, the review date, and who receives the
//! whole plan or only their part — sent as the CLI's `plan new` and `plan
//! revise` send it. A revision of anything but the latest version is
//! refused (409) as "someone revised it meanwhile".

use crate::agency::ui::meetings::form::Posted;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::held;
use crate::agency::Node;
use crate::agency::plans::{Held, PlanSend, send_plan};
use crate::agency::ui::UiState;
use crate::agency::ui::auth::SignedIn;
use crate::agency::ui::error::PageError;
use crate::agency::ui::lang::{Chrome, PageLang};
use crate::agency::ui::meetings::form::{
    Fields, Problems, agencies, bases, basis, categories, category_name, chosen_categories,
    outcome, refusal,
};
use crate::agency::{NodeError, Sent};
use crate::i18n::Lang;
use crate::protocol::day::Day;
use crate::protocol::plan::{PlanAction, SupportPlan};
use crate::protocol::{AgencyId, CaseId, ErrorCode, PlanId, Timestamp};

/// Blank action rows offered beyond those already written.
const SPARE_ROWS: usize = 3;

/// The editor as the page shows it.
pub struct Editor {
    /// Where it posts.
    pub action: String,
    /// The version it revises (none for version 1).
    pub based_on: Option<u32>,
    pub v: Fields,
    pub rows: Vec<usize>,
    pub problems: Problems,
    pub refusal: Option<String>,
    /// Every agency (actions, lead), id and name.
    pub all: Vec<(String, String)>,
    /// Every other agency (recipients).
    pub others: Vec<(String, String)>,
    pub categories: Vec<(String, &'static str)>,
    pub bases: Vec<(&'static str, &'static str)>,
}

impl Editor {
    pub fn checked(&self, name: &str, value: &str) -> bool {
        self.v.all(name).contains(&value)
    }

    /// `a{i}_{field}`'s value.
    pub fn row(&self, i: &usize, field: &str) -> &str {
        self.v.get(&format!("a{i}_{field}"))
    }

    fn with(node: &Node, action: String, based_on: Option<u32>, v: Fields, lang: Lang) -> Self {
        let rows = v.get("rows").parse::<usize>().unwrap_or(0).min(100);
        let all = node
            .directory()
            .agencies()
            .iter()
            .map(|a| (a.id.to_string(), a.name.clone()))
            .collect();
        Editor {
            action,
            based_on,
            v,
            rows: (0..rows).collect(),
            problems: Problems::default(),
            refusal: None,
            all,
            others: crate::agency::ui::meetings::form::others(node),
            categories: categories(lang),
            bases: bases(lang),
        }
    }

    /// An empty version 1 for `case`: made today, reviewed in three months.
    pub fn blank(node: &Node, case: &str, lang: Lang) -> Self {
        let today = Day::of(Timestamp::now());
        let v = Fields(vec![
            ("case".into(), case.to_owned()),
            ("lead".into(), node.id().to_string()),
            ("made_on".into(), today.to_string()),
            ("review_on".into(), today.plus_months(3).to_string()),
            ("basis".into(), "consent".into()),
            ("rows".into(), SPARE_ROWS.to_string()),
        ]);
        Self::with(node, "/plans/new".into(), None, v, lang)
    }

    /// The next version, filled from `plan` (version `latest`): made today.
    pub fn revising(
        node: &Node,
        plan_id: PlanId,
        plan: &SupportPlan,
        latest: u32,
        whole_to: Vec<String>,
        lang: Lang,
    ) -> Self {
        let mut v: Vec<(String, String)> = vec![
            ("wishes".into(), plan.wishes.clone()),
            ("goals".into(), plan.goals.join("\n")),
            ("lead".into(), plan.lead.to_string()),
            ("lead_contact".into(), plan.lead_contact.clone()),
            ("key_person".into(), plan.key_person.clone()),
            ("made_on".into(), Day::of(Timestamp::now()).to_string()),
            ("review_on".into(), plan.review_on.to_string()),
            ("basis".into(), "consent".into()),
            ("rows".into(), (plan.actions.len() + SPARE_ROWS).to_string()),
        ];
        if plan.person_took_part {
            v.push(("person_took_part".into(), "1".into()));
        }
        if plan.copy_given {
            v.push(("copy_given".into(), "1".into()));
        }
        for c in &plan.categories {
            v.push(("categories".into(), category_name(*c)));
        }
        let day = |d: Option<Day>| d.map(|d| d.to_string()).unwrap_or_default();
        for (i, a) in plan.actions.iter().enumerate() {
            v.push((format!("a{i}_what"), a.what.clone()));
            v.push((format!("a{i}_agency"), a.agency.to_string()));
            v.push((format!("a{i}_frequency"), a.frequency.clone()));
            v.push((format!("a{i}_from"), day(a.from)));
            v.push((format!("a{i}_until"), day(a.until)));
        }
        if let Some(m) = plan.from_meeting {
            v.push(("from_meeting".into(), m.to_string()));
        }
        v.extend(whole_to.into_iter().map(|a| ("whole".into(), a)));
        v.push(("based_on".into(), latest.to_string()));
        let action = format!("/plans/{plan_id}/revise");
        Self::with(node, action, Some(latest), Fields(v), lang)
    }
}

fn day_field(f: &Fields, name: &'static str, lang: Lang, p: &mut Problems) -> Option<Day> {
    match f.get(name).parse::<Day>() {
        Ok(d) => Some(d),
        Err(_) => {
            p.add(
                name,
                lang.pick(
                    "日付を 2027-01-08 のように入力してください。",
                    "Enter the date as 2027-01-08.",
                ),
            );
            None
        }
    }
}

fn optional_day(text: &str) -> Result<Option<Day>, ()> {
    match text {
        "" => Ok(None),
        t => t.parse().map(Some).map_err(|_| ()),
    }
}

/// The actions written, each with its agency; a problem at the first
/// row that is incomplete or has a bad date.
fn actions(node: &Node, f: &Fields, lang: Lang, p: &mut Problems) -> Vec<PlanAction> {
    let rows = f.get("rows").parse::<usize>().unwrap_or(0).min(100);
    let mut out = Vec::new();
    for i in 0..rows {
        let what = f.get(&format!("a{i}_what"));
        if what.is_empty() {
            continue;
        }
        let agency = f
            .get(&format!("a{i}_agency"))
            .parse::<AgencyId>()
            .ok()
            .filter(|a| node.directory().get(a).is_some());
        let from = optional_day(f.get(&format!("a{i}_from")));
        let until = optional_day(f.get(&format!("a{i}_until")));
        let (Some(agency), Ok(from), Ok(until)) = (agency, from, until) else {
            p.add(
                "actions",
                lang.pick(
                    "支援内容の各行に担当機関を選び、期間は 2027-01-08 のように入力してください。",
                    "Give each action its agency, and its dates as 2027-01-08.",
                ),
            );
            continue;
        };
        out.push(PlanAction {
            what: what.to_owned(),
            agency,
            frequency: f.get(&format!("a{i}_frequency")).to_owned(),
            from,
            until,
        });
    }
    out
}

/// The version as written, and who gets what, or the problems.
fn written(
    node: &Node,
    f: &Fields,
    lang: Lang,
    p: &mut Problems,
) -> Option<(SupportPlan, ShareTo)> {
    let goals = f.lines("goals");
    if goals.is_empty() {
        p.add(
            "goals",
            lang.pick(
                "目標を1つ以上書いてください（1行に1つ）。",
                "Write at least one goal (one a line).",
            ),
        );
    }
    let actions = actions(node, f, lang, p);
    let lead = f
        .get("lead")
        .parse::<AgencyId>()
        .ok()
        .filter(|a| node.directory().get(a).is_some());
    if lead.is_none() {
        p.add(
            "lead",
            lang.pick("主担当機関を選んでください。", "Choose the lead agency."),
        );
    }
    let made_on = day_field(f, "made_on", lang, p);
    let review_on = day_field(f, "review_on", lang, p);
    if let (Some(m), Some(r)) = (made_on, review_on)
        && r <= m
    {
        p.add(
            "review_on",
            lang.pick(
                "見直し日は作成日より後の日にしてください。",
                "The review date must come after the date the plan is made.",
            ),
        );
    }
    let categories = chosen_categories(f, "categories", lang, p);
    let parts = agencies(node, f, "parts");
    let part_categories = match parts.is_empty() {
        true => vec![],
        false => chosen_categories(f, "part_categories", lang, p),
    };
    let chosen = basis(f, lang, p);
    let (Some(lead), Some(made_on), Some(review_on), Some((basis, justification)), true) =
        (lead, made_on, review_on, chosen, p.is_empty())
    else {
        return None;
    };
    let plan = SupportPlan {
        wishes: f.get("wishes").to_owned(),
        goals,
        actions,
        lead,
        lead_contact: f.get("lead_contact").to_owned(),
        key_person: f.get("key_person").to_owned(),
        person_took_part: !f.get("person_took_part").is_empty(),
        copy_given: !f.get("copy_given").is_empty(),
        made_on,
        review_on,
        from_meeting: f.get("from_meeting").parse().ok(),
        categories,
    };
    let share = ShareTo {
        whole: agencies(node, f, "whole"),
        parts,
        part_categories,
        basis,
        justification,
    };
    Some((plan, share))
}

/// Who receives the version, under which basis.
struct ShareTo {
    whole: Vec<AgencyId>,
    parts: Vec<AgencyId>,
    part_categories: Vec<crate::protocol::InfoCategory>,
    basis: crate::protocol::LegalBasis,
    justification: Option<String>,
}

#[derive(Template)]
#[template(path = "ui/plan_new.html")]
struct NewPage {
    chrome: Chrome,
    editor: Editor,
}

#[derive(Deserialize)]
pub struct NewQuery {
    case: Option<String>,
}

pub async fn new_form(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Query(q): Query<NewQuery>,
) -> Result<Html<String>, PageError> {
    let editor = Editor::blank(&state.node, q.case.as_deref().unwrap_or(""), lang);
    let page = NewPage {
        chrome: signed.chrome(lang),
        editor,
    };
    Ok(Html(page.render()?))
}

/// The sentence after a version was recorded.
pub fn done_text(done: &str, lang: Lang) -> &'static str {
    match done {
        "queued" => lang.pick(
            "ハブに接続できないため、この版は送信待ちです（接続が戻りしだい自動で送ります）。",
            "The hub cannot be reached: this version waits and is sent as soon as it can be.",
        ),
        _ => lang.pick(
            "この版を記録し、選んだ機関に送りました。",
            "This version is recorded and shared with the agencies chosen.",
        ),
    }
}

/// What the hub said to the parts, when it refused any: the version is
/// recorded all the same.
fn parts_refused(
    node: &Node,
    parts: Vec<(AgencyId, Result<Sent, NodeError>)>,
    lang: Lang,
) -> Option<String> {
    let refused: Vec<String> = parts
        .into_iter()
        .filter_map(|(a, r)| {
            r.err().map(|e| {
                format!(
                    "{}: {}",
                    node.directory().name_of(a.as_str()),
                    refusal(node, e, lang)
                )
            })
        })
        .collect();
    (!refused.is_empty()).then(|| {
        format!(
            "{}\n{}",
            lang.pick(
                "版は記録されましたが、送れなかった担当部分があります:",
                "The version is recorded, but some parts were not shared:",
            ),
            refused.join("\n")
        )
    })
}

/// Send `send`; where to go next, or the refusal with its status.
async fn record(
    state: &UiState,
    send: &PlanSend,
    lang: Lang,
) -> Result<Result<Response, (StatusCode, String)>, PageError> {
    let node = &state.node;
    let sent = send_plan(node, send).await;
    let stale =
        matches!(&sent.whole, Err(NodeError::Refused(b)) if b.code == ErrorCode::StalePlanVersion);
    let stored = match outcome(node, sent.whole, lang) {
        Ok(stored) => stored,
        Err(why) => {
            let status = match stale {
                true => StatusCode::CONFLICT,
                false => StatusCode::UNPROCESSABLE_ENTITY,
            };
            return Ok(Err((status, why)));
        }
    };
    let plan = send.plan_id;
    if let Some(why) = parts_refused(node, sent.parts, lang) {
        return Ok(Err((StatusCode::UNPROCESSABLE_ENTITY, why)));
    }
    let done = if stored { "recorded" } else { "queued" };
    let to = format!("/plans/{plan}?version={}&done={done}", send.version);
    Ok(Ok(Redirect::to(&to).into_response()))
}

fn author_send(
    signed: &SignedIn,
    case: CaseId,
    plan_id: PlanId,
    version: u32,
    based_on: Option<u32>,
    plan: SupportPlan,
    to: ShareTo,
) -> PlanSend {
    PlanSend {
        case,
        plan_id,
        version,
        based_on,
        plan,
        whole: to.whole,
        parts: to.parts,
        part_categories: to.part_categories,
        basis: to.basis,
        justification: to.justification,
        author: signed.member.author(),
    }
}

/// Version 1.
#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<UiState>,
    Posted { signed, lang, f }: Posted,
) -> Result<Response, PageError> {
    let node = &state.node;
    let mut p = Problems::default();
    let case = f.get("case").parse::<CaseId>().ok();
    if case.is_none() {
        p.add(
            "case",
            lang.pick(
                "ケースIDを入力してください（ケースの画面に表示される ID）。",
                "Enter the case id (shown on the case's page).",
            ),
        );
    }
    let written = written(node, &f, lang, &mut p);
    let back = |f: Fields, p: Problems, refusal: Option<String>| {
        let mut editor = Editor::with(node, "/plans/new".into(), None, f, lang);
        editor.problems = p;
        editor.refusal = refusal;
        NewPage {
            chrome: signed.chrome(lang),
            editor,
        }
    };
    let (Some(case), Some((plan, to))) = (case, written) else {
        let page = back(f, p, None);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    };
    let send = author_send(&signed, case, PlanId::new(), 1, None, plan, to);
    match record(&state, &send, lang).await? {
        Ok(r) => Ok(r),
        Err((_, why)) if send_recorded(&state, &send).await? => {
            let all = crate::agency::plans::versions(node.records(), send.plan_id).await?;
            let html = super::render(
                &state,
                &signed,
                lang,
                send.plan_id,
                &all,
                None,
                None,
                Some(why),
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(html)).into_response())
        }
        Err((status, why)) => {
            let page = back(f, Problems::default(), Some(why));
            Ok((status, Html(page.render()?)).into_response())
        }
    }
}

/// Whether the version was recorded (its whole plan held here), so the
/// plan page can show it even though a part was refused.
async fn send_recorded(state: &UiState, send: &PlanSend) -> Result<bool, PageError> {
    let all = crate::agency::plans::versions(state.node.records(), send.plan_id).await?;
    Ok(all.iter().any(|v| v.version == send.version))
}

/// The next version from the one the editor was filled from; refused
/// (409) when that is no longer the latest.
#[tracing::instrument(skip_all, fields(plan = %id))]
pub async fn revise(
    State(state): State<UiState>,
    Path(id): Path<String>,
    Posted { signed, lang, f }: Posted,
) -> Result<Response, PageError> {
    let node = &state.node;
    let (plan_id, all) = held(&state, &id).await?;
    let latest = all.last().ok_or(PageError::NotFound)?;
    let based_on = f.get("based_on").parse::<u32>().ok();
    let mut p = Problems::default();
    let stale = based_on != Some(latest.version);
    let written = written(node, &f, lang, &mut p);
    let whole = matches!(latest.content, Held::Whole(_));
    let status = if stale {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let refusal = if stale {
        Some(stale_text(latest.version, lang))
    } else if !whole {
        Some(lang.pick(
            "この機関が持つのは担当部分だけなので改訂できません。主担当機関に改訂を依頼してください。",
            "This agency holds only its part, so it cannot revise the plan: ask the lead agency.",
        ).to_owned())
    } else {
        None
    };
    let (Some((plan, to)), None) = (written.as_ref(), refusal.as_ref()) else {
        return back(&state, &signed, lang, plan_id, &all, f, p, refusal, status).await;
    };
    let send = author_send(
        &signed,
        latest.case_id.clone(),
        plan_id,
        latest.version + 1,
        Some(latest.version),
        plan.clone(),
        ShareTo {
            whole: to.whole.clone(),
            parts: to.parts.clone(),
            part_categories: to.part_categories.clone(),
            basis: to.basis.clone(),
            justification: to.justification.clone(),
        },
    );
    match record(&state, &send, lang).await? {
        Ok(r) => Ok(r),
        Err((status, why)) => {
            let all = crate::agency::plans::versions(node.records(), plan_id).await?;
            back(
                &state,
                &signed,
                lang,
                plan_id,
                &all,
                f,
                Problems::default(),
                Some(why),
                status,
            )
            .await
        }
    }
}

/// "Someone revised it meanwhile": reload and merge.
fn stale_text(latest: u32, lang: Lang) -> String {
    match lang {
        Lang::Ja => format!(
            "この編集を始めた後に、ほかの職員または機関がプランを改訂しました（最新は版{latest}）。何も送っていません。\n次の手順: ページを開き直して最新の版を確認し、あなたの変更をその版に入れてから、もう一度記録してください。"
        ),
        Lang::En => format!(
            "Someone revised the plan after you started editing (the latest is version {latest}). Nothing was sent.\nNext: reload the page, look at the latest version, merge your changes into it and record again."
        ),
    }
}

/// The plan page again with the editor as entered.
#[allow(clippy::too_many_arguments)]
async fn back(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    plan_id: PlanId,
    all: &[crate::agency::plans::HeldVersion],
    f: Fields,
    problems: Problems,
    refusal: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let based_on = f.get("based_on").parse::<u32>().ok();
    let action = format!("/plans/{plan_id}/revise");
    let mut editor = Editor::with(&state.node, action, based_on, f, lang);
    editor.problems = problems;
    editor.refusal = refusal;
    let html = super::render(state, signed, lang, plan_id, all, None, Some(editor), None).await?;
    Ok((status, Html(html)).into_response())
}

//! Support plans (支援プラン): `GET /plans` (the plans held and this
//! agency's own actions, soonest due first), one plan and its versions
//! (`/plans/{id}`), the editor for version 1 (`/plans/new`) and for the
//! next version from the latest (`/plans/{id}/revise`), and what changed
//! between two versions (`/plans/{id}/diff`). Built on `agency::plans`, as
//! the CLI's `agency plan` is.

mod diff;
mod editor;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use axum::routing::get;
use serde::Deserialize;

use super::UiState;
use super::auth::SignedIn;
use super::error::PageError;
use super::lang::{Chrome, PageLang};
use crate::agency::Node;
use crate::agency::plans::{self, Held, HeldVersion};
use crate::agency::staff::Viewed;
use crate::i18n::Lang;
use crate::protocol::plan::PlanAction;
use crate::protocol::{PlanId, Timestamp};

/// The plan screens' routes.
pub fn routes() -> Router<UiState> {
    Router::new()
        .route("/plans", get(list))
        .route("/plans/new", get(editor::new_form).post(editor::create))
        .route("/plans/{id}", get(show))
        .route("/plans/{id}/revise", axum::routing::post(editor::revise))
        .route("/plans/{id}/diff", get(diff::page))
}

/// A plan in the list.
pub struct PlanRow {
    pub id: String,
    pub case_id: String,
    pub version: u32,
    pub lead: String,
    pub review_on: String,
    pub held: &'static str,
    pub from: String,
}

/// One of our actions.
pub struct OurRow {
    pub plan_id: String,
    pub case_id: String,
    pub what: String,
    pub frequency: String,
    pub period: String,
    pub due: String,
    pub overdue: bool,
    pub lead: String,
}

#[derive(Template)]
#[template(path = "ui/plans.html")]
struct ListPage {
    chrome: Chrome,
    plans: Vec<PlanRow>,
    ours: Vec<OurRow>,
}

fn from_name(node: &Node, v: &HeldVersion, lang: Lang) -> String {
    v.from.as_ref().map_or_else(
        || lang.pick("この機関", "This agency").to_owned(),
        |a| node.directory().name_of(a.as_str()),
    )
}

fn held_label(h: &Held, lang: Lang) -> &'static str {
    match h {
        Held::Whole(_) => lang.pick("全体", "Whole plan"),
        Held::Part(_) => lang.pick("担当部分のみ", "Our part only"),
    }
}

/// An action's period as staff read it.
pub fn period(a: &PlanAction) -> String {
    match (a.from, a.until) {
        (None, None) => String::new(),
        (from, until) => format!(
            "{} 〜 {}",
            from.map(|d| d.to_string()).unwrap_or_default(),
            until.map(|d| d.to_string()).unwrap_or_default()
        ),
    }
}

/// The plans this node holds (the latest version of each) and our actions.
pub async fn list(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
) -> Result<Html<String>, PageError> {
    let node = &state.node;
    let held = plans::held_versions(node.records()).await?;
    let today = crate::protocol::day::Day::of(Timestamp::now());
    let name = |a: &crate::protocol::AgencyId| node.directory().name_of(a.as_str());
    let ours = plans::our_actions(held.clone(), node.id())
        .into_iter()
        .map(|o| OurRow {
            plan_id: o.plan_id.to_string(),
            case_id: o.case_id.to_string(),
            what: o.action.what.clone(),
            frequency: o.action.frequency.clone(),
            period: period(&o.action),
            due: o.due.to_string(),
            overdue: o.due < today,
            lead: name(&o.lead),
        })
        .collect();
    let plans = plans::latest_of_each(held)
        .iter()
        .map(|v| PlanRow {
            id: v.plan_id.to_string(),
            case_id: v.case_id.to_string(),
            version: v.version,
            lead: name(v.content.lead()),
            review_on: v.content.review_on().to_string(),
            held: held_label(&v.content, lang),
            from: from_name(node, v, lang),
        })
        .collect();
    let page = ListPage {
        chrome: signed.chrome(lang),
        plans,
        ours,
    };
    Ok(Html(page.render()?))
}

/// An action row as shown.
pub struct ActionRow {
    pub what: String,
    pub agency: String,
    pub frequency: String,
    pub period: String,
}

/// A version's content as shown (a part has no wishes, goals or people).
pub struct VersionView {
    pub whole: bool,
    pub wishes: String,
    pub goals: Vec<String>,
    pub actions: Vec<ActionRow>,
    pub lead: String,
    pub lead_contact: String,
    pub key_person: String,
    pub took_part: &'static str,
    pub copy_given: &'static str,
    pub made_on: String,
    pub review_on: String,
    pub categories: String,
    pub from_meeting: Option<String>,
}

fn yes_no(b: bool, lang: Lang) -> &'static str {
    match b {
        true => lang.pick("はい", "Yes"),
        false => lang.pick("いいえ", "No"),
    }
}

fn action_rows(node: &Node, actions: &[PlanAction]) -> Vec<ActionRow> {
    actions
        .iter()
        .map(|a| ActionRow {
            what: a.what.clone(),
            agency: node.directory().name_of(a.agency.as_str()),
            frequency: a.frequency.clone(),
            period: period(a),
        })
        .collect()
}

fn category_labels(c: &[crate::protocol::InfoCategory], lang: Lang) -> String {
    c.iter()
        .map(|c| c.label(lang))
        .collect::<Vec<_>>()
        .join("、")
}

fn version_view(node: &Node, h: &Held, lang: Lang) -> VersionView {
    let name = |a: &crate::protocol::AgencyId| node.directory().name_of(a.as_str());
    match h {
        Held::Whole(p) => VersionView {
            whole: true,
            wishes: p.wishes.clone(),
            goals: p.goals.clone(),
            actions: action_rows(node, &p.actions),
            lead: name(&p.lead),
            lead_contact: p.lead_contact.clone(),
            key_person: p.key_person.clone(),
            took_part: yes_no(p.person_took_part, lang),
            copy_given: yes_no(p.copy_given, lang),
            made_on: p.made_on.to_string(),
            review_on: p.review_on.to_string(),
            categories: category_labels(&p.categories, lang),
            from_meeting: p.from_meeting.map(|m| m.to_string()),
        },
        Held::Part(p) => VersionView {
            whole: false,
            wishes: String::new(),
            goals: vec![],
            actions: action_rows(node, &p.actions),
            lead: name(&p.lead),
            lead_contact: p.lead_contact.clone(),
            key_person: String::new(),
            took_part: "",
            copy_given: "",
            made_on: String::new(),
            review_on: p.review_on.to_string(),
            categories: category_labels(&p.categories, lang),
            from_meeting: None,
        },
    }
}

#[derive(Template)]
#[template(path = "ui/plan.html")]
struct PlanPage {
    chrome: Chrome,
    id: String,
    case_id: String,
    version: u32,
    based_on: Option<u32>,
    latest: u32,
    versions: Vec<u32>,
    from: String,
    author: String,
    consent_ended: bool,
    view: VersionView,
    /// The editor for the next version, when this node holds the whole
    /// latest version.
    editor: Option<editor::Editor>,
    done: Option<String>,
}

#[derive(Deserialize)]
pub struct ShowQuery {
    version: Option<u32>,
    done: Option<String>,
}

/// The versions of a plan held here, oldest first; 404 when none.
async fn held(state: &UiState, id: &str) -> Result<(PlanId, Vec<HeldVersion>), PageError> {
    let id: PlanId = id.parse().map_err(|_| PageError::NotFound)?;
    let all = plans::versions(state.node.records(), id).await?;
    match all.is_empty() {
        true => Err(PageError::NotFound),
        false => Ok((id, all)),
    }
}

/// One version (the latest unless `?version=`), and the editor for the
/// next; the view is written to the access log first.
#[tracing::instrument(skip_all, fields(plan = %id))]
pub async fn show(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Html<String>, PageError> {
    let (plan_id, all) = held(&state, &id).await?;
    let done = q
        .done
        .as_deref()
        .map(|d| editor::done_text(d, lang).to_owned());
    let html = render(&state, &signed, lang, plan_id, &all, q.version, None, done).await?;
    Ok(Html(html))
}

/// Who received the whole of `v`, when this node sent it: the next
/// version goes to them unless staff change it.
async fn whole_to(node: &Node, v: &HeldVersion) -> Result<Vec<String>, PageError> {
    let sent = node.records().outbox_item(v.envelope_id).await?;
    Ok(sent
        .and_then(|row| serde_json::from_str::<Vec<String>>(&row.recipients).ok())
        .unwrap_or_default())
}

/// The plan page, with `editor` (what was entered, with its problems) when
/// a revision comes back, and what was just done.
#[allow(clippy::too_many_arguments)]
pub(super) async fn render(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    plan_id: PlanId,
    all: &[HeldVersion],
    version: Option<u32>,
    editor: Option<editor::Editor>,
    done: Option<String>,
) -> Result<String, PageError> {
    let node = &state.node;
    signed
        .viewed(state, Viewed::Plan, &plan_id.to_string())
        .await?;
    let latest = all.last().ok_or(PageError::NotFound)?;
    let v = match version {
        Some(n) => all
            .iter()
            .find(|v| v.version == n)
            .ok_or(PageError::NotFound)?,
        None => latest,
    };
    let editor = match (&latest.content, editor) {
        (_, Some(e)) => Some(e),
        (Held::Whole(p), None) => Some(editor::Editor::revising(
            node,
            plan_id,
            p,
            latest.version,
            whole_to(node, latest).await?,
            lang,
        )),
        (Held::Part(_), None) => None,
    };
    let page = PlanPage {
        chrome: signed.chrome(lang),
        id: plan_id.to_string(),
        case_id: v.case_id.to_string(),
        version: v.version,
        based_on: v.based_on,
        latest: latest.version,
        versions: all.iter().map(|v| v.version).collect(),
        from: from_name(node, v, lang),
        author: format!(
            "{}（{}・{}）",
            v.author.name, v.author.role, v.author.contact
        ),
        consent_ended: v.consent_end_reason.is_some(),
        view: version_view(node, &v.content, lang),
        editor,
        done,
    };
    Ok(page.render()?)
}

//! `GET /plans/{id}/diff?from=1&to=2`: what changed between two versions,
//! as staff read it — each change marked 追加 / 削除 / 変更 in words (not by
//! colour alone), agencies by name. Needs both versions whole.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::{held, period};
use crate::agency::Node;
use crate::agency::plans::{Change, Held, PlanDiff, diff};
use crate::agency::staff::Viewed;
use crate::agency::ui::UiState;
use crate::agency::ui::auth::SignedIn;
use crate::agency::ui::error::PageError;
use crate::agency::ui::lang::{Chrome, PageLang};
use crate::i18n::Lang;
use crate::protocol::plan::PlanAction;

/// One change.
pub struct Line {
    /// `added`, `removed` or `changed` (the CSS class).
    pub kind: &'static str,
    /// 追加 / 削除 / 変更.
    pub mark: &'static str,
    pub field: &'static str,
    pub text: String,
}

#[derive(Template)]
#[template(path = "ui/plan_diff.html")]
struct DiffPage {
    chrome: Chrome,
    id: String,
    from: u32,
    to: u32,
    versions: Vec<u32>,
    lines: Vec<Line>,
    /// Why no diff could be made, if so.
    missing: Option<String>,
}

#[derive(Deserialize)]
pub struct DiffQuery {
    from: Option<u32>,
    to: Option<u32>,
}

struct Lines<'a> {
    node: &'a Node,
    lang: Lang,
    out: Vec<Line>,
}

impl Lines<'_> {
    fn push(&mut self, kind: &'static str, field: &'static str, text: String) {
        let mark = match kind {
            "added" => self.lang.pick("追加", "Added"),
            "removed" => self.lang.pick("削除", "Removed"),
            _ => self.lang.pick("変更", "Changed"),
        };
        self.out.push(Line {
            kind,
            mark,
            field,
            text,
        });
    }

    fn change<T>(
        &mut self,
        field: &'static str,
        c: &Option<Change<T>>,
        show: impl Fn(&T) -> String,
    ) {
        if let Some(c) = c {
            let text = format!("{} → {}", show(&c.before), show(&c.after));
            self.push("changed", field, text);
        }
    }

    fn action(&self, a: &PlanAction) -> String {
        let mut text = format!(
            "{}: {}",
            self.node.directory().name_of(a.agency.as_str()),
            a.what
        );
        for extra in [a.frequency.clone(), period(a)] {
            if !extra.is_empty() {
                text += &format!("（{extra}）");
            }
        }
        text
    }
}

fn lines(node: &Node, d: &PlanDiff, lang: Lang) -> Vec<Line> {
    let t = |ja, en| lang.pick(ja, en);
    let mut l = Lines {
        node,
        lang,
        out: vec![],
    };
    l.change(t("本人の意向", "Her wishes"), &d.wishes, Clone::clone);
    for g in &d.goals_added {
        l.push("added", t("目標", "Goal"), g.clone());
    }
    for g in &d.goals_removed {
        l.push("removed", t("目標", "Goal"), g.clone());
    }
    for a in &d.actions_added {
        let text = l.action(a);
        l.push("added", t("支援内容", "Action"), text);
    }
    for a in &d.actions_removed {
        let text = l.action(a);
        l.push("removed", t("支援内容", "Action"), text);
    }
    for c in &d.actions_changed {
        let text = format!("{} → {}", l.action(&c.before), l.action(&c.after));
        l.push("changed", t("支援内容", "Action"), text);
    }
    let name = |a: &crate::protocol::AgencyId| node.directory().name_of(a.as_str());
    l.change(t("主担当機関", "Lead agency"), &d.lead, name);
    l.change(
        t("主担当機関の連絡先", "Lead's contact"),
        &d.lead_contact,
        Clone::clone,
    );
    l.change(t("キーパーソン", "Key person"), &d.key_person, Clone::clone);
    let yes = |b: &bool| {
        lang.pick(
            if *b { "はい" } else { "いいえ" },
            if *b { "yes" } else { "no" },
        )
        .to_owned()
    };
    l.change(t("本人参画", "She took part"), &d.person_took_part, yes);
    l.change(t("交付", "Copy given"), &d.copy_given, yes);
    l.change(t("作成日", "Made on"), &d.made_on, ToString::to_string);
    l.change(
        t("見直し日", "Review on"),
        &d.review_on,
        ToString::to_string,
    );
    let meeting =
        |m: &Option<crate::protocol::MeetingId>| m.map_or("—".into(), |m| m.to_string());
    l.change(t("元にした会議", "From meeting"), &d.from_meeting, meeting);
    let cats = |c: &Vec<crate::protocol::InfoCategory>| {
        c.iter()
            .map(|c| c.label(lang))
            .collect::<Vec<_>>()
            .join("、")
    };
    l.change(t("情報区分", "Categories"), &d.categories, cats);
    l.out
}

/// The diff page (from the version before the latest to the latest unless
/// asked); its view is written to the access log.
#[tracing::instrument(skip_all, fields(plan = %id))]
pub async fn page(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
    Query(q): Query<DiffQuery>,
) -> Result<Response, PageError> {
    let (plan_id, all) = held(&state, &id).await?;
    signed
        .viewed(&state, Viewed::Plan, &plan_id.to_string())
        .await?;
    let latest = all.last().map_or(1, |v| v.version);
    let to = q.to.unwrap_or(latest);
    let from = q.from.unwrap_or(to.saturating_sub(1).max(1));
    let whole = |n: u32| match all.iter().find(|v| v.version == n).map(|v| &v.content) {
        Some(Held::Whole(p)) => Some(p.clone()),
        _ => None,
    };
    let (lines, missing) = match (whole(from), whole(to)) {
        (Some(a), Some(b)) => (lines(&state.node, &diff(&a, &b), lang), None),
        _ => (
            vec![],
            Some(lang.pick(
                "差分には両方の版の全体が必要ですが、この機関はその版を持っていないか、担当部分だけを持っています。",
                "A diff needs both versions whole; this agency does not hold one of them, or holds only its part.",
            ).to_owned()),
        ),
    };
    let status = match missing {
        Some(_) => StatusCode::NOT_FOUND,
        None => StatusCode::OK,
    };
    let page = DiffPage {
        chrome: signed.chrome(lang),
        id: plan_id.to_string(),
        from,
        to,
        versions: all.iter().map(|v| v.version).collect(),
        lines,
        missing,
    };
    Ok((status, Html(page.render()?)).into_response())
}

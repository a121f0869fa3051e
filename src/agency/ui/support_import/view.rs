//! The import's three pages: the upload form, the plan (mapping, counts,
//! refusals, the rows), and what was imported.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::super::auth::SignedIn;
use super::super::error::PageError;
use super::super::lang::Chrome;
use crate::agency::support_ledger::FIELDS;
use crate::agency::support_ledger::exchange::mapping::REQUIRED;
use crate::agency::support_ledger::exchange::plan::RowProblem;
use crate::agency::support_ledger::exchange::{
    ContactOutcome, Counts, Imported, Outcome, Plan, Target,
};
use crate::agency::support_ledger::subject::field_label;
use crate::i18n::Lang;

/// Rows listed on the plan page (the counts cover them all).
const ROWS_SHOWN: usize = 300;

#[derive(Template)]
#[template(path = "ui/support_import.html")]
struct UploadPage {
    chrome: Chrome,
    error: Option<String>,
    required: Vec<&'static str>,
}

pub fn upload_page(
    signed: &SignedIn,
    lang: Lang,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let page = UploadPage {
        chrome: signed.chrome(lang),
        error,
        required: REQUIRED.iter().map(|f| field_label(f, lang)).collect(),
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// One choice in a column's pull-down.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// One column of the file.
pub struct ColumnView {
    pub index: usize,
    pub heading: String,
    pub choices: Vec<Choice>,
    /// 自動 / 指定 / 計算列.
    pub how: &'static str,
}

/// One row (or contact) of the plan.
pub struct RowView {
    pub line: usize,
    pub number: String,
    pub name: String,
    pub outcome: &'static str,
    /// A class naming the outcome, for its colour.
    pub class: &'static str,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "ui/support_import_plan.html")]
struct PlanPage {
    chrome: Chrome,
    token: String,
    file_name: String,
    message: Option<String>,
    columns: Vec<ColumnView>,
    refusals: Vec<String>,
    counts: Counts,
    has_contacts: bool,
    rows: Vec<RowView>,
    rows_hidden: usize,
    importable: bool,
}

fn columns(plan: &Plan, lang: Lang) -> Vec<ColumnView> {
    plan.mapping
        .columns
        .iter()
        .enumerate()
        .map(|(index, c)| {
            let ignore = Choice {
                value: "ignore",
                label: match c.target {
                    Target::Computed => {
                        lang.pick("計算列（取り込みません）", "computed (not imported)")
                    }
                    _ => lang.pick("無視（取り込まない）", "ignore (not imported)"),
                },
                selected: !matches!(c.target, Target::Field(_)),
            };
            let fields = FIELDS.iter().map(|(f, ja, en)| Choice {
                value: f,
                label: lang.pick(ja, en),
                selected: c.target == Target::Field(f),
            });
            ColumnView {
                index,
                heading: c.heading.clone(),
                choices: std::iter::once(ignore).chain(fields).collect(),
                how: match (c.chosen, c.target) {
                    (true, _) => lang.pick("指定", "chosen"),
                    (false, Target::Computed) => lang.pick("計算列", "computed"),
                    (false, Target::Ignored) => lang.pick("不明な列", "unknown column"),
                    (false, Target::Field(_)) => lang.pick("自動", "recognised"),
                },
            }
        })
        .collect()
}

fn reasons(problems: &[RowProblem], lang: Lang) -> String {
    let texts: Vec<String> = problems.iter().map(|p| p.text(lang)).collect();
    texts.join(" / ")
}

fn rows(plan: &Plan, lang: Lang) -> Vec<RowView> {
    let sep = lang.pick("、", ", ");
    let mut out: Vec<RowView> = Vec::new();
    for r in &plan.rows {
        let (outcome, class, detail) = match &r.outcome {
            Outcome::New => (lang.pick("新規", "new"), "new", String::new()),
            Outcome::Unchanged => continue,
            Outcome::Changed(fields) => (
                lang.pick("変更", "changed"),
                "changed",
                fields
                    .iter()
                    .map(|f| field_label(f, lang))
                    .collect::<Vec<_>>()
                    .join(sep),
            ),
            Outcome::Refused(problems) => (
                lang.pick("拒否", "refused"),
                "refused",
                reasons(problems, lang),
            ),
        };
        out.push(RowView {
            line: r.line,
            number: r.number.clone(),
            name: r.name.clone(),
            outcome,
            class,
            detail,
        });
    }
    for c in &plan.contacts {
        let (outcome, class, detail) = match &c.outcome {
            ContactOutcome::New => (
                lang.pick("接触記録・新規", "contact, new"),
                "new",
                String::new(),
            ),
            ContactOutcome::AlreadyKept => continue,
            ContactOutcome::Refused(problems) => (
                lang.pick("接触記録・拒否", "contact, refused"),
                "refused",
                reasons(problems, lang),
            ),
        };
        out.push(RowView {
            line: c.line,
            number: c.number.clone(),
            name: String::new(),
            outcome,
            class,
            detail,
        });
    }
    // Refusals first: they are what must be fixed.
    out.sort_by_key(|r| r.class != "refused");
    out
}

pub fn plan_page(
    signed: &SignedIn,
    lang: Lang,
    token: &str,
    file_name: &str,
    plan: &Plan,
    message: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut rows = rows(plan, lang);
    let rows_hidden = rows.len().saturating_sub(ROWS_SHOWN);
    rows.truncate(ROWS_SHOWN);
    let page = PlanPage {
        chrome: signed.chrome(lang),
        token: token.into(),
        file_name: file_name.into(),
        message,
        columns: columns(plan, lang),
        refusals: plan.refusals(lang),
        counts: plan.counts(),
        has_contacts: !plan.contacts.is_empty(),
        rows,
        rows_hidden,
        importable: plan.importable(),
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Template)]
#[template(path = "ui/support_import_done.html")]
struct DonePage {
    chrome: Chrome,
    file_name: String,
    done: Imported,
    unchanged: usize,
    numbers: Vec<String>,
}

pub fn done_page(
    signed: &SignedIn,
    lang: Lang,
    file_name: &str,
    plan: &Plan,
    done: Imported,
) -> Result<Response, PageError> {
    let page = DonePage {
        chrome: signed.chrome(lang),
        file_name: file_name.into(),
        done,
        unchanged: plan.counts().unchanged,
        numbers: plan
            .rows
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::New | Outcome::Changed(_)))
            .take(ROWS_SHOWN)
            .map(|r| r.number.clone())
            .collect(),
    };
    Ok(Html(page.render()?).into_response())
}

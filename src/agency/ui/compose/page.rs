//! The form page: fresh, or a draft resumed, or shown again with what
//! was typed and every problem at its field.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::super::UiState;
use super::super::auth::SignedIn;
use super::super::error::PageError;
use super::super::lang::{Chrome, PageLang};
use super::choices::{Reach, basis_field, case_field, known_cases, reach, recipients_field};
use super::drafts;
use super::form::ComposeForm;
use super::view::{Field, Kind, Layout, Section, anchor, field_id};
use crate::agency::sharing::{self};
use crate::i18n::Lang;
use crate::protocol::CaseId;
use crate::protocol::referral::FieldError;

/// One entry of the error summary: a link to the field and its message.
pub struct Problem {
    pub href: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "ui/compose.html")]
struct ComposePage {
    chrome: Chrome,
    problems: Vec<Problem>,
    pub(super) notice: Option<String>,
    /// Why it was not sent (the node's check or the hub).
    pub(super) refusal: Option<String>,
    pub(super) draft_id: String,
    drafts: Vec<drafts::Item>,
    case: Field,
    urgency: Field,
    recipients: Field,
    reach: Vec<Reach>,
    basis: Field,
    justification: Field,
    sections: Vec<Section>,
    files: Field,
}

/// Everything the page needs besides the form.
pub(super) struct Shown {
    pub(super) errors: Vec<FieldError>,
    pub(super) notice: Option<String>,
    pub(super) refusal: Option<String>,
    pub(super) draft_id: String,
}

impl Shown {
    pub(super) fn fresh(draft_id: String, notice: Option<String>) -> Self {
        Shown {
            errors: Vec::new(),
            notice,
            refusal: None,
            draft_id,
        }
    }
}

#[derive(Deserialize)]
pub struct Opened {
    draft: Option<String>,
    saved: Option<String>,
    deleted: Option<String>,
}

/// The form: empty, or a draft of this member resumed.
pub async fn show(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Query(opened): Query<Opened>,
) -> Result<Html<String>, PageError> {
    let (form, draft_id) = match &opened.draft {
        Some(id) => (drafts::load(&state, &signed, id).await?, id.clone()),
        None => (fresh_form(), uuid::Uuid::new_v4().to_string()),
    };
    let notice = if opened.saved.is_some() {
        Some(lang.pick(
            "下書きを保存しました。この画面の「下書き」からいつでも続けられます（添付ファイルは保存されません）。",
            "Draft saved. Resume it any time from Drafts on this page (attached files are not saved).",
        ))
    } else if opened.deleted.is_some() {
        Some(lang.pick("下書きを削除しました。", "Draft deleted."))
    } else {
        None
    };
    let shown = Shown::fresh(draft_id, notice.map(str::to_owned));
    render(&state, &signed, lang, &form, shown).await
}

pub(super) fn fresh_form() -> ComposeForm {
    ComposeForm {
        case: "new".into(),
        urgency: "normal".into(),
        ..ComposeForm::default()
    }
}

/// Draw the page for `form`.
async fn render(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    form: &ComposeForm,
    shown: Shown,
) -> Result<Html<String>, PageError> {
    let layout = Layout {
        form,
        errors: &shown.errors,
        lang,
    };
    let cases = known_cases(state).await?;
    let consents = match form.case.parse::<CaseId>() {
        Ok(case) => sharing::consents_for(state.node.records(), state.node.id(), &case).await?,
        Err(_) => Vec::new(),
    };
    let page = ComposePage {
        chrome: signed.chrome(lang),
        problems: Vec::new(),
        notice: shown.notice,
        refusal: shown.refusal,
        draft_id: shown.draft_id,
        drafts: drafts::list(state, signed, lang).await?,
        case: case_field(&layout, cases),
        urgency: layout.urgency(),
        recipients: recipients_field(state, &layout),
        reach: reach(state, form, &consents, lang),
        basis: basis_field(state, &layout, &consents),
        justification: Field {
            hint: Some(lang.pick(
                "法令上の根拠で送るときは必須。どの根拠に、なぜ当たるのかを書いてください（相手の機関とセンターが読みます）。",
                "Required under a statutory basis: why it applies (the recipients and the center read it).",
            ).to_owned()),
            ..layout.field("justification", lang.pick("提供の理由", "Justification").to_owned(), Kind::Area)
        },
        sections: layout.referral_sections(),
        files: Field {
            hint: Some(lang.pick(
                "PDF・PNG・JPEG、合計5MBまで。相手の機関にだけ暗号化して届きます。",
                "PDF, PNG or JPEG, 5 MB in all; encrypted to the recipients only.",
            ).to_owned()),
            ..layout.field("attachments", lang.pick("添付ファイル", "Attachments").to_owned(), Kind::Files)
        },
    };
    let page = ComposePage {
        problems: problems(&page, &shown.errors, lang),
        ..page
    };
    Ok(Html(page.render()?))
}

/// The summary at the top: each problem, linking to its field, in the
/// order the fields appear on the page.
fn problems(page: &ComposePage, errors: &[FieldError], lang: Lang) -> Vec<Problem> {
    let order: Vec<&str> = [
        &page.case,
        &page.urgency,
        &page.recipients,
        &page.basis,
        &page.justification,
    ]
    .into_iter()
    .chain(page.sections.iter().flat_map(|s| s.fields.iter()))
    .chain([&page.files])
    .map(|f| f.name.as_str())
    .collect();
    let mut found: Vec<(usize, Problem)> = errors
        .iter()
        .map(|e| {
            let at = anchor(&e.field);
            let place = order.iter().position(|n| *n == at).unwrap_or(order.len());
            let problem = Problem {
                href: format!("#{}", field_id(&at)),
                message: e.message(lang).to_owned(),
            };
            (place, problem)
        })
        .collect();
    found.sort_by_key(|(place, _)| *place);
    found.into_iter().map(|(_, p)| p).collect()
}

/// The page again, with `status`.
pub(super) async fn again(
    state: &UiState,
    signed: &SignedIn,
    lang: Lang,
    form: &ComposeForm,
    shown: Shown,
    status: StatusCode,
) -> Result<Response, PageError> {
    let html = render(state, signed, lang, form, shown).await?;
    Ok((status, html).into_response())
}

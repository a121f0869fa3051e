//! Drafts of the form, each its member's own: saved (「保存して後で続ける」),
//! listed on the form, resumed, deleted, and deleted once sent.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::super::UiState;
use super::super::auth::SignedIn;
use super::super::error::PageError;
use super::super::inbox::local_time;
use super::form::ComposeForm;
use crate::i18n::Lang;
use crate::protocol::Timestamp;

/// A draft in the list.
pub struct Item {
    pub id: String,
    pub title: String,
    pub saved: String,
}

/// This member's drafts, most recent first.
pub async fn list(state: &UiState, signed: &SignedIn, lang: Lang) -> Result<Vec<Item>, PageError> {
    let rows = state
        .node
        .records()
        .drafts_of(&signed.member.id.to_string())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Item {
            title: match r.title.is_empty() {
                true => lang.pick("（氏名未記入）", "(no name yet)").to_owned(),
                false => r.title,
            },
            saved: local_time(r.updated_at),
            id: r.id,
        })
        .collect())
}

/// The form of one of this member's drafts; another member's is not found.
pub async fn load(state: &UiState, signed: &SignedIn, id: &str) -> Result<ComposeForm, PageError> {
    let row = state
        .node
        .records()
        .draft(&signed.member.id.to_string(), id)
        .await?
        .ok_or(PageError::NotFound)?;
    serde_json::from_str(&row.form).map_err(|e| {
        PageError::Store(crate::store::StoreError::Corrupt(format!(
            "draft form: {e}"
        )))
    })
}

/// Save the form under `id`, then show it again from the draft.
pub async fn save(
    state: &UiState,
    signed: &SignedIn,
    id: &str,
    form: &ComposeForm,
) -> Result<Response, PageError> {
    let json = serde_json::to_string(form)
        .map_err(|e| PageError::Store(crate::store::StoreError::Corrupt(e.to_string())))?;
    let staff = signed.member.id.to_string();
    let records = state.node.records();
    // An id that is another member's (a forged field) saves as a new draft.
    let id = match records
        .save_draft(id, &staff, form.title(), &json, Timestamp::now())
        .await?
    {
        true => id.to_owned(),
        false => {
            let fresh = uuid::Uuid::new_v4().to_string();
            records
                .save_draft(&fresh, &staff, form.title(), &json, Timestamp::now())
                .await?;
            fresh
        }
    };
    Ok(Redirect::to(&format!("/compose?draft={id}&saved=1")).into_response())
}

/// Once sent, the draft is gone (if there was one).
pub async fn forget(state: &UiState, signed: &SignedIn, id: &str) -> Result<(), PageError> {
    let staff = signed.member.id.to_string();
    state.node.records().delete_draft(&staff, id).await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /compose/drafts/{id}/delete`.
pub async fn delete(
    State(state): State<UiState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<DeleteForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(&form.csrf)?;
    let staff = signed.member.id.to_string();
    match state.node.records().delete_draft(&staff, &id).await? {
        true => Ok(Redirect::to("/compose?deleted=1").into_response()),
        false => Err(PageError::NotFound),
    }
}

//! The confirmation once sent: what went where, the record one click away.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use serde::Deserialize;

use super::super::UiState;
use super::super::auth::SignedIn;
use super::super::error::PageError;
use super::super::lang::{Chrome, PageLang};
use crate::protocol::EnvelopeId;

#[derive(Template)]
#[template(path = "ui/compose_sent.html")]
struct SentPage {
    chrome: Chrome,
    id: String,
    case_id: String,
    recipients: Vec<String>,
    queued: bool,
}

#[derive(Deserialize)]
pub struct SentQuery {
    queued: Option<String>,
}

/// The confirmation: what went where, the record one click away.
pub async fn sent(
    State(state): State<UiState>,
    signed: SignedIn,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
    Query(q): Query<SentQuery>,
) -> Result<Html<String>, PageError> {
    let id: EnvelopeId = id.parse().map_err(|_| PageError::NotFound)?;
    let row = state
        .node
        .records()
        .outbox_item(id)
        .await?
        .ok_or(PageError::NotFound)?;
    let ids: Vec<String> = serde_json::from_str(&row.recipients).unwrap_or_default();
    let page = SentPage {
        chrome: signed.chrome(lang),
        id: row.envelope_id,
        case_id: row.case_id.unwrap_or_default(),
        recipients: ids
            .iter()
            .map(|r| state.node.directory().name_of(r))
            .collect(),
        queued: q.queued.is_some() || row.status == "pending",
    };
    Ok(Html(page.render()?))
}

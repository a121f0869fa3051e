//! The 連絡票 form (`GET`/`POST /compose`): the structured referral, its
//! recipients chosen from the directory by name, the legal basis each can
//! be reached under, EPDS items with the total computed, attachments, and
//! drafts kept on the node. What the hub would refuse is refused here,
//! before anything is sent, with the reason and the next step; what the
//! hub still refuses is shown the same way. Nothing is sent unless every
//! field, file and basis is in order: one envelope to every recipient, or
//! none.

mod attachments;
mod choices;
mod drafts;
mod form;
mod page;
mod sent;
mod submit;
mod view;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use super::UiState;
pub use attachments::of_referral as attachments_of;

/// Files may hold 5 MB in all; the form's text and the multipart framing
/// need a little more. Anything larger is answered with the form and a
/// message at the file field, not a bare 413.
const BODY_LIMIT: usize = crate::protocol::attachment::MAX_ATTACHMENT_BYTES + 512 * 1024;

/// The form, its confirmation, drafts and attachment downloads.
pub fn routes() -> Router<UiState> {
    Router::new()
        .route(
            "/compose",
            get(page::show)
                .post(submit::submit)
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .route("/compose/sent/{id}", get(sent::sent))
        .route("/compose/drafts/{id}/delete", post(drafts::delete))
        .route(
            "/envelopes/{id}/attachments/{n}",
            get(attachments::download),
        )
}

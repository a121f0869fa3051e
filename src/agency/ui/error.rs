//! One mapping from a page's failure to its response: a Japanese page (with
//! the English beneath) for what staff can act on, an opaque one for the
//! rest, whose cause chain goes to the log only.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::store::StoreError;

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// A state change without the session's CSRF token (or with a wrong one).
    #[error("missing or wrong CSRF token")]
    Csrf,
    #[error("no such page or record")]
    NotFound,
    /// An administrator's page asked for by someone else.
    #[error("administrators only")]
    NotAdministrator,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    /// A staff account operation failed for a reason no one can act on.
    #[error("staff accounts: {0}")]
    Staff(String),
    #[error("template: {0}")]
    Template(#[from] askama::Error),
}

#[derive(Template)]
#[template(path = "ui/error.html")]
struct ErrorPage {
    title: &'static str,
    message: &'static str,
    english: &'static str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, page) = match &self {
            PageError::Csrf => (
                StatusCode::FORBIDDEN,
                ErrorPage {
                    title: "この操作は受け付けられません",
                    message: "フォームの確認用トークンがないか、正しくありません。ページを開き直してから、もう一度操作してください。",
                    english: "The form's security token is missing or wrong. Reload the page and try again.",
                },
            ),
            PageError::NotAdministrator => (
                StatusCode::FORBIDDEN,
                ErrorPage {
                    title: "管理者だけが使える画面です",
                    message: "職員アカウントの管理と閲覧記録は、役割が「管理者」の職員だけが扱えます。必要なときは、この機関の管理者に依頼してください。",
                    english: "Only staff with the administrator role manage accounts and read the access log. Ask your agency's administrator.",
                },
            ),
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                ErrorPage {
                    title: "見つかりません",
                    message: "このページまたは記録は、このノードにありません。",
                    english: "This page or record is not on this node.",
                },
            ),
            PageError::Store(_)
            | PageError::Crypto(_)
            | PageError::Staff(_)
            | PageError::Template(_) => {
                tracing::error!(error = ?anyhow::Error::from(self), "page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorPage {
                        title: "エラーが発生しました",
                        message: "ページを表示できませんでした。しばらくしてからやり直し、続く場合はシステム管理者に連絡してください。",
                        english: "The page could not be shown. Try again later; if it persists, tell the system administrator.",
                    },
                )
            }
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => status.into_response(),
        }
    }
}

/// Unknown paths.
pub async fn not_found() -> PageError {
    PageError::NotFound
}

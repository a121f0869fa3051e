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
    /// The 進行管理台帳 asked of a node that is not the 調整機関's.
    #[error("the progress ledger is the coordinating body's")]
    NotCoordinator,
    /// The 支援台帳 asked of a node that is not the center's.
    #[error("the support ledger is the center's")]
    NotCenter,
    /// A form body that could not be read at all (not one the page sent).
    #[error("unreadable form")]
    BadForm,
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
            PageError::NotCoordinator => (
                StatusCode::FORBIDDEN,
                ErrorPage {
                    title: "進行管理台帳は調整機関の台帳です",
                    message: "進行管理台帳は、要保護児童対策地域協議会（要対協）の調整機関が管理する台帳で、調整機関のノードだけにあります。このノードでは表示できません。台帳の内容が必要なときは、調整機関の担当者に問い合わせてください。",
                    english: "The progress ledger is kept by the child-protection council's coordinating body, on its node only: this node cannot show it. Ask the coordinating body's staff for what you need from it.",
                },
            ),
            PageError::NotCenter => (
                StatusCode::FORBIDDEN,
                ErrorPage {
                    title: "支援台帳はこども家庭センターの台帳です",
                    message: "支援台帳は、こども家庭センターが妊婦・子ども・世帯の状況を把握するための台帳で、センターのノードだけにあります。このノードでは表示できません。必要なことはセンターの担当保健師に問い合わせてください。",
                    english: "The support ledger is kept by the maternal and child support center, on its node only: this node cannot show it. Ask the center's public health nurse for what you need from it.",
                },
            ),
            PageError::BadForm => (
                StatusCode::BAD_REQUEST,
                ErrorPage {
                    title: "送信内容を読み取れませんでした",
                    message: "フォームの内容を受け取れませんでした。何も送信・保存していません。ページを開き直してから、もう一度入力してください。",
                    english: "The form could not be read. Nothing was sent or saved. Reload the page and fill it in again.",
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

/// The 支援台帳's pages exist on the center's node only: 403 elsewhere.
pub(super) fn center_only(node: &crate::agency::Node) -> Result<(), PageError> {
    if crate::agency::support_ledger::kept_by(node) {
        Ok(())
    } else {
        Err(PageError::NotCenter)
    }
}

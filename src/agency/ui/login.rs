//! `GET/POST /login` and `POST /logout`. Before a session exists the form
//! is protected by a double-submit token: a random value in a cookie
//! (SameSite=Strict) and the same in the form; the POST must carry both.

use askama::Template;
use axum::Form;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::UiState;
use super::auth::{ClientAddr, SignedIn, cookie_value};
use super::error::PageError;
use super::lang::{Chrome, PageLang};
use crate::agency::staff::{LoginError, SessionToken};
use crate::i18n::Lang;
use crate::protocol::Timestamp;

const LOGIN_CSRF_COOKIE: &str = "tsunagu_login_csrf";

#[derive(Template)]
#[template(path = "ui/login.html")]
struct LoginPage {
    chrome: Chrome,
    /// The name typed, kept after a failure (never the password or code).
    name: String,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct Ended {
    ended: Option<String>,
}

/// The login form, with why the last session ended if it did.
pub async fn form(PageLang(lang): PageLang, Query(q): Query<Ended>) -> Result<Response, PageError> {
    let notice = q
        .ended
        .as_deref()
        .map(|reason| ended_message(reason, lang).to_owned());
    page(lang, String::new(), notice, None, StatusCode::OK)
}

fn page(
    lang: Lang,
    name: String,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let token = random_token();
    let html = LoginPage {
        chrome: Chrome {
            lang,
            staff: None,
            csrf: token.clone(),
        },
        name,
        notice,
        error,
    }
    .render()?;
    let cookie =
        format!("{LOGIN_CSRF_COOKIE}={token}; Path=/login; Secure; HttpOnly; SameSite=Strict");
    let mut response = (status, Html(html)).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

fn ended_message(reason: &str, lang: Lang) -> &'static str {
    match reason {
        "idle" => lang.pick(
            "一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。",
            "You were signed out after a period of inactivity. Please sign in again.",
        ),
        "expired" => lang.pick(
            "ログインできる時間の上限に達したため、ログアウトしました。もう一度ログインしてください。",
            "Your session reached its maximum length. Please sign in again.",
        ),
        "logout" => lang.pick("ログアウトしました。", "You have signed out."),
        "ended" => lang.pick(
            "ログインが終了しました（別の画面でのログアウト、または管理者によるアカウントの変更）。もう一度ログインしてください。",
            "Your session has ended (signed out elsewhere, or your account was changed by an administrator). Please sign in again.",
        ),
        _ => lang.pick("ログインしてください。", "Please sign in."),
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // As for every secret: no random source, no page.
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

fn same_token(a: &str, b: &str) -> bool {
    !a.is_empty() && Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

#[derive(Deserialize)]
pub struct Credentials {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

/// Sign in; on success the session cookie and a redirect to the inbox.
#[tracing::instrument(skip_all, fields(address = %addr.0.ip()))]
pub async fn submit(
    State(state): State<UiState>,
    Extension(addr): Extension<ClientAddr>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    Form(form): Form<Credentials>,
) -> Result<Response, PageError> {
    let expected = cookie_value(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !same_token(&expected, &form.csrf) {
        return Err(PageError::Csrf);
    }
    let address = addr.0.ip().to_string();
    let code = form.code.trim();
    let result = state
        .accounts
        .login(&form.name, &form.password, code, &address, Timestamp::now())
        .await;
    let message = match result {
        Ok(session) => {
            let mut response = Redirect::to("/").into_response();
            if let Ok(v) = HeaderValue::from_str(&session.token.set_cookie()) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
            return Ok(response);
        }
        Err(LoginError::InvalidCredentials) => lang
            .pick(
                "氏名、パスワード、確認コードのいずれかが正しくありません。",
                "The name, password or confirmation code is wrong.",
            )
            .to_owned(),
        Err(LoginError::Disabled) => lang
            .pick(
                "このアカウントは無効になっています。管理者に連絡してください。",
                "This account is disabled. Contact your administrator.",
            )
            .to_owned(),
        Err(LoginError::Throttled { retry_at }) => format!(
            "{} {}",
            lang.pick(
                "ログインの失敗が続いたため、しばらくログインできません。再試行できる時刻:",
                "Too many failed sign-ins. You can try again at",
            ),
            super::inbox::local_time(retry_at)
        ),
        Err(LoginError::Store(e)) => return Err(PageError::Store(e)),
        Err(LoginError::Crypto(e)) => return Err(PageError::Crypto(e)),
    };
    page(
        lang,
        form.name,
        None,
        Some(message),
        StatusCode::UNAUTHORIZED,
    )
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// End the session (a state change: the CSRF token is required).
pub async fn logout(
    State(state): State<UiState>,
    signed: SignedIn,
    Form(form): Form<LogoutForm>,
) -> Result<Response, PageError> {
    signed.check_csrf(&form.csrf)?;
    state.accounts.logout(&signed.token).await?;
    let mut response = Redirect::to("/login?ended=logout").into_response();
    if let Ok(v) = HeaderValue::from_str(&SessionToken::clear_cookie()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

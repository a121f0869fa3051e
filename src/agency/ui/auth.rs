//! Who is asking: the session cookie checked on every request (counted as
//! activity for pages, not for the live stream), and the CSRF check of every
//! state change. An ended session sends the browser to the login page with
//! the reason.

use std::net::SocketAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::UiState;
use super::error::PageError;
use super::lang::Chrome;
use crate::agency::staff::{COOKIE_NAME, SessionEnded, SessionToken, StaffMember, Viewed};
use crate::i18n::Lang;
use crate::protocol::Timestamp;

/// The TCP peer of the connection, set by [`super::serve`]: the address
/// login throttling counts against.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub SocketAddr);

/// The value of cookie `name`, if the request carries it.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
}

/// A signed-in staff member, whose request counts as activity.
pub struct SignedIn {
    pub member: StaffMember,
    pub token: SessionToken,
}

/// A live session, checked without counting as activity (the live stream
/// and the fetches it triggers must not keep an unattended session alive).
pub struct Watching {
    pub member: StaffMember,
}

/// Where an ended session sends the browser.
pub struct ToLogin(&'static str);

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        Redirect::to(&format!("/login?ended={}", self.0)).into_response()
    }
}

async fn session(
    parts: &Parts,
    state: &UiState,
    activity: bool,
) -> Result<(StaffMember, SessionToken), Response> {
    let Some(value) = cookie_value(&parts.headers, COOKIE_NAME) else {
        return Err(Redirect::to("/login").into_response());
    };
    let token = SessionToken::from_cookie(&value);
    let now = Timestamp::now();
    let checked = match activity {
        true => state.accounts.touch(&token, now).await,
        false => state.accounts.validate(&token, now).await,
    };
    match checked {
        Ok(member) => Ok((member, token)),
        Err(SessionEnded::Idle) => Err(ToLogin("idle").into_response()),
        Err(SessionEnded::Expired) => Err(ToLogin("expired").into_response()),
        Err(SessionEnded::Unknown | SessionEnded::Disabled) => {
            Err(ToLogin("ended").into_response())
        }
        Err(SessionEnded::Store(e)) => Err(PageError::Store(e).into_response()),
    }
}

impl FromRequestParts<UiState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &UiState) -> Result<Self, Response> {
        let (member, token) = session(parts, state, true).await?;
        Ok(SignedIn { member, token })
    }
}

impl FromRequestParts<UiState> for Watching {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &UiState) -> Result<Self, Response> {
        let (member, _) = session(parts, state, false).await?;
        Ok(Watching { member })
    }
}

impl SignedIn {
    /// Write this member's view of a record to the node's access log, now:
    /// before the record is shown, so nothing is shown the log lacks.
    pub async fn viewed(
        &self,
        state: &UiState,
        what: Viewed,
        record: &str,
    ) -> Result<(), PageError> {
        state
            .accounts
            .record_view(&self.member, what, record, Timestamp::now())
            .await?;
        Ok(())
    }

    /// The base layout's part of a page: language, who is signed in, the
    /// CSRF token for its forms.
    pub fn chrome(&self, lang: Lang) -> Chrome {
        Chrome {
            lang,
            staff: Some(self.member.name.clone()),
            csrf: self.token.csrf().expose().to_owned(),
        }
    }

    /// Refuse anyone but an enabled 管理者 (the accounts layer checks again
    /// on every change it makes).
    pub fn require_administrator(&self) -> Result<(), PageError> {
        match self.member.role.is_administrator() && self.member.is_enabled() {
            true => Ok(()),
            false => Err(PageError::NotAdministrator),
        }
    }

    /// Refuse a state change whose form did not carry this session's token.
    pub fn check_csrf(&self, presented: &str) -> Result<(), PageError> {
        match !presented.is_empty() && self.token.csrf().matches(presented) {
            true => Ok(()),
            false => Err(PageError::Csrf),
        }
    }
}

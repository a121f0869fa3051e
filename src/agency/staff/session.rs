//! Sessions: a random 256-bit token in the cookie, only its SHA-256 in the
//! records; a CSRF token derived from it (so nothing more is stored); an
//! idle and an absolute timeout from `[ui]`.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::{StaffAccounts, StaffError, StaffId, StaffMember, shift};
use crate::protocol::Timestamp;
use crate::store::StoreError;

/// The name of the session cookie.
pub const COOKIE_NAME: &str = "tsunagu_session";

/// The secret a browser holds for its session (the cookie's value).
/// `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

impl SessionToken {
    pub(super) fn generate() -> Self {
        let mut bytes = [0u8; 32];
        // As for every secret: no random source, no session.
        getrandom::fill(&mut bytes).expect("the OS random number generator failed");
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The token a request presented (the cookie's value). Anything is
    /// accepted here; an unknown token simply names no session.
    pub fn from_cookie(value: &str) -> Self {
        Self(value.trim().to_owned())
    }

    /// The cookie's value.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the records keep.
    pub(super) fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// The session's CSRF token: derived from the session token with its
    /// own label, so it is per session, stored nowhere, and tells nothing
    /// about the session token or its stored digest.
    pub fn csrf(&self) -> CsrfToken {
        let mut h = Sha256::new();
        h.update(b"tsunagu csrf v1\0");
        h.update(self.0.as_bytes());
        CsrfToken(URL_SAFE_NO_PAD.encode(h.finalize()))
    }

    /// The `Set-Cookie` value for this token: `Secure; HttpOnly;
    /// SameSite=Strict`, for the whole site, ending with the browser
    /// session at the latest (the server ends it sooner).
    pub fn set_cookie(&self) -> String {
        format!(
            "{COOKIE_NAME}={}; Path=/; Secure; HttpOnly; SameSite=Strict",
            self.0
        )
    }

    /// The `Set-Cookie` value that removes the cookie (after logout).
    pub fn clear_cookie() -> String {
        format!("{COOKIE_NAME}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict")
    }
}

/// A session's CSRF token, for a hidden form field or a request header.
#[derive(Clone, PartialEq, Eq)]
pub struct CsrfToken(String);

impl fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfToken(…)")
    }
}

impl CsrfToken {
    /// The value to put in the page.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether a request's token is this one. Compared as SHA-256
    /// digests, so the time taken tells nothing about the token.
    pub fn matches(&self, presented: &str) -> bool {
        Sha256::digest(self.0.as_bytes()) == Sha256::digest(presented.trim().as_bytes())
    }
}

/// How long the row of a session that ended by time is kept. It serves no
/// one (every use of it is refused), but it lets the login page tell the
/// person who comes back to the screen, even the next morning, why they were
/// signed out (inactivity, maximum length) instead of a bare "ended".
const ENDED_KEPT: Duration = Duration::from_secs(24 * 3600);

/// A session just opened by a login.
#[derive(Clone, Debug)]
pub struct Session {
    /// For the cookie ([`SessionToken::set_cookie`]).
    pub token: SessionToken,
    /// For every form and state-changing request.
    pub csrf: CsrfToken,
    /// Who signed in.
    pub staff: StaffMember,
    /// When it ends however active it is (the absolute timeout).
    pub expires_at: Timestamp,
    /// `Some(left)` when a recovery code was used to sign in: how many are
    /// left, so the page can urge a new enrolment.
    pub recovery_codes_left: Option<u32>,
}

/// Why a token names no live session. The page answers each the same (to
/// the login page); the reason is for the log and the message shown there.
#[derive(Debug, thiserror::Error)]
pub enum SessionEnded {
    #[error("no such session")]
    Unknown,
    #[error("the session ended after inactivity")]
    Idle,
    #[error("the session reached its maximum length")]
    Expired,
    #[error("the account is disabled")]
    Disabled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl StaffAccounts {
    /// Who holds this session, without counting the request as activity
    /// (for requests the person did not make, e.g. a live-update stream).
    pub async fn validate(
        &self,
        token: &SessionToken,
        now: Timestamp,
    ) -> Result<StaffMember, SessionEnded> {
        let Some(row) = self.records.session(&token.digest()).await? else {
            return Err(SessionEnded::Unknown);
        };
        let staff = StaffMember::from_row(&row.staff)?;
        let ended = if !staff.is_enabled() {
            Some(SessionEnded::Disabled)
        } else if shift(row.created_at, self.absolute_timeout(), true) <= now {
            Some(SessionEnded::Expired)
        } else if shift(row.last_seen_at, self.idle_timeout(), true) <= now {
            Some(SessionEnded::Idle)
        } else {
            None
        };
        match ended {
            Some(reason) => {
                self.records.delete_session(&token.digest()).await?;
                Err(reason)
            }
            None => Ok(staff),
        }
    }

    /// Who holds this session, counting the request as activity (restarts
    /// the idle timeout). The check and the update are one statement, so a
    /// session that ends meanwhile is not revived.
    pub async fn touch(
        &self,
        token: &SessionToken,
        now: Timestamp,
    ) -> Result<StaffMember, SessionEnded> {
        let staff = self.validate(token, now).await?;
        let idle_since = shift(now, self.idle_timeout(), false);
        let created_since = shift(now, self.absolute_timeout(), false);
        if self
            .records
            .touch_session(&token.digest(), now, idle_since, created_since)
            .await?
        {
            Ok(staff)
        } else {
            Err(SessionEnded::Unknown)
        }
    }

    /// End this session.
    pub async fn logout(&self, token: &SessionToken) -> Result<(), StoreError> {
        self.records.delete_session(&token.digest()).await
    }

    /// End every session of an account (also done by disable and resets);
    /// how many were ended.
    pub async fn end_all_for(&self, id: StaffId) -> Result<u64, StaffError> {
        let n = self.records.delete_sessions_of(&id.to_string()).await?;
        tracing::info!(staff = %id, sessions = n, "staff sessions ended");
        Ok(n)
    }

    /// Forget every session that ended by time more than [`ENDED_KEPT`]
    /// ago (for a periodic task).
    pub async fn prune_sessions(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.records
            .prune_sessions(
                shift(now, self.idle_timeout() + ENDED_KEPT, false),
                shift(now, self.absolute_timeout() + ENDED_KEPT, false),
            )
            .await
    }
}

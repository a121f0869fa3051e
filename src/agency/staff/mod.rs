//! Staff accounts of an agency node, for its web UI: who may sign in, with
//! a password (argon2id) and a second factor (TOTP or a recovery code), the
//! sessions they hold, login throttling, and the access log of who viewed
//! which record. Two factors, as the MHLW 医療情報システムの安全管理に関する
//! ガイドライン 第6.0版 requires.
//!
//! Everything goes through [`StaffAccounts`]; the web layer calls
//! [`StaffAccounts::login`], then [`StaffAccounts::touch`] on each request
//! (or [`StaffAccounts::validate`] for requests that are not the person's
//! own activity, such as a live-update stream), checks the CSRF token of
//! each change with [`CsrfToken::matches`], and writes each view of a record
//! with [`StaffAccounts::record_view`]. Every time is an explicit `now`.

mod access;
mod accounts;
mod login;
pub mod password;
mod role;
pub mod second_factor;
mod session;

use std::time::Duration;

pub use access::{AccessEntry, Viewed, write_csv};
pub use accounts::NewStaff;
pub use login::LoginError;
pub use password::WeakPassword;
pub use role::{StaffId, StaffRole, UnknownRole};
pub use second_factor::{Enrolment, NodeSeal, TotpSecret};
pub use session::{COOKIE_NAME, CsrfToken, Session, SessionEnded, SessionToken};

pub use super::config::UiConfig;
use crate::crypto::CryptoError;
use crate::protocol::Timestamp;
use crate::protocol::payload::Author;
use crate::store::StoreError;
use crate::store::records::{Records, StaffRow};

/// A staff member as the UI shows them and as a session names them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StaffMember {
    pub id: StaffId,
    /// 氏名, unique on this node; the login name.
    pub name: String,
    pub role: StaffRole,
    /// 連絡先 (phone or extension), signed with what they send.
    pub contact: String,
    pub created_at: Timestamp,
    /// When the account was disabled; `None` while it may sign in.
    pub disabled_at: Option<Timestamp>,
}

impl StaffMember {
    /// The signed author of what this person sends: name, role (Japanese
    /// label, as colleagues at other agencies read it) and contact.
    pub fn author(&self) -> Author {
        Author {
            name: self.name.clone(),
            role: self.role.label(crate::i18n::Lang::Ja).to_owned(),
            contact: self.contact.clone(),
        }
    }

    /// Whether the account may sign in.
    pub fn is_enabled(&self) -> bool {
        self.disabled_at.is_none()
    }

    fn from_row(row: &StaffRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("staff {}: {what}", row.id));
        Ok(Self {
            id: row.id.parse().map_err(|_| corrupt("id"))?,
            name: row.name.clone(),
            role: row.role.parse().map_err(|_| corrupt("role"))?,
            contact: row.contact.clone(),
            created_at: row.created_at,
            disabled_at: row.disabled_at,
        })
    }
}

/// Who asks for a change to accounts or to read the access log.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    /// The `tsunagu agency staff` command on the node's own machine, run by
    /// whoever holds its configuration and keys.
    NodeConsole,
    /// A signed-in staff member: allowed only as an administrator.
    Staff(&'a StaffMember),
}

impl Actor<'_> {
    fn require_administrator(self) -> Result<(), StaffError> {
        match self {
            Actor::NodeConsole => Ok(()),
            Actor::Staff(s) if s.role.is_administrator() && s.is_enabled() => Ok(()),
            Actor::Staff(_) => Err(StaffError::NotAdministrator),
        }
    }

    fn describe(self) -> String {
        match self {
            Actor::NodeConsole => "console".into(),
            Actor::Staff(s) => s.id.to_string(),
        }
    }
}

/// Why an account operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error(transparent)]
    WeakPassword(#[from] WeakPassword),
    #[error("a staff name must be 1–64 characters, without ':' or control characters")]
    InvalidName,
    #[error("a staff member named {0:?} already exists")]
    NameTaken(String),
    #[error("no staff member {0:?}")]
    NotFound(String),
    #[error("that would leave no enabled administrator")]
    LastAdministrator,
    #[error("an administrator may not disable their own account")]
    OwnAccount,
    #[error("only an administrator may do this")]
    NotAdministrator,
    #[error("could not seal or open the TOTP secret: {0}")]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Hash(#[from] password::HashError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The staff accounts of one node: the records, the node's identity (to
/// seal TOTP secrets) and the `[ui]` settings.
pub struct StaffAccounts {
    records: Records,
    seal: NodeSeal,
    ui: UiConfig,
    issuer: String,
}

impl StaffAccounts {
    /// Accounts over `records`, sealing with `seal`; `issuer` names the node
    /// in authenticator apps.
    pub fn new(records: Records, seal: NodeSeal, ui: UiConfig, issuer: impl Into<String>) -> Self {
        Self {
            records,
            seal,
            ui,
            issuer: issuer.into(),
        }
    }

    /// The accounts of the node `config` describes: its identity from
    /// `keys.age_identity`, its `[ui]` settings, issuer `tsunagu (AGENCY)`.
    pub fn from_config(
        config: &super::AgencyConfig,
        records: Records,
    ) -> Result<Self, CryptoError> {
        let identity = crate::crypto::keys::load_age_identity(&config.keys.age_identity)?;
        Ok(Self::new(
            records,
            NodeSeal::new(identity),
            config.ui.clone(),
            format!("tsunagu ({})", config.id),
        ))
    }

    /// The records these accounts live in.
    pub fn records(&self) -> &Records {
        &self.records
    }

    /// How long a session lives without activity.
    pub fn idle_timeout(&self) -> Duration {
        match self.ui.session_idle_seconds {
            Some(secs) => Duration::from_secs(u64::from(secs)),
            None => Duration::from_secs(u64::from(self.ui.session_idle_minutes) * 60),
        }
    }

    fn absolute_timeout(&self) -> Duration {
        Duration::from_secs(u64::from(self.ui.session_max_hours) * 3600)
    }
}

/// `t` moved by `d` (negative: earlier).
fn shift(t: Timestamp, d: Duration, later: bool) -> Timestamp {
    let d = time::Duration::try_from(d).unwrap_or(time::Duration::MAX);
    Timestamp::from_datetime(if later {
        t.datetime().saturating_add(d)
    } else {
        t.datetime().saturating_sub(d)
    })
}

#[cfg(test)]
mod tests;

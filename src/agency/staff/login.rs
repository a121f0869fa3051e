//! Login: password and second factor in one call, throttled per account
//! name and per client address, the counts kept in the records so a
//! restart does not reset them.

use super::second_factor::{self, is_totp_code};
use super::session::{Session, SessionToken};
use super::{StaffAccounts, StaffMember, password, shift};
use crate::protocol::Timestamp;
use crate::store::StoreError;
use crate::store::records::{SecondFactor, StaffRow, ThrottleRule, ThrottleScope};

/// Why a login was refused. A wrong password and a wrong code give the
/// caller the same [`LoginError::InvalidCredentials`] (the log tells which).
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("the name, password or code is wrong")]
    InvalidCredentials,
    /// Only said to someone who gave the right password and code.
    #[error("this account is disabled")]
    Disabled,
    #[error("too many failed logins; try again at {retry_at}")]
    Throttled { retry_at: Timestamp },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the node cannot open the TOTP secret: {0}")]
    Crypto(#[from] crate::crypto::CryptoError),
}

/// What was wrong, for the log only.
#[derive(Clone, Copy, Debug)]
enum Failure {
    UnknownName,
    WrongPassword,
    WrongCode,
    ReusedCode,
}

impl StaffAccounts {
    /// Sign in `name` with `password` and `code` (a TOTP code, or a
    /// recovery code, which is then spent), from `address`. Opens a session.
    pub async fn login(
        &self,
        name: &str,
        password: &str,
        code: &str,
        address: &str,
        now: Timestamp,
    ) -> Result<Session, LoginError> {
        let name = name.trim();
        self.not_locked(name, address, now).await?;
        let row = self.records.staff_by_name(name).await?;
        let Some(row) = row else {
            // Pay for a hash all the same: timing must not tell which names exist.
            password::verify(password, password::decoy());
            return Err(self
                .fail(Failure::UnknownName, None, name, address, now)
                .await);
        };
        if !password::verify(password, &row.password_hash) {
            return Err(self
                .fail(Failure::WrongPassword, Some(&row), name, address, now)
                .await);
        }
        let token = SessionToken::generate();
        let recovery = !is_totp_code(code);
        match self.spend_factor(&row, code, &token, address, now).await? {
            Some(failure) => Err(self.fail(failure, Some(&row), name, address, now).await),
            None if row.disabled_at.is_some() => Err(LoginError::Disabled),
            None => {
                self.records
                    .clear_login_failures(ThrottleScope::Account, name)
                    .await?;
                let staff = StaffMember::from_row(&row)?;
                tracing::info!(staff = %staff.id, address, recovery, "staff signed in");
                let recovery_codes_left = match recovery {
                    true => Some(self.records.recovery_codes_left(&row.id).await?),
                    false => None,
                };
                Ok(Session {
                    csrf: token.csrf(),
                    token,
                    staff,
                    expires_at: shift(now, self.absolute_timeout(), true),
                    recovery_codes_left,
                })
            }
        }
    }

    /// Check the code and, if it is good, spend it and open the session in
    /// one transaction. A disabled account opens nothing (its password and
    /// code were right: the caller says it is disabled).
    async fn spend_factor(
        &self,
        row: &StaffRow,
        code: &str,
        token: &SessionToken,
        address: &str,
        now: Timestamp,
    ) -> Result<Option<Failure>, LoginError> {
        let recovery_hash;
        let factor = if is_totp_code(code) {
            let secret = self.seal.open(&row.totp_sealed)?;
            match secret.matching_step(code, now) {
                Some(step) if step <= row.totp_last_step => return Ok(Some(Failure::ReusedCode)),
                Some(step) => SecondFactor::Step(step),
                None => return Ok(Some(Failure::WrongCode)),
            }
        } else {
            recovery_hash = second_factor::recovery_hash(code);
            SecondFactor::Recovery(&recovery_hash)
        };
        if row.disabled_at.is_some() {
            return Ok(None);
        }
        let opened = self
            .records
            .complete_login(row, factor, &token.digest(), address, now)
            .await?;
        Ok(match (opened, factor) {
            (true, _) => None,
            (false, SecondFactor::Step(_)) => Some(Failure::ReusedCode),
            (false, SecondFactor::Recovery(_)) => Some(Failure::WrongCode),
        })
    }

    async fn not_locked(
        &self,
        name: &str,
        address: &str,
        now: Timestamp,
    ) -> Result<(), LoginError> {
        for (scope, key) in [
            (ThrottleScope::Account, name),
            (ThrottleScope::Address, address),
        ] {
            if let Some(retry_at) = self.records.login_locked_until(scope, key, now).await? {
                tracing::warn!(?scope, address, "login refused: throttled");
                return Err(LoginError::Throttled { retry_at });
            }
        }
        Ok(())
    }

    /// Log the failure, count it against the name and the address, and
    /// answer the caller: throttled if this failure locked either.
    /// The name typed is not logged when it names no account: it may be a
    /// password typed in the wrong field.
    async fn fail(
        &self,
        failure: Failure,
        staff: Option<&StaffRow>,
        name: &str,
        address: &str,
        now: Timestamp,
    ) -> LoginError {
        let staff = staff.map(|s| s.id.as_str()).unwrap_or("-");
        tracing::warn!(?failure, staff, address, "login failed");
        let mut locked = None;
        for (scope, key, limit) in [
            (ThrottleScope::Account, name, self.ui.account_failures),
            (ThrottleScope::Address, address, self.ui.address_failures),
        ] {
            let rule = ThrottleRule {
                limit,
                window: time::Duration::minutes(i64::from(self.ui.failure_window_minutes)),
                lockout: time::Duration::minutes(i64::from(self.ui.lockout_minutes)),
            };
            match self
                .records
                .record_login_failure(scope, key, rule, now)
                .await
            {
                Ok(Some(until)) => locked = locked.max(Some(until)),
                Ok(None) => {}
                Err(e) => return LoginError::Store(e),
            }
        }
        match locked {
            Some(retry_at) => LoginError::Throttled { retry_at },
            None => LoginError::InvalidCredentials,
        }
    }
}

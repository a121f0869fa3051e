//! Adding, listing, disabling and resetting accounts.

use super::second_factor::{self, Enrolment, TotpSecret};
use super::{Actor, StaffAccounts, StaffError, StaffId, StaffMember, StaffRole, password};
use crate::protocol::Timestamp;
use crate::store::records::{StaffChange, StaffRow};

/// The longest staff name, in characters.
const MAX_NAME_CHARS: usize = 64;

/// A new account. The password is checked against the policy and only its
/// hash is kept.
pub struct NewStaff<'a> {
    pub name: &'a str,
    pub role: StaffRole,
    pub contact: &'a str,
    pub password: &'a str,
}

/// A name as it is stored: trimmed; 1–64 characters; no ':' (it separates
/// issuer and account in the `otpauth://` URI) and no control characters.
fn checked_name(name: &str) -> Result<&str, StaffError> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0
        || chars > MAX_NAME_CHARS
        || name
            .chars()
            .any(|c| c == ':' || c == '：' || c.is_control())
    {
        return Err(StaffError::InvalidName);
    }
    Ok(name)
}

impl StaffAccounts {
    /// Add an account; its enrolment (TOTP URI, recovery codes) is
    /// returned once, to show the person, and never again.
    pub async fn add(
        &self,
        by: Actor<'_>,
        new: NewStaff<'_>,
        now: Timestamp,
    ) -> Result<(StaffMember, Enrolment), StaffError> {
        by.require_administrator()?;
        let name = checked_name(new.name)?;
        password::check_policy(new.password, name)?;
        let (secret, enrolment) = self.enrolment(name);
        let row = StaffRow {
            id: StaffId::new().to_string(),
            name: name.to_owned(),
            role: new.role.as_str().to_owned(),
            contact: new.contact.trim().to_owned(),
            password_hash: password::hash(new.password)?,
            totp_sealed: self.seal.seal(&secret)?,
            totp_last_step: -1,
            created_at: now,
            updated_at: now,
            disabled_at: None,
        };
        let hashes = recovery_hashes(&enrolment);
        if !self.records.insert_staff(&row, &hashes).await? {
            return Err(StaffError::NameTaken(name.to_owned()));
        }
        let member = StaffMember::from_row(&row)?;
        tracing::info!(staff = %member.id, role = %member.role, by = %by.describe(), "staff account added");
        Ok((member, enrolment))
    }

    /// Every account, by name.
    pub async fn list(&self) -> Result<Vec<StaffMember>, StaffError> {
        let rows = self.records.staff_rows().await?;
        Ok(rows
            .iter()
            .map(StaffMember::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// The account named `name`.
    pub async fn find(&self, name: &str) -> Result<StaffMember, StaffError> {
        match self.records.staff_by_name(name.trim()).await? {
            Some(row) => Ok(StaffMember::from_row(&row)?),
            None => Err(StaffError::NotFound(name.trim().to_owned())),
        }
    }

    /// The account with this id.
    pub async fn get(&self, id: StaffId) -> Result<StaffMember, StaffError> {
        self.list()
            .await?
            .into_iter()
            .find(|m| m.id == id)
            .ok_or_else(|| StaffError::NotFound(id.to_string()))
    }

    /// How many unused recovery codes an account has left.
    pub async fn recovery_codes_left(&self, id: StaffId) -> Result<u32, StaffError> {
        Ok(self.records.recovery_codes_left(&id.to_string()).await?)
    }

    /// Disable an account: it can no longer sign in, and its live sessions
    /// end. Refused for the last enabled administrator, and for an
    /// administrator's own account (they would lock themselves out mid-task;
    /// another administrator or the node console can do it).
    pub async fn disable(
        &self,
        by: Actor<'_>,
        id: StaffId,
        now: Timestamp,
    ) -> Result<(), StaffError> {
        by.require_administrator()?;
        if matches!(by, Actor::Staff(s) if s.id == id) {
            return Err(StaffError::OwnAccount);
        }
        let change = self
            .records
            .set_staff_disabled(&id.to_string(), Some(now), now)
            .await?;
        changed(change, id)?;
        tracing::info!(staff = %id, by = %by.describe(), "staff account disabled, sessions ended");
        Ok(())
    }

    /// Enable a disabled account again.
    pub async fn enable(
        &self,
        by: Actor<'_>,
        id: StaffId,
        now: Timestamp,
    ) -> Result<(), StaffError> {
        by.require_administrator()?;
        let change = self
            .records
            .set_staff_disabled(&id.to_string(), None, now)
            .await?;
        changed(change, id)?;
        tracing::info!(staff = %id, by = %by.describe(), "staff account enabled");
        Ok(())
    }

    /// Set a new password (checked against the policy) and end the
    /// account's sessions.
    pub async fn reset_password(
        &self,
        by: Actor<'_>,
        id: StaffId,
        new_password: &str,
        now: Timestamp,
    ) -> Result<(), StaffError> {
        by.require_administrator()?;
        let member = self.get(id).await?;
        password::check_policy(new_password, &member.name)?;
        let hash = password::hash(new_password)?;
        let change = self
            .records
            .set_staff_password(&id.to_string(), &hash, now)
            .await?;
        changed(change, id)?;
        tracing::info!(staff = %id, by = %by.describe(), "staff password reset, sessions ended");
        Ok(())
    }

    /// Replace the TOTP secret and the recovery codes (a lost phone), and
    /// end the account's sessions; the new enrolment is returned once.
    pub async fn reset_second_factor(
        &self,
        by: Actor<'_>,
        id: StaffId,
        now: Timestamp,
    ) -> Result<Enrolment, StaffError> {
        by.require_administrator()?;
        let member = self.get(id).await?;
        let (secret, enrolment) = self.enrolment(&member.name);
        let sealed = self.seal.seal(&secret)?;
        let change = self
            .records
            .set_staff_second_factor(&id.to_string(), &sealed, &recovery_hashes(&enrolment), now)
            .await?;
        changed(change, id)?;
        tracing::info!(staff = %id, by = %by.describe(), "staff second factor reset, sessions ended");
        Ok(enrolment)
    }

    fn enrolment(&self, name: &str) -> (TotpSecret, Enrolment) {
        let secret = TotpSecret::generate();
        let enrolment = Enrolment {
            uri: secret.uri(name, &self.issuer),
            secret_base32: secret.to_base32(),
            recovery_codes: second_factor::new_recovery_codes(),
        };
        (secret, enrolment)
    }
}

fn recovery_hashes(enrolment: &Enrolment) -> Vec<[u8; 32]> {
    enrolment
        .recovery_codes
        .iter()
        .map(|c| second_factor::recovery_hash(c))
        .collect()
}

fn changed(change: StaffChange, id: StaffId) -> Result<(), StaffError> {
    match change {
        StaffChange::Done => Ok(()),
        StaffChange::NotFound => Err(StaffError::NotFound(id.to_string())),
        StaffChange::LastAdministrator => Err(StaffError::LastAdministrator),
    }
}

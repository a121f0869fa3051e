//! Staff accounts, their sessions, login throttling and the access log: the
//! SQL only. What is allowed (passwords, codes, timeouts, who may disable
//! whom) is decided in `agency::staff`; each check that guards a write runs
//! in the write's own transaction here.

use sqlx::{Sqlite, Transaction};

use super::Records;
use crate::protocol::Timestamp;
use crate::store::StoreError;

/// A staff account as stored. `role` is its wire name.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StaffRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub contact: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// The TOTP secret, sealed to the node's age identity.
    pub totp_sealed: Vec<u8>,
    /// The last TOTP step a code was accepted in (-1: none yet).
    pub totp_last_step: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub disabled_at: Option<Timestamp>,
}

/// Hashes and sealed secrets are not for logs.
impl std::fmt::Debug for StaffRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffRow")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("disabled_at", &self.disabled_at)
            .finish_non_exhaustive()
    }
}

/// A session with the account it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub staff: StaffRow,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// What the second factor of a login was, for [`Records::complete_login`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondFactor<'a> {
    /// A TOTP code that matched this step: accepted only if later than the
    /// last step used (no replay).
    Step(i64),
    /// The SHA-256 of a recovery code: accepted only if not yet used.
    Recovery(&'a [u8]),
}

/// What a change to an account found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffChange {
    Done,
    NotFound,
    /// Refused: it would leave no enabled administrator.
    LastAdministrator,
}

/// Whose failures a throttle counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThrottleScope {
    /// The account name typed.
    Account,
    /// The client's address.
    Address,
}

impl ThrottleScope {
    fn as_str(self) -> &'static str {
        match self {
            ThrottleScope::Account => "account",
            ThrottleScope::Address => "address",
        }
    }
}

/// How a throttle counts: `limit` failures within `window` lock the key
/// for `lockout`.
#[derive(Clone, Copy, Debug)]
pub struct ThrottleRule {
    pub limit: u32,
    pub window: time::Duration,
    pub lockout: time::Duration,
}

/// One line of the access log.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct AccessRow {
    pub seq: i64,
    pub at: Timestamp,
    pub staff_id: String,
    pub staff_name: String,
    pub staff_role: String,
    pub what: String,
    pub record_id: String,
}

/// The columns of `staff`, in [`StaffRow`]'s order (a macro: `concat!`
/// builds the statements as literals).
macro_rules! staff_columns {
    () => {
        "id, name, role, contact, password_hash, totp_sealed, totp_last_step, \
         created_at, updated_at, disabled_at"
    };
}

fn plus(t: Timestamp, d: time::Duration) -> Timestamp {
    Timestamp::from_datetime(t.datetime() + d)
}

impl Records {
    /// Add an account with its recovery codes; `false` if the name is taken.
    pub async fn insert_staff(
        &self,
        row: &StaffRow,
        recovery_hashes: &[[u8; 32]],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let inserted = sqlx::query(
            "INSERT INTO staff (id, name, role, contact, password_hash, totp_sealed, \
             totp_last_step, created_at, updated_at, disabled_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&row.id)
        .bind(&row.name)
        .bind(&row.role)
        .bind(&row.contact)
        .bind(&row.password_hash)
        .bind(&row.totp_sealed)
        .bind(row.totp_last_step)
        .bind(row.created_at)
        .bind(row.updated_at)
        .bind(row.disabled_at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            return Ok(false);
        }
        replace_recovery_codes(&mut tx, &row.id, recovery_hashes).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every account, by name.
    pub async fn staff_rows(&self) -> Result<Vec<StaffRow>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            staff_columns!(),
            " FROM staff ORDER BY name"
        ))
        .fetch_all(&self.pool)
        .await?)
    }

    /// The account of this name.
    pub async fn staff_by_name(&self, name: &str) -> Result<Option<StaffRow>, StoreError> {
        Ok(sqlx::query_as(concat!(
            "SELECT ",
            staff_columns!(),
            " FROM staff WHERE name = ?"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// How many recovery codes of an account are still unused.
    pub async fn recovery_codes_left(&self, staff_id: &str) -> Result<u32, StoreError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM staff_recovery_codes WHERE staff_id = ? AND used_at IS NULL",
        )
        .bind(staff_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(n).unwrap_or(0))
    }

    /// Disable (`Some(now)`) or enable (`None`) an account. Disabling ends
    /// its sessions and is refused if it would leave no enabled
    /// administrator, checked in the same transaction.
    pub async fn set_staff_disabled(
        &self,
        staff_id: &str,
        disabled_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<StaffChange, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        if disabled_at.is_some() {
            let (others,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM staff WHERE role = 'administrator' \
                 AND disabled_at IS NULL AND id <> ?1",
            )
            .bind(staff_id)
            .fetch_one(&mut *tx)
            .await?;
            let (is_admin,): (bool,) = sqlx::query_as(
                "SELECT EXISTS (SELECT 1 FROM staff WHERE id = ? AND role = 'administrator' \
                 AND disabled_at IS NULL)",
            )
            .bind(staff_id)
            .fetch_one(&mut *tx)
            .await?;
            if is_admin && others == 0 {
                return Ok(StaffChange::LastAdministrator);
            }
        }
        let changed = sqlx::query("UPDATE staff SET disabled_at = ?, updated_at = ? WHERE id = ?")
            .bind(disabled_at)
            .bind(now)
            .bind(staff_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Ok(StaffChange::NotFound);
        }
        if disabled_at.is_some() {
            end_sessions(&mut tx, staff_id).await?;
        }
        tx.commit().await?;
        Ok(StaffChange::Done)
    }

    /// Set a new password hash and end the account's sessions.
    pub async fn set_staff_password(
        &self,
        staff_id: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<StaffChange, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let changed =
            sqlx::query("UPDATE staff SET password_hash = ?, updated_at = ? WHERE id = ?")
                .bind(password_hash)
                .bind(now)
                .bind(staff_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if changed == 0 {
            return Ok(StaffChange::NotFound);
        }
        end_sessions(&mut tx, staff_id).await?;
        tx.commit().await?;
        Ok(StaffChange::Done)
    }

    /// Replace the TOTP secret and every recovery code, and end the
    /// account's sessions.
    pub async fn set_staff_second_factor(
        &self,
        staff_id: &str,
        totp_sealed: &[u8],
        recovery_hashes: &[[u8; 32]],
        now: Timestamp,
    ) -> Result<StaffChange, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let changed = sqlx::query(
            "UPDATE staff SET totp_sealed = ?, totp_last_step = -1, updated_at = ? WHERE id = ?",
        )
        .bind(totp_sealed)
        .bind(now)
        .bind(staff_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(StaffChange::NotFound);
        }
        replace_recovery_codes(&mut tx, staff_id, recovery_hashes).await?;
        end_sessions(&mut tx, staff_id).await?;
        tx.commit().await?;
        Ok(StaffChange::Done)
    }

    /// Spend the second factor and open a session, in one transaction, for
    /// an account whose password the caller has just checked against
    /// `password_hash`. `false` (nothing written) if the account changed
    /// meanwhile (password, disabled), the step was not later than the last
    /// one used, or the recovery code was unknown or already used.
    pub async fn complete_login(
        &self,
        staff: &StaffRow,
        factor: SecondFactor<'_>,
        token_hash: &[u8; 32],
        address: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let (unchanged,): (bool,) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM staff WHERE id = ? AND password_hash = ? \
             AND disabled_at IS NULL)",
        )
        .bind(&staff.id)
        .bind(&staff.password_hash)
        .fetch_one(&mut *tx)
        .await?;
        let spent = unchanged
            && match factor {
                SecondFactor::Step(step) => sqlx::query(
                    "UPDATE staff SET totp_last_step = ?1 WHERE id = ?2 AND totp_last_step < ?1",
                )
                .bind(step)
                .bind(&staff.id),
                SecondFactor::Recovery(hash) => sqlx::query(
                    "UPDATE staff_recovery_codes SET used_at = ?1 \
                     WHERE staff_id = ?2 AND code_hash = ?3 AND used_at IS NULL",
                )
                .bind(now)
                .bind(&staff.id)
                .bind(hash),
            }
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
        if !spent {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO staff_sessions (token_hash, staff_id, address, created_at, last_seen_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(token_hash.as_slice())
        .bind(&staff.id)
        .bind(address)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The session of this token hash, with its account.
    pub async fn session(&self, token_hash: &[u8; 32]) -> Result<Option<SessionRow>, StoreError> {
        let row: Option<(i64, i64, String)> = sqlx::query_as(
            "SELECT created_at, last_seen_at, staff_id FROM staff_sessions WHERE token_hash = ?",
        )
        .bind(token_hash.as_slice())
        .fetch_optional(&self.pool)
        .await?;
        let Some((created_at, last_seen_at, staff_id)) = row else {
            return Ok(None);
        };
        let staff: StaffRow = sqlx::query_as(concat!(
            "SELECT ",
            staff_columns!(),
            " FROM staff WHERE id = ?"
        ))
        .bind(&staff_id)
        .fetch_one(&self.pool)
        .await?;
        let time = |ms| {
            Timestamp::from_unix_millis(ms)
                .map_err(|e| StoreError::Corrupt(format!("session: {e}")))
        };
        Ok(Some(SessionRow {
            staff,
            created_at: time(created_at)?,
            last_seen_at: time(last_seen_at)?,
        }))
    }

    /// Mark a session active at `now`, unless it was last seen at or
    /// before `idle_since` or created at or before `created_since` (then it
    /// has ended: `false`).
    pub async fn touch_session(
        &self,
        token_hash: &[u8; 32],
        now: Timestamp,
        idle_since: Timestamp,
        created_since: Timestamp,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "UPDATE staff_sessions SET last_seen_at = max(last_seen_at, ?) WHERE token_hash = ? \
             AND last_seen_at > ? AND created_at > ?",
        )
        .bind(now)
        .bind(token_hash.as_slice())
        .bind(idle_since)
        .bind(created_since)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// End one session.
    pub async fn delete_session(&self, token_hash: &[u8; 32]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = ?")
            .bind(token_hash.as_slice())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// End every session of an account; how many there were.
    pub async fn delete_sessions_of(&self, staff_id: &str) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let n = end_sessions(&mut tx, staff_id).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Forget sessions that ended by time: idle since `idle_since` or
    /// created before `created_since`.
    pub async fn prune_sessions(
        &self,
        idle_since: Timestamp,
        created_since: Timestamp,
    ) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM staff_sessions WHERE last_seen_at <= ? OR created_at <= ?")
                .bind(idle_since)
                .bind(created_since)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Until when `key` is locked, if it is at `now`.
    pub async fn login_locked_until(
        &self,
        scope: ThrottleScope,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT locked_until FROM login_locks WHERE scope = ? AND key = ? AND locked_until > ?",
        )
        .bind(scope.as_str())
        .bind(key)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?
        .map(|(t,)| t))
    }

    /// Count a failed login against `key`; when that makes `rule.limit`
    /// within the window, lock the key (and start counting afresh). Returns
    /// the lock's end if this failure locked it.
    pub async fn record_login_failure(
        &self,
        scope: ThrottleScope,
        key: &str,
        rule: ThrottleRule,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let since = plus(now, -rule.window);
        sqlx::query("DELETE FROM login_failures WHERE scope = ? AND key = ? AND at <= ?")
            .bind(scope.as_str())
            .bind(key)
            .bind(since)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO login_failures (scope, key, at) VALUES (?, ?, ?)")
            .bind(scope.as_str())
            .bind(key)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let (count,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM login_failures WHERE scope = ? AND key = ?")
                .bind(scope.as_str())
                .bind(key)
                .fetch_one(&mut *tx)
                .await?;
        let mut locked = None;
        if count >= i64::from(rule.limit) {
            let until = plus(now, rule.lockout);
            sqlx::query(
                "INSERT INTO login_locks (scope, key, locked_until) VALUES (?, ?, ?) \
                 ON CONFLICT (scope, key) DO UPDATE SET locked_until = excluded.locked_until",
            )
            .bind(scope.as_str())
            .bind(key)
            .bind(until)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM login_failures WHERE scope = ? AND key = ?")
                .bind(scope.as_str())
                .bind(key)
                .execute(&mut *tx)
                .await?;
            locked = Some(until);
        }
        tx.commit().await?;
        Ok(locked)
    }

    /// Forget the failures counted against `key` (after a good login).
    pub async fn clear_login_failures(
        &self,
        scope: ThrottleScope,
        key: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_failures WHERE scope = ? AND key = ?")
            .bind(scope.as_str())
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Append a line to the access log.
    pub async fn append_access(
        &self,
        staff: &StaffRef<'_>,
        what: &str,
        record_id: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO access_log (at, staff_id, staff_name, staff_role, what, record_id) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(at)
        .bind(staff.id)
        .bind(staff.name)
        .bind(staff.role)
        .bind(what)
        .bind(record_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The ids of the records of kind `what` that `staff_id` has viewed.
    pub async fn viewed_by(&self, staff_id: &str, what: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT record_id FROM access_log WHERE staff_id = ? AND what = ?",
        )
        .bind(staff_id)
        .bind(what)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The access log from `from` (inclusive) to `to` (exclusive), oldest
    /// first.
    pub async fn access_rows(
        &self,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<AccessRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT seq, at, staff_id, staff_name, staff_role, what, record_id FROM access_log \
             WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at < ?2) ORDER BY seq",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// Who, for the access log: as they are named at the time.
#[derive(Clone, Copy, Debug)]
pub struct StaffRef<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub role: &'a str,
}

async fn end_sessions(tx: &mut Transaction<'_, Sqlite>, staff_id: &str) -> Result<u64, StoreError> {
    Ok(sqlx::query("DELETE FROM staff_sessions WHERE staff_id = ?")
        .bind(staff_id)
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

async fn replace_recovery_codes(
    tx: &mut Transaction<'_, Sqlite>,
    staff_id: &str,
    hashes: &[[u8; 32]],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM staff_recovery_codes WHERE staff_id = ?")
        .bind(staff_id)
        .execute(&mut **tx)
        .await?;
    for hash in hashes {
        sqlx::query("INSERT INTO staff_recovery_codes (staff_id, code_hash) VALUES (?, ?)")
            .bind(staff_id)
            .bind(hash.as_slice())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

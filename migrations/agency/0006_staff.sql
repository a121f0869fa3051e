-- Staff accounts of this node's web UI, their sessions, login throttling and
-- the access log (who viewed which record, when). Instants are INTEGER
-- milliseconds since the Unix epoch, as in 0004_typed_time.sql.
--
-- Nothing here holds a secret in the clear: passwords are argon2id PHC
-- strings, recovery codes and session tokens are SHA-256 digests (random
-- values of 80 and 256 bits: a fast hash is enough), and the TOTP secret,
-- which must be read back to check a code, is sealed (age) to the node's
-- own identity.

CREATE TABLE staff (
    id             TEXT PRIMARY KEY,            -- a random UUID
    name           TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
    role           TEXT NOT NULL CHECK (role IN ('public_health_nurse', 'midwife',
                       'caseworker', 'nursery_teacher', 'clerk', 'administrator')),
    contact        TEXT NOT NULL DEFAULT '',
    password_hash  TEXT NOT NULL,               -- argon2id, PHC string
    totp_sealed    BLOB NOT NULL,               -- the TOTP secret, sealed to the node
    totp_last_step INTEGER NOT NULL DEFAULT -1, -- the last 30 s step a code was used in
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    disabled_at    INTEGER
) STRICT;

CREATE TABLE staff_recovery_codes (
    staff_id  TEXT NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    code_hash BLOB NOT NULL,                    -- SHA-256 of the normalised code
    used_at   INTEGER,
    PRIMARY KEY (staff_id, code_hash)
) STRICT;

CREATE TABLE staff_sessions (
    token_hash   BLOB PRIMARY KEY,              -- SHA-256 of the cookie's token
    staff_id     TEXT NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    address      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
) STRICT;
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);

-- Failed logins, per account name and per client address, within the
-- counting window; a key that reaches its limit is locked until a time.
CREATE TABLE login_failures (
    scope TEXT NOT NULL CHECK (scope IN ('account', 'address')),
    key   TEXT NOT NULL,
    at    INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failures_key ON login_failures (scope, key, at);

CREATE TABLE login_locks (
    scope        TEXT NOT NULL CHECK (scope IN ('account', 'address')),
    key          TEXT NOT NULL,
    locked_until INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT;

-- Who viewed which record: ids and who/when only, never content. The name
-- and role are copied as they were at the time. Append-only.
CREATE TABLE access_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    staff_id   TEXT NOT NULL,
    staff_name TEXT NOT NULL,
    staff_role TEXT NOT NULL,
    what       TEXT NOT NULL,
    record_id  TEXT NOT NULL
) STRICT;
CREATE INDEX access_log_at ON access_log (at);
CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
BEGIN
    SELECT RAISE(ABORT, 'the access log is append-only');
END;
CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
BEGIN
    SELECT RAISE(ABORT, 'the access log is append-only');
END;

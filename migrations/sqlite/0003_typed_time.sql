-- Timestamps become INTEGER milliseconds since the Unix epoch, so every
-- comparison and ORDER BY is between instants. As RFC 3339 text they sorted
-- by character: a bound written "2026-11-23T00:00:00Z" came after
-- "2026-11-23T00:00:00.123Z" ('Z' > '.'), and an export from that second
-- lost the entries in it. SQLite has no time type; an integer orders
-- exactly whatever wrote it (see src/store/timestamp.rs).
--
-- STRICT tables cannot change a column's type in place: each table with a
-- timestamp is rebuilt (create, copy, drop, rename, recreate its indexes).
-- Foreign keys stay on inside the migration's transaction, so the new
-- tables refer to each other's new names (renaming a table rewrites the
-- references to it) and the old children go before their old parents.
--
-- Text to milliseconds: unixepoch() gives the whole seconds and %f the
-- seconds with exactly three decimals; every stored value was RFC 3339 UTC
-- with three fractional digits, which both read exactly. The audit chain
-- hashes `at` as that text: the store rebuilds it from the milliseconds in
-- the same form, so the chain still verifies.

CREATE TABLE envelopes_new (
    id          TEXT PRIMARY KEY,
    sender      TEXT NOT NULL,
    case_id     TEXT,
    kind        TEXT NOT NULL,
    urgency     TEXT NOT NULL,
    categories  TEXT NOT NULL,    -- JSON array of information categories
    created_at  INTEGER NOT NULL, -- as the sender stated it (ms since 1970)
    accepted_at INTEGER NOT NULL, -- hub clock (ms since 1970)
    digest      BLOB NOT NULL,    -- SHA-256 of signed bytes + signature: detects id reuse
    body        BLOB NOT NULL,    -- the envelope as sent
    basis       TEXT,             -- legal basis name
    consent_id  TEXT,             -- when the basis is consent
    purpose     TEXT,
    recipients  TEXT NOT NULL DEFAULT '[]'  -- JSON array
) STRICT;
INSERT INTO envelopes_new (id, sender, case_id, kind, urgency, categories, created_at,
        accepted_at, digest, body, basis, consent_id, purpose, recipients)
    SELECT id, sender, case_id, kind, urgency, categories, unixepoch(created_at) * 1000 + CAST(substr(strftime('%f', created_at), 4) AS INTEGER),
        unixepoch(accepted_at) * 1000 + CAST(substr(strftime('%f', accepted_at), 4) AS INTEGER), digest, body, basis, consent_id, purpose, recipients
    FROM envelopes;

CREATE TABLE deliveries_new (
    recipient    TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    envelope_id  TEXT REFERENCES envelopes_new (id),
    notice       TEXT,            -- JSON of a hub notice
    acked_at     INTEGER,
    cancelled_at INTEGER,
    PRIMARY KEY (recipient, seq),
    UNIQUE (recipient, envelope_id),
    CHECK ((envelope_id IS NULL) <> (notice IS NULL))
) STRICT;
INSERT INTO deliveries_new (recipient, seq, envelope_id, notice, acked_at, cancelled_at)
    SELECT recipient, seq, envelope_id, notice, unixepoch(acked_at) * 1000 + CAST(substr(strftime('%f', acked_at), 4) AS INTEGER), unixepoch(cancelled_at) * 1000 + CAST(substr(strftime('%f', cancelled_at), 4) AS INTEGER)
    FROM deliveries;

CREATE TABLE cases_new (
    case_id        TEXT PRIMARY KEY,
    opened_by      TEXT NOT NULL,
    opened_at      INTEGER NOT NULL,
    classification TEXT,          -- 要対協 registration, when registered
    lead           TEXT,
    members        TEXT,          -- JSON array
    registered_at  INTEGER,
    closed_at      INTEGER
) STRICT;
INSERT INTO cases_new (case_id, opened_by, opened_at, classification, lead, members,
        registered_at, closed_at)
    SELECT case_id, opened_by, unixepoch(opened_at) * 1000 + CAST(substr(strftime('%f', opened_at), 4) AS INTEGER), classification, lead, members,
        unixepoch(registered_at) * 1000 + CAST(substr(strftime('%f', registered_at), 4) AS INTEGER), unixepoch(closed_at) * 1000 + CAST(substr(strftime('%f', closed_at), 4) AS INTEGER)
    FROM cases;

CREATE TABLE consents_new (
    consent_id  TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases_new (case_id),
    recorded_by TEXT NOT NULL,
    scope       TEXT NOT NULL,    -- JSON of the clear scope
    valid_until INTEGER,
    recorded_at INTEGER NOT NULL,
    ended_at    INTEGER,
    end_reason  TEXT              -- withdrawn | expired
) STRICT;
INSERT INTO consents_new (consent_id, case_id, recorded_by, scope, valid_until,
        recorded_at, ended_at, end_reason)
    SELECT consent_id, case_id, recorded_by, scope, unixepoch(valid_until) * 1000 + CAST(substr(strftime('%f', valid_until), 4) AS INTEGER),
        unixepoch(recorded_at) * 1000 + CAST(substr(strftime('%f', recorded_at), 4) AS INTEGER), unixepoch(ended_at) * 1000 + CAST(substr(strftime('%f', ended_at), 4) AS INTEGER), end_reason
    FROM consents;

CREATE TABLE referral_states_new (
    referral    TEXT NOT NULL REFERENCES envelopes_new (id),
    recipient   TEXT NOT NULL,
    state       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    deadline_at INTEGER,          -- 受理 deadline while the state is `sent`
    escalations INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (referral, recipient)
) STRICT;
INSERT INTO referral_states_new (referral, recipient, state, updated_at, deadline_at,
        escalations)
    SELECT referral, recipient, state, unixepoch(updated_at) * 1000 + CAST(substr(strftime('%f', updated_at), 4) AS INTEGER), unixepoch(deadline_at) * 1000 + CAST(substr(strftime('%f', deadline_at), 4) AS INTEGER), escalations
    FROM referral_states;

CREATE TABLE audit_log_new (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    event     TEXT NOT NULL,
    agency    TEXT,
    subject   TEXT,
    detail    TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
) STRICT;
INSERT INTO audit_log_new (seq, at, event, agency, subject, detail, prev_hash, hash)
    SELECT seq, unixepoch(at) * 1000 + CAST(substr(strftime('%f', at), 4) AS INTEGER), event, agency, subject, detail, prev_hash, hash
    FROM audit_log;

CREATE TABLE violations_new (
    id          INTEGER PRIMARY KEY,
    envelope_id TEXT NOT NULL,
    reported_by TEXT NOT NULL,
    detail      TEXT NOT NULL,    -- JSON: declared and found categories
    reported_at INTEGER NOT NULL
) STRICT;
INSERT INTO violations_new (id, envelope_id, reported_by, detail, reported_at)
    SELECT id, envelope_id, reported_by, detail, unixepoch(reported_at) * 1000 + CAST(substr(strftime('%f', reported_at), 4) AS INTEGER)
    FROM violations;

-- Children before parents: nothing refers to an old table when it goes.
DROP TABLE deliveries;
DROP TABLE referral_states;
DROP TABLE consents;
DROP TABLE envelopes;
DROP TABLE cases;
DROP TABLE audit_log;
DROP TABLE violations;

ALTER TABLE envelopes_new RENAME TO envelopes;
ALTER TABLE deliveries_new RENAME TO deliveries;
ALTER TABLE cases_new RENAME TO cases;
ALTER TABLE consents_new RENAME TO consents;
ALTER TABLE referral_states_new RENAME TO referral_states;
ALTER TABLE audit_log_new RENAME TO audit_log;
ALTER TABLE violations_new RENAME TO violations;

CREATE INDEX envelopes_by_consent ON envelopes (consent_id) WHERE consent_id IS NOT NULL;
CREATE INDEX envelopes_by_case ON envelopes (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX deliveries_unacked ON deliveries (recipient, seq)
    WHERE acked_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX deliveries_by_envelope ON deliveries (envelope_id);
CREATE INDEX consents_open ON consents (valid_until) WHERE ended_at IS NULL;
CREATE INDEX referral_deadlines ON referral_states (deadline_at) WHERE state = 'sent';

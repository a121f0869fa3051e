-- Consent, legal basis, closed-loop referrals, 要対協 cases, hub notices and
-- the audit chain. Mirrors migrations/sqlite/0002_policy.sql: integers are
-- BIGINT (SQLite's INTEGER is 64-bit); timestamps are RFC 3339 UTC text
-- compared as text, so the indexes that serve those comparisons use the
-- "C" (bytewise) collation, as SQLite's BINARY does.

ALTER TABLE envelopes ADD COLUMN basis TEXT;       -- legal basis name
ALTER TABLE envelopes ADD COLUMN consent_id TEXT;  -- when the basis is consent
ALTER TABLE envelopes ADD COLUMN purpose TEXT;
ALTER TABLE envelopes ADD COLUMN recipients TEXT NOT NULL DEFAULT '[]';  -- JSON array
CREATE INDEX envelopes_by_consent ON envelopes (consent_id) WHERE consent_id IS NOT NULL;
CREATE INDEX envelopes_by_case ON envelopes (case_id) WHERE case_id IS NOT NULL;

-- Deliveries now carry either an envelope or a hub notice, and can be
-- cancelled before they are delivered (consent withdrawn or expired).
ALTER TABLE deliveries ALTER COLUMN envelope_id DROP NOT NULL;
ALTER TABLE deliveries ADD COLUMN notice TEXT;     -- JSON of a hub notice
ALTER TABLE deliveries ADD COLUMN cancelled_at TEXT;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_one_item
    CHECK ((envelope_id IS NULL) <> (notice IS NULL));
DROP INDEX deliveries_unacked;
CREATE INDEX deliveries_unacked ON deliveries (recipient, seq)
    WHERE acked_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX deliveries_by_envelope ON deliveries (envelope_id);

CREATE TABLE cases (
    case_id        TEXT PRIMARY KEY,
    opened_by      TEXT NOT NULL,
    opened_at      TEXT NOT NULL,
    classification TEXT,           -- 要対協 registration, when registered
    lead           TEXT,
    members        TEXT,           -- JSON array
    registered_at  TEXT,
    closed_at      TEXT
);

CREATE TABLE consents (
    consent_id  TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases (case_id),
    recorded_by TEXT NOT NULL,
    scope       TEXT NOT NULL,     -- JSON of the clear scope
    valid_until TEXT,
    recorded_at TEXT NOT NULL,
    ended_at    TEXT,
    end_reason  TEXT               -- withdrawn | expired
);
CREATE INDEX consents_open ON consents ((valid_until COLLATE "C")) WHERE ended_at IS NULL;

CREATE TABLE referral_states (
    referral    TEXT NOT NULL REFERENCES envelopes (id),
    recipient   TEXT NOT NULL,
    state       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deadline_at TEXT,              -- 受理 deadline while the state is `sent`
    escalations BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (referral, recipient)
);
CREATE INDEX referral_deadlines ON referral_states ((deadline_at COLLATE "C")) WHERE state = 'sent';

CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at        TEXT NOT NULL,
    event     TEXT NOT NULL,
    agency    TEXT,
    subject   TEXT,
    detail    TEXT NOT NULL,
    prev_hash BYTEA NOT NULL,
    hash      BYTEA NOT NULL
);

CREATE TABLE violations (
    id          BIGSERIAL PRIMARY KEY,
    envelope_id TEXT NOT NULL,
    reported_by TEXT NOT NULL,
    detail      TEXT NOT NULL,     -- JSON: declared and found categories
    reported_at TEXT NOT NULL
);

-- Consent, legal basis, closed-loop referrals, 要対協 cases, hub notices and
-- the audit chain.

ALTER TABLE envelopes ADD COLUMN basis TEXT;       -- legal basis name
ALTER TABLE envelopes ADD COLUMN consent_id TEXT;  -- when the basis is consent
ALTER TABLE envelopes ADD COLUMN purpose TEXT;
ALTER TABLE envelopes ADD COLUMN recipients TEXT NOT NULL DEFAULT '[]';  -- JSON array
CREATE INDEX envelopes_by_consent ON envelopes (consent_id) WHERE consent_id IS NOT NULL;
CREATE INDEX envelopes_by_case ON envelopes (case_id) WHERE case_id IS NOT NULL;

-- Deliveries now carry either an envelope or a hub notice, and can be
-- cancelled before they are delivered (consent withdrawn or expired).
CREATE TABLE deliveries_v2 (
    recipient    TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    envelope_id  TEXT REFERENCES envelopes (id),
    notice       TEXT,           -- JSON of a hub notice
    acked_at     TEXT,
    cancelled_at TEXT,
    PRIMARY KEY (recipient, seq),
    UNIQUE (recipient, envelope_id),
    CHECK ((envelope_id IS NULL) <> (notice IS NULL))
) STRICT;
INSERT INTO deliveries_v2 (recipient, seq, envelope_id, acked_at)
    SELECT recipient, seq, envelope_id, acked_at FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_v2 RENAME TO deliveries;
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
) STRICT;

CREATE TABLE consents (
    consent_id  TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases (case_id),
    recorded_by TEXT NOT NULL,
    scope       TEXT NOT NULL,     -- JSON of the clear scope
    valid_until TEXT,
    recorded_at TEXT NOT NULL,
    ended_at    TEXT,
    end_reason  TEXT               -- withdrawn | expired
) STRICT;
CREATE INDEX consents_open ON consents (valid_until) WHERE ended_at IS NULL;

CREATE TABLE referral_states (
    referral    TEXT NOT NULL REFERENCES envelopes (id),
    recipient   TEXT NOT NULL,
    state       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deadline_at TEXT,              -- 受理 deadline while the state is `sent`
    escalations INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (referral, recipient)
) STRICT;
CREATE INDEX referral_deadlines ON referral_states (deadline_at) WHERE state = 'sent';

CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    event     TEXT NOT NULL,
    agency    TEXT,
    subject   TEXT,
    detail    TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash      BLOB NOT NULL
) STRICT;

CREATE TABLE violations (
    id          INTEGER PRIMARY KEY,
    envelope_id TEXT NOT NULL,
    reported_by TEXT NOT NULL,
    detail      TEXT NOT NULL,     -- JSON: declared and found categories
    reported_at TEXT NOT NULL
) STRICT;

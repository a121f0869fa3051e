-- Timestamps become INTEGER milliseconds since the Unix epoch, as the
-- outbox's next_attempt_at already is, so they compare and sort as instants
-- (as RFC 3339 text "…00Z" sorted after "…00.123Z"). Read and written as
-- the hub's are (src/store/timestamp.rs).
--
-- STRICT tables cannot change a column's type in place: each table is
-- rebuilt (create, copy, drop, rename, recreate its index), keeping rowids:
-- the outbox is sent in rowid order. Every stored value was RFC 3339 UTC
-- with three fractional digits: unixepoch() reads its whole seconds and %f
-- its milliseconds exactly.

CREATE TABLE inbox_new (
    envelope_id        TEXT PRIMARY KEY,
    seq                INTEGER NOT NULL,
    sender             TEXT NOT NULL,
    kind               TEXT NOT NULL,
    case_id            TEXT,
    urgency            TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    received_at        INTEGER NOT NULL,
    envelope           BLOB NOT NULL,  -- the envelope as signed by the sender
    payload            TEXT NOT NULL,  -- the decrypted payload (JSON)
    consent_ended_at   INTEGER,
    consent_end_reason TEXT            -- withdrawn | expired
) STRICT;
INSERT INTO inbox_new (rowid, envelope_id, seq, sender, kind, case_id, urgency, created_at,
        received_at, envelope, payload, consent_ended_at, consent_end_reason)
    SELECT rowid, envelope_id, seq, sender, kind, case_id, urgency, unixepoch(created_at) * 1000 + CAST(substr(strftime('%f', created_at), 4) AS INTEGER),
        unixepoch(received_at) * 1000 + CAST(substr(strftime('%f', received_at), 4) AS INTEGER), envelope, payload, unixepoch(consent_ended_at) * 1000 + CAST(substr(strftime('%f', consent_ended_at), 4) AS INTEGER), consent_end_reason
    FROM inbox;
DROP TABLE inbox;
ALTER TABLE inbox_new RENAME TO inbox;

CREATE TABLE outbox_new (
    envelope_id     TEXT PRIMARY KEY,
    recipients      TEXT NOT NULL,  -- JSON array
    kind            TEXT NOT NULL,
    case_id         TEXT,
    urgency         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    envelope        BLOB NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'refused')),
    detail          TEXT,           -- the hub's reason when refused
    updated_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO outbox_new (rowid, envelope_id, recipients, kind, case_id, urgency, created_at,
        envelope, payload, status, detail, updated_at, next_attempt_at, attempts)
    SELECT rowid, envelope_id, recipients, kind, case_id, urgency, unixepoch(created_at) * 1000 + CAST(substr(strftime('%f', created_at), 4) AS INTEGER),
        envelope, payload, status, detail, unixepoch(updated_at) * 1000 + CAST(substr(strftime('%f', updated_at), 4) AS INTEGER), next_attempt_at, attempts
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE status = 'pending';

CREATE TABLE quarantine_new (
    seq         INTEGER PRIMARY KEY,
    envelope_id TEXT,
    sender      TEXT,
    reason      TEXT NOT NULL,
    envelope    BLOB NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;
INSERT INTO quarantine_new (seq, envelope_id, sender, reason, envelope, received_at)
    SELECT seq, envelope_id, sender, reason, envelope, unixepoch(received_at) * 1000 + CAST(substr(strftime('%f', received_at), 4) AS INTEGER)
    FROM quarantine;
DROP TABLE quarantine;
ALTER TABLE quarantine_new RENAME TO quarantine;

CREATE TABLE notices_new (
    seq         INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    notice      TEXT NOT NULL,   -- JSON
    received_at INTEGER NOT NULL
) STRICT;
INSERT INTO notices_new (seq, kind, notice, received_at)
    SELECT seq, kind, notice, unixepoch(received_at) * 1000 + CAST(substr(strftime('%f', received_at), 4) AS INTEGER)
    FROM notices;
DROP TABLE notices;
ALTER TABLE notices_new RENAME TO notices;

CREATE TABLE referral_states_new (
    referral   TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    state      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (referral, recipient)
) STRICT;
INSERT INTO referral_states_new (referral, recipient, state, updated_at)
    SELECT referral, recipient, state, unixepoch(updated_at) * 1000 + CAST(substr(strftime('%f', updated_at), 4) AS INTEGER)
    FROM referral_states;
DROP TABLE referral_states;
ALTER TABLE referral_states_new RENAME TO referral_states;

-- An agency node's own records. Plaintext lives here, in the agency's own
-- node, never at the hub.

-- Envelopes received, verified and decrypted.
CREATE TABLE inbox (
    envelope_id TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL,
    sender      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    case_id     TEXT,
    urgency     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    received_at TEXT NOT NULL,
    envelope    BLOB NOT NULL,  -- the envelope as signed by the sender
    payload     TEXT NOT NULL   -- the decrypted payload (JSON)
) STRICT;

-- Envelopes this agency sent, and whether the hub accepted them.
CREATE TABLE outbox (
    envelope_id TEXT PRIMARY KEY,
    recipients  TEXT NOT NULL,  -- JSON array
    kind        TEXT NOT NULL,
    case_id     TEXT,
    urgency     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    envelope    BLOB NOT NULL,
    payload     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'refused')),
    detail      TEXT,           -- the hub's reason when refused
    updated_at  TEXT NOT NULL
) STRICT;

-- Deliveries that failed verification or decryption: kept for review,
-- acknowledged so they do not block the queue.
CREATE TABLE quarantine (
    seq         INTEGER PRIMARY KEY,
    envelope_id TEXT,
    sender      TEXT,
    reason      TEXT NOT NULL,
    envelope    BLOB NOT NULL,
    received_at TEXT NOT NULL
) STRICT;

-- The highest delivery sequence number stored (inbox or quarantine).
CREATE TABLE stream_cursor (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq INTEGER NOT NULL
) STRICT;
INSERT INTO stream_cursor (id, last_seq) VALUES (1, 0);

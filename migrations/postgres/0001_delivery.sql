-- Envelopes as accepted: clear metadata for routing and the signed envelope
-- (ciphertext only) exactly as the sender sent it.
CREATE TABLE envelopes (
    id          TEXT PRIMARY KEY,
    sender      TEXT NOT NULL,
    case_id     TEXT,
    kind        TEXT NOT NULL,
    urgency     TEXT NOT NULL,
    categories  TEXT NOT NULL,  -- JSON array of information categories
    created_at  TEXT NOT NULL,  -- as the sender stated it
    accepted_at TEXT NOT NULL,  -- hub clock
    digest      BYTEA NOT NULL, -- SHA-256 of signed bytes + signature: detects id reuse
    body        BYTEA NOT NULL  -- the envelope JSON
);

-- The last sequence number assigned per recipient agency.
CREATE TABLE agency_cursors (
    agency   TEXT PRIMARY KEY,
    last_seq BIGINT NOT NULL
);

-- One row per (recipient, envelope): the recipient's ordered delivery queue.
CREATE TABLE deliveries (
    recipient   TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    envelope_id TEXT NOT NULL REFERENCES envelopes (id),
    acked_at    TEXT,
    PRIMARY KEY (recipient, seq),
    UNIQUE (recipient, envelope_id)
);

CREATE INDEX deliveries_unacked ON deliveries (recipient, seq) WHERE acked_at IS NULL;

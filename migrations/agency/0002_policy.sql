-- Hub notices, consent endings marked on received records, and the state of
-- referrals as updates arrive.

ALTER TABLE inbox ADD COLUMN consent_ended_at TEXT;
ALTER TABLE inbox ADD COLUMN consent_end_reason TEXT;  -- withdrawn | expired

-- Notices from the hub (cancelled deliveries, ended consents, missed deadlines).
CREATE TABLE notices (
    seq         INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    notice      TEXT NOT NULL,   -- JSON
    received_at TEXT NOT NULL
) STRICT;

-- Where each referral stands with each recipient, as this node last heard.
CREATE TABLE referral_states (
    referral   TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    state      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (referral, recipient)
) STRICT;

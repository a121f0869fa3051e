-- Timestamps become timestamptz, so every comparison and ORDER BY is
-- between instants. As RFC 3339 text they sorted by character: a bound
-- written "2026-11-23T00:00:00Z" came after "2026-11-23T00:00:00.123Z"
-- ('Z' > '.'), and an export from that second lost the entries in it.
-- Every stored value is RFC 3339 UTC, which ::timestamptz reads whatever
-- the session's time zone. The bytewise collation 0003 gave some of these
-- columns no longer applies; the two indexes built on it are rebuilt plain.
--
-- The audit chain hashes `at` as text: the store rebuilds it from the
-- instant in the exact form it was stored in (three fractional digits, Z),
-- so the chain still verifies.

DROP INDEX consents_open;
DROP INDEX referral_deadlines;

ALTER TABLE envelopes
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz,
    ALTER COLUMN accepted_at TYPE timestamptz USING accepted_at::timestamptz;
ALTER TABLE deliveries
    ALTER COLUMN acked_at TYPE timestamptz USING acked_at::timestamptz,
    ALTER COLUMN cancelled_at TYPE timestamptz USING cancelled_at::timestamptz;
ALTER TABLE cases
    ALTER COLUMN opened_at TYPE timestamptz USING opened_at::timestamptz,
    ALTER COLUMN registered_at TYPE timestamptz USING registered_at::timestamptz,
    ALTER COLUMN closed_at TYPE timestamptz USING closed_at::timestamptz;
ALTER TABLE consents
    ALTER COLUMN valid_until TYPE timestamptz USING valid_until::timestamptz,
    ALTER COLUMN recorded_at TYPE timestamptz USING recorded_at::timestamptz,
    ALTER COLUMN ended_at TYPE timestamptz USING ended_at::timestamptz;
ALTER TABLE referral_states
    ALTER COLUMN updated_at TYPE timestamptz USING updated_at::timestamptz,
    ALTER COLUMN deadline_at TYPE timestamptz USING deadline_at::timestamptz;
ALTER TABLE audit_log
    ALTER COLUMN at TYPE timestamptz USING at::timestamptz;
ALTER TABLE violations
    ALTER COLUMN reported_at TYPE timestamptz USING reported_at::timestamptz;

CREATE INDEX consents_open ON consents (valid_until) WHERE ended_at IS NULL;
CREATE INDEX referral_deadlines ON referral_states (deadline_at) WHERE state = 'sent';

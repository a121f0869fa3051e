-- Retention and legal hold (docs/operations.md §6.5). Mirrors
-- migrations/sqlite/0006_retention.sql.
--
-- A purge keeps an envelope's row (its id and digest are what refuses a
-- re-sent id; referral states, meetings and plan versions refer to it; its
-- metadata is the disclosure record) and empties its body: `purged_at`
-- says when. A zero-length body, never a NULL, as on SQLite.
ALTER TABLE envelopes ADD COLUMN purged_at timestamptz;
-- The purge walks the envelopes it has not purged, per kind, oldest first.
CREATE INDEX envelopes_unpurged ON envelopes (kind, accepted_at) WHERE purged_at IS NULL;
-- Acknowledged hub notices are deleted after their retention period.
CREATE INDEX deliveries_acked_notices ON deliveries (acked_at)
    WHERE notice IS NOT NULL AND acked_at IS NOT NULL;

-- A case under legal hold: none of its envelopes is purged while the row
-- exists. The reason (free text an operator typed, which may name people)
-- lives only here, never in the audit chain, and goes with the release.
CREATE TABLE legal_holds (
    case_id TEXT PRIMARY KEY REFERENCES cases (case_id),
    reason  TEXT NOT NULL,
    held_by TEXT NOT NULL,      -- the operator's OS account
    held_at timestamptz NOT NULL
);

-- The running node retries the outbox by itself: when each pending entry is
-- next due (Unix milliseconds; a sending command holds a short lease on its
-- own entry while it submits) and how many attempts failed.
ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;

-- The worker asks "what is due, oldest first" and "when is the next one due".
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE status = 'pending';

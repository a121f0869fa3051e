-- The hub database's epoch (src/protocol/epoch.rs) and the restores the
-- node lived through. When the epoch in `welcome` changes, the hub was
-- restored from a backup: its sequence numbers start again below the
-- node's. The node keeps its own numbering increasing by adding
-- `seq_offset` (its highest sequence before the restore) to each new hub
-- sequence, so every delivery keeps a distinct, ordered `seq` here and the
-- cursor sent in `hello` is `last_seq - seq_offset`.
ALTER TABLE stream_cursor ADD COLUMN epoch TEXT;           -- NULL: no epoch seen yet
ALTER TABLE stream_cursor ADD COLUMN seq_offset INTEGER NOT NULL DEFAULT 0;

-- Checkpoints are compared within the epoch they were received in (a
-- restored hub's chain is legitimately shorter); the older ones stay as
-- the evidence of what the hub had signed before.
ALTER TABLE hub_checkpoints ADD COLUMN epoch TEXT;

-- Each restore noticed: the epochs, the chain's length before (the longest
-- checkpoint held) and after (the first checkpoint of the new epoch), the
-- cursor before, and how many sent envelopes were queued to be sent again.
CREATE TABLE hub_restores (
    id            INTEGER PRIMARY KEY,
    from_epoch    TEXT NOT NULL,
    to_epoch      TEXT NOT NULL,
    since         INTEGER NOT NULL,  -- ms since 1970, the new epoch's `since`
    chain_before  INTEGER,
    chain_after   INTEGER,
    cursor_before INTEGER NOT NULL,
    resent        INTEGER NOT NULL,
    detected_at   INTEGER NOT NULL   -- ms since 1970
) STRICT;

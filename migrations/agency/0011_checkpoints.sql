-- Signed checkpoints of the hub's audit chain (its length and head hash),
-- kept outside the hub so `tsunagu audit verify --checkpoints` can tell a
-- truncated or recomputed chain from an intact one. Each is stored as the
-- hub signed it (its JSON text and signature), after the node verified it
-- against the directory's hub key; `count` and `head` are read from that
-- text, for comparing. A checkpoint that contradicts one held before (a
-- shorter chain, or another head at the same length) is kept too, as
-- evidence, with why in `contradicts`.
CREATE TABLE hub_checkpoints (
    id          INTEGER PRIMARY KEY,
    count       INTEGER NOT NULL CHECK (count > 0),
    head        TEXT NOT NULL,             -- hex, as in the signed text
    checkpoint  TEXT NOT NULL,             -- the signed JSON text, as received
    signature   BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    contradicts TEXT,                      -- NULL when consistent with those before
    UNIQUE (count, head)
) STRICT;

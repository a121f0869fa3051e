-- Every directory the node has accepted: the exact text the CA signed and
-- the signature file, as they arrived (kept, not re-encoded, so they can be
-- verified again). The highest version is the one in use; a directory whose
-- version is not higher is refused (a replayed old directory may still list
-- a revoked agency's keys). Instants are INTEGER milliseconds.

CREATE TABLE directories (
    version     INTEGER PRIMARY KEY CHECK (version >= 0),
    text        TEXT NOT NULL,
    signature   TEXT NOT NULL,
    accepted_at INTEGER NOT NULL
) STRICT;

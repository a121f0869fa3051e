-- The database's epoch (src/protocol/epoch.rs): a random id sent to nodes
-- in `welcome`. Empty until the hub first starts on this database; a
-- backup copy (`tsunagu admin backup`) is written with it emptied, so the
-- hub that starts on a restored copy makes a new one and the nodes notice.
CREATE TABLE hub_epoch (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    epoch TEXT NOT NULL,
    since INTEGER NOT NULL  -- ms since 1970: the newest audit entry's time when made
) STRICT;

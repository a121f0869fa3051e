-- The database's epoch (src/protocol/epoch.rs): a random id sent to nodes
-- in `welcome`. Empty until a hub first starts on this database;
-- `tsunagu admin backup` dumps the table without its row, so the hub that
-- starts on a restored dump makes a new one and the nodes notice.
CREATE TABLE hub_epoch (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    epoch TEXT NOT NULL,
    since timestamptz NOT NULL  -- the newest audit entry's time when made
);

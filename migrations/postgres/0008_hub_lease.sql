-- Leases several hub processes sharing one database take turns on: the
-- holder alone does the work (deadline and reminder checks) until its
-- lease expires, so a hub that died is replaced once `expires_at` passes.
CREATE TABLE hub_leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at timestamptz NOT NULL
);

-- Case meetings, support plan versions and the reminders the hub sends
-- before them. Only what the hub needs to check and remind: no place, no
-- agenda, no plan content (those travel encrypted).

CREATE TABLE meetings (
    meeting_id       TEXT PRIMARY KEY,
    organiser        TEXT NOT NULL,
    kind             TEXT NOT NULL,
    case_id          TEXT NOT NULL REFERENCES cases (case_id),
    more_cases       TEXT NOT NULL DEFAULT '[]', -- JSON array (実務者会議)
    starts_at        INTEGER NOT NULL,           -- ms since 1970
    duration_minutes INTEGER NOT NULL,
    cancelled_at     INTEGER,
    scheduled_by     TEXT NOT NULL REFERENCES envelopes (id)
) STRICT;

CREATE TABLE meeting_invitees (
    meeting_id  TEXT NOT NULL REFERENCES meetings (meeting_id),
    agency      TEXT NOT NULL,
    attendance  TEXT,                            -- attend | decline | proxy, once answered
    answered_at INTEGER,
    PRIMARY KEY (meeting_id, agency)
) STRICT;

CREATE TABLE plan_versions (
    plan_id     TEXT NOT NULL,
    version     INTEGER NOT NULL,
    case_id     TEXT NOT NULL REFERENCES cases (case_id),
    author      TEXT NOT NULL,
    lead        TEXT NOT NULL,
    roles       TEXT NOT NULL,                   -- JSON array of agency ids
    made_on     TEXT NOT NULL,                   -- YYYY-MM-DD (JST)
    review_on   TEXT NOT NULL,                   -- YYYY-MM-DD (JST)
    envelope_id TEXT NOT NULL REFERENCES envelopes (id),
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (plan_id, version)
) STRICT;

-- Notices due at a time. A reschedule, cancellation or new plan version
-- replaces the unfired reminders of its subject (`meeting:ID`, `plan:ID`).
CREATE TABLE reminders (
    id         INTEGER PRIMARY KEY,
    subject    TEXT NOT NULL,
    due_at     INTEGER NOT NULL,
    recipients TEXT NOT NULL,                    -- JSON array of agency ids
    notice     TEXT NOT NULL,                    -- JSON of the notice
    fired_at   INTEGER
) STRICT;
CREATE INDEX reminders_due ON reminders (due_at) WHERE fired_at IS NULL;
CREATE INDEX reminders_subject ON reminders (subject) WHERE fired_at IS NULL;

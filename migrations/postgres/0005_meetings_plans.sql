-- Case meetings, support plan versions and the reminders the hub sends
-- before them. Only what the hub needs to check and remind: no place, no
-- agenda, no plan content (those travel encrypted).

CREATE TABLE meetings (
    meeting_id       TEXT PRIMARY KEY,
    organiser        TEXT NOT NULL,
    kind             TEXT NOT NULL,
    case_id          TEXT NOT NULL REFERENCES cases (case_id),
    more_cases       TEXT NOT NULL DEFAULT '[]', -- JSON array (実務者会議)
    starts_at        timestamptz NOT NULL,
    duration_minutes BIGINT NOT NULL,
    cancelled_at     timestamptz,
    scheduled_by     TEXT NOT NULL REFERENCES envelopes (id)
);

CREATE TABLE meeting_invitees (
    meeting_id  TEXT NOT NULL REFERENCES meetings (meeting_id),
    agency      TEXT COLLATE "C" NOT NULL,
    attendance  TEXT,                            -- attend | decline | proxy, once answered
    answered_at timestamptz,
    PRIMARY KEY (meeting_id, agency)
);

CREATE TABLE plan_versions (
    plan_id     TEXT NOT NULL,
    version     BIGINT NOT NULL,
    case_id     TEXT NOT NULL REFERENCES cases (case_id),
    author      TEXT NOT NULL,
    lead        TEXT NOT NULL,
    roles       TEXT NOT NULL,                   -- JSON array of agency ids
    made_on     TEXT NOT NULL,                   -- YYYY-MM-DD (JST)
    review_on   TEXT NOT NULL,                   -- YYYY-MM-DD (JST)
    envelope_id TEXT NOT NULL REFERENCES envelopes (id),
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (plan_id, version)
);

-- Notices due at a time. A reschedule, cancellation or new plan version
-- replaces the unfired reminders of its subject (`meeting:ID`, `plan:ID`).
CREATE TABLE reminders (
    id         BIGSERIAL PRIMARY KEY,
    subject    TEXT NOT NULL,
    due_at     timestamptz NOT NULL,
    recipients TEXT NOT NULL,                    -- JSON array of agency ids
    notice     TEXT NOT NULL,                    -- JSON of the notice
    fired_at   timestamptz
);
CREATE INDEX reminders_due ON reminders (due_at) WHERE fired_at IS NULL;
CREATE INDEX reminders_subject ON reminders (subject) WHERE fired_at IS NULL;

-- The center's 支援台帳 (support ledger): one row per pregnant woman, child
-- and family the center knows, on the center's own node only. Plaintext.
--
-- A subject's items (dates, tier, district, household, …) are one JSON
-- document, read and checked by `agency::support_ledger::Subject`: the
-- national guideline's item list changes more often than this schema
-- should, and every read goes through the typed struct anyway. What is
-- looked up by (the 台帳番号) or appended to (contacts, tier history, links
-- to cases) has its own columns. Days are `YYYY-MM-DD` (see
-- 0005_ledger.sql); instants are INTEGER milliseconds.

CREATE TABLE support_subjects (
    id         TEXT PRIMARY KEY,          -- uuid, never shown
    number     TEXT NOT NULL UNIQUE,      -- 台帳番号, the center's own
    doc        TEXT NOT NULL CHECK (json_valid(doc) AND json_type(doc) = 'object'),
    version    INTEGER NOT NULL DEFAULT 1, -- a stale edit is refused
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- 相談・接触記録: append-only.
CREATE TABLE support_contacts (
    id          INTEGER PRIMARY KEY,
    subject_id  TEXT NOT NULL REFERENCES support_subjects (id),
    day         TEXT NOT NULL CHECK (day IS date(day)),
    kind        TEXT NOT NULL CHECK (kind IN ('phone', 'interview', 'visit', 'walk_in', 'from_agency')),
    staff       TEXT NOT NULL,            -- who made the contact, as staff write it
    summary     TEXT NOT NULL,
    point       TEXT CHECK (point IS NULL OR point IN ('notification', 'month8', 'infant_visit')),
    recorded_by TEXT NOT NULL,            -- the signed-in member (or the CLI's OS user)
    recorded_at INTEGER NOT NULL
) STRICT;
CREATE INDEX support_contacts_by_subject ON support_contacts (subject_id, day);

-- 支援区分の変更履歴: who changed the tier, when and why.
CREATE TABLE support_tier_changes (
    id         INTEGER PRIMARY KEY,
    subject_id TEXT NOT NULL REFERENCES support_subjects (id),
    from_tier  TEXT,                      -- NULL: the first tier given
    to_tier    TEXT NOT NULL,
    reason     TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at INTEGER NOT NULL
) STRICT;
CREATE INDEX support_tier_changes_by_subject ON support_tier_changes (subject_id, changed_at);

-- Which subject a case (and so its referrals, meetings and plans) belongs
-- to: a case belongs to one subject at most.
CREATE TABLE support_links (
    case_id    TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL REFERENCES support_subjects (id),
    linked_by  TEXT NOT NULL,
    linked_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX support_links_by_subject ON support_links (subject_id);

-- 事業評価: a year's target for an indicator (様式1's 目標値).
CREATE TABLE support_targets (
    fiscal_year INTEGER NOT NULL,
    indicator   TEXT NOT NULL,
    target      REAL NOT NULL,
    PRIMARY KEY (fiscal_year, indicator)
) STRICT;

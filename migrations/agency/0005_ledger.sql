-- The 進行管理台帳 (progress ledger) of the 要対協's 調整機関: what its own
-- staff record about each registered case, beside what the node already
-- holds (registrations, meetings, plans). Plaintext, on this node only.
--
-- Days (受理日, 見直し日) are calendar days in Japan, not instants: stored as
-- ISO 8601 `YYYY-MM-DD` text, which the CHECKs hold to that one fixed width
-- (`x IS date(x)` only for NULL or a valid day written exactly so: date()
-- of anything else is NULL or differs), so text order is day order. The instant of the last change is INTEGER milliseconds, as in
-- 0004_typed_time.sql.

CREATE TABLE ledger_entries (
    case_id       TEXT PRIMARY KEY,
    case_number   TEXT UNIQUE,    -- the 調整機関's own number, e.g. 2026-012
    received_on   TEXT CHECK (received_on IS date(received_on)),
    route         TEXT CHECK (route IS NULL OR route IN
                      ('notification', 'medical', 'pregnancy_report', 'checkup', 'moved_in', 'other')),
    abuse_types   TEXT NOT NULL DEFAULT '[]'   -- JSON array of physical | sexual | psychological | neglect
                      CHECK (json_valid(abuse_types) AND json_type(abuse_types) = 'array'),
    risk          TEXT CHECK (risk IS NULL OR risk IN ('high', 'medium', 'low')),
    policy        TEXT NOT NULL DEFAULT '',    -- 援助方針
    status        TEXT NOT NULL DEFAULT 'received' CHECK (status IN
                      ('received', 'assessment', 'supporting', 'watching', 'referred', 'transferred', 'closed')),
    status_reason TEXT NOT NULL DEFAULT '',
    next_review   TEXT CHECK (next_review IS date(next_review)),
    updated_at    INTEGER NOT NULL
) STRICT;

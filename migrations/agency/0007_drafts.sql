-- 連絡票 drafts saved by staff to finish later (「保存して後で続ける」). Each
-- belongs to the member who saved it and no one else sees it. The form holds
-- plaintext about a person, kept in the node's own database like the inbox's
-- decrypted payloads; a draft is deleted once its referral is sent.
-- Attached files are not kept in drafts: they are chosen again on sending.

CREATE TABLE drafts (
    id         TEXT PRIMARY KEY,                        -- a random UUID
    staff_id   TEXT NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    title      TEXT NOT NULL,                           -- the mother's name, or empty
    form       TEXT NOT NULL,                           -- the form's fields (JSON)
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX drafts_staff ON drafts (staff_id, updated_at);

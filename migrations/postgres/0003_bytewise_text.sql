-- The text the hub orders or compares by range (recipients, and timestamps
-- while they are RFC 3339 text) compares bytewise, as SQLite's BINARY does,
-- whatever the database's default collation: both backends then run the
-- same SQL and sort alike, with no COLLATE clause in the queries.
ALTER TABLE deliveries ALTER COLUMN recipient TYPE TEXT COLLATE "C";
ALTER TABLE referral_states ALTER COLUMN recipient TYPE TEXT COLLATE "C";
ALTER TABLE referral_states ALTER COLUMN deadline_at TYPE TEXT COLLATE "C";
ALTER TABLE envelopes ALTER COLUMN accepted_at TYPE TEXT COLLATE "C";
ALTER TABLE consents ALTER COLUMN valid_until TYPE TEXT COLLATE "C";
ALTER TABLE audit_log ALTER COLUMN at TYPE TEXT COLLATE "C";

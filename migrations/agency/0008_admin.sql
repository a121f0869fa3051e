-- The inbox's 未読 filter asks which envelopes one member of staff has
-- viewed: the access log by person and kind, not only by time.
CREATE INDEX access_log_by_staff ON access_log (staff_id, what, record_id);

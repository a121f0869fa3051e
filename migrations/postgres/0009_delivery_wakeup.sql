-- A queued delivery wakes, on commit, whichever hub process holds the
-- recipient's socket: a notification on channel `tsunagu_delivery` (the
-- hub's DELIVERY_CHANNEL) whose payload is the recipient's agency id.
-- Raised here rather than by a statement from the hub for each delivery:
-- that was one round trip per recipient on the one writer's connection.
-- PostgreSQL delivers one notification per recipient per transaction.
CREATE FUNCTION tsunagu_delivery_queued() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('tsunagu_delivery', NEW.recipient);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER deliveries_wake AFTER INSERT ON deliveries
    FOR EACH ROW EXECUTE FUNCTION tsunagu_delivery_queued();

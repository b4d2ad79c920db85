-- Wake the outbox relay from the INSERT itself: a NOTIFY issued in the inserting transaction is
-- delivered at commit, and doing it in a statement-level trigger saves a round trip per event.
CREATE FUNCTION signpost_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('signpost_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify_relay
    AFTER INSERT ON outbox
    FOR EACH STATEMENT
    EXECUTE FUNCTION signpost_outbox_notify();

-- A row the broker can never take (too large, refused for good) is parked: kept with its error,
-- counted, listed and retried by `signpost-outbox`, and no longer claimed, so the rows behind it flow.
ALTER TABLE outbox ADD COLUMN parked_at timestamptz;
DROP INDEX outbox_unsent;
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL AND parked_at IS NULL;
CREATE INDEX outbox_parked ON outbox (parked_at) WHERE parked_at IS NOT NULL;

-- A tombstone (EventType.tombstone: a compacted topic forgetting a key) is an outbox row with no payload; the
-- relay publishes it as a null Kafka value. Every other event still has its JSON payload.
ALTER TABLE outbox ALTER COLUMN payload DROP NOT NULL;

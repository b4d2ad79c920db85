-- Which dispatcher holds a lease, so one can release its own after a failed cycle (see the runtime's
-- outbox migration 0003 for why).
ALTER TABLE deliveries ADD COLUMN lease_owner text;

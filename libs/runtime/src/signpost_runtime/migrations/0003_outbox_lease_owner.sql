-- Which relay holds a lease. After a failed cycle a relay releases its own leases at once: a claim
-- whose commit reached the server but whose reply was lost would otherwise sit until it expires.
ALTER TABLE outbox ADD COLUMN lease_owner text;

-- After a withdrawal, the only message sent about the referral is its confirmation: every other
-- delivery for it is kept, for the record, as 'suppressed' with the reason, and is never claimed.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('pending', 'sent', 'failed', 'suppressed'));
ALTER TABLE deliveries
    ADD COLUMN suppressed_at timestamptz,
    ADD COLUMN suppressed_because text;
-- Every claim cycle asks "is this pending delivery's referral withdrawn?" (notifications.adapters.deliveries).
CREATE INDEX outcomes_withdrawals ON outcomes (referral_id) WHERE event_type = 'referral.withdrawn.v1';

-- Attempts now count only what the provider answered (the email taken, or a refusal), so an SMTP
-- outage of any length spends none. Claims are counted apart:
--   claims             every claim ever made; with lease_owner it is the fencing token a dispatcher
--                      must still hold when it records the result of its send;
--   unrecorded_claims  claims since a result was last recorded; a delivery whose dispatcher dies with
--                      it each time (a crash loop) is failed once this passes the cap.
ALTER TABLE deliveries
    ADD COLUMN claims integer NOT NULL DEFAULT 0,
    ADD COLUMN unrecorded_claims integer NOT NULL DEFAULT 0,
    ADD COLUMN redriven_at timestamptz;  -- last put back in line by `signpost-notifications redrive`

-- An outcome waits for referral.received.v1 to learn whom to tell. Flagged, so the ones waiting
-- (a gauge, GET /outcomes/awaiting-referral) are found without scanning every outcome ever stored.
ALTER TABLE outcomes ADD COLUMN awaiting_referral boolean NOT NULL DEFAULT false;
UPDATE outcomes o SET awaiting_referral = true
WHERE NOT EXISTS (SELECT 1 FROM referrer_contacts c WHERE c.referral_id = o.referral_id);
CREATE INDEX outcomes_awaiting_referral ON outcomes (recorded_at) WHERE awaiting_referral;
CREATE INDEX deliveries_failed ON deliveries (failed_at) WHERE status = 'failed';

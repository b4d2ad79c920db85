-- A partner organisation without an ODS code (referral.received.v2 `referrer.partner_id`) reads its own
-- referrals' decisions by its token's `org` claim, as an NHS organisation reads by `ods`. NULL for the rest.
ALTER TABLE decisions ADD COLUMN requester_partner text;

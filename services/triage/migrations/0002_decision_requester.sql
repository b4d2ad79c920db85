-- The organisation that made the referral (referral.received.v1 `referrer.ods_code`), so that a
-- decision is shown only to that organisation or to staff holding referrals:read-all. Decisions
-- recorded before this column existed stay NULL: only referrals:read-all reads those.
ALTER TABLE decisions ADD COLUMN requester_ods text;

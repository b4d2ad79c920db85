-- Erasure of a person's identifiers (issue 11): when a referral's were erased. The row stays, so every count
-- that includes the referral (its dates, status, outcome) is unchanged; a second erasure finds it erased.
ALTER TABLE referrals ADD COLUMN erased_at timestamptz;
-- The retention purge looks for closed cases not yet erased.
CREATE INDEX referrals_not_erased ON referrals (received_at) WHERE erased_at IS NULL;

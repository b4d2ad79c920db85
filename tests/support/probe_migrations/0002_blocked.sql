-- Referrals the probe refuses to process until the row is removed: a stand-in for a bug or a
-- missing reference row, fixed by an operator, after which dead letters are replayed.
CREATE TABLE blocked (referral_id text PRIMARY KEY);

-- Who the referrer is (referral.received's referrer.kind): a person who referred themselves is written to
-- as that person ("your request"), not as a professional told about someone else. NULL: stored before this.
ALTER TABLE referrer_contacts ADD COLUMN referrer_kind text;

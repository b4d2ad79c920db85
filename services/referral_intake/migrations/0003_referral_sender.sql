-- The system that sent a referral for its requester (an integration engine or hub holding the
-- referrals:write-on-behalf scope). NULL when the requester sent it itself.
ALTER TABLE referrals ADD COLUMN sender_system text;
ALTER TABLE referrals ADD COLUMN sender_ods text;

-- Erasure reaches the broker (issue 11): a self-referrer's own reply address no longer rides on referral.received
-- (the referrals topic is kept for ever) but on the compacted contacts topic, keyed by referral id. Its latest
-- value is kept here until its tombstone or the referral's erasure; contact_apart says a referral's details wait
-- for it. Rows stored before this have their address on referrer_contacts, as before (contact_apart false).
ALTER TABLE referrer_contacts ADD COLUMN contact_apart boolean NOT NULL DEFAULT false;
CREATE TABLE person_contacts (
    referral_id  text PRIMARY KEY,
    email        text,
    phone        text,
    event_id     text NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);

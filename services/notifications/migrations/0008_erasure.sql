-- Erasure (issue 11): the referrals whose person's identifiers intake erased (referral.erased.v1). Kept so that
-- an outcome arriving later, on triage's topic, is neither stored nor told: nobody is left to address it to.
CREATE TABLE erased_referrals (
    referral_id  text PRIMARY KEY,
    event_id     text NOT NULL,
    erased_at    timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);

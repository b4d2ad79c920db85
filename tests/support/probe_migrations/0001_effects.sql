CREATE TABLE effects (
    event_id    text PRIMARY KEY,
    referral_id text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

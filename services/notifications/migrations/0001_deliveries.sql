-- How to reach the referrer of each referral, from referral.received.v1. Nothing about the person.
CREATE TABLE referrer_contacts (
    referral_id        text PRIMARY KEY,
    email              text,
    organisation_name  text,
    ods_code           text,
    referrer_reference text,  -- the referrer's own identifier for this referral
    received_event_id  text NOT NULL,
    recorded_at        timestamptz NOT NULL DEFAULT now()
);

-- Outcomes the referrer must hear about. One waits here until the referrer's contact is known,
-- because events from the referrals and triage topics arrive in any order.
CREATE TABLE outcomes (
    event_id        text PRIMARY KEY,
    referral_id     text NOT NULL,
    event_type      text NOT NULL,
    details         jsonb NOT NULL,
    correlation_id  text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outcomes_by_referral ON outcomes (referral_id);

-- One row per message to send. The UNIQUE idempotency key (outcome event id + channel) is what
-- makes "exactly once per outcome" hold even if a delivery were created twice.
CREATE TABLE deliveries (
    notification_id   uuid PRIMARY KEY,
    idempotency_key   text NOT NULL UNIQUE,
    referral_id       text NOT NULL,
    outcome_event_id  text NOT NULL REFERENCES outcomes (event_id),
    about_event_type  text NOT NULL,
    outcome           text NOT NULL,
    channel           text NOT NULL,
    recipient         text,
    subject           text NOT NULL,
    body              text NOT NULL,  -- rendered once, so a re-send is the same message
    urgent            boolean NOT NULL DEFAULT false,  -- sent ahead of a backlog
    status            text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts          integer NOT NULL DEFAULT 0,
    last_error        text,
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    lease_until       timestamptz,
    correlation_id    text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    sent_at           timestamptz,
    failed_at         timestamptz
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_referral ON deliveries (referral_id, created_at);

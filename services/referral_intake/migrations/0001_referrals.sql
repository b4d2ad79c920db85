-- Referrals as received: the full FHIR ServiceRequest plus the columns we search and authorise on.
CREATE TABLE referrals (
    id                text PRIMARY KEY,
    task_id           text NOT NULL UNIQUE,
    requester_ods     text NOT NULL,
    nhs_number        text,
    identifier_system text,
    identifier_value  text,
    resource          jsonb NOT NULL,
    received_at       timestamptz NOT NULL,
    last_updated      timestamptz NOT NULL
);
CREATE INDEX referrals_requester_ods ON referrals (requester_ods);
CREATE INDEX referrals_nhs_number ON referrals (nhs_number) WHERE nhs_number IS NOT NULL;

-- Every ServiceRequest.identifier, scoped by the requesting organisation so that one
-- organisation's identifier can never return another organisation's referral.
CREATE TABLE referral_identifiers (
    requester_ods text NOT NULL,
    system        text NOT NULL,
    value         text NOT NULL,
    referral_id   text NOT NULL REFERENCES referrals (id),
    PRIMARY KEY (requester_ods, system, value)
);

-- What later events told us about each referral. One row per referral, merged fact by fact
-- so the Task reads the same whatever order (or how many times) the events arrived.
-- No foreign key: an event may in principle arrive for a referral we do not hold yet.
CREATE TABLE referral_progress (
    referral_id      text PRIMARY KEY,
    triage           jsonb,
    assignment       jsonb,
    waitlist         jsonb,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

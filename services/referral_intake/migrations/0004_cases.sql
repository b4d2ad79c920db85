-- A referral's status at its referrer's end (FHIR ServiceRequest.status: active until the referrer withdraws
-- it as revoked or entered-in-error) and its version (meta.versionId, the ETag If-Match is checked against),
-- kept beside the stored resource so that a withdrawal and every case write can check them under the row lock.
ALTER TABLE referrals ADD COLUMN status text NOT NULL DEFAULT 'active';
ALTER TABLE referrals ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE referrals ADD COLUMN withdrawn_at timestamptz;
-- The earlier referral of the same organisation this one replaces (ServiceRequest.replaces), when it names one.
ALTER TABLE referrals ADD COLUMN replaces_referral_id text;

-- The person already has an open case: triage linked this referral to it (referral.linked.v1).
ALTER TABLE referral_progress ADD COLUMN linked jsonb;

-- Each referral's case: who holds it and the terms it runs by (triage's facts, merged in any order) and what
-- the connector recorded (contacts, goals, sessions, extensions, measures, closure, requests). The record is
-- one document, loaded, changed and saved whole under the row lock (domain/case.py is its shape); the columns
-- beside it are derived from it on every save, for the worklist to search on. No foreign key: triage's events
-- may in principle arrive for a referral before it is stored here.
CREATE TABLE cases (
    referral_id  text PRIMARY KEY,
    connector_id text,
    status       text NOT NULL,
    assigned_at  timestamptz,
    record       jsonb NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_by_connector ON cases (connector_id, status, assigned_at);
CREATE INDEX cases_by_status ON cases (status, assigned_at);

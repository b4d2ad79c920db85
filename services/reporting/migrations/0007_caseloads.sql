-- Each connector's caseload against capacity, from triage's roster.caseloads.v1: the newest figures per
-- connector (by as_of), whatever order the events arrive in. Roster ids and counts only: no connector's
-- name, no referral, no person. Current figures, not a history: the dashboard shows them as they stand.
CREATE TABLE connector_caseloads (
    connector_id     text PRIMARY KEY,
    kind             text NOT NULL,
    capacity         integer NOT NULL CHECK (capacity >= 0),
    open_cases       integer NOT NULL CHECK (open_cases >= 0),
    taking_new_work  boolean NOT NULL,
    as_of            timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

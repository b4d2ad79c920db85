-- The case lifecycle (issue 6): connector status, assignments that end and move, a waitlist in priority
-- order, referrals that ended before triage placed them, links between referrals of the same person,
-- and every handover or reassignment asked for.

-- available: takes new work; on-leave, left: keeps its open cases, gets no new ones.
ALTER TABLE connectors
    ADD COLUMN status text NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'on-leave', 'left'));

-- person_key: a keyed hash of the NHS number (never the number), to link a second referral of the same
-- person to their open case. replaces_referral_id: FHIR ServiceRequest.replaces, kept for history.
ALTER TABLE decisions
    ADD COLUMN person_key text,
    ADD COLUMN replaces_referral_id text,
    ADD COLUMN priority text NOT NULL DEFAULT 'routine';

-- One row per referral ever assigned: connector_id is the current holder (moved by handover and
-- reassignment); state 'ended' once the case closed or was withdrawn. A connector's caseload is always
-- the number of their open rows (tests check it), so that every end frees exactly one place.
ALTER TABLE assignments
    ADD COLUMN complexity text CHECK (complexity IN ('low', 'medium', 'high')),
    ADD COLUMN terms jsonb,
    ADD COLUMN person_key text,
    ADD COLUMN needs text[] NOT NULL DEFAULT '{}',
    ADD COLUMN language text,
    ADD COLUMN waiting_since timestamptz,
    ADD COLUMN state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'ended')),
    ADD COLUMN ended_at timestamptz,
    ADD COLUMN end_reason text,
    ADD CONSTRAINT an_ended_assignment_has_an_end CHECK ((state = 'ended') = (ended_at IS NOT NULL));
UPDATE assignments a SET complexity = d.complexity FROM decisions d WHERE d.referral_id = a.referral_id;
ALTER TABLE assignments ALTER COLUMN complexity SET NOT NULL;
CREATE INDEX assignments_open_by_connector ON assignments (connector_id, assigned_at) WHERE state = 'open';
CREATE INDEX assignments_open_by_person ON assignments (person_key) WHERE state = 'open' AND person_key IS NOT NULL;

-- covering: every roster prefix that covers the entry's district (triage.domain.postcodes.prefixes_covering),
-- so that "a connector covers it" is `connectors.areas && waitlist.covering` in SQL. The backfill below
-- is the same rule: the area letters, the letters and number, the district itself.
ALTER TABLE waitlist
    ADD COLUMN priority text NOT NULL DEFAULT 'routine',
    ADD COLUMN priority_rank smallint NOT NULL DEFAULT 3,
    ADD COLUMN covering text[] NOT NULL DEFAULT '{}',
    ADD COLUMN needs text[] NOT NULL DEFAULT '{}',
    ADD COLUMN language text,
    ADD COLUMN person_key text;
UPDATE waitlist SET covering = ARRAY(
    SELECT DISTINCT prefix FROM unnest(ARRAY[
        substring(area FROM '^[A-Z]{1,2}'), substring(area FROM '^[A-Z]{1,2}[0-9]{1,2}'), area
    ]) AS prefix WHERE prefix IS NOT NULL
);
-- The waiting order (triage.domain.waitlist): priority rank, then time received, then referral id.
CREATE INDEX waitlist_order ON waitlist (priority_rank, received_at, referral_id);
CREATE INDEX waitlist_by_person ON waitlist (person_key) WHERE person_key IS NOT NULL;

-- A referral whose case ended (closed, withdrawn), whatever triage knew of it then. The first end wins.
-- A referral ended before triage placed it is never placed: a withdrawal that overtook its referral, or
-- a closure replayed ahead of the assignment, leaves no open case behind.
CREATE TABLE referral_ends (
    referral_id  text PRIMARY KEY,
    reason       text NOT NULL CHECK (reason IN ('closed', 'withdrawn')),
    detail       text NOT NULL,
    ended_at     timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);

-- A referral of a person who already had an open case: it took no place and points at that case.
CREATE TABLE links (
    referral_id            text PRIMARY KEY REFERENCES decisions (referral_id),
    linked_to_referral_id  text NOT NULL,
    reason                 text NOT NULL,
    linked_at              timestamptz NOT NULL
);

-- Every handover or reassignment asked for, and the answer. The key is the request itself, so the same
-- request delivered again under another event id is answered once.
CREATE TABLE case_changes (
    referral_id          text NOT NULL,
    kind                 text NOT NULL CHECK (kind IN ('handover', 'reassignment')),
    requested_by         text NOT NULL,
    requested_at         timestamptz NOT NULL,
    named_connector_id   text,
    requested_reason     text,
    outcome              text NOT NULL CHECK (outcome IN ('moved', 'refused')),
    from_connector_id    text,
    to_connector_id      text,
    reason               text NOT NULL,
    answered_at          timestamptz NOT NULL,
    PRIMARY KEY (referral_id, kind, requested_by, requested_at)
);

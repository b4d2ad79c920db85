-- Connectors come from the roster file; caseload is triage's own state and survives reloads.
CREATE TABLE connectors (
    id            text PRIMARY KEY,
    display_name  text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('paid', 'volunteer')),
    areas         text[] NOT NULL,
    capacity      integer NOT NULL CHECK (capacity >= 0),
    caseload      integer NOT NULL DEFAULT 0 CHECK (caseload >= 0),
    languages     text[] NOT NULL DEFAULT '{}',
    specialisms   text[] NOT NULL DEFAULT '{}',
    -- false once the connector is no longer in the roster file: keeps its cases, gets no new ones.
    active        boolean NOT NULL DEFAULT true,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- Backstop: assignment locks rows and checks room, but no code path may ever overfill a caseload.
    CONSTRAINT caseload_within_capacity CHECK (caseload <= capacity)
);
CREATE INDEX connectors_areas ON connectors USING gin (areas);

-- One decision per referral, whatever event ids carried it; explains itself via `reasons`.
CREATE TABLE decisions (
    referral_id        text PRIMARY KEY,
    received_event_id  text NOT NULL,
    correlation_id     text NOT NULL,
    received_at        timestamptz NOT NULL,
    decided_at         timestamptz NOT NULL,
    outcome            text NOT NULL CHECK (outcome IN ('accepted', 'declined', 'redirected')),
    complexity         text NOT NULL CHECK (complexity IN ('low', 'medium', 'high')),
    reasons            jsonb NOT NULL,
    summary            text NOT NULL,
    redirect           jsonb,
    postcode_district  text,
    policy_version     text NOT NULL
);

CREATE TABLE assignments (
    referral_id     text PRIMARY KEY REFERENCES decisions (referral_id),
    connector_id    text NOT NULL REFERENCES connectors (id),
    connector_kind  text NOT NULL,
    area            text NOT NULL,
    reason          text NOT NULL,
    assigned_at     timestamptz NOT NULL
);
CREATE INDEX assignments_connector ON assignments (connector_id);

-- Accepted referrals that found no connector with room, served later in arrival order.
CREATE TABLE waitlist (
    referral_id    text PRIMARY KEY REFERENCES decisions (referral_id),
    area           text NOT NULL,
    complexity     text NOT NULL,
    required_kind  text CHECK (required_kind IN ('paid', 'volunteer')),
    reason         text NOT NULL,
    received_at    timestamptz NOT NULL,
    waitlisted_at  timestamptz NOT NULL
);
CREATE INDEX waitlist_arrival ON waitlist (area, received_at, referral_id);

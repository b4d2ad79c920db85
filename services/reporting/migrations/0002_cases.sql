-- Cases (issue 6): what reporting counts about a referral's life after assignment. Still no direct
-- identifiers: no goals, onward connections, notes or connector ids (connectors' free text could
-- name the person), no person_key, only the closure's code, its session count and the measures' numbers.
ALTER TABLE referral_facts
    -- case.closed.v1
    ADD COLUMN closed_at      timestamptz,
    ADD COLUMN closure        text,  -- the vocabulary code (goals-met, ...), never the note
    ADD COLUMN sessions_used  integer,
    -- referral.withdrawn.v1
    ADD COLUMN withdrawn_at   timestamptz,
    -- referral.linked.v1
    ADD COLUMN linked_at      timestamptz;

ALTER TABLE referral_facts DROP CONSTRAINT referral_facts_status_check;
ALTER TABLE referral_facts ADD CONSTRAINT referral_facts_status_check CHECK (status IN (
    'awaiting-triage', 'accepted', 'assigned', 'waitlisted', 'declined', 'redirected', 'closed', 'withdrawn', 'linked'
));

-- Outcome measures, one row per case and stage (baseline, closing). A stage recorded again replaces
-- the earlier answers: the later recorded_at wins (ties by event id), whatever order they arrive in.
-- Each answer may be missing (people decline questions); ucla3_total only when all three were answered.
CREATE TABLE case_measures (
    referral_id       text NOT NULL,
    stage             text NOT NULL CHECK (stage IN ('baseline', 'closing')),
    recorded_at       timestamptz NOT NULL,
    event_id          text NOT NULL,
    ucla3_total       integer CHECK (ucla3_total BETWEEN 3 AND 9),
    ons_loneliness    text,
    life_satisfaction integer CHECK (life_satisfaction BETWEEN 0 AND 10),
    worthwhile        integer CHECK (worthwhile BETWEEN 0 AND 10),
    happiness         integer CHECK (happiness BETWEEN 0 AND 10),
    anxiety           integer CHECK (anxiety BETWEEN 0 AND 10),
    PRIMARY KEY (referral_id, stage)
);

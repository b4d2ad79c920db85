-- Facts for the operations dashboard and the commissioner exports (issue 9). Still no direct
-- identifiers: the area's deprivation decile (never the postcode or LSOA), the fired rules' codes
-- (never the referrer-facing text), the triage area, and the moments support reached its milestones.
ALTER TABLE referral_facts
    -- referral.received.v2: English IMD decile, 1 = the most deprived 10% of areas
    ADD COLUMN imd_decile          smallint CHECK (imd_decile BETWEEN 1 AND 10),
    -- referral.triaged.v1: the rule ids that fired, and whether a redirect was urgent
    ADD COLUMN fired_rules        text[],
    ADD COLUMN redirect_urgent     boolean,
    -- referral.assigned.v1 / assigned-from-waitlist.v1
    ADD COLUMN area                text,
    ADD COLUMN stalled_after_days  integer,
    -- since when the case sits with its connector (assigned, handed over or reassigned): the latest wins.
    -- Not the connector's id: a staff code can be a person's name (tests/reporting checks).
    ADD COLUMN connector_since     timestamptz,
    -- referral.waitlisted.v1
    ADD COLUMN waitlist_area       text,
    -- case.contact-recorded.v1: the first time the person was reached (earliest wins), or given up on
    ADD COLUMN first_reached_at    timestamptz,
    ADD COLUMN unreachable_at timestamptz,
    -- case.session-recorded.v1: the latest session (latest wins)
    ADD COLUMN last_session_at     timestamptz;

-- Every dashboard view and export is for a period of receipt.
CREATE INDEX referral_facts_received_at ON referral_facts (received_at);
CREATE INDEX notification_facts_failed ON notification_facts (failed_at) WHERE sent_at IS NULL;

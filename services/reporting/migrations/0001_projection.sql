-- The reporting read model. It holds no direct identifiers: no names, no NHS numbers, no contact
-- details, no exact ages, no free text written by a referrer. tests/reporting checks the column list.
--
-- One row per referral, built from facts: each event type writes only its own columns with an
-- upsert, so events from different topics can arrive in any order (or twice) and the row converges
-- to the same state. `status` and `decision` are derived from the facts by the service
-- (reporting.domain.status) in the same transaction, never copied from "the last event".
CREATE TABLE referral_facts (
    referral_id        text PRIMARY KEY,
    -- referral.received.v1
    received_at        timestamptz,
    channel            text,
    priority           text,
    age_band           text,
    postcode_district  text,
    needs              text[],
    referrer_kind      text,
    referrer_ods_code  text,
    -- referral.triaged.v1
    decided_at         timestamptz,
    outcome            text,
    complexity         text,
    -- referral.assigned.v1
    assigned_at        timestamptz,
    connector_kind     text,
    -- referral.waitlisted.v1
    waitlisted_at      timestamptz,
    -- derived from the columns above
    status             text NOT NULL DEFAULT 'awaiting-triage'
        CHECK (status IN ('awaiting-triage', 'accepted', 'assigned', 'waitlisted', 'declined', 'redirected')),
    decision           text CHECK (decision IN ('accepted', 'declined', 'redirected')),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX referral_facts_status ON referral_facts (status);
CREATE INDEX referral_facts_referrer ON referral_facts (referrer_ods_code);

-- One row per notification (not per event): a notification reported twice under two event ids,
-- or failed and later sent after a dead-letter replay, is still one notification.
-- The provider's error text is not kept: it can quote a referrer's address.
CREATE TABLE notification_facts (
    notification_id    text PRIMARY KEY,
    referral_id        text NOT NULL,
    channel            text NOT NULL,
    about_event_type   text NOT NULL,
    sent_at            timestamptz,
    failed_at          timestamptz,
    attempts           integer NOT NULL DEFAULT 0,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_facts_referral ON notification_facts (referral_id);

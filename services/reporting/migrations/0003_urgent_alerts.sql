-- Urgent messages (urgent redirects) not yet known to have reached their referrer, from notifications'
-- notification.urgent-unconfirmed.v1 / notification.urgent-settled.v1: the dashboard counts the open ones.
-- A settled alert stays settled whatever arrives after it (a replayed unconfirmed event).
CREATE TABLE urgent_alert_facts (
    outcome_event_id text PRIMARY KEY,
    referral_id      text NOT NULL,
    raised_at        timestamptz NOT NULL,
    escalations      integer NOT NULL DEFAULT 0,
    settled_at       timestamptz,
    settled_how      text CHECK (settled_how IN ('confirmed', 'acknowledged')),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX urgent_alert_facts_open ON urgent_alert_facts (raised_at) WHERE settled_at IS NULL;

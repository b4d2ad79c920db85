-- More ways to reach a referrer than email: SMS (GOV.UK Notify) and BaRS servicerequest-response.
-- The referrer's phone (a self-referrer's own mobile), partner id (the directory's key for partners
-- without an ODS code) and, for a referral sent by BaRS, the conversation a response must answer.
ALTER TABLE referrer_contacts
    ADD COLUMN phone text,
    ADD COLUMN partner_id text,
    ADD COLUMN bars jsonb;

-- route_rank: the delivery's place in the referrer's channel order; when it fails, the next route
-- gets a delivery (domain/routing.py). audience: 'duty' is an urgent message escalated to the
-- service's duty coordinator. template: the message's name, which chooses its GOV.UK Notify template.
-- provider_reference and receipt: what the provider said afterwards ('pending' while one is awaited);
-- confirmed_at: when the message is known to have reached its recipient (a Notify 'delivered'
-- receipt, or a BaRS receiver's 200 or 409 duplicate).
ALTER TABLE deliveries
    ADD COLUMN audience text NOT NULL DEFAULT 'referrer' CHECK (audience IN ('referrer', 'duty')),
    ADD COLUMN route_rank integer NOT NULL DEFAULT 0,
    ADD COLUMN template text NOT NULL DEFAULT '',
    ADD COLUMN provider_reference text,
    ADD COLUMN receipt text CHECK (receipt IN ('pending', 'delivered', 'permanent-failure', 'temporary-failure')),
    ADD COLUMN receipt_detail text,
    ADD COLUMN receipt_checked_at timestamptz,
    ADD COLUMN confirmed_at timestamptz;
CREATE INDEX deliveries_awaiting_receipt ON deliveries (receipt_checked_at NULLS FIRST) WHERE receipt = 'pending';
CREATE INDEX deliveries_by_outcome ON deliveries (outcome_event_id);

-- An urgent outcome (an urgent redirect) until someone has it: confirmed delivered to the referrer,
-- or acknowledged by staff. Each time escalate_at passes unconfirmed, the next step is taken (the
-- next channel, then the duty coordinator) and escalate_at moves on; it is never dropped.
CREATE TABLE urgent_alerts (
    outcome_event_id  text PRIMARY KEY REFERENCES outcomes (event_id),
    referral_id       text NOT NULL,
    raised_at         timestamptz NOT NULL DEFAULT now(),
    escalate_at       timestamptz NOT NULL,
    escalations       integer NOT NULL DEFAULT 0,
    last_escalation   text,
    confirmed_at      timestamptz,
    acknowledged_at   timestamptz,
    acknowledged_by   text
);
CREATE INDEX urgent_alerts_open ON urgent_alerts (escalate_at) WHERE confirmed_at IS NULL AND acknowledged_at IS NULL;

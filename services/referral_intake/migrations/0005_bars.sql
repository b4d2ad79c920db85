-- Where a referral sent as a BaRS message came from, so that its status can go back to the sender as a
-- servicerequest-response: MessageHeader.source.endpoint (the sender's own $process-message), the sender's ODS code,
-- the original MessageHeader.id (the response's MessageHeader.response.identifier) and the conversation's
-- X-Correlation-ID. One row per referral that came by BaRS; a REST referral has none.
CREATE TABLE referral_bars_origin (
    referral_id     text PRIMARY KEY REFERENCES referrals (id),
    message_id      text NOT NULL,
    source_endpoint text NOT NULL,
    sender_ods      text,
    correlation_id  text NOT NULL
);

-- A BaRS X-Request-ID is spent by any message that changed something, a withdrawal as well as a new referral:
-- sent again, either is answered 409 duplicate rather than processed twice. `action` says which it was.
ALTER TABLE referral_requests ADD COLUMN action text NOT NULL DEFAULT 'create';

-- The BaRS X-Request-ID of each request that created a referral, scoped by the requesting
-- organisation: a request sent again with the same id is answered 409 duplicate, not stored twice.
CREATE TABLE referral_requests (
    requester_ods text NOT NULL,
    request_id    uuid NOT NULL,
    referral_id   text NOT NULL REFERENCES referrals (id),
    received_at   timestamptz NOT NULL,
    PRIMARY KEY (requester_ods, request_id)
);

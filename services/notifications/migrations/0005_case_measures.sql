-- Outcome measures of a case, kept only when CLOSURE_MESSAGE_INCLUDES_SCORES is on, so the message
-- back to the referrer at closure can give them. One row per case and stage; a stage recorded again
-- replaces the earlier answers (the later recorded_at wins, ties by event id), in any arrival order.
CREATE TABLE case_measures (
    referral_id       text NOT NULL,
    stage             text NOT NULL CHECK (stage IN ('baseline', 'closing')),
    recorded_at       timestamptz NOT NULL,
    event_id          text NOT NULL,
    scores            jsonb NOT NULL,
    PRIMARY KEY (referral_id, stage)
);

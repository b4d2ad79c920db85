-- Each service instance's newest pipeline health report (service.pipeline-health.v1): the newest by as_of per
-- service and instance, whatever order reports arrive in. Counts and Kafka names only: no referral, no person.
-- Current figures, not a history, and not rebuilt from the topics: a rebuild carries these rows over.
CREATE TABLE pipeline_health (
    service              text NOT NULL,
    instance             text NOT NULL,
    as_of                timestamptz NOT NULL,
    every_seconds        double precision NOT NULL CHECK (every_seconds > 0),
    outbox_waiting       integer NOT NULL CHECK (outbox_waiting >= 0),
    outbox_parked        integer NOT NULL CHECK (outbox_parked >= 0),
    dead_letters_sent    integer NOT NULL CHECK (dead_letters_sent >= 0),
    dead_letters_parked  integer NOT NULL CHECK (dead_letters_parked >= 0),
    consumers            jsonb NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service, instance)
);

-- The service status last published (service.status.v1), so that each change is published once, by
-- whichever triage process notices it first: the single row is locked while one compares and publishes.
CREATE TABLE service_status_published (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    status        jsonb NOT NULL,
    published_at  timestamptz NOT NULL
);

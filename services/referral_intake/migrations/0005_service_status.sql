-- The newest service status triage published (service.status.v1): who the service is for and whether it has
-- room, served as the FHIR HealthcareService and the /who-we-help page. Aggregates only; one row.
CREATE TABLE service_status (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    status  jsonb NOT NULL,
    as_of   timestamptz NOT NULL
);

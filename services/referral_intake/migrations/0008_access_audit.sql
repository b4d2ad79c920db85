-- Who read which person's record, and when (issue 11: access audit). One row per referral shown to a
-- caller: a FHIR read or search of ServiceRequests or Tasks, a case read, each case on a worklist. Written
-- in the transaction of the read, so a read that answered is a read that was recorded.
-- `who` is the token's subject (a member of staff, a connector, a referrer's system), `organisation`
-- the ODS code or partner id it acted for; no person identifier is kept here, so erasing a person's
-- details leaves the audit of who looked at their record intact.
CREATE TABLE record_access (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),  -- the reading transaction's time
    who          text NOT NULL,
    organisation text,
    record       text NOT NULL CHECK (record IN ('ServiceRequest', 'Task', 'case', 'worklist')),
    referral_id  text NOT NULL  -- no foreign key: the audit outlives any change to the referral row
);
-- Coordinators ask "who has looked at this person's record?" and "what has this person looked at?".
CREATE INDEX record_access_by_referral ON record_access (referral_id, at);
CREATE INDEX record_access_by_who ON record_access (who, at);

-- Append-only: a row once written is never changed or removed, not even by the service's own role
-- (an audit that its subject could edit would prove nothing).
CREATE FUNCTION record_access_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'record_access is append-only: % is not allowed', TG_OP;
END
$$;
CREATE TRIGGER record_access_append_only
    BEFORE UPDATE OR DELETE ON record_access
    FOR EACH STATEMENT EXECUTE FUNCTION record_access_is_append_only();
CREATE TRIGGER record_access_not_truncated
    BEFORE TRUNCATE ON record_access
    FOR EACH STATEMENT EXECUTE FUNCTION record_access_is_append_only();

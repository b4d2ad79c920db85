-- Each referral's Task as searched (GET /fhir/Task?status=&_lastUpdated=): its status, derived by the same
-- domain/task_status.task_state as every read, and when intake last recorded a change to what the Task is made of
-- (the referral, triage's facts, the case). Rewritten by task_index.refresh_task in the transaction of every such
-- change; a referral stored before this table existed is indexed at start-up (task_index.index_unindexed).
-- last_updated is the server's time of recording, not the time of the event, so that a fact arriving late
-- (a replay) still moves the Task past a referrer's last poll.
CREATE TABLE task_index (
    referral_id  text PRIMARY KEY REFERENCES referrals (id),
    task_id      text NOT NULL UNIQUE,
    status       text NOT NULL,
    last_updated timestamptz NOT NULL
);
-- Pages are read in (last_updated, task_id) order, after a cursor: the polling pattern's order.
CREATE INDEX task_index_by_update ON task_index (last_updated, task_id);

-- GET /fhir/ServiceRequest?identifier=value (any system) and searches of every organisation's referrals.
CREATE INDEX referral_identifiers_by_value ON referral_identifiers (value, system);

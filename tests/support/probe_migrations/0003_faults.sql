-- Faults injected into the probe's handler: for a referral, fail `remaining` more times with a real
-- PostgreSQL error of SQLSTATE `sqlstate` (raised by the server itself), or with a Python-side bug.
CREATE TABLE faults (
    referral_id text PRIMARY KEY,
    sqlstate    text NOT NULL,
    remaining   integer NOT NULL
);

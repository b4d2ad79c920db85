-- One database per service (a service never reads another's tables). Runs once, when the
-- PostgreSQL volume is first initialised; each service applies its own migrations at start.
CREATE DATABASE signpost_referral_intake;
CREATE DATABASE signpost_triage;
CREATE DATABASE signpost_notifications;
CREATE DATABASE signpost_reporting;

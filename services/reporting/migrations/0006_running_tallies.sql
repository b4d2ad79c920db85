-- Running totals for the summary and the dashboard (issue 9: every view within 100 ms at the 95th
-- percentile with a million referrals). Those views count the whole projection; counting it on every
-- request scans every row, so triggers keep the counts instead, in the same transaction as the fact
-- that changes them: a count is never stale and never differs from a scan (tests/reporting checks).
-- The triggers fire for any writer (the projection's upserts, a rebuild, COPY), so no code path can
-- forget them. Read through reporting.adapters.tallies; the scans they replace stay in the exports.

-- Referrals by everything the summary breaks them down by. The key is small (statuses x decisions x
-- referrers x closure reasons: thousands of rows, not millions). NULLS NOT DISTINCT: a referral with no
-- decision yet, or a self-referral (no ODS code), has a key like any other.
CREATE TABLE referral_tallies (
    status            text NOT NULL,
    decision          text,
    referrer_ods_code text,
    received          boolean NOT NULL,  -- false: known so far only from later events
    closed            boolean NOT NULL,  -- closed_at is set
    closure           text,
    referrals         bigint NOT NULL DEFAULT 0,
    sessions          bigint NOT NULL DEFAULT 0,  -- sum of sessions_used
    CONSTRAINT referral_tallies_key UNIQUE NULLS NOT DISTINCT
        (status, decision, referrer_ods_code, received, closed, closure)
);

CREATE FUNCTION referral_tally(r referral_facts, sign integer) RETURNS void LANGUAGE sql AS $$
    INSERT INTO referral_tallies AS t
        (status, decision, referrer_ods_code, received, closed, closure, referrals, sessions)
    VALUES (r.status, r.decision, r.referrer_ods_code, r.received_at IS NOT NULL, r.closed_at IS NOT NULL,
            r.closure, sign, sign * coalesce(r.sessions_used, 0))
    ON CONFLICT ON CONSTRAINT referral_tallies_key DO UPDATE
        SET referrals = t.referrals + EXCLUDED.referrals, sessions = t.sessions + EXCLUDED.sessions
$$;

CREATE FUNCTION referral_facts_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.status, OLD.decision, OLD.referrer_ods_code, OLD.received_at IS NULL,
                              OLD.closed_at IS NULL, OLD.closure, OLD.sessions_used)
            IS NOT DISTINCT FROM (NEW.status, NEW.decision, NEW.referrer_ods_code, NEW.received_at IS NULL,
                                  NEW.closed_at IS NULL, NEW.closure, NEW.sessions_used) THEN
        RETURN NULL;  -- most facts change nothing counted here: no tally row is touched or locked
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM referral_tally(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM referral_tally(NEW, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER referral_facts_tally AFTER INSERT OR UPDATE OR DELETE ON referral_facts
    FOR EACH ROW EXECUTE FUNCTION referral_facts_tally();

INSERT INTO referral_tallies (status, decision, referrer_ods_code, received, closed, closure, referrals, sessions)
SELECT status, decision, referrer_ods_code, received_at IS NOT NULL, closed_at IS NOT NULL, closure,
       count(*), coalesce(sum(sessions_used), 0)
FROM referral_facts GROUP BY 1, 2, 3, 4, 5, 6;

-- Notifications sent and failed (a failed one later sent counts as sent only). Sixteen buckets by
-- notification id, so concurrent consumers rarely wait on the same row; the summary adds them up.
CREATE TABLE notification_tallies (
    bucket smallint PRIMARY KEY,
    sent   bigint NOT NULL DEFAULT 0,
    failed bigint NOT NULL DEFAULT 0
);
INSERT INTO notification_tallies (bucket) SELECT generate_series(0, 15);

CREATE FUNCTION notification_tally(n notification_facts, sign integer) RETURNS void LANGUAGE sql AS $$
    UPDATE notification_tallies
       SET sent = sent + sign * (n.sent_at IS NOT NULL)::integer,
           failed = failed + sign * (n.sent_at IS NULL AND n.failed_at IS NOT NULL)::integer
     WHERE bucket = abs(hashtext(n.notification_id)) % 16
$$;

CREATE FUNCTION notification_facts_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.sent_at IS NULL, OLD.failed_at IS NULL)
            IS NOT DISTINCT FROM (NEW.sent_at IS NULL, NEW.failed_at IS NULL) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM notification_tally(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM notification_tally(NEW, 1);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER notification_facts_tally AFTER INSERT OR UPDATE OR DELETE ON notification_facts
    FOR EACH ROW EXECUTE FUNCTION notification_facts_tally();

UPDATE notification_tallies t SET sent = s.sent, failed = s.failed
FROM (SELECT abs(hashtext(notification_id)) % 16 AS bucket,
             count(*) FILTER (WHERE sent_at IS NOT NULL) AS sent,
             count(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NOT NULL) AS failed
      FROM notification_facts GROUP BY 1) s
WHERE t.bucket = s.bucket;

-- Each case's baseline beside its closing, summed: for each scored measure the people with both answers
-- and the sums of their answers (the means follow), and the ONS loneliness answers compared. A pair's
-- contribution is taken out and put back whenever either of its two rows changes.
CREATE TABLE measure_pair_tallies (
    bucket                       smallint PRIMARY KEY,
    ucla3_total_n                bigint NOT NULL DEFAULT 0,
    ucla3_total_baseline         bigint NOT NULL DEFAULT 0,
    ucla3_total_closing          bigint NOT NULL DEFAULT 0,
    life_satisfaction_n          bigint NOT NULL DEFAULT 0,
    life_satisfaction_baseline   bigint NOT NULL DEFAULT 0,
    life_satisfaction_closing    bigint NOT NULL DEFAULT 0,
    worthwhile_n                 bigint NOT NULL DEFAULT 0,
    worthwhile_baseline          bigint NOT NULL DEFAULT 0,
    worthwhile_closing           bigint NOT NULL DEFAULT 0,
    happiness_n                  bigint NOT NULL DEFAULT 0,
    happiness_baseline           bigint NOT NULL DEFAULT 0,
    happiness_closing            bigint NOT NULL DEFAULT 0,
    anxiety_n                    bigint NOT NULL DEFAULT 0,
    anxiety_baseline             bigint NOT NULL DEFAULT 0,
    anxiety_closing              bigint NOT NULL DEFAULT 0,
    loneliness_n                 bigint NOT NULL DEFAULT 0,
    loneliness_less_often        bigint NOT NULL DEFAULT 0,
    loneliness_same              bigint NOT NULL DEFAULT 0,
    loneliness_more_often        bigint NOT NULL DEFAULT 0
);
INSERT INTO measure_pair_tallies (bucket) SELECT generate_series(0, 15);

-- From most to least often lonely, as reporting.adapters.case_store orders the ONS answers.
CREATE FUNCTION ons_loneliness_rank(answer text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT array_position(ARRAY['often-always', 'some-of-the-time', 'occasionally', 'hardly-ever', 'never'], answer)
$$;

-- One stage's answers, as counted.
CREATE TYPE measure_answers AS (
    ucla3_total integer, ons_loneliness text, life_satisfaction integer, worthwhile integer, happiness integer,
    anxiety integer
);

CREATE FUNCTION measure_answers_of(m case_measures) RETURNS measure_answers LANGUAGE sql IMMUTABLE AS $$
    SELECT ROW(m.ucla3_total, m.ons_loneliness, m.life_satisfaction, m.worthwhile, m.happiness, m.anxiety)::measure_answers
$$;

-- The pair each case contributes now: what to take out of the tallies when either stage changes. Keeping
-- it (rather than working the old pair out from OLD) makes the trigger exact however many rows one
-- statement writes: when a COPY or a multi-row insert brings both stages, the second trigger finds the
-- pair already counted and changes nothing.
CREATE TABLE measure_pairs_counted (
    referral_id  text PRIMARY KEY,
    baseline     measure_answers NOT NULL,
    closing      measure_answers NOT NULL,
    closed_day   date,  -- the UTC day the case closed, when it has: where its outcome is counted
    decile_group text NOT NULL
);

-- The commissioners' outcomes per UTC day of closing: for each scored measure the people counted by
-- their (baseline, closing) answers, by Core20PLUS5 group; "cases" counts every closed case with both
-- stages. A period's outcome figures (means, shares improved, no longer lonely) follow exactly from
-- these counts (reporting.domain.outcomes.outcomes_of_counts), without reading each case.
CREATE TABLE outcome_daily (
    day          date NOT NULL,
    decile_group text NOT NULL CHECK (decile_group IN ('core20', 'other', 'unknown')),
    measure      text NOT NULL,
    baseline     integer NOT NULL,
    closing      integer NOT NULL,
    people       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, decile_group, measure, baseline, closing)
);

CREATE FUNCTION outcome_tally(p_day date, p_group text, b measure_answers, c measure_answers, sign integer)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO outcome_daily AS o (day, decile_group, measure, baseline, closing, people)
    SELECT p_day, p_group, m.measure, m.b, m.c, sign
      FROM (VALUES ('cases', 0, 0),
                   ('ucla3_total', b.ucla3_total, c.ucla3_total),
                   ('life_satisfaction', b.life_satisfaction, c.life_satisfaction),
                   ('worthwhile', b.worthwhile, c.worthwhile),
                   ('happiness', b.happiness, c.happiness),
                   ('anxiety', b.anxiety, c.anxiety)) AS m (measure, b, c)
     WHERE p_day IS NOT NULL AND m.b IS NOT NULL AND m.c IS NOT NULL
     ORDER BY 3, 4, 5
    ON CONFLICT (day, decile_group, measure, baseline, closing) DO UPDATE SET people = o.people + EXCLUDED.people
$$;

CREATE FUNCTION measure_pair_tally(referral text, b measure_answers, c measure_answers, sign integer)
RETURNS void LANGUAGE sql AS $$
    UPDATE measure_pair_tallies SET
        ucla3_total_n = ucla3_total_n + sign * (b.ucla3_total IS NOT NULL AND c.ucla3_total IS NOT NULL)::integer,
        ucla3_total_baseline = ucla3_total_baseline + sign * coalesce(b.ucla3_total + c.ucla3_total * 0, 0),
        ucla3_total_closing = ucla3_total_closing + sign * coalesce(c.ucla3_total + b.ucla3_total * 0, 0),
        life_satisfaction_n = life_satisfaction_n
            + sign * (b.life_satisfaction IS NOT NULL AND c.life_satisfaction IS NOT NULL)::integer,
        life_satisfaction_baseline = life_satisfaction_baseline
            + sign * coalesce(b.life_satisfaction + c.life_satisfaction * 0, 0),
        life_satisfaction_closing = life_satisfaction_closing
            + sign * coalesce(c.life_satisfaction + b.life_satisfaction * 0, 0),
        worthwhile_n = worthwhile_n + sign * (b.worthwhile IS NOT NULL AND c.worthwhile IS NOT NULL)::integer,
        worthwhile_baseline = worthwhile_baseline + sign * coalesce(b.worthwhile + c.worthwhile * 0, 0),
        worthwhile_closing = worthwhile_closing + sign * coalesce(c.worthwhile + b.worthwhile * 0, 0),
        happiness_n = happiness_n + sign * (b.happiness IS NOT NULL AND c.happiness IS NOT NULL)::integer,
        happiness_baseline = happiness_baseline + sign * coalesce(b.happiness + c.happiness * 0, 0),
        happiness_closing = happiness_closing + sign * coalesce(c.happiness + b.happiness * 0, 0),
        anxiety_n = anxiety_n + sign * (b.anxiety IS NOT NULL AND c.anxiety IS NOT NULL)::integer,
        anxiety_baseline = anxiety_baseline + sign * coalesce(b.anxiety + c.anxiety * 0, 0),
        anxiety_closing = anxiety_closing + sign * coalesce(c.anxiety + b.anxiety * 0, 0),
        loneliness_n = loneliness_n + sign * (b.ons_loneliness IS NOT NULL AND c.ons_loneliness IS NOT NULL)::integer,
        loneliness_less_often = loneliness_less_often
            + sign * coalesce(ons_loneliness_rank(c.ons_loneliness) > ons_loneliness_rank(b.ons_loneliness), false)::integer,
        loneliness_same = loneliness_same + sign * coalesce(c.ons_loneliness = b.ons_loneliness, false)::integer,
        loneliness_more_often = loneliness_more_often
            + sign * coalesce(ons_loneliness_rank(c.ons_loneliness) < ons_loneliness_rank(b.ons_loneliness), false)::integer
    WHERE bucket = abs(hashtext(referral)) % 16
$$;

-- Bring one case's counted pair in line with its rows as they now stand (none, one stage, or both), and
-- with its referral's closing day and deprivation decile.
CREATE FUNCTION measure_pair_recount(referral text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    b case_measures;
    c case_measures;
    f record;
    counted measure_pairs_counted;
    closed_day date;
    decile_group text;
BEGIN
    -- One case at a time: a second transaction recording the other stage waits here, then sees this
    -- one's row committed (each statement in a read-committed function takes a fresh snapshot).
    PERFORM pg_advisory_xact_lock(hashtext('measure_pair_recount'), hashtext(referral));
    SELECT * INTO b FROM case_measures WHERE referral_id = referral AND stage = 'baseline';
    SELECT * INTO c FROM case_measures WHERE referral_id = referral AND stage = 'closing';
    SELECT * INTO counted FROM measure_pairs_counted WHERE referral_id = referral;
    SELECT closed_at, imd_decile INTO f FROM referral_facts WHERE referral_id = referral;
    closed_day := (f.closed_at AT TIME ZONE 'UTC')::date;
    decile_group := CASE WHEN f.imd_decile IS NULL THEN 'unknown' WHEN f.imd_decile <= 2 THEN 'core20' ELSE 'other' END;
    IF counted.referral_id IS NOT NULL THEN
        IF b.referral_id IS NOT NULL AND c.referral_id IS NOT NULL
                AND (counted.baseline, counted.closing, counted.closed_day, counted.decile_group)
                    IS NOT DISTINCT FROM (measure_answers_of(b), measure_answers_of(c), closed_day, decile_group) THEN
            RETURN;
        END IF;
        PERFORM measure_pair_tally(referral, counted.baseline, counted.closing, -1);
        PERFORM outcome_tally(counted.closed_day, counted.decile_group, counted.baseline, counted.closing, -1);
        DELETE FROM measure_pairs_counted WHERE referral_id = referral;
    END IF;
    IF b.referral_id IS NOT NULL AND c.referral_id IS NOT NULL THEN
        PERFORM measure_pair_tally(referral, measure_answers_of(b), measure_answers_of(c), 1);
        PERFORM outcome_tally(closed_day, decile_group, measure_answers_of(b), measure_answers_of(c), 1);
        INSERT INTO measure_pairs_counted
            VALUES (referral, measure_answers_of(b), measure_answers_of(c), closed_day, decile_group);
    END IF;
END $$;

CREATE FUNCTION case_measures_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM measure_pair_recount(OLD.referral_id);
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.referral_id <> OLD.referral_id) THEN
        PERFORM measure_pair_recount(NEW.referral_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER case_measures_tally AFTER INSERT OR UPDATE OR DELETE ON case_measures
    FOR EACH ROW EXECUTE FUNCTION case_measures_tally();

-- A case's outcome moves with its referral's closing and decile too.
CREATE FUNCTION referral_facts_outcome_recount() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.closed_at, OLD.imd_decile) IS NOT DISTINCT FROM (NEW.closed_at, NEW.imd_decile) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.closed_at IS NOT NULL OR TG_OP <> 'DELETE' AND NEW.closed_at IS NOT NULL THEN
        PERFORM measure_pair_recount(CASE WHEN TG_OP = 'DELETE' THEN OLD.referral_id ELSE NEW.referral_id END);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER referral_facts_outcome_recount AFTER INSERT OR UPDATE OR DELETE ON referral_facts
    FOR EACH ROW EXECUTE FUNCTION referral_facts_outcome_recount();

-- The pairs already there, set-based (one recount per case would hold a lock per case until the end).
INSERT INTO measure_pairs_counted (referral_id, baseline, closing, closed_day, decile_group)
SELECT b.referral_id, measure_answers_of(b), measure_answers_of(c), (f.closed_at AT TIME ZONE 'UTC')::date,
       CASE WHEN f.imd_decile IS NULL THEN 'unknown' WHEN f.imd_decile <= 2 THEN 'core20' ELSE 'other' END
  FROM case_measures b
  JOIN case_measures c ON c.referral_id = b.referral_id AND b.stage = 'baseline' AND c.stage = 'closing'
  LEFT JOIN referral_facts f ON f.referral_id = b.referral_id;

UPDATE measure_pair_tallies t SET
    ucla3_total_n = s.ucla3_total_n,
    ucla3_total_baseline = s.ucla3_total_baseline,
    ucla3_total_closing = s.ucla3_total_closing,
    life_satisfaction_n = s.life_satisfaction_n,
    life_satisfaction_baseline = s.life_satisfaction_baseline,
    life_satisfaction_closing = s.life_satisfaction_closing,
    worthwhile_n = s.worthwhile_n,
    worthwhile_baseline = s.worthwhile_baseline,
    worthwhile_closing = s.worthwhile_closing,
    happiness_n = s.happiness_n,
    happiness_baseline = s.happiness_baseline,
    happiness_closing = s.happiness_closing,
    anxiety_n = s.anxiety_n,
    anxiety_baseline = s.anxiety_baseline,
    anxiety_closing = s.anxiety_closing,
    loneliness_n = s.loneliness_n,
    loneliness_less_often = s.loneliness_less_often,
    loneliness_same = s.loneliness_same,
    loneliness_more_often = s.loneliness_more_often
FROM (SELECT abs(hashtext(p.referral_id)) % 16 AS bucket,
             count(*) FILTER (WHERE (p.baseline).ucla3_total IS NOT NULL AND (p.closing).ucla3_total IS NOT NULL) AS ucla3_total_n,
             coalesce(sum((p.baseline).ucla3_total) FILTER (WHERE (p.baseline).ucla3_total IS NOT NULL AND (p.closing).ucla3_total IS NOT NULL), 0) AS ucla3_total_baseline,
             coalesce(sum((p.closing).ucla3_total) FILTER (WHERE (p.baseline).ucla3_total IS NOT NULL AND (p.closing).ucla3_total IS NOT NULL), 0) AS ucla3_total_closing,
             count(*) FILTER (WHERE (p.baseline).life_satisfaction IS NOT NULL AND (p.closing).life_satisfaction IS NOT NULL) AS life_satisfaction_n,
             coalesce(sum((p.baseline).life_satisfaction) FILTER (WHERE (p.baseline).life_satisfaction IS NOT NULL AND (p.closing).life_satisfaction IS NOT NULL), 0) AS life_satisfaction_baseline,
             coalesce(sum((p.closing).life_satisfaction) FILTER (WHERE (p.baseline).life_satisfaction IS NOT NULL AND (p.closing).life_satisfaction IS NOT NULL), 0) AS life_satisfaction_closing,
             count(*) FILTER (WHERE (p.baseline).worthwhile IS NOT NULL AND (p.closing).worthwhile IS NOT NULL) AS worthwhile_n,
             coalesce(sum((p.baseline).worthwhile) FILTER (WHERE (p.baseline).worthwhile IS NOT NULL AND (p.closing).worthwhile IS NOT NULL), 0) AS worthwhile_baseline,
             coalesce(sum((p.closing).worthwhile) FILTER (WHERE (p.baseline).worthwhile IS NOT NULL AND (p.closing).worthwhile IS NOT NULL), 0) AS worthwhile_closing,
             count(*) FILTER (WHERE (p.baseline).happiness IS NOT NULL AND (p.closing).happiness IS NOT NULL) AS happiness_n,
             coalesce(sum((p.baseline).happiness) FILTER (WHERE (p.baseline).happiness IS NOT NULL AND (p.closing).happiness IS NOT NULL), 0) AS happiness_baseline,
             coalesce(sum((p.closing).happiness) FILTER (WHERE (p.baseline).happiness IS NOT NULL AND (p.closing).happiness IS NOT NULL), 0) AS happiness_closing,
             count(*) FILTER (WHERE (p.baseline).anxiety IS NOT NULL AND (p.closing).anxiety IS NOT NULL) AS anxiety_n,
             coalesce(sum((p.baseline).anxiety) FILTER (WHERE (p.baseline).anxiety IS NOT NULL AND (p.closing).anxiety IS NOT NULL), 0) AS anxiety_baseline,
             coalesce(sum((p.closing).anxiety) FILTER (WHERE (p.baseline).anxiety IS NOT NULL AND (p.closing).anxiety IS NOT NULL), 0) AS anxiety_closing,
             count(*) FILTER (WHERE (p.baseline).ons_loneliness IS NOT NULL AND (p.closing).ons_loneliness IS NOT NULL) AS loneliness_n,
             count(*) FILTER (WHERE ons_loneliness_rank((p.closing).ons_loneliness) > ons_loneliness_rank((p.baseline).ons_loneliness)) AS loneliness_less_often,
             count(*) FILTER (WHERE (p.closing).ons_loneliness = (p.baseline).ons_loneliness) AS loneliness_same,
             count(*) FILTER (WHERE ons_loneliness_rank((p.closing).ons_loneliness) < ons_loneliness_rank((p.baseline).ons_loneliness)) AS loneliness_more_often
        FROM measure_pairs_counted p GROUP BY 1) s
WHERE t.bucket = s.bucket;

INSERT INTO outcome_daily (day, decile_group, measure, baseline, closing, people)
SELECT p.closed_day, p.decile_group, m.measure, m.b, m.c, count(*)
  FROM measure_pairs_counted p,
       LATERAL (VALUES ('cases', 0, 0),
                       ('ucla3_total', (p.baseline).ucla3_total, (p.closing).ucla3_total),
                       ('life_satisfaction', (p.baseline).life_satisfaction, (p.closing).life_satisfaction),
                       ('worthwhile', (p.baseline).worthwhile, (p.closing).worthwhile),
                       ('happiness', (p.baseline).happiness, (p.closing).happiness),
                       ('anxiety', (p.baseline).anxiety, (p.closing).anxiety)) AS m (measure, b, c)
 WHERE p.closed_day IS NOT NULL AND m.b IS NOT NULL AND m.c IS NOT NULL
 GROUP BY 1, 2, 3, 4, 5;

-- The exports' breakdowns per UTC day: a period is whole UTC days (reporting.exports.period), so a
-- period's counts are the sum of its days' rows (a year: a few thousand rows, not half a million
-- referrals). Referral breakdowns are by the day of receipt, closures and sessions by the day of closing.
-- Each referral's total is the sum of its `route` row (every received referral has one route, or
-- "unknown"), so no single row for "all referrals today" is written by every receipt.
CREATE TABLE referral_daily (
    day        date NOT NULL,
    breakdown  text NOT NULL,
    value      text NOT NULL,
    referrals  bigint NOT NULL DEFAULT 0,
    sessions   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, breakdown, value)
);

-- The rows one referral counts in, as reporting.adapters.export_store reads them.
CREATE FUNCTION referral_daily_entries(r referral_facts)
RETURNS TABLE (day date, breakdown text, value text, sessions bigint) LANGUAGE sql STABLE AS $$
    SELECT (r.received_at AT TIME ZONE 'UTC')::date, b.breakdown, b.value, 0::bigint
      FROM (VALUES ('route', coalesce(r.channel, 'unknown')),
                   ('referrer_kind', coalesce(r.referrer_kind, 'unknown')),
                   ('age_band', coalesce(r.age_band, 'unknown')),
                   ('area', coalesce(r.postcode_district, 'unknown')),
                   ('imd_decile', coalesce(r.imd_decile::text, 'unknown')),
                   ('decision', coalesce(r.decision, 'unknown'))) AS b (breakdown, value)
     WHERE r.received_at IS NOT NULL
    UNION ALL
    SELECT DISTINCT (r.received_at AT TIME ZONE 'UTC')::date, r.decision || '_because', rule, 0::bigint
      FROM unnest(r.fired_rules) AS rule
     WHERE r.received_at IS NOT NULL AND r.decision IN ('declined', 'redirected')
    UNION ALL
    SELECT (r.closed_at AT TIME ZONE 'UTC')::date, b.breakdown, b.value, b.sessions
      FROM (VALUES ('closure', coalesce(r.closure, 'unknown'), 0::bigint),
                   ('closed', '', coalesce(r.sessions_used, 0)::bigint)) AS b (breakdown, value, sessions)
     WHERE r.closed_at IS NOT NULL
$$;

CREATE FUNCTION referral_daily_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.received_at, OLD.channel, OLD.referrer_kind, OLD.age_band, OLD.postcode_district,
                              OLD.imd_decile, OLD.decision, OLD.fired_rules, OLD.closed_at, OLD.closure,
                              OLD.sessions_used)
            IS NOT DISTINCT FROM (NEW.received_at, NEW.channel, NEW.referrer_kind, NEW.age_band,
                                  NEW.postcode_district, NEW.imd_decile, NEW.decision, NEW.fired_rules,
                                  NEW.closed_at, NEW.closure, NEW.sessions_used) THEN
        RETURN NULL;
    END IF;
    -- One statement, old rows out and new rows in, netted and in key order: a row that does not change is
    -- not touched (or locked), and concurrent referrals lock the rows they share in the same order.
    INSERT INTO referral_daily AS d (day, breakdown, value, referrals, sessions)
    SELECT e.day, e.breakdown, e.value, sum(e.sign), sum(e.sign * e.sessions)
      FROM (SELECT o.*, -1 AS sign FROM referral_daily_entries(OLD) o
            UNION ALL
            SELECT n.*, 1 AS sign FROM referral_daily_entries(NEW) n) e
     GROUP BY 1, 2, 3
    HAVING sum(e.sign) <> 0 OR sum(e.sign * e.sessions) <> 0
     ORDER BY 1, 2, 3
    ON CONFLICT (day, breakdown, value) DO UPDATE
        SET referrals = d.referrals + EXCLUDED.referrals, sessions = d.sessions + EXCLUDED.sessions;
    RETURN NULL;
END $$;

CREATE TRIGGER referral_daily_tally AFTER INSERT OR UPDATE OR DELETE ON referral_facts
    FOR EACH ROW EXECUTE FUNCTION referral_daily_tally();

INSERT INTO referral_daily (day, breakdown, value, referrals, sessions)
SELECT e.day, e.breakdown, e.value, count(*), sum(e.sessions)
  FROM referral_facts f, referral_daily_entries(f) e
 GROUP BY 1, 2, 3;

-- What is still read from the referrals themselves: the waits (medians and 90th percentiles do not add
-- up across days), one referrer's feedback, and the measures of the cases closed in a period.
CREATE INDEX referral_facts_waits ON referral_facts (received_at) INCLUDE (assigned_at, first_reached_at);
CREATE INDEX referral_facts_referrer_received ON referral_facts (referrer_ods_code, received_at);
CREATE INDEX referral_facts_closed_at ON referral_facts (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX referral_facts_referrer_closed ON referral_facts (referrer_ods_code, closed_at)
    WHERE closed_at IS NOT NULL;

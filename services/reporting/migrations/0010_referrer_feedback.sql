-- One referrer's feedback per UTC day (issue 9's 100 ms): a year of the busiest practice's referrals is some
-- seventy thousand rows and forty thousand closed cases; its feedback is the sum of its days' rows instead.
-- Kept by triggers in the same transaction as the facts, as migrations 0006 and 0008's counts are.

-- Where each referral received from a referrer with an ODS code stands, by day of receipt: its status, its
-- decision ('' when none yet), each fired rule of a decline or redirect (once per referral), and its closure
-- reason once closed (NULL when the closure named none: NULLS NOT DISTINCT keeps it a value like any other).
CREATE TABLE referrer_daily (
    referrer_ods_code text NOT NULL,
    day               date NOT NULL,
    breakdown         text NOT NULL,
    value             text,
    referrals         bigint NOT NULL DEFAULT 0,
    CONSTRAINT referrer_daily_key UNIQUE NULLS NOT DISTINCT (referrer_ods_code, day, breakdown, value)
);

CREATE FUNCTION referrer_daily_entries(r referral_facts)
RETURNS TABLE (referrer_ods_code text, day date, breakdown text, value text) LANGUAGE sql IMMUTABLE AS $$
    SELECT r.referrer_ods_code, (r.received_at AT TIME ZONE 'UTC')::date, e.breakdown, e.value
      FROM (VALUES ('status', r.status, true),
                   ('decision', coalesce(r.decision, ''), true),
                   ('closure', r.closure, r.closed_at IS NOT NULL)) AS e (breakdown, value, counted)
     WHERE e.counted AND r.received_at IS NOT NULL AND r.referrer_ods_code IS NOT NULL
    UNION ALL
    SELECT DISTINCT r.referrer_ods_code, (r.received_at AT TIME ZONE 'UTC')::date, r.decision || '_because', rule
      FROM unnest(r.fired_rules) AS rule
     WHERE r.decision IN ('declined', 'redirected') AND r.received_at IS NOT NULL AND r.referrer_ods_code IS NOT NULL
$$;

CREATE FUNCTION referral_facts_referrer_daily() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.referrer_ods_code, OLD.received_at, OLD.status, OLD.decision, OLD.closed_at IS NULL,
                              OLD.closure, OLD.fired_rules)
            IS NOT DISTINCT FROM (NEW.referrer_ods_code, NEW.received_at, NEW.status, NEW.decision,
                                  NEW.closed_at IS NULL, NEW.closure, NEW.fired_rules) THEN
        RETURN NULL;
    END IF;
    -- Netted and in key order, as referral_daily's trigger.
    INSERT INTO referrer_daily AS d (referrer_ods_code, day, breakdown, value, referrals)
    SELECT e.referrer_ods_code, e.day, e.breakdown, e.value, sum(e.sign)
      FROM (SELECT o.*, -1 AS sign FROM referrer_daily_entries(OLD) o
            UNION ALL
            SELECT n.*, 1 AS sign FROM referrer_daily_entries(NEW) n) e
     GROUP BY 1, 2, 3, 4
    HAVING sum(e.sign) <> 0
     ORDER BY 1, 2, 3, 4
    ON CONFLICT ON CONSTRAINT referrer_daily_key DO UPDATE SET referrals = d.referrals + EXCLUDED.referrals;
    RETURN NULL;
END $$;

CREATE TRIGGER referral_facts_referrer_daily AFTER INSERT OR UPDATE OR DELETE ON referral_facts
    FOR EACH ROW EXECUTE FUNCTION referral_facts_referrer_daily();

INSERT INTO referrer_daily (referrer_ods_code, day, breakdown, value, referrals)
SELECT e.referrer_ods_code, e.day, e.breakdown, e.value, count(*)
  FROM referral_facts f, referrer_daily_entries(f) e
 GROUP BY 1, 2, 3, 4;

-- Each referrer's closed cases by their UCLA-3 (baseline, closing) totals, per UTC day of closing: the
-- feedback's one outcome. Counted where migration 0006 counts the commissioners' outcomes (measure_pair_recount),
-- so a case's pair moves here whenever it moves there, now also when its referrer changes.
CREATE TABLE referrer_outcome_daily (
    referrer_ods_code text NOT NULL,
    day               date NOT NULL,
    baseline          integer NOT NULL,
    closing           integer NOT NULL,
    people            bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (referrer_ods_code, day, baseline, closing)
);

ALTER TABLE measure_pairs_counted ADD COLUMN referrer_ods_code text;

CREATE FUNCTION referrer_outcome_tally(p_referrer text, p_day date, b integer, c integer, sign integer)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO referrer_outcome_daily AS o (referrer_ods_code, day, baseline, closing, people)
    SELECT p_referrer, p_day, b, c, sign WHERE p_referrer IS NOT NULL AND p_day IS NOT NULL AND b IS NOT NULL AND c IS NOT NULL
    ON CONFLICT (referrer_ods_code, day, baseline, closing) DO UPDATE SET people = o.people + EXCLUDED.people
$$;

-- 0006's recount, with the referrer kept beside the pair and counted in referrer_outcome_daily.
CREATE OR REPLACE FUNCTION measure_pair_recount(referral text) RETURNS void LANGUAGE plpgsql AS $$
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
    SELECT closed_at, imd_decile, referrer_ods_code INTO f FROM referral_facts WHERE referral_id = referral;
    closed_day := (f.closed_at AT TIME ZONE 'UTC')::date;
    decile_group := CASE WHEN f.imd_decile IS NULL THEN 'unknown' WHEN f.imd_decile <= 2 THEN 'core20' ELSE 'other' END;
    IF counted.referral_id IS NOT NULL THEN
        IF b.referral_id IS NOT NULL AND c.referral_id IS NOT NULL
                AND (counted.baseline, counted.closing, counted.closed_day, counted.decile_group, counted.referrer_ods_code)
                    IS NOT DISTINCT FROM (measure_answers_of(b), measure_answers_of(c), closed_day, decile_group,
                                          f.referrer_ods_code) THEN
            RETURN;
        END IF;
        PERFORM measure_pair_tally(referral, counted.baseline, counted.closing, -1);
        PERFORM outcome_tally(counted.closed_day, counted.decile_group, counted.baseline, counted.closing, -1);
        PERFORM referrer_outcome_tally(counted.referrer_ods_code, counted.closed_day, (counted.baseline).ucla3_total,
                                       (counted.closing).ucla3_total, -1);
        DELETE FROM measure_pairs_counted WHERE referral_id = referral;
    END IF;
    IF b.referral_id IS NOT NULL AND c.referral_id IS NOT NULL THEN
        PERFORM measure_pair_tally(referral, measure_answers_of(b), measure_answers_of(c), 1);
        PERFORM outcome_tally(closed_day, decile_group, measure_answers_of(b), measure_answers_of(c), 1);
        PERFORM referrer_outcome_tally(f.referrer_ods_code, closed_day, b.ucla3_total, c.ucla3_total, 1);
        INSERT INTO measure_pairs_counted (referral_id, baseline, closing, closed_day, decile_group, referrer_ods_code)
            VALUES (referral, measure_answers_of(b), measure_answers_of(c), closed_day, decile_group,
                    f.referrer_ods_code);
    END IF;
END $$;

-- 0006's trigger, firing on a change of referrer too.
CREATE OR REPLACE FUNCTION referral_facts_outcome_recount() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.closed_at, OLD.imd_decile, OLD.referrer_ods_code)
            IS NOT DISTINCT FROM (NEW.closed_at, NEW.imd_decile, NEW.referrer_ods_code) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.closed_at IS NOT NULL OR TG_OP <> 'DELETE' AND NEW.closed_at IS NOT NULL THEN
        PERFORM measure_pair_recount(CASE WHEN TG_OP = 'DELETE' THEN OLD.referral_id ELSE NEW.referral_id END);
    END IF;
    RETURN NULL;
END $$;

UPDATE measure_pairs_counted p SET referrer_ods_code = f.referrer_ods_code
  FROM referral_facts f WHERE f.referral_id = p.referral_id AND f.referrer_ods_code IS NOT NULL;

INSERT INTO referrer_outcome_daily (referrer_ods_code, day, baseline, closing, people)
SELECT referrer_ods_code, closed_day, (baseline).ucla3_total, (closing).ucla3_total, count(*)
  FROM measure_pairs_counted
 WHERE referrer_ods_code IS NOT NULL AND closed_day IS NOT NULL
   AND (baseline).ucla3_total IS NOT NULL AND (closing).ucla3_total IS NOT NULL
 GROUP BY 1, 2, 3, 4;

-- The waits' medians and 90th percentiles, exact, without sorting a year of referrals (issue 9's 100 ms).
-- A percentile needs the k-th smallest wait of the period. `wait_daily` counts the waits per UTC day of
-- receipt in narrow buckets (about 6% wide, on a log scale), so the period's bucket counts say which bucket
-- holds the k-th; then only that bucket's waits are read, from an index on (bucket, received_at), and put in
-- order. The figure is the one percentile_cont gives over every wait (reporting.adapters.waits, tests check).

-- A wait in days as percentile_cont orders them (reporting.adapters.export_store), and its bucket: buckets
-- rise with the wait, negative waits (clocks disagreeing) included.
CREATE FUNCTION wait_days(later timestamptz, earlier timestamptz) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (extract(epoch FROM later - earlier) / 86400.0)::double precision
$$;

CREATE FUNCTION wait_bucket(days double precision) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN days >= 0 THEN floor(ln(1 + days * 86400) * 16)::integer
                ELSE -1 - floor(ln(1 - days * 86400) * 16)::integer END
$$;

CREATE TABLE wait_daily (
    day     date NOT NULL,
    wait    text NOT NULL CHECK (wait IN ('received_to_assigned', 'assigned_to_first_contact')),
    bucket  integer NOT NULL,
    n       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (wait, day, bucket)
);

CREATE FUNCTION wait_daily_entries(r referral_facts) RETURNS TABLE (day date, wait text, bucket integer)
LANGUAGE sql IMMUTABLE AS $$
    SELECT (r.received_at AT TIME ZONE 'UTC')::date, w.wait, wait_bucket(w.days)
      FROM (VALUES ('received_to_assigned', wait_days(r.assigned_at, r.received_at)),
                   ('assigned_to_first_contact', wait_days(r.first_reached_at, r.assigned_at))) AS w (wait, days)
     WHERE r.received_at IS NOT NULL AND w.days IS NOT NULL
$$;

CREATE FUNCTION referral_facts_waits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.received_at, OLD.assigned_at, OLD.first_reached_at)
            IS NOT DISTINCT FROM (NEW.received_at, NEW.assigned_at, NEW.first_reached_at) THEN
        RETURN NULL;
    END IF;
    -- Netted and in key order, as referral_daily's trigger: unchanged rows untouched, shared rows locked in order.
    INSERT INTO wait_daily AS d (wait, day, bucket, n)
    SELECT e.wait, e.day, e.bucket, sum(e.sign)
      FROM (SELECT o.*, -1 AS sign FROM wait_daily_entries(OLD) o
            UNION ALL
            SELECT n.*, 1 AS sign FROM wait_daily_entries(NEW) n) e
     GROUP BY 1, 2, 3
    HAVING sum(e.sign) <> 0
     ORDER BY 1, 2, 3
    ON CONFLICT (wait, day, bucket) DO UPDATE SET n = d.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE TRIGGER referral_facts_waits AFTER INSERT OR UPDATE OR DELETE ON referral_facts
    FOR EACH ROW EXECUTE FUNCTION referral_facts_waits();

INSERT INTO wait_daily (wait, day, bucket, n)
SELECT e.wait, e.day, e.bucket, count(*) FROM referral_facts f, wait_daily_entries(f) e GROUP BY 1, 2, 3;

-- The waits of one bucket received in a period, in order (a bucket's share of a year: a few thousand).
CREATE INDEX referral_facts_received_to_assigned ON referral_facts
    (wait_bucket(wait_days(assigned_at, received_at)), received_at) INCLUDE (assigned_at)
    WHERE assigned_at IS NOT NULL;
CREATE INDEX referral_facts_assigned_to_first_contact ON referral_facts
    (wait_bucket(wait_days(first_reached_at, assigned_at)), received_at) INCLUDE (assigned_at, first_reached_at)
    WHERE first_reached_at IS NOT NULL AND assigned_at IS NOT NULL;

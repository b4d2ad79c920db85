-- The operations dashboard per UTC day of receipt and per value of each of its filters (issue 9: every view
-- within 100 ms at the 95th percentile with a million referrals). A dashboard period is whole UTC days and
-- its filters are the person's postcode district, the route in and the referrer's kind, so a period's funnel,
-- arrivals, decisions, open cases and notifications are the sum of its days' rows matching the filters
-- (four weeks: a few thousand rows, not fifty thousand referrals and their notifications). The key holds the
-- raw values (NULL included: NULLS NOT DISTINCT) so that a filter compares them exactly as the scan it
-- replaces did. Kept by triggers in the same transaction as the facts, as migration 0006's totals are.
CREATE TABLE dashboard_daily (
    day                  date NOT NULL,
    area                 text,  -- postcode_district
    route                text,  -- channel
    referrer_kind        text,
    referrals            bigint NOT NULL DEFAULT 0,
    triaged              bigint NOT NULL DEFAULT 0,
    assigned_or_waiting  bigint NOT NULL DEFAULT 0,
    assigned             bigint NOT NULL DEFAULT 0,
    waiting              bigint NOT NULL DEFAULT 0,
    reached              bigint NOT NULL DEFAULT 0,  -- first contact made
    closed               bigint NOT NULL DEFAULT 0,
    accepted             bigint NOT NULL DEFAULT 0,
    declined             bigint NOT NULL DEFAULT 0,
    redirected           bigint NOT NULL DEFAULT 0,
    open                 bigint NOT NULL DEFAULT 0,
    open_unreachable     bigint NOT NULL DEFAULT 0,  -- open, and could not be contacted
    notifications_sent   bigint NOT NULL DEFAULT 0,
    notifications_failed bigint NOT NULL DEFAULT 0,
    CONSTRAINT dashboard_daily_key UNIQUE NULLS NOT DISTINCT (day, area, route, referrer_kind)
);

-- One referral's notifications as the dashboard counts them (a failed one later sent counts as sent only).
CREATE FUNCTION referral_notifications(referral text, OUT sent bigint, OUT failed bigint) LANGUAGE sql STABLE AS $$
    SELECT count(*) FILTER (WHERE n.sent_at IS NOT NULL), count(*) FILTER (WHERE n.sent_at IS NULL AND n.failed_at IS NOT NULL)
      FROM notification_facts n WHERE n.referral_id = referral
$$;

-- Add (sign 1) or take out (sign -1) one received referral's row, with `sent` and `failed` notifications.
CREATE FUNCTION dashboard_tally(r referral_facts, sign integer, sent bigint, failed bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO dashboard_daily AS d (day, area, route, referrer_kind, referrals, triaged, assigned_or_waiting,
        assigned, waiting, reached, closed, accepted, declined, redirected, open, open_unreachable,
        notifications_sent, notifications_failed)
    SELECT (r.received_at AT TIME ZONE 'UTC')::date, r.postcode_district, r.channel, r.referrer_kind, sign,
           sign * (r.decision IS NOT NULL)::integer,
           sign * (r.assigned_at IS NOT NULL OR r.waitlisted_at IS NOT NULL)::integer,
           sign * (r.assigned_at IS NOT NULL)::integer,
           sign * (r.status = 'waitlisted')::integer,
           sign * (r.first_reached_at IS NOT NULL)::integer,
           sign * (r.closed_at IS NOT NULL)::integer,
           sign * coalesce(r.decision = 'accepted', false)::integer,
           sign * coalesce(r.decision = 'declined', false)::integer,
           sign * coalesce(r.decision = 'redirected', false)::integer,
           sign * (r.status = 'assigned')::integer,
           sign * (r.status = 'assigned' AND r.unreachable_at IS NOT NULL)::integer,
           sign * sent, sign * failed
     WHERE r.received_at IS NOT NULL
    ON CONFLICT ON CONSTRAINT dashboard_daily_key DO UPDATE SET
        referrals = d.referrals + EXCLUDED.referrals, triaged = d.triaged + EXCLUDED.triaged,
        assigned_or_waiting = d.assigned_or_waiting + EXCLUDED.assigned_or_waiting,
        assigned = d.assigned + EXCLUDED.assigned, waiting = d.waiting + EXCLUDED.waiting,
        reached = d.reached + EXCLUDED.reached, closed = d.closed + EXCLUDED.closed,
        accepted = d.accepted + EXCLUDED.accepted, declined = d.declined + EXCLUDED.declined,
        redirected = d.redirected + EXCLUDED.redirected, open = d.open + EXCLUDED.open,
        open_unreachable = d.open_unreachable + EXCLUDED.open_unreachable,
        notifications_sent = d.notifications_sent + EXCLUDED.notifications_sent,
        notifications_failed = d.notifications_failed + EXCLUDED.notifications_failed
$$;

-- A referral's notifications are counted under its receipt day and filters, so the referral's row and its
-- notifications' rows change the same tally row. One transaction at a time per referral: the other waits
-- here, then reads what the first committed (each statement in a read-committed function takes a fresh
-- snapshot), so a notification recorded while its referral's receipt is being applied is counted once,
-- under the receipt's day.
CREATE FUNCTION dashboard_lock(referral text) RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtext('dashboard_daily'), hashtext(referral))
$$;

CREATE FUNCTION referral_facts_dashboard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    counted record;
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.received_at, OLD.postcode_district, OLD.channel, OLD.referrer_kind, OLD.decision,
                              OLD.status, OLD.assigned_at IS NULL, OLD.waitlisted_at IS NULL,
                              OLD.first_reached_at IS NULL, OLD.closed_at IS NULL, OLD.unreachable_at IS NULL)
            IS NOT DISTINCT FROM (NEW.received_at, NEW.postcode_district, NEW.channel, NEW.referrer_kind,
                                  NEW.decision, NEW.status, NEW.assigned_at IS NULL, NEW.waitlisted_at IS NULL,
                                  NEW.first_reached_at IS NULL, NEW.closed_at IS NULL, NEW.unreachable_at IS NULL) THEN
        RETURN NULL;
    END IF;
    PERFORM dashboard_lock(CASE WHEN TG_OP = 'DELETE' THEN OLD.referral_id ELSE NEW.referral_id END);
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        counted := referral_notifications(OLD.referral_id);
        PERFORM dashboard_tally(OLD, -1, counted.sent, counted.failed);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        counted := referral_notifications(NEW.referral_id);
        PERFORM dashboard_tally(NEW, 1, counted.sent, counted.failed);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER referral_facts_dashboard AFTER INSERT OR UPDATE OR DELETE ON referral_facts
    FOR EACH ROW EXECUTE FUNCTION referral_facts_dashboard();

-- Move one notification's count: out from under its referral as it was counted, in as it now stands.
CREATE FUNCTION notification_dashboard(referral text, sent integer, failed integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r referral_facts;
BEGIN
    PERFORM dashboard_lock(referral);
    SELECT * INTO r FROM referral_facts WHERE referral_id = referral;
    IF r.referral_id IS NOT NULL AND (sent <> 0 OR failed <> 0) THEN
        -- Only the notification columns change: the referral's own counts are added and taken out at once.
        PERFORM dashboard_tally(r, 1, sent, failed);
        PERFORM dashboard_tally(r, -1, 0, 0);
    END IF;
END $$;

CREATE FUNCTION notification_facts_dashboard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.referral_id, OLD.sent_at IS NULL, OLD.failed_at IS NULL)
            IS NOT DISTINCT FROM (NEW.referral_id, NEW.sent_at IS NULL, NEW.failed_at IS NULL) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM notification_dashboard(OLD.referral_id, -(OLD.sent_at IS NOT NULL)::integer,
                                       -(OLD.sent_at IS NULL AND OLD.failed_at IS NOT NULL)::integer);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM notification_dashboard(NEW.referral_id, (NEW.sent_at IS NOT NULL)::integer,
                                       (NEW.sent_at IS NULL AND NEW.failed_at IS NOT NULL)::integer);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER notification_facts_dashboard AFTER INSERT OR UPDATE OR DELETE ON notification_facts
    FOR EACH ROW EXECUTE FUNCTION notification_facts_dashboard();

INSERT INTO dashboard_daily (day, area, route, referrer_kind, referrals, triaged, assigned_or_waiting, assigned,
    waiting, reached, closed, accepted, declined, redirected, open, open_unreachable, notifications_sent,
    notifications_failed)
SELECT (f.received_at AT TIME ZONE 'UTC')::date, f.postcode_district, f.channel, f.referrer_kind, count(*),
       count(*) FILTER (WHERE f.decision IS NOT NULL),
       count(*) FILTER (WHERE f.assigned_at IS NOT NULL OR f.waitlisted_at IS NOT NULL),
       count(*) FILTER (WHERE f.assigned_at IS NOT NULL),
       count(*) FILTER (WHERE f.status = 'waitlisted'),
       count(*) FILTER (WHERE f.first_reached_at IS NOT NULL),
       count(*) FILTER (WHERE f.closed_at IS NOT NULL),
       count(*) FILTER (WHERE f.decision = 'accepted'),
       count(*) FILTER (WHERE f.decision = 'declined'),
       count(*) FILTER (WHERE f.decision = 'redirected'),
       count(*) FILTER (WHERE f.status = 'assigned'),
       count(*) FILTER (WHERE f.status = 'assigned' AND f.unreachable_at IS NOT NULL),
       coalesce(sum(n.sent), 0), coalesce(sum(n.failed), 0)
  FROM referral_facts f
  LEFT JOIN (SELECT referral_id, count(*) FILTER (WHERE sent_at IS NOT NULL) AS sent,
                    count(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NOT NULL) AS failed
               FROM notification_facts GROUP BY referral_id) n ON n.referral_id = f.referral_id
 WHERE f.received_at IS NOT NULL
 GROUP BY 1, 2, 3, 4;

-- What the dashboard still reads from the referrals, each from a small index holding every column it reads:
-- the waits (medians do not add up across days), who waits now, which open cases have stalled (that moves
-- with the clock), and the declines and redirects by referrer with the rules that fired.
DROP INDEX referral_facts_waits;
CREATE INDEX referral_facts_waits ON referral_facts (received_at)
    INCLUDE (assigned_at, first_reached_at, postcode_district, channel, referrer_kind);
CREATE INDEX referral_facts_waitlisted ON referral_facts (received_at)
    INCLUDE (waitlist_area, waitlisted_at, postcode_district, channel, referrer_kind) WHERE status = 'waitlisted';
CREATE INDEX referral_facts_open ON referral_facts (received_at)
    INCLUDE (stalled_after_days, last_session_at, assigned_at, postcode_district, channel, referrer_kind)
    WHERE status = 'assigned' AND stalled_after_days IS NOT NULL;
CREATE INDEX referral_facts_declined ON referral_facts (received_at)
    INCLUDE (referrer_ods_code, decision, fired_rules, postcode_district, channel, referrer_kind)
    WHERE decision IN ('declined', 'redirected');

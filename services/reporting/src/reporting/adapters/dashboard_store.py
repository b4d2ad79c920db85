"""The operations dashboard's figures in SQL that the exports do not already compute (reporting.adapters.
export_store computes the waits for both; the urgent counts are the summary's own, from reporting.adapters.store,
narrowed to the period). Every figure is over the referrals received in the period matching the filters.

The counts (funnel, arrivals, decisions, open cases, notifications) are sums of migration 0008's
`dashboard_daily` rows over the period's UTC days, with the filters as $3-$5 after the days $1-$2. What does
not add up across days (who waits now, which cases have stalled by `now`, the rules that fired per referrer) is
read from the referrals (export_store.in_period: $1-$5, `now` after them as $6), each from an index of its own.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from reporting.adapters.export_store import days, in_period
from reporting.adapters.store import URGENT_COUNTS
from reporting.domain.dashboard import DAILY_COUNTS, Filters

_SCOPE = in_period("f")
_DAILY_SCOPE = (
    "day >= $1 AND day < $2 AND ($3::text IS NULL OR area = $3) AND ($4::text IS NULL OR route = $4)"
    " AND ($5::text IS NULL OR referrer_kind = $5)"
)
# Open: assigned a connector and not ended (closed, withdrawn, linked all win over assigned in the status).
_OPEN = "f.status = 'assigned'"
# Intake's rule: no session for stalled_after_days, counted from the assignment until there is one.
_STALLED = (
    f"{_OPEN} AND f.stalled_after_days IS NOT NULL"
    " AND $6 - coalesce(f.last_session_at, f.assigned_at) >= make_interval(days => f.stalled_after_days)"
)


class DashboardStore:
    def __init__(self, connection: asyncpg.Connection, filters: Filters) -> None:
        self.connection = connection
        self.filters = filters

    def _scope(self, start: datetime, end: datetime) -> tuple[object, ...]:
        return (start, end, *self.filters.sql_args())

    def _daily_scope(self, start: datetime, end: datetime) -> tuple[object, ...]:
        return (*days(start, end), *self.filters.sql_args())

    async def daily(self, start: datetime, end: datetime) -> list[asyncpg.Record]:
        """The period's counts by day of receipt and route (one read: the views then add them up)."""
        sums = ", ".join(f"sum({column})::bigint AS {column}" for column in DAILY_COUNTS)
        rows: list[asyncpg.Record] = await self.connection.fetch(
            f"SELECT day, coalesce(route, 'unknown') AS route, {sums} FROM dashboard_daily WHERE {_DAILY_SCOPE}"
            " GROUP BY 1, 2",
            *self._daily_scope(start, end),
        )
        return rows

    async def waitlist(self, start: datetime, end: datetime) -> list[asyncpg.Record]:
        """Waiting now, by the waitlist's area, with the longest-waiting one's place since."""
        rows: list[asyncpg.Record] = await self.connection.fetch(
            "SELECT f.waitlist_area AS area, count(*) AS waiting, min(f.waitlisted_at) AS oldest_waitlisted_at"
            f" FROM referral_facts f WHERE {_SCOPE} AND f.status = 'waitlisted'"
            " GROUP BY f.waitlist_area ORDER BY oldest_waitlisted_at, area",
            *self._scope(start, end),
        )
        return rows

    async def stalled(self, start: datetime, end: datetime, now: datetime) -> int:
        stalled: int = await self.connection.fetchval(
            f"SELECT count(*) FROM referral_facts f WHERE {_SCOPE} AND {_STALLED}", *self._scope(start, end), now
        )
        return stalled

    async def declines_by_referrer(self, start: datetime, end: datetime) -> list[asyncpg.Record]:
        """(ods_code, declined, redirected) for each referrer with any."""
        rows: list[asyncpg.Record] = await self.connection.fetch(
            "SELECT f.referrer_ods_code AS ods_code,"
            " count(*) FILTER (WHERE f.decision = 'declined') AS declined,"
            " count(*) FILTER (WHERE f.decision = 'redirected') AS redirected"
            f" FROM referral_facts f WHERE {_SCOPE} AND f.decision IN ('declined', 'redirected')"
            " GROUP BY f.referrer_ods_code",
            *self._scope(start, end),
        )
        return rows

    async def decline_reasons_by_referrer(self, start: datetime, end: datetime) -> list[asyncpg.Record]:
        """(ods_code, decision, rule, n): each fired rule counted once per referral, as in the exports."""
        rows: list[asyncpg.Record] = await self.connection.fetch(
            "SELECT f.referrer_ods_code AS ods_code, f.decision, r.rule, count(*) AS n FROM referral_facts f,"
            " LATERAL (SELECT DISTINCT rule FROM unnest(f.fired_rules) AS rule) AS r"
            f" WHERE {_SCOPE} AND f.decision IN ('declined', 'redirected') GROUP BY 1, 2, 3",
            *self._scope(start, end),
        )
        return rows

    async def urgent(self, start: datetime, end: datetime) -> asyncpg.Record:
        """Urgent messages about these referrals not yet confirmed delivered nor acknowledged."""
        # URGENT_COUNTS counts only the unsettled; saying so in the WHERE too lets the few open alerts (their
        # partial index) find their referrals, instead of every referral of the period finding its alerts.
        row: asyncpg.Record = await self.connection.fetchrow(
            f"SELECT {URGENT_COUNTS} FROM urgent_alert_facts u JOIN referral_facts f ON f.referral_id = u.referral_id"
            f" WHERE u.settled_at IS NULL AND {_SCOPE}",
            *self._scope(start, end),
        )
        return row

    async def last_event_applied_at(self) -> datetime | None:
        """When reporting last applied an event (its own inbox): how fresh every figure is, whatever the filters."""
        moment: datetime | None = await self.connection.fetchval(
            "SELECT max(processed_at) FROM inbox WHERE consumer = 'reporting'"
        )
        return moment

"""The operations dashboard's figures in SQL that the exports do not already compute (reporting.adapters.
export_store computes the decisions and the waits for both; the notification and urgent counts are the
summary's own, from reporting.adapters.store, narrowed to the period). Every query is over the referrals received
in the period matching the filters (export_store.in_period: $1-$5); `now` comes after them as $6.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from reporting.adapters.export_store import in_period
from reporting.adapters.store import NOTIFICATION_COUNTS, URGENT_COUNTS
from reporting.domain.dashboard import Filters

_SCOPE = in_period("f")
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

    async def funnel(self, start: datetime, end: datetime) -> asyncpg.Record:
        row: asyncpg.Record = await self.connection.fetchrow(
            "SELECT count(*) AS received,"
            " count(*) FILTER (WHERE f.decision IS NOT NULL) AS triaged,"
            " count(*) FILTER (WHERE f.assigned_at IS NOT NULL OR f.waitlisted_at IS NOT NULL) AS assigned_or_waiting,"
            " count(*) FILTER (WHERE f.assigned_at IS NOT NULL) AS assigned,"
            " count(*) FILTER (WHERE f.status = 'waitlisted') AS waiting,"
            " count(*) FILTER (WHERE f.first_reached_at IS NOT NULL) AS first_contact,"
            " count(*) FILTER (WHERE f.closed_at IS NOT NULL) AS closed"
            f" FROM referral_facts f WHERE {_SCOPE}",
            *self._scope(start, end),
        )
        return row

    async def arrivals(self, start: datetime, end: datetime) -> list[asyncpg.Record]:
        """(day, route, n): the day of receipt in UTC."""
        rows: list[asyncpg.Record] = await self.connection.fetch(
            "SELECT (f.received_at AT TIME ZONE 'UTC')::date AS day, coalesce(f.channel, 'unknown') AS route,"
            f" count(*) AS n FROM referral_facts f WHERE {_SCOPE} GROUP BY 1, 2",
            *self._scope(start, end),
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

    async def case_flags(self, start: datetime, end: datetime, now: datetime) -> asyncpg.Record:
        row: asyncpg.Record = await self.connection.fetchrow(
            f"SELECT count(*) FILTER (WHERE {_OPEN}) AS open,"
            f" count(*) FILTER (WHERE {_STALLED}) AS stalled,"
            f" count(*) FILTER (WHERE {_OPEN} AND f.unreachable_at IS NOT NULL) AS could_not_contact"
            f" FROM referral_facts f WHERE {_SCOPE}",
            *self._scope(start, end),
            now,
        )
        return row

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
            "SELECT f.referrer_ods_code AS ods_code, f.decision, rule, count(DISTINCT f.referral_id) AS n"
            " FROM referral_facts f, unnest(f.fired_rules) AS rule"
            f" WHERE {_SCOPE} AND f.decision IN ('declined', 'redirected') GROUP BY 1, 2, 3",
            *self._scope(start, end),
        )
        return rows

    async def urgent(self, start: datetime, end: datetime) -> asyncpg.Record:
        """Urgent messages about these referrals not yet confirmed delivered nor acknowledged."""
        row: asyncpg.Record = await self.connection.fetchrow(
            f"SELECT {URGENT_COUNTS} FROM urgent_alert_facts u JOIN referral_facts f ON f.referral_id = u.referral_id"
            f" WHERE {_SCOPE}",
            *self._scope(start, end),
        )
        return row

    async def notifications(self, start: datetime, end: datetime) -> asyncpg.Record:
        """Notifications about these referrals: sent, and failed and not sent since (the summary's rule)."""
        row: asyncpg.Record = await self.connection.fetchrow(
            f"SELECT {NOTIFICATION_COUNTS} FROM notification_facts n"
            f" JOIN referral_facts f ON f.referral_id = n.referral_id WHERE {_SCOPE}",
            *self._scope(start, end),
        )
        return row

    async def last_event_applied_at(self) -> datetime | None:
        """When reporting last applied an event (its own inbox): how fresh every figure is, whatever the filters."""
        moment: datetime | None = await self.connection.fetchval(
            "SELECT max(processed_at) FROM inbox WHERE consumer = 'reporting'"
        )
        return moment

"""The commissioner exports' raw figures in SQL, for a period, on a unit's connection.

Referral figures are for referrals *received* in the period; outcome figures for cases *closed* in it
(an outcome exists only once support ends). A period is [start, end): dates from the caller, end exclusive.
The referral figures may be narrowed by the dashboard's filters (area, route, referrer kind); the
exports pass none. The filters are always parameters $3-$5, after the period's $1-$2.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from reporting.domain.dashboard import Filters

# Breakdowns of referrals received in the period; the column names reach SQL only from this map.
BREAKDOWNS = {
    "route": "channel",
    "referrer_kind": "referrer_kind",
    "age_band": "age_band",
    "area": "postcode_district",
    "imd_decile": "imd_decile::text",
    "decision": "decision",
    "closure_reason": "closure",
}


def in_period(alias: str = "") -> str:
    """Received in [$1, $2) and matching the filters $3 (area), $4 (route), $5 (referrer kind), each NULL for any."""
    a = f"{alias}." if alias else ""
    return (
        f"{a}received_at >= $1 AND {a}received_at < $2 AND ($3::text IS NULL OR {a}postcode_district = $3)"
        f" AND ($4::text IS NULL OR {a}channel = $4) AND ($5::text IS NULL OR {a}referrer_kind = $5)"
    )


_IN_PERIOD = in_period()
_CLOSED_IN_PERIOD = "f.closed_at >= $1 AND f.closed_at < $2"
# The two waits the service is judged on, in days, over referrals that reached the later milestone.
_WAITS = {
    "received_to_assigned": "assigned_at - received_at",
    "assigned_to_first_contact": "first_reached_at - assigned_at",
}


class ExportStore:
    def __init__(self, connection: asyncpg.Connection, filters: Filters | None = None) -> None:
        self.connection = connection
        self.filters = filters or Filters()

    def _scope(self, start: datetime, end: datetime) -> tuple[object, ...]:
        return (start, end, *self.filters.sql_args())

    async def referrals(self, start: datetime, end: datetime) -> int:
        total: int = await self.connection.fetchval(
            f"SELECT count(*) FROM referral_facts WHERE {_IN_PERIOD}", *self._scope(start, end)
        )
        return total

    async def counts_by(self, breakdown: str, start: datetime, end: datetime) -> dict[str, int]:
        """Referrals received in the period by one breakdown; a missing value is counted under "unknown"."""
        column = BREAKDOWNS[breakdown]
        rows = await self.connection.fetch(
            f"SELECT coalesce({column}, 'unknown') AS value, count(*) AS n FROM referral_facts"
            f" WHERE {_IN_PERIOD} GROUP BY 1",
            *self._scope(start, end),
        )
        return {row["value"]: row["n"] for row in rows}

    async def fired_rules(self, decision: str, start: datetime, end: datetime) -> dict[str, int]:
        """Why referrals were declined or redirected: each fired rule counted once per referral."""
        rows = await self.connection.fetch(
            "SELECT rule, count(DISTINCT referral_id) AS n FROM referral_facts, unnest(fired_rules) AS rule"
            f" WHERE {_IN_PERIOD} AND decision = $6 GROUP BY rule",
            *self._scope(start, end),
            decision,
        )
        return {row["rule"]: row["n"] for row in rows}

    async def waits(self, start: datetime, end: datetime) -> dict[str, asyncpg.Record]:
        figures = {}
        for name, interval in _WAITS.items():
            days = f"extract(epoch FROM {interval}) / 86400.0"
            figures[name] = await self.connection.fetchrow(
                f"SELECT count({days}) AS n, percentile_cont(0.5) WITHIN GROUP (ORDER BY {days}) AS median,"
                f" percentile_cont(0.9) WITHIN GROUP (ORDER BY {days}) AS p90"
                f" FROM referral_facts WHERE {_IN_PERIOD} AND {interval} IS NOT NULL",
                *self._scope(start, end),
            )
        return figures

    async def sessions(self, start: datetime, end: datetime) -> asyncpg.Record:
        row: asyncpg.Record = await self.connection.fetchrow(
            "SELECT count(*) AS closed_cases, coalesce(sum(sessions_used), 0) AS total FROM referral_facts f"
            f" WHERE {_CLOSED_IN_PERIOD}",
            start,
            end,
        )
        return row

    async def closures(self, start: datetime, end: datetime) -> dict[str, int]:
        rows = await self.connection.fetch(
            f"SELECT closure, count(*) AS n FROM referral_facts f WHERE {_CLOSED_IN_PERIOD} GROUP BY closure",
            start,
            end,
        )
        return {row["closure"]: row["n"] for row in rows}

    async def measure_pairs(
        self, start: datetime, end: datetime, *, referrer_ods_code: str | None = None
    ) -> list[asyncpg.Record]:
        """Each case closed in the period (of one referrer, if given) with its baseline and closing measures,
        and its area's decile.

        Rows, not aggregates: the outcome figures (means, shares, thresholds) are the domain's, and a
        period's closed cases are few enough (hundreds to thousands) to fetch.
        """
        measures = ("ucla3_total", "life_satisfaction", "worthwhile", "happiness", "anxiety")
        pairs = ", ".join(f"b.{m} AS {m}_baseline, c.{m} AS {m}_closing" for m in measures)
        rows: list[asyncpg.Record] = await self.connection.fetch(
            f"SELECT f.imd_decile, {pairs} FROM referral_facts f"
            " JOIN case_measures b ON b.referral_id = f.referral_id AND b.stage = 'baseline'"
            " JOIN case_measures c ON c.referral_id = f.referral_id AND c.stage = 'closing'"
            f" WHERE {_CLOSED_IN_PERIOD} AND ($3::text IS NULL OR f.referrer_ods_code = $3)",
            start,
            end,
            referrer_ods_code,
        )
        return rows

    async def referrer_feedback(self, ods_code: str, start: datetime, end: datetime) -> asyncpg.Record:
        """What became of one referrer's referrals received in the period, by where each stands now."""
        row: asyncpg.Record = await self.connection.fetchrow(
            "SELECT count(*) AS sent,"
            " count(*) FILTER (WHERE decision = 'accepted') AS accepted,"
            " count(*) FILTER (WHERE decision = 'declined') AS declined,"
            " count(*) FILTER (WHERE decision = 'redirected') AS redirected,"
            " count(*) FILTER (WHERE status = 'waitlisted') AS waiting,"
            " count(*) FILTER (WHERE status = 'assigned') AS in_support,"
            " count(*) FILTER (WHERE status = 'closed') AS closed,"
            " count(*) FILTER (WHERE status = 'awaiting-triage') AS awaiting_triage"
            f" FROM referral_facts WHERE {_IN_PERIOD} AND referrer_ods_code = $6",
            *self._scope(start, end),
            ods_code,
        )
        return row

    async def referrer_breakdown(self, ods_code: str, what: str, start: datetime, end: datetime) -> dict[str, int]:
        """One referrer's declines or redirects by fired rule, or its closed cases by closure reason."""
        if what == "closure":
            sql = "SELECT closure AS value, count(*) AS n FROM referral_facts"
            sql += f" WHERE {_IN_PERIOD} AND referrer_ods_code = $6 AND closed_at IS NOT NULL GROUP BY closure"
            rows = await self.connection.fetch(sql, *self._scope(start, end), ods_code)
        else:
            rows = await self.connection.fetch(
                "SELECT rule AS value, count(DISTINCT referral_id) AS n"
                " FROM referral_facts, unnest(fired_rules) AS rule"
                f" WHERE {_IN_PERIOD} AND referrer_ods_code = $6 AND decision = $7 GROUP BY rule",
                *self._scope(start, end),
                ods_code,
                what,
            )
        return {row["value"]: row["n"] for row in rows}

"""The commissioner exports' raw figures in SQL, for a period, on a unit's connection.

Referral figures are for referrals *received* in the period; outcome figures for cases *closed* in it
(an outcome exists only once support ends). A period is [start, end): dates from the caller, end exclusive.

Counts come from the daily rows that migration 0006's trigger keeps (`referral_daily`), summed over the
period's days: a year's export then adds a few thousand rows instead of counting half a million
referrals. Those rows are per UTC day, so the period must be whole UTC days, as reporting.exports makes it.
The waits come from migration 0009's buckets (reporting.adapters.waits), the outcomes from 0006's daily
outcome rows; one referrer's feedback is reporting.adapters.feedback_store's.

The referral figures may be narrowed by the dashboard's filters (area, route, referrer kind); the exports
pass none. The daily rows hold one breakdown each, so a filtered count cannot be summed from them: with a
filter, the counts are read from the referrals instead. The filters are always parameters $3-$5, after
the period's $1-$2, whichever clause is used.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import asyncpg

from reporting.adapters.waits import BucketedWaits
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


# Without filters: the same parameters, but a clause the planner can serve from an index on received_at alone
# in a generic plan too (an `$3 IS NULL OR column = $3` term there is kept, and reads every row's column).
_IN_PERIOD_UNFILTERED = "received_at >= $1 AND received_at < $2 AND coalesce($3::text, $4::text, $5::text) IS NULL"
_CLOSED_IN_PERIOD = "f.closed_at >= $1 AND f.closed_at < $2"
# The two waits the service is judged on, in days, over referrals that reached the later milestone.
_WAITS = {
    "received_to_assigned": "assigned_at - received_at",
    "assigned_to_first_contact": "first_reached_at - assigned_at",
}


# The breakdowns kept per day in referral_daily (by day of receipt), under these names.
DAILY = frozenset({"route", "referrer_kind", "age_band", "area", "imd_decile", "decision"})
_DAILY_SUM = "SELECT value, sum(referrals)::bigint AS n, sum(sessions)::bigint AS sessions FROM referral_daily"
_DAILY_IN_PERIOD = "day >= $1 AND day < $2 AND breakdown = $3"


def days(start: datetime, end: datetime) -> tuple[date, date]:
    """The UTC days of a period of whole UTC days; anything else cannot be summed from the daily rows."""
    for moment in (start, end):
        if moment.utcoffset() is None or moment.astimezone(UTC).timetz() != time(tzinfo=UTC):
            raise ValueError(f"a period's bounds must be UTC midnights, not {moment.isoformat()}")
    return start.astimezone(UTC).date(), end.astimezone(UTC).date()


class ExportStore:
    def __init__(self, connection: asyncpg.Connection, filters: Filters | None = None) -> None:
        self.connection = connection
        self.filters = filters or Filters()
        self.filtered = any(self.filters.sql_args())
        self._in_period = in_period() if self.filtered else _IN_PERIOD_UNFILTERED

    def _scope(self, start: datetime, end: datetime) -> tuple[object, ...]:
        return (start, end, *self.filters.sql_args())

    async def _daily(self, breakdown: str, start: datetime, end: datetime) -> dict[str, asyncpg.Record]:
        rows = await self.connection.fetch(
            f"{_DAILY_SUM} WHERE {_DAILY_IN_PERIOD} GROUP BY value HAVING sum(referrals) <> 0",
            *days(start, end),
            breakdown,
        )
        return {row["value"]: row for row in rows}

    async def referrals(self, start: datetime, end: datetime) -> int:
        if self.filtered:
            total: int = await self.connection.fetchval(
                f"SELECT count(*) FROM referral_facts WHERE {self._in_period}", *self._scope(start, end)
            )
            return total
        # Every received referral has exactly one route (or "unknown"), so the routes add up to them all.
        return sum(row["n"] for row in (await self._daily("route", start, end)).values())

    async def counts_by(self, breakdown: str, start: datetime, end: datetime) -> dict[str, int]:
        """Referrals received in the period by one breakdown; a missing value is counted under "unknown"."""
        if breakdown in DAILY and not self.filtered:
            return {value: row["n"] for value, row in (await self._daily(breakdown, start, end)).items()}
        column = BREAKDOWNS[breakdown]
        rows = await self.connection.fetch(
            f"SELECT coalesce({column}, 'unknown') AS value, count(*) AS n FROM referral_facts"
            f" WHERE {self._in_period} GROUP BY 1",
            *self._scope(start, end),
        )
        return {row["value"]: row["n"] for row in rows}

    async def fired_rules(self, decision: str, start: datetime, end: datetime) -> dict[str, int]:
        """Why referrals were declined or redirected: each fired rule counted once per referral."""
        if decision not in {"declined", "redirected"}:
            raise ValueError(f"fired rules are kept for declines and redirects, not {decision!r}")
        if not self.filtered:
            return {rule: row["n"] for rule, row in (await self._daily(f"{decision}_because", start, end)).items()}
        rows = await self.connection.fetch(
            "SELECT rule, count(DISTINCT referral_id) AS n FROM referral_facts, unnest(fired_rules) AS rule"
            f" WHERE {self._in_period} AND decision = $6 GROUP BY rule",
            *self._scope(start, end),
            decision,
        )
        return {row["rule"]: row["n"] for row in rows}

    async def waits(self, start: datetime, end: datetime) -> dict[str, dict[str, Any]]:
        """Both waits: unfiltered from the buckets (reporting.adapters.waits); filtered in one pass over the
        period's referrals (an index-only scan of referral_facts_waits)."""
        if not self.filtered:
            return await BucketedWaits(self.connection, (start, end), days(start, end)).figures()
        columns = []
        for name, interval in _WAITS.items():
            wait = f"extract(epoch FROM {interval}) / 86400.0"
            columns += [
                f"count({wait}) AS {name}_n",
                f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {wait}) AS {name}_median",
                f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {wait}) AS {name}_p90",
            ]
        row = await self.connection.fetchrow(
            f"SELECT {', '.join(columns)} FROM referral_facts WHERE {self._in_period}", *self._scope(start, end)
        )
        return {name: {key: row[f"{name}_{key}"] for key in ("n", "median", "p90")} for name in _WAITS}

    async def sessions(self, start: datetime, end: datetime) -> dict[str, int]:
        closed = (await self._daily("closed", start, end)).get("")
        return {"closed_cases": closed["n"] if closed else 0, "total": closed["sessions"] if closed else 0}

    async def closures(self, start: datetime, end: datetime) -> dict[str, int]:
        return {reason: row["n"] for reason, row in (await self._daily("closure", start, end)).items()}

    async def outcome_counts(self, start: datetime, end: datetime) -> dict[str, dict[str, dict[tuple[int, int], int]]]:
        """The cases closed in the period, from the daily outcome rows: {decile group: {measure: {(baseline,
        closing): people}}}, groups core20 (IMD deciles 1-2), other and unknown; measure "cases" counts every
        case with both stages (under the pair (0, 0))."""
        rows = await self.connection.fetch(
            "SELECT decile_group, measure, baseline, closing, sum(people)::bigint AS people FROM outcome_daily"
            " WHERE day >= $1 AND day < $2 GROUP BY 1, 2, 3, 4 HAVING sum(people) <> 0",
            *days(start, end),
        )
        counts: dict[str, dict[str, dict[tuple[int, int], int]]] = {}
        for row in rows:
            measures = counts.setdefault(row["decile_group"], {})
            measures.setdefault(row["measure"], {})[(row["baseline"], row["closing"])] = row["people"]
        return counts

    async def measure_pairs(
        self, start: datetime, end: datetime, *, referrer_ods_code: str | None = None
    ) -> list[asyncpg.Record]:
        """Each case closed in the period (of one referrer, if given) with its baseline and closing measures,
        and its area's decile.

        Rows, not aggregates: what the daily outcome rows are checked against (tests/reporting); the exports
        read `outcome_counts` and one referrer's feedback reads reporting.adapters.feedback_store instead.
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

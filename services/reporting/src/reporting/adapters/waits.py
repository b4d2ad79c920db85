"""The waits' count, median and 90th percentile for referrals received in a period, from migration 0009's buckets.

percentile_cont over every wait of a year sorts half a million values. The same figure follows from two
of them: for a fraction p of n waits, the ones at 0-based ranks floor(p(n-1)) and ceil(p(n-1)), interpolated
as PostgreSQL does (lo + (p(n-1) - floor) * (hi - lo), in double precision). The period's bucket counts
(`wait_daily`, per UTC day of receipt) say which bucket holds a rank and how many waits lie below it; that
bucket's waits alone are then read in order from its index. Unfiltered only: the buckets are not kept per
area, route or referrer kind, so a filtered view sorts its (far fewer) waits instead.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import asyncpg

# Each wait's value as wait_days() gives it, and the referrals that have one: the indexes' predicates.
WAITS = {
    "received_to_assigned": ("wait_days(assigned_at, received_at)", "assigned_at IS NOT NULL"),
    "assigned_to_first_contact": (
        "wait_days(first_reached_at, assigned_at)",
        "first_reached_at IS NOT NULL AND assigned_at IS NOT NULL",
    ),
}
FRACTIONS = {"median": 0.5, "p90": 0.9}


class BucketedWaits:
    def __init__(
        self, connection: asyncpg.Connection, period: tuple[datetime, datetime], days: tuple[date, date]
    ) -> None:
        self.connection = connection
        self.period = period  # [start, end), whole UTC days
        self.days = days  # the same as UTC days of receipt

    async def figures(self) -> dict[str, dict[str, Any]]:
        rows = await self.connection.fetch(
            "SELECT wait, bucket, sum(n)::bigint AS n FROM wait_daily WHERE day >= $1 AND day < $2"
            " GROUP BY 1, 2 HAVING sum(n) <> 0 ORDER BY 1, 2",
            *self.days,
        )
        figures = {}
        for name in WAITS:
            buckets = [(row["bucket"], row["n"]) for row in rows if row["wait"] == name]
            n = sum(count for _, count in buckets)
            figures[name] = {"n": n} | {
                key: await self._percentile(name, buckets, n, fraction) if n else None
                for key, fraction in FRACTIONS.items()
            }
        return figures

    async def _percentile(self, name: str, buckets: list[tuple[int, int]], n: int, fraction: float) -> float:
        row = fraction * (n - 1)
        first, second = math.floor(row), math.ceil(row)
        low = await self._ranked(name, buckets, first)
        if second == first:
            return low
        high = await self._ranked(name, buckets, second)
        return low + (row - first) * (high - low)

    async def _ranked(self, name: str, buckets: list[tuple[int, int]], rank: int) -> float:
        """The wait at this 0-based rank among the period's waits in order."""
        bucket, within = _locate(buckets, rank)
        value, has_wait = WAITS[name]
        found: float = await self.connection.fetchval(
            f"SELECT {value} FROM referral_facts WHERE {has_wait} AND wait_bucket({value}) = $3"
            " AND received_at >= $1 AND received_at < $2 ORDER BY 1 OFFSET $4 LIMIT 1",
            *self.period,
            bucket,
            within,
        )
        return found


def _locate(buckets: list[tuple[int, int]], rank: int) -> tuple[int, int]:
    """The bucket holding the wait at this rank (buckets in order, with their counts), and its rank within it."""
    below = 0
    for bucket, count in buckets:
        if rank < below + count:
            return bucket, rank - below
        below += count
    raise ValueError(f"rank {rank} is beyond the {below} waits counted")

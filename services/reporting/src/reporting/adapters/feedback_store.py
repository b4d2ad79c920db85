"""One referrer's feedback figures for a period of whole UTC days, from migration 0010's daily rows.

Its referrals received in the period, by where each stands now (`referrer_daily`, per day of receipt), and
the UCLA-3 totals of its cases closed in the period (`referrer_outcome_daily`, per day of closing): a year of
the busiest referrer's is a few thousand rows, not its seventy thousand referrals.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from reporting.adapters.export_store import days

_SUM = (
    "SELECT breakdown, value, sum(referrals)::bigint AS n FROM referrer_daily"
    " WHERE referrer_ods_code = $1 AND day >= $2 AND day < $3"
)
# What became of the referrals: a name for each status and decision counted.
_STANDING = {
    "accepted": ("decision", "accepted"),
    "declined": ("decision", "declined"),
    "redirected": ("decision", "redirected"),
    "waiting": ("status", "waitlisted"),
    "in_support": ("status", "assigned"),
    "closed": ("status", "closed"),
    "awaiting_triage": ("status", "awaiting-triage"),
}


class FeedbackStore:
    def __init__(self, connection: asyncpg.Connection, ods_code: str, start: datetime, end: datetime) -> None:
        self.connection = connection
        self.scope = (ods_code, *days(start, end))

    async def standing(self) -> dict[str, int]:
        """Sent, then how many were accepted, declined, redirected, are waiting, in support, closed, not triaged."""
        rows = await self.connection.fetch(f"{_SUM} AND breakdown IN ('status', 'decision') GROUP BY 1, 2", *self.scope)
        counts = {(row["breakdown"], row["value"]): row["n"] for row in rows}
        sent = sum(n for (breakdown, _), n in counts.items() if breakdown == "status")
        return {"sent": sent} | {name: counts.get(key, 0) for name, key in _STANDING.items()}

    async def breakdown(self, what: str) -> dict[str, int]:
        """Its declines or redirects by fired rule ("declined", "redirected"), or its closed cases by closure reason
        ("closure")."""
        if what not in {"declined", "redirected", "closure"}:
            raise ValueError(f"feedback is broken down by declined, redirected or closure, not {what!r}")
        breakdown = "closure" if what == "closure" else f"{what}_because"
        rows = await self.connection.fetch(
            f"{_SUM} AND breakdown = $4 GROUP BY 1, 2 HAVING sum(referrals) <> 0", *self.scope, breakdown
        )
        return {row["value"]: row["n"] for row in rows}

    async def ucla3_pairs(self) -> dict[tuple[int, int], int]:
        """Its cases closed in the period with both UCLA-3 totals, counted by (baseline, closing)."""
        rows = await self.connection.fetch(
            "SELECT baseline, closing, sum(people)::bigint AS people FROM referrer_outcome_daily"
            " WHERE referrer_ods_code = $1 AND day >= $2 AND day < $3 GROUP BY 1, 2 HAVING sum(people) <> 0",
            *self.scope,
        )
        return {(row["baseline"], row["closing"]): row["people"] for row in rows}

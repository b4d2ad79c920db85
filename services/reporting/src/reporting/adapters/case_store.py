"""Cases in PostgreSQL: outcome measures kept per case and stage, and the case figures computed in SQL."""

from __future__ import annotations

import asyncpg

from reporting.domain.cases import SCORED_MEASURES
from reporting.domain.facts import Measures

# The later recording of a stage replaces the earlier, in whichever order the two arrive.
_UPSERT_MEASURES = """
INSERT INTO case_measures (referral_id, stage, recorded_at, event_id, ucla3_total, ons_loneliness,
                           life_satisfaction, worthwhile, happiness, anxiety)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (referral_id, stage) DO UPDATE SET
    recorded_at = EXCLUDED.recorded_at, event_id = EXCLUDED.event_id, ucla3_total = EXCLUDED.ucla3_total,
    ons_loneliness = EXCLUDED.ons_loneliness, life_satisfaction = EXCLUDED.life_satisfaction,
    worthwhile = EXCLUDED.worthwhile, happiness = EXCLUDED.happiness, anxiety = EXCLUDED.anxiety
WHERE (EXCLUDED.recorded_at, EXCLUDED.event_id) > (case_measures.recorded_at, case_measures.event_id)
"""


# Each case's baseline beside its closing, kept summed by migration 0006's triggers (a measure counts only
# where both answers are there): the summary reads sixteen rows instead of joining every case.
def _score_columns(measure: str) -> str:
    n = f"sum({measure}_n)"
    return (
        f"coalesce({n}, 0)::bigint AS {measure}_n,"
        f" sum({measure}_baseline)::numeric / nullif({n}, 0) AS {measure}_baseline,"
        f" sum({measure}_closing)::numeric / nullif({n}, 0) AS {measure}_closing"
    )


_SCORES = f"SELECT {', '.join(_score_columns(m) for m in SCORED_MEASURES)} FROM measure_pair_tallies"
_LONELINESS = (
    "SELECT coalesce(sum(loneliness_n), 0)::bigint AS n, coalesce(sum(loneliness_less_often), 0)::bigint AS less_often,"
    " coalesce(sum(loneliness_same), 0)::bigint AS same, coalesce(sum(loneliness_more_often), 0)::bigint AS more_often"
    " FROM measure_pair_tallies"
)


class CaseStore:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def upsert_measures(self, measures: Measures) -> None:
        await self.connection.execute(
            _UPSERT_MEASURES,
            measures.referral_id,
            measures.stage,
            measures.recorded_at,
            measures.event_id,
            measures.ucla3_total,
            measures.ons_loneliness,
            measures.life_satisfaction,
            measures.worthwhile,
            measures.happiness,
            measures.anxiety,
        )

    async def closure_reasons(self) -> dict[str, int]:
        rows = await self.connection.fetch(
            "SELECT closure, sum(referrals)::bigint AS n FROM referral_tallies WHERE closed"
            " GROUP BY closure HAVING sum(referrals) > 0"
        )
        return {row["closure"]: row["n"] for row in rows}

    async def sessions_of_closed_cases(self) -> asyncpg.Record:
        row: asyncpg.Record = await self.connection.fetchrow(
            "SELECT coalesce(sum(sessions), 0)::bigint AS total, coalesce(sum(referrals), 0)::bigint AS closed_cases"
            " FROM referral_tallies WHERE closed"
        )
        return row

    async def score_pairs(self) -> asyncpg.Record:
        """For each scored measure: `<m>_n`, `<m>_baseline` and `<m>_closing` over cases with both answers."""
        row: asyncpg.Record = await self.connection.fetchrow(_SCORES)
        return row

    async def loneliness_pairs(self) -> asyncpg.Record:
        row: asyncpg.Record = await self.connection.fetchrow(_LONELINESS)
        return row

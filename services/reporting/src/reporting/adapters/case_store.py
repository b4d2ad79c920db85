"""Cases in PostgreSQL: outcome measures kept per case and stage, and the case figures computed in SQL."""

from __future__ import annotations

from typing import get_args

import asyncpg

from reporting.domain.cases import SCORED_MEASURES
from reporting.domain.facts import Measures
from signpost_contracts.vocabulary import OnsLoneliness

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
# Each case's baseline beside its closing; a measure counts only where both answers are there.
_PAIRS = (
    "FROM case_measures b JOIN case_measures c"
    " ON c.referral_id = b.referral_id AND b.stage = 'baseline' AND c.stage = 'closing'"
)


def _score_columns(measure: str) -> str:
    both = f"FILTER (WHERE b.{measure} IS NOT NULL AND c.{measure} IS NOT NULL)"
    return (
        f"count(*) {both} AS {measure}_n, avg(b.{measure}) {both} AS {measure}_baseline,"
        f" avg(c.{measure}) {both} AS {measure}_closing"
    )


_SCORES = f"SELECT {', '.join(_score_columns(m) for m in SCORED_MEASURES)} {_PAIRS}"
# The ONS answers from most to least often lonely: a higher position at closing is less often lonely.
_LONELINESS_ORDER = "ARRAY[" + ", ".join(f"'{answer}'" for answer in get_args(OnsLoneliness)) + "]"
_LONELINESS = f"""
SELECT count(*) AS n,
       count(*) FILTER (WHERE array_position({_LONELINESS_ORDER}, c.ons_loneliness)
                            > array_position({_LONELINESS_ORDER}, b.ons_loneliness)) AS less_often,
       count(*) FILTER (WHERE c.ons_loneliness = b.ons_loneliness) AS same,
       count(*) FILTER (WHERE array_position({_LONELINESS_ORDER}, c.ons_loneliness)
                            < array_position({_LONELINESS_ORDER}, b.ons_loneliness)) AS more_often
{_PAIRS} WHERE b.ons_loneliness IS NOT NULL AND c.ons_loneliness IS NOT NULL
"""


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
            "SELECT closure, count(*) AS n FROM referral_facts WHERE closed_at IS NOT NULL GROUP BY closure"
        )
        return {row["closure"]: row["n"] for row in rows}

    async def sessions_of_closed_cases(self) -> asyncpg.Record:
        row: asyncpg.Record = await self.connection.fetchrow(
            "SELECT coalesce(sum(sessions_used), 0) AS total, count(*) AS closed_cases"
            " FROM referral_facts WHERE closed_at IS NOT NULL"
        )
        return row

    async def score_pairs(self) -> asyncpg.Record:
        """For each scored measure: `<m>_n`, `<m>_baseline` and `<m>_closing` over cases with both answers."""
        row: asyncpg.Record = await self.connection.fetchrow(_SCORES)
        return row

    async def loneliness_pairs(self) -> asyncpg.Record:
        row: asyncpg.Record = await self.connection.fetchrow(_LONELINESS)
        return row

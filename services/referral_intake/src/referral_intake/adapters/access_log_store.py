"""The append-only access audit (migration 0008): one row per referral shown to a caller."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from referral_intake.domain.record_access import AccessQuery, RecordAccess, RecordKind

# One statement for a whole worklist or search page, however many referrals it showed.
_RECORD = """
INSERT INTO record_access (who, organisation, record, referral_id)
SELECT $1, $2, $3, referral_id FROM unnest($4::text[]) AS shown (referral_id)
"""

# Newest first: a coordinator looks at the latest reads first. `id` breaks ties between rows of one read.
_MATCHING = """
FROM record_access
WHERE ($1::text IS NULL OR referral_id = $1)
  AND ($2::text IS NULL OR who = $2)
  AND ($3::timestamptz IS NULL OR at >= $3)
  AND ($4::timestamptz IS NULL OR at < $4)
"""
_COUNT = "SELECT count(*) " + _MATCHING
_PAGE = (
    "SELECT at, who, organisation, record, referral_id " + _MATCHING + "ORDER BY at DESC, id DESC LIMIT $5 OFFSET $6"
)


class AccessLogRepository:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def record(
        self, *, who: str, organisation: str | None, record: RecordKind, referral_ids: Sequence[str]
    ) -> None:
        if referral_ids:
            await self.connection.execute(_RECORD, who, organisation, record, list(referral_ids))

    async def find(self, query: AccessQuery, *, limit: int, offset: int) -> tuple[int, list[RecordAccess]]:
        narrowing = (query.referral_id, query.who, query.since, query.until)
        total = await self.connection.fetchval(_COUNT, *narrowing)
        rows = await self.connection.fetch(_PAGE, *narrowing, limit, offset)
        return int(total), [
            RecordAccess(
                at=row["at"],
                who=row["who"],
                organisation=row["organisation"],
                record=row["record"],
                referral_id=row["referral_id"],
            )
            for row in rows
        ]

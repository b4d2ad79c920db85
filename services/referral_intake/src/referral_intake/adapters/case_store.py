"""PostgreSQL storage of cases, on a unit's connection: one row per referral, the case as one JSON document.

The document is the domain's Case dumped by pydantic (a TypeAdapter over the frozen dataclasses), so
its shape is defined once, in domain/case.py; a field added there with a default reads old rows too.
The columns beside it are derived from it on every save, for the worklist to filter and sort on.
"""

from __future__ import annotations

from typing import Final

import asyncpg
from pydantic import TypeAdapter

from referral_intake.domain.case import Case
from referral_intake.ports import WorklistStatus

RECORD: Final = TypeAdapter(Case)

# What each worklist status means, over the case's own status and its referral's (withdrawn or not).
_WHERE: dict[WorklistStatus, str] = {
    "open": "r.status = 'active' AND c.status IN ('assigned', 'in-progress')",
    "assigned": "r.status = 'active' AND c.status = 'assigned'",
    "in-progress": "r.status = 'active' AND c.status = 'in-progress'",
    "closed": "r.status = 'active' AND c.status = 'closed'",
    "withdrawn": "r.status <> 'active'",
    "all": "true",
}


def dump(case: Case) -> bytes:
    return RECORD.dump_json(case)


def load(record: str | bytes) -> Case:
    return RECORD.validate_json(record)


class CaseRepository:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def load(self, referral_id: str) -> Case | None:
        record = await self.connection.fetchval("SELECT record FROM cases WHERE referral_id = $1", referral_id)
        return load(record) if record is not None else None

    async def load_for_update(self, referral_id: str, *, create: bool = False) -> Case | None:
        if create:
            await self.connection.execute(
                "INSERT INTO cases (referral_id, status, record) VALUES ($1, 'unassigned', $2::jsonb)"
                " ON CONFLICT DO NOTHING",
                referral_id,
                dump(Case(referral_id)).decode(),
            )
        record = await self.connection.fetchval(
            "SELECT record FROM cases WHERE referral_id = $1 FOR UPDATE", referral_id
        )
        return load(record) if record is not None else None

    async def save(self, case: Case) -> None:
        await self.connection.execute(
            "INSERT INTO cases (referral_id, connector_id, status, assigned_at, record)"
            " VALUES ($1, $2, $3, $4, $5::jsonb)"
            " ON CONFLICT (referral_id) DO UPDATE SET connector_id = $2, status = $3, assigned_at = $4,"
            " record = $5::jsonb, updated_at = now()",
            case.referral_id,
            case.connector_id,
            case.status,
            case.holding.at if case.holding else None,
            dump(case).decode(),
        )

    async def worklist(
        self, connector_id: str | None, status: WorklistStatus, *, limit: int, offset: int
    ) -> list[Case]:
        rows = await self.connection.fetch(
            "SELECT c.record FROM cases c JOIN referrals r ON r.id = c.referral_id"
            f" WHERE ($1::text IS NULL OR c.connector_id = $1) AND {_WHERE[status]}"
            " ORDER BY c.assigned_at NULLS LAST, c.referral_id LIMIT $2 OFFSET $3",
            connector_id,
            limit,
            offset,
        )
        return [load(row["record"]) for row in rows]

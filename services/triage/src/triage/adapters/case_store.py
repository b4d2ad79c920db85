"""Cases in the triage database, on a unit's connection: assignments (open, moved, ended), referrals that
ended, the open case of a person, and the handovers and reassignments asked for."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

import asyncpg

from triage.domain.assignment import ConnectorLoad
from triage.ports import CaseRecord, ChangeAnswer, ChangeRequest, EndReason, NewAssignment

# The key space of the person locks (pg_advisory_xact_lock(int, int)); any number no other lock uses.
_PERSON_LOCKS = 640_006

_OPEN_CASE = (
    "SELECT referral_id, connector_id, area, complexity, needs, language, person_key FROM assignments"
    " WHERE referral_id = $1 AND state = 'open'"
)
# One statement, so one snapshot: a waiting entry assigned meanwhile is seen in one place or the other.
_OPEN_CASE_OF_PERSON = """
SELECT referral_id, assigned FROM (
    SELECT referral_id, true AS assigned, assigned_at AS since FROM assignments
    WHERE person_key = $1 AND state = 'open'
    UNION ALL
    SELECT referral_id, false, received_at FROM waitlist WHERE person_key = $1
) AS open_cases ORDER BY assigned DESC, since LIMIT 1
"""


class CaseStore:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def open(self, assignment: NewAssignment) -> None:
        await self.connection.execute(
            "INSERT INTO assignments (referral_id, connector_id, connector_kind, area, reason, assigned_at, complexity,"
            " terms, person_key, needs, language, waiting_since)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12)",
            assignment.referral_id,
            assignment.connector.id,
            assignment.connector.kind,
            assignment.area,
            assignment.reason,
            assignment.assigned_at,
            assignment.complexity,
            json.dumps(asdict(assignment.terms)),
            assignment.person_key,
            sorted(assignment.needs),
            assignment.language_preference,
            assignment.waiting_since,
        )

    async def open_case(self, referral_id: str, *, lock: bool = False) -> CaseRecord | None:
        row = await self.connection.fetchrow(_OPEN_CASE + (" FOR UPDATE" if lock else ""), referral_id)
        if row is None:
            return None
        return CaseRecord(
            referral_id=row["referral_id"],
            holder_id=row["connector_id"],
            area=row["area"],
            complexity=row["complexity"],
            needs=frozenset(row["needs"]),
            language_preference=row["language"],
            person_key=row["person_key"],
        )

    async def end(self, referral_id: str, reason: EndReason, at: datetime) -> str | None:
        """End the open assignment; its holder, or None when it was not open (already ended: nothing to free)."""
        holder: str | None = await self.connection.fetchval(
            "UPDATE assignments SET state = 'ended', ended_at = $3, end_reason = $2"
            " WHERE referral_id = $1 AND state = 'open' RETURNING connector_id",
            referral_id,
            reason,
            at,
        )
        return holder

    async def move(self, referral_id: str, to: ConnectorLoad, at: datetime) -> None:
        moved = await self.connection.fetchval(
            "UPDATE assignments SET connector_id = $2, connector_kind = $3"
            " WHERE referral_id = $1 AND state = 'open' RETURNING true",
            referral_id,
            to.id,
            to.kind,
        )
        if not moved:
            raise RuntimeError(f"the case of {referral_id} is not open although it was locked open")

    async def record_end(self, referral_id: str, reason: EndReason, detail: str, at: datetime) -> bool:
        first = await self.connection.fetchval(
            "INSERT INTO referral_ends (referral_id, reason, detail, ended_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (referral_id) DO NOTHING RETURNING true",
            referral_id,
            reason,
            detail,
            at,
        )
        return bool(first)

    async def has_ended(self, referral_id: str) -> bool:
        return bool(
            await self.connection.fetchval(
                "SELECT EXISTS (SELECT 1 FROM referral_ends WHERE referral_id = $1)", referral_id
            )
        )

    async def lock_person(self, person_key: str) -> None:
        # A hash collision only makes two people's arrivals wait for each other, never links them.
        await self.connection.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", _PERSON_LOCKS, person_key)

    async def open_case_of_person(self, person_key: str) -> tuple[str, bool] | None:
        row = await self.connection.fetchrow(_OPEN_CASE_OF_PERSON, person_key)
        return (row["referral_id"], row["assigned"]) if row else None

    async def change_answered(self, request: ChangeRequest) -> bool:
        return bool(
            await self.connection.fetchval(
                "SELECT EXISTS (SELECT 1 FROM case_changes WHERE referral_id = $1 AND kind = $2 AND requested_by = $3"
                " AND requested_at = $4)",
                request.referral_id,
                request.kind,
                request.requested_by,
                request.requested_at,
            )
        )

    async def record_change(self, request: ChangeRequest, answer: ChangeAnswer, at: datetime) -> None:
        await self.connection.execute(
            "INSERT INTO case_changes (referral_id, kind, requested_by, requested_at, named_connector_id,"
            " requested_reason, outcome, from_connector_id, to_connector_id, reason, answered_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            request.referral_id,
            request.kind,
            request.requested_by,
            request.requested_at,
            request.named_connector_id,
            request.reason or None,
            "moved" if answer.moved else "refused",
            answer.from_connector_id,
            answer.to_connector_id,
            answer.reason,
            at,
        )

    async def open_cases(self) -> dict[str, list[dict[str, Any]]]:
        rows = await self.connection.fetch(
            "SELECT connector_id, referral_id, complexity, area, assigned_at FROM assignments WHERE state = 'open'"
            " ORDER BY connector_id, assigned_at, referral_id"
        )
        by_connector: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_connector.setdefault(row["connector_id"], []).append(
                {
                    "referral_id": row["referral_id"],
                    "complexity": row["complexity"],
                    "area": row["area"],
                    "assigned_at": row["assigned_at"].isoformat(),
                }
            )
        return by_connector

"""The waitlist in the triage database, on a unit's connection: entries in waiting order (domain/waitlist.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from signpost_contracts.vocabulary import ConnectorKind
from triage.domain.assignment import ConnectorLoad, complexities_taken_as_new_work
from triage.domain.policy import AssignmentRules
from triage.domain.postcodes import prefixes_covering
from triage.domain.waitlist import WaitingEntry, priority_rank

_ORDER = "w.priority_rank, w.received_at, w.referral_id"

# The first entry in waiting order that one of the given connectors may take: covers its district
# (`areas && covering`) and is of a kind that takes new work of its complexity (the complexities each kind
# takes come from the domain rule, so the rule is stated once). SKIP LOCKED passes over an entry another
# unit is assigning or removing; the lock taken here is held until this unit deletes the entry and commits.
_TAKE_FIRST = f"""
SELECT w.referral_id, w.area, w.complexity, w.priority, w.received_at, w.needs, w.language, w.person_key,
       d.correlation_id
FROM waitlist w JOIN decisions d ON d.referral_id = w.referral_id
WHERE EXISTS (
    SELECT 1 FROM connectors c
    WHERE c.id = ANY($1::text[]) AND c.areas && w.covering
      AND ((c.kind = 'paid' AND w.complexity = ANY($2::text[]))
        OR (c.kind = 'volunteer' AND w.complexity = ANY($3::text[])))
)
ORDER BY {_ORDER}
LIMIT 1
FOR UPDATE OF w SKIP LOCKED
"""
_ENTRIES = f"""
SELECT row_number() OVER (ORDER BY {_ORDER}) AS position, w.referral_id, w.area, w.priority, w.complexity,
       w.required_kind, w.reason, w.received_at, w.waitlisted_at, count(*) OVER () AS total
FROM waitlist w ORDER BY {_ORDER} LIMIT $1
"""


class WaitlistStore:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def add(
        self, entry: WaitingEntry, *, required_kind: ConnectorKind | None, reason: str, waitlisted_at: datetime
    ) -> None:
        await self.connection.execute(
            "INSERT INTO waitlist (referral_id, area, complexity, required_kind, reason, received_at, waitlisted_at,"
            " priority, priority_rank, covering, needs, language, person_key)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            entry.referral_id,
            entry.area,
            entry.complexity,
            required_kind,
            reason,
            entry.received_at,
            waitlisted_at,
            entry.priority,
            priority_rank(entry.priority),
            prefixes_covering(entry.area),
            sorted(entry.needs),
            entry.language_preference,
            entry.person_key,
        )

    async def position(self, referral_id: str) -> int | None:
        """Its place in its area's waiting list (1: next), in the order assignment takes them; None if not waiting."""
        value = await self.connection.fetchval(
            "SELECT (SELECT count(*) FROM waitlist ahead WHERE ahead.area = w.area"
            " AND (ahead.priority_rank, ahead.received_at, ahead.referral_id)"
            " <= (w.priority_rank, w.received_at, w.referral_id)) FROM waitlist w WHERE w.referral_id = $1",
            referral_id,
        )
        return None if value is None else int(value)

    async def take_first(self, connectors: Sequence[ConnectorLoad], rules: AssignmentRules) -> WaitingEntry | None:
        row = await self.connection.fetchrow(
            _TAKE_FIRST,
            [c.id for c in connectors],
            list(complexities_taken_as_new_work(rules, "paid")),
            list(complexities_taken_as_new_work(rules, "volunteer")),
        )
        if row is None:
            return None
        return WaitingEntry(
            referral_id=row["referral_id"],
            area=row["area"],
            complexity=row["complexity"],
            priority=row["priority"],
            received_at=row["received_at"],
            needs=frozenset(row["needs"]),
            language_preference=row["language"],
            person_key=row["person_key"],
            correlation_id=row["correlation_id"],
        )

    async def remove(self, referral_id: str) -> bool:
        removed = await self.connection.fetchval(
            "DELETE FROM waitlist WHERE referral_id = $1 RETURNING true", referral_id
        )
        return bool(removed)

    async def entries(self, limit: int) -> list[dict[str, Any]]:
        return [dict(row) for row in await self.connection.fetch(_ENTRIES, limit)]

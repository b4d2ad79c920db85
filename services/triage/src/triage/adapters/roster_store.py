"""The roster in the triage database, on a unit's connection: loaded from the file at start, locked and
updated on assignment."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from triage.domain.assignment import ConnectorLoad
from triage.domain.roster import Roster

log = logging.getLogger(__name__)

# Capacity is never lowered below the current caseload: the CHECK would refuse it, and cases
# cannot be taken away from a connector by editing a file. It is held at the caseload (no new
# work) and the warning says so.
_UPSERT = """
INSERT INTO connectors (id, display_name, kind, areas, capacity, languages, specialisms, active, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, true, now())
ON CONFLICT (id) DO UPDATE SET
    display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, areas = EXCLUDED.areas,
    capacity = GREATEST(EXCLUDED.capacity, connectors.caseload),
    languages = EXCLUDED.languages, specialisms = EXCLUDED.specialisms, active = true, updated_at = now()
RETURNING capacity, caseload
"""


class RosterStore:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def load_roster(self, roster: Roster, source: str) -> list[str]:
        """Upsert the file's connectors and retire the others, keeping every caseload; returns warnings."""
        warnings: list[str] = []
        # Id order, like assignment, so a reload and an assignment never wait on each other in a cycle.
        for connector in sorted(roster.connectors, key=lambda c: c.id):
            row = await self.connection.fetchrow(
                _UPSERT,
                connector.id,
                connector.display_name,
                connector.kind,
                connector.areas,
                connector.capacity,
                connector.languages,
                connector.specialisms,
            )
            if row["capacity"] > connector.capacity:
                warnings.append(
                    f"roster file {source}: connector '{connector.id}' capacity {connector.capacity} is below their"
                    f" current caseload {row['caseload']}; holding capacity at {row['capacity']} (no new work)"
                    " until cases close"
                )
        retired = await self.connection.fetch(
            "UPDATE connectors SET active = false, updated_at = now() WHERE active AND NOT (id = ANY($1::text[]))"
            " RETURNING id",
            [connector.id for connector in roster.connectors],
        )
        for warning in warnings:
            log.warning(warning)
        if retired:
            log.info("connectors no longer in the roster get no new work: %s", ", ".join(r["id"] for r in retired))
        return warnings

    async def lock_candidates(self, prefixes: list[str]) -> list[ConnectorLoad]:
        """Lock every active connector that may cover the district, in id order, for this transaction.

        The row locks serialise assignments that compete for the same connectors, across processes:
        a second transaction waits here and then reads the caseload the first one committed.
        """
        rows = await self.connection.fetch(
            "SELECT id, kind, areas, capacity, caseload, languages, specialisms FROM connectors"
            " WHERE active AND areas && $1::text[] ORDER BY id FOR UPDATE",
            prefixes,
        )
        return [
            ConnectorLoad(
                id=row["id"],
                kind=row["kind"],
                areas=tuple(row["areas"]),
                capacity=row["capacity"],
                caseload=row["caseload"],
                languages=tuple(row["languages"]),
                specialisms=tuple(row["specialisms"]),
            )
            for row in rows
        ]

    async def take_case(self, connector_id: str) -> None:
        taken = await self.connection.fetchval(
            "UPDATE connectors SET caseload = caseload + 1 WHERE id = $1 AND active AND caseload < capacity"
            " RETURNING caseload",
            connector_id,
        )
        if taken is None:
            # Unreachable while the row lock is held; refusing beats overfilling a caseload.
            raise RuntimeError(f"connector {connector_id!r} has no room although it was locked with room")

    async def roster_rows(self) -> list[dict[str, Any]]:
        rows = await self.connection.fetch(
            "SELECT id, display_name, kind, areas, capacity, caseload, languages, specialisms, active"
            " FROM connectors ORDER BY id"
        )
        return [dict(row) for row in rows]

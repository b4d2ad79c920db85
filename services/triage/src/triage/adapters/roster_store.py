"""The roster in the triage database, on a unit's connection: loaded from the file (at start and on
reload), locked and updated as places are taken and freed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import asyncpg

from triage.domain.assignment import ConnectorLoad
from triage.domain.roster import Roster

log = logging.getLogger(__name__)

# Capacity is never lowered below the current caseload: the CHECK would refuse it, and cases
# cannot be taken away from a connector by editing a file. It is held at the caseload (no new
# work) and the warning says so.
_UPSERT = """
INSERT INTO connectors (id, display_name, kind, areas, capacity, languages, specialisms, status, active, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, now())
ON CONFLICT (id) DO UPDATE SET
    display_name = EXCLUDED.display_name, kind = EXCLUDED.kind, areas = EXCLUDED.areas,
    capacity = GREATEST(EXCLUDED.capacity, connectors.caseload),
    languages = EXCLUDED.languages, specialisms = EXCLUDED.specialisms, status = EXCLUDED.status, active = true,
    updated_at = now()
RETURNING capacity, caseload
"""
_COLUMNS = "id, kind, areas, capacity, caseload, languages, specialisms, status, active"


def _load(row: asyncpg.Record) -> ConnectorLoad:
    return ConnectorLoad(
        id=row["id"],
        kind=row["kind"],
        areas=tuple(row["areas"]),
        capacity=row["capacity"],
        caseload=row["caseload"],
        languages=tuple(row["languages"]),
        specialisms=tuple(row["specialisms"]),
        status=row["status"],
        active=row["active"],
    )


class RosterStore:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def load_roster(self, roster: Roster, source: str) -> list[str]:
        """Upsert the file's connectors and retire the others, keeping every caseload; returns warnings.

        The table lock waits for every unit holding connector rows and holds off new ones until this unit
        commits (plain reads go on): a connector added, widened or back from leave is then seen by every
        placement after it, and a waiting entry written before it is seen by the waitlist this unit works.
        """
        await self.connection.execute("LOCK TABLE connectors IN EXCLUSIVE MODE")
        warnings: list[str] = []
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
                connector.status,
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

    async def lock_connectors(
        self, *, covering: Sequence[str] = (), ids: Sequence[str] = (), every: bool = False
    ) -> list[ConnectorLoad]:
        """Lock, in id order and whatever their status, every connector whose areas meet `covering` (the
        prefixes that cover a district), those named in `ids`, or `every` one, for this transaction.

        The row locks serialise the units that compete for the same places, across processes: a second
        unit waits here and then reads the caseloads the first committed. Connectors that take no new work
        are locked too, so that a reload changing their status or areas waits for a unit about to write a
        waiting entry they could take, and then sees it.
        """
        rows = await self.connection.fetch(
            f"SELECT {_COLUMNS} FROM connectors WHERE $3 OR areas && $1::text[] OR id = ANY($2::text[])"
            " ORDER BY id FOR UPDATE",
            list(covering),
            list(ids),
            every,
        )
        return [_load(row) for row in rows]

    async def take_case(self, connector_id: str) -> None:
        taken = await self.connection.fetchval(
            "UPDATE connectors SET caseload = caseload + 1"
            " WHERE id = $1 AND active AND status = 'available' AND caseload < capacity RETURNING caseload",
            connector_id,
        )
        if taken is None:
            # Unreachable while the row lock is held; refusing beats overfilling a caseload.
            raise RuntimeError(f"connector {connector_id!r} cannot take a case although it was locked with room")

    async def release_case(self, connector_id: str) -> None:
        released = await self.connection.fetchval(
            "UPDATE connectors SET caseload = caseload - 1 WHERE id = $1 AND caseload > 0 RETURNING caseload",
            connector_id,
        )
        if released is None:
            raise RuntimeError(f"connector {connector_id!r} has no case to release: caseload and assignments disagree")

    async def roster_rows(self) -> list[dict[str, Any]]:
        rows = await self.connection.fetch(
            "SELECT id, display_name, kind, status, active, areas, capacity, caseload, languages, specialisms"
            " FROM connectors ORDER BY id"
        )
        return [dict(row) for row in rows]

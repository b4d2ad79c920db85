"""The figures behind the service status and the caseloads, and what was last published, on a unit's connection."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg

from triage.domain.assignment import ConnectorLoad
from triage.domain.caseloads import Caseload, caseloads, connectors_taking_work, places_free
from triage.domain.service_status import TYPICAL_WAIT_WINDOW_DAYS, CapacityFigures

_WAITING = f"""
SELECT
    (SELECT count(*) FROM waitlist) AS waiting,
    (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM assigned_at - waiting_since) / 86400)
       FROM assignments
      WHERE waiting_since IS NOT NULL AND assigned_at > now() - interval '{TYPICAL_WAIT_WINDOW_DAYS} days')
        AS typical_wait_days
"""


def published_record(stored: Any) -> dict[str, Any]:
    """The row holds {"status": ..., "caseloads": ...}. A row written before caseloads were published holds
    the status alone: read as such, so that upgrading republishes the caseloads once and the status not at all."""
    found = json.loads(stored) if isinstance(stored, str) else stored
    if not isinstance(found, dict):
        return {}
    return found if "status" in found else {"status": found}


class ServiceStatusStore:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def caseloads(self) -> tuple[Caseload, ...]:
        """Every connector triage knows, in the roster file or not: one who left may still hold open cases."""
        rows = await self.connection.fetch("SELECT id, kind, capacity, caseload, status, active FROM connectors")
        return caseloads(
            ConnectorLoad(
                id=row["id"],
                kind=row["kind"],
                areas=(),
                capacity=row["capacity"],
                caseload=row["caseload"],
                status=row["status"],
                active=row["active"],
            )
            for row in rows
        )

    async def figures(self, loads: Sequence[Caseload]) -> CapacityFigures:
        """From the same caseloads as the caseloads event, so the two never disagree about free places."""
        row = await self.connection.fetchrow(_WAITING)
        assert row is not None
        wait = row["typical_wait_days"]
        return CapacityFigures(
            connectors_taking_work=connectors_taking_work(loads),
            places_free=places_free(loads),
            waiting=int(row["waiting"]),
            typical_wait_days=None if wait is None else float(wait),
        )

    async def last_published(self) -> dict[str, Any]:
        """What was last published ("status", "caseloads"; either may be missing), locked until the unit ends
        (other processes wait, then see ours)."""
        await self.connection.execute(
            "INSERT INTO service_status_published (status, published_at) VALUES ('null', now()) ON CONFLICT DO NOTHING"
        )
        stored = await self.connection.fetchval("SELECT status FROM service_status_published FOR UPDATE")
        return published_record(stored)

    async def record_published(self, published: dict[str, Any]) -> None:
        await self.connection.execute(
            "UPDATE service_status_published SET status = $1::jsonb, published_at = now()", json.dumps(published)
        )

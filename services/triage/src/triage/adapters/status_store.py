"""The figures behind the service status, and the status last published, on a unit's connection."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from triage.domain.service_status import TYPICAL_WAIT_WINDOW_DAYS, CapacityFigures

_FIGURES = f"""
SELECT
    (SELECT count(*) FROM connectors WHERE active AND status = 'available' AND capacity > 0) AS taking_work,
    (SELECT coalesce(sum(capacity - caseload), 0) FROM connectors WHERE active AND status = 'available')
        AS places_free,
    (SELECT count(*) FROM waitlist) AS waiting,
    (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM assigned_at - waiting_since) / 86400)
       FROM assignments
      WHERE waiting_since IS NOT NULL AND assigned_at > now() - interval '{TYPICAL_WAIT_WINDOW_DAYS} days')
        AS typical_wait_days
"""


class ServiceStatusStore:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def figures(self) -> CapacityFigures:
        row = await self.connection.fetchrow(_FIGURES)
        assert row is not None
        wait = row["typical_wait_days"]
        return CapacityFigures(
            connectors_taking_work=int(row["taking_work"]),
            places_free=int(row["places_free"]),
            waiting=int(row["waiting"]),
            typical_wait_days=None if wait is None else float(wait),
        )

    async def last_published(self) -> dict[str, Any] | None:
        """The status last published, locked until the unit ends (other processes wait, then see ours)."""
        await self.connection.execute(
            "INSERT INTO service_status_published (status, published_at) VALUES ('null', now()) ON CONFLICT DO NOTHING"
        )
        status = await self.connection.fetchval("SELECT status FROM service_status_published FOR UPDATE")
        found = json.loads(status) if isinstance(status, str) else status
        return found if isinstance(found, dict) else None

    async def record_published(self, status: dict[str, Any]) -> None:
        await self.connection.execute(
            "UPDATE service_status_published SET status = $1::jsonb, published_at = now()", json.dumps(status)
        )

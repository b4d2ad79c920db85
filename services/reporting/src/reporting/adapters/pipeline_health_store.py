"""Pipeline health reports in PostgreSQL: the newest per service instance, and all of them for the dashboard."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

from reporting.domain.pipeline_health import InstanceReport
from signpost_contracts.events.operations import PipelineHealth

# Newest as_of wins per instance: a report arriving late (redelivered, or behind a rebalance) never overwrites
# a newer one, and a repeat of the same one changes nothing, so no inbox is needed for correctness.
_UPSERT = """
INSERT INTO pipeline_health (service, instance, as_of, every_seconds, outbox_waiting, outbox_parked,
    dead_letters_sent, dead_letters_parked, consumers)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)
ON CONFLICT (service, instance) DO UPDATE SET
    as_of = EXCLUDED.as_of, every_seconds = EXCLUDED.every_seconds, outbox_waiting = EXCLUDED.outbox_waiting,
    outbox_parked = EXCLUDED.outbox_parked, dead_letters_sent = EXCLUDED.dead_letters_sent,
    dead_letters_parked = EXCLUDED.dead_letters_parked, consumers = EXCLUDED.consumers, updated_at = now()
WHERE EXCLUDED.as_of > pipeline_health.as_of
"""


class PipelineHealthStore:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def keep_if_newer(self, health: PipelineHealth) -> None:
        await self.connection.execute(
            _UPSERT,
            health.service,
            health.instance,
            health.as_of,
            health.every_seconds,
            health.outbox_waiting,
            health.outbox_parked,
            health.dead_letters_sent,
            health.dead_letters_parked,
            json.dumps([lag.model_dump(mode="json") for lag in health.consumers]),
        )

    async def reports(self) -> list[InstanceReport]:
        rows = await self.connection.fetch(
            "SELECT service, instance, as_of, every_seconds, outbox_waiting, outbox_parked, dead_letters_sent,"
            " dead_letters_parked, consumers FROM pipeline_health ORDER BY service, instance"
        )
        return [_report(dict(row)) for row in rows]


def _report(row: dict[str, Any]) -> InstanceReport:
    consumers = json.loads(row.pop("consumers"))
    return InstanceReport(**row, lag={(c["group"], c["topic"]): c["lag"] for c in consumers})

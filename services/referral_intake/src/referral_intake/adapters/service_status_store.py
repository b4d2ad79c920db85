"""The newest service status from triage, kept in intake's database for the directory routes."""

from __future__ import annotations

import json

import asyncpg

from signpost_contracts.events.triage import ServiceStatus

# Events may arrive twice or out of order (two triage processes, a replay): the newest `as_of` wins.
_KEEP_NEWEST = """
INSERT INTO service_status (status, as_of) VALUES ($1::jsonb, $2)
ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, as_of = EXCLUDED.as_of
WHERE service_status.as_of < EXCLUDED.as_of
"""


class ServiceStatusRepository:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def keep_if_newer(self, status: ServiceStatus) -> None:
        await self.connection.execute(_KEEP_NEWEST, status.model_dump_json(), status.as_of)

    async def current(self) -> ServiceStatus | None:
        stored = await self.connection.fetchval("SELECT status FROM service_status")
        return None if stored is None else ServiceStatus.model_validate(json.loads(stored))

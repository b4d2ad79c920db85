"""Connectors' caseloads in PostgreSQL: the newest announcement per connector, and the list the dashboard shows."""

from __future__ import annotations

import asyncpg

from reporting.domain.caseloads import ConnectorLoad
from signpost_contracts.events.triage import RosterCaseloads

# Newest as_of wins per connector: an older announcement arriving late (another partition's replay, a
# rebuild's order) never overwrites a newer one, and a repeat of the same one changes nothing.
_UPSERT = """
INSERT INTO connector_caseloads (connector_id, kind, capacity, open_cases, taking_new_work, as_of)
SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::bool[], $6::timestamptz[])
ON CONFLICT (connector_id) DO UPDATE SET
    kind = EXCLUDED.kind, capacity = EXCLUDED.capacity, open_cases = EXCLUDED.open_cases,
    taking_new_work = EXCLUDED.taking_new_work, as_of = EXCLUDED.as_of, updated_at = now()
WHERE EXCLUDED.as_of > connector_caseloads.as_of
"""


class CaseloadStore:
    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    async def upsert(self, caseloads: RosterCaseloads) -> None:
        listed = caseloads.connectors
        await self.connection.execute(
            _UPSERT,
            [c.connector_id for c in listed],
            [c.kind for c in listed],
            [c.capacity for c in listed],
            [c.open_cases for c in listed],
            [c.taking_new_work for c in listed],
            [caseloads.as_of] * len(listed),
        )

    async def current(self) -> list[ConnectorLoad]:
        rows = await self.connection.fetch(
            "SELECT connector_id, kind, capacity, open_cases, taking_new_work, as_of FROM connector_caseloads"
            " ORDER BY kind, connector_id"
        )
        return [ConnectorLoad(**dict(row)) for row in rows]

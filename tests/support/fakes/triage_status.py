"""A fake of triage's service-status store (status_publisher's unit), for the status and caseload tests.

Its caseloads are `loads`, which a test may replace between checks. Its figures are the ones given, or,
without them, computed from the caseloads as the PostgreSQL store does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from triage.domain.caseloads import Caseload, connectors_taking_work, places_free
from triage.domain.service_status import CapacityFigures


class FakeStatusRecords:
    def __init__(self, figures: CapacityFigures | None = None, loads: tuple[Caseload, ...] = ()) -> None:
        self.now = figures
        self.loads = loads
        self.published: dict[str, Any] = {}

    async def caseloads(self) -> tuple[Caseload, ...]:
        return self.loads

    async def figures(self, loads: Sequence[Caseload]) -> CapacityFigures:
        if self.now is not None:
            return self.now
        return CapacityFigures(connectors_taking_work(loads), places_free(loads), 0, None)

    async def last_published(self) -> dict[str, Any]:
        return self.published

    async def record_published(self, published: dict[str, Any]) -> None:
        self.published = published


class FakeStatusUnit:
    def __init__(self, records: FakeStatusRecords) -> None:
        self.status = records
        self.events: list = []

    def publish(self, *events) -> None:
        self.events.extend(events)

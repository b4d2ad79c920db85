"""The unit of work reporting's use cases run in: a transaction and the stores on it (projection, cases,
caseloads, pipeline health)."""

from __future__ import annotations

import asyncpg

from reporting.adapters.case_store import CaseStore
from reporting.adapters.caseload_store import CaseloadStore
from reporting.adapters.pipeline_health_store import PipelineHealthStore
from reporting.adapters.store import ProjectionStore
from signpost_runtime.unit_of_work import Unit


class ReportingUnit(Unit):
    def __init__(self, connection: asyncpg.Connection) -> None:
        super().__init__(connection)
        self.projection = ProjectionStore(connection)
        self.cases = CaseStore(connection)
        self.caseloads = CaseloadStore(connection)
        self.pipeline_health = PipelineHealthStore(connection)

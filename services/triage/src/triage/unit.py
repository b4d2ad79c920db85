"""The unit of work triage's use cases run in: a transaction and the repositories on it."""

from __future__ import annotations

import asyncpg

from signpost_runtime.unit_of_work import Unit
from triage.adapters.decision_store import DecisionStore
from triage.adapters.roster_store import RosterStore


class TriageUnit(Unit):
    def __init__(self, connection: asyncpg.Connection) -> None:
        super().__init__(connection)
        self.decisions = DecisionStore(connection)
        self.roster = RosterStore(connection)

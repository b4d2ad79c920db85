"""The unit of work triage's use cases run in: a transaction and the repositories on it (ports.py)."""

from __future__ import annotations

import asyncpg

from signpost_runtime.unit_of_work import Unit
from triage.adapters.case_store import CaseStore
from triage.adapters.decision_store import DecisionStore
from triage.adapters.erasure_store import ErasureStore
from triage.adapters.roster_store import RosterStore
from triage.adapters.status_store import ServiceStatusStore
from triage.adapters.waitlist_store import WaitlistStore


class TriageUnit(Unit):
    def __init__(self, connection: asyncpg.Connection) -> None:
        super().__init__(connection)
        self.decisions = DecisionStore(connection)
        self.roster = RosterStore(connection)
        self.waitlist = WaitlistStore(connection)
        self.cases = CaseStore(connection)
        self.status = ServiceStatusStore(connection)
        self.erasure = ErasureStore(connection)

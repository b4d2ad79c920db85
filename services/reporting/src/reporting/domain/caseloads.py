"""Connectors' caseloads against their capacity, as triage last announced them (roster.caseloads.v1).

A connector is *full* when their open cases reach their capacity (a connector at nil capacity is full), and
*over capacity* when they exceed it: triage never assigns past capacity, but a roster reload can lower a
capacity only to the caseload it holds, so over capacity means figures from elsewhere disagree and someone
should look. The state is said in words on the page, never by colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

LoadState = Literal["over-capacity", "full", "room"]


def load_state(open_cases: int, capacity: int) -> LoadState:
    if open_cases > capacity:
        return "over-capacity"
    return "full" if open_cases == capacity else "room"


@dataclass(frozen=True)
class ConnectorLoad:
    connector_id: str
    kind: str
    capacity: int
    open_cases: int
    taking_new_work: bool
    as_of: datetime

    @property
    def state(self) -> LoadState:
        return load_state(self.open_cases, self.capacity)

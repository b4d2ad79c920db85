"""Each connector's caseload against capacity, and the one rule for free places built on it.

A connector takes new work when they are in the roster file (active) and available (ConnectorLoad's
`takes_new_work`); only such a connector has free places, capacity less open cases. The service's
places_free (service.status.v1) is the sum of these, and a connector counts towards "connectors taking
work" only with some capacity, so the status referrers see and the caseloads staff see always agree.
Open cases never exceed capacity in triage (the connectors table's CHECK), but a free place is never
negative, so a figure from elsewhere cannot lower the total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from signpost_contracts.vocabulary import ConnectorKind
from triage.domain.assignment import ConnectorLoad


@dataclass(frozen=True)
class Caseload:
    connector_id: str
    kind: ConnectorKind
    capacity: int
    open_cases: int
    taking_new_work: bool

    @property
    def places_free(self) -> int:
        return max(self.capacity - self.open_cases, 0) if self.taking_new_work else 0

    @property
    def counts_as_taking_work(self) -> bool:
        return self.taking_new_work and self.capacity > 0


def caseload_of(connector: ConnectorLoad) -> Caseload:
    return Caseload(
        connector_id=connector.id,
        kind=connector.kind,
        capacity=connector.capacity,
        open_cases=connector.caseload,
        taking_new_work=connector.takes_new_work,
    )


def caseloads(connectors: Iterable[ConnectorLoad]) -> tuple[Caseload, ...]:
    """In connector id order, so the same roster state always gives the same (comparable) list."""
    return tuple(sorted((caseload_of(connector) for connector in connectors), key=lambda c: c.connector_id))


def places_free(loads: Iterable[Caseload]) -> int:
    return sum(load.places_free for load in loads)


def connectors_taking_work(loads: Iterable[Caseload]) -> int:
    return sum(1 for load in loads if load.counts_as_taking_work)

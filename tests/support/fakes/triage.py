"""A fake triage unit: decisions, connectors, the waitlist and cases in dictionaries, events in a list.

It implements triage.ports as the PostgreSQL repositories do, minus the locking (one unit at a time), and
checks the invariants the database enforces: a caseload never above capacity, and always equal to the
connector's open assignments.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from signpost_contracts import EventEnvelope
from signpost_contracts.vocabulary import ConnectorKind
from triage.domain.assignment import ConnectorLoad
from triage.domain.decision import Decision
from triage.domain.policy import AssignmentRules
from triage.domain.referral import ReferralFacts
from triage.domain.roster import Roster
from triage.domain.waitlist import WaitingEntry, first_waiting
from triage.ports import CaseRecord, ChangeAnswer, ChangeRequest, EndReason, NewAssignment


class FakeDecisions:
    def __init__(self) -> None:
        self.decided: dict[str, Decision] = {}
        self.facts: dict[str, ReferralFacts] = {}
        self.summaries: dict[str, str] = {}
        self.links: dict[str, tuple[str, str]] = {}

    async def claim_referral(
        self, facts: ReferralFacts, decision: Decision, *, event_id: str, correlation_id: str, decided_at: datetime
    ) -> bool:
        if facts.referral_id in self.decided:
            return False
        self.decided[facts.referral_id] = decision
        self.facts[facts.referral_id] = facts
        return True

    async def set_summary(self, referral_id: str, summary: str) -> None:
        self.summaries[referral_id] = summary

    async def record_link(self, referral_id: str, linked_to: str, reason: str, at: datetime) -> None:
        self.links[referral_id] = (linked_to, reason)

    async def decision_view(self, referral_id: str) -> dict[str, Any] | None:
        decision = self.decided.get(referral_id)
        return None if decision is None else {"referral_id": referral_id, "outcome": decision.outcome}


class FakeRoster:
    def __init__(self, *connectors: ConnectorLoad) -> None:
        self.connectors = {c.id: c for c in connectors}

    async def load_roster(self, roster: Roster, source: str) -> list[str]:
        listed = {c.id for c in roster.connectors}
        for connector in roster.connectors:
            caseload = self.connectors[connector.id].caseload if connector.id in self.connectors else 0
            self.connectors[connector.id] = ConnectorLoad(
                id=connector.id,
                kind=connector.kind,
                areas=tuple(connector.areas),
                capacity=max(connector.capacity, caseload),
                caseload=caseload,
                languages=tuple(connector.languages),
                specialisms=tuple(connector.specialisms),
                status=connector.status,
            )
        for connector_id, connector in list(self.connectors.items()):
            if connector_id not in listed:
                self.connectors[connector_id] = dataclasses.replace(connector, active=False)
        return []

    async def lock_connectors(
        self, *, covering: Sequence[str] = (), ids: Sequence[str] = (), every: bool = False
    ) -> list[ConnectorLoad]:
        chosen = [c for c in self.connectors.values() if every or set(c.areas) & set(covering) or c.id in ids]
        return sorted(chosen, key=lambda c: c.id)

    async def take_case(self, connector_id: str) -> None:
        connector = self.connectors[connector_id]
        assert connector.open_for_new_work, f"the use case gave {connector_id} a case it may not take: {connector}"
        self.connectors[connector_id] = dataclasses.replace(connector, caseload=connector.caseload + 1)

    async def release_case(self, connector_id: str) -> None:
        connector = self.connectors[connector_id]
        assert connector.caseload > 0, f"{connector_id} released a case it did not hold"
        self.connectors[connector_id] = dataclasses.replace(connector, caseload=connector.caseload - 1)

    async def roster_rows(self) -> list[dict[str, Any]]:
        return [dataclasses.asdict(c) for c in sorted(self.connectors.values(), key=lambda c: c.id)]


class FakeWaitlist:
    def __init__(self) -> None:
        self.entries_by_id: dict[str, WaitingEntry] = {}
        self.reasons: dict[str, str] = {}

    async def add(
        self, entry: WaitingEntry, *, required_kind: ConnectorKind | None, reason: str, waitlisted_at: datetime
    ) -> None:
        assert entry.referral_id not in self.entries_by_id
        self.entries_by_id[entry.referral_id] = entry
        self.reasons[entry.referral_id] = reason

    async def take_first(self, connectors: Sequence[ConnectorLoad], rules: AssignmentRules) -> WaitingEntry | None:
        return first_waiting(self.entries_by_id.values(), connectors, rules)

    async def remove(self, referral_id: str) -> bool:
        return self.entries_by_id.pop(referral_id, None) is not None

    async def position(self, referral_id: str) -> int | None:
        entry = self.entries_by_id.get(referral_id)
        if entry is None:
            return None
        return sum(1 for e in self.entries_by_id.values() if e.area == entry.area and e.order <= entry.order)

    async def entries(self, limit: int) -> list[dict[str, Any]]:
        ordered = sorted(self.entries_by_id.values(), key=lambda e: e.order)[:limit]
        return [{"referral_id": e.referral_id, "priority": e.priority, "area": e.area} for e in ordered]

    @property
    def order(self) -> list[str]:
        return [e.referral_id for e in sorted(self.entries_by_id.values(), key=lambda e: e.order)]


@dataclasses.dataclass
class FakeAssignment:
    assignment: NewAssignment
    holder_id: str
    open: bool = True


class FakeCases:
    def __init__(self, waitlist: FakeWaitlist) -> None:
        self.waitlist = waitlist
        self.assignments: dict[str, FakeAssignment] = {}
        self.ends: dict[str, tuple[EndReason, str]] = {}
        self.changes: dict[tuple[str, str, str, datetime], ChangeAnswer] = {}

    async def open(self, assignment: NewAssignment) -> None:
        assert assignment.referral_id not in self.assignments, f"{assignment.referral_id} was assigned twice"
        self.assignments[assignment.referral_id] = FakeAssignment(assignment, assignment.connector.id)

    async def open_case(self, referral_id: str, *, lock: bool = False) -> CaseRecord | None:
        held = self.assignments.get(referral_id)
        if held is None or not held.open:
            return None
        a = held.assignment
        return CaseRecord(
            referral_id, held.holder_id, a.area, a.complexity, a.needs, a.language_preference, a.person_key
        )

    async def end(self, referral_id: str, reason: EndReason, at: datetime) -> str | None:
        held = self.assignments.get(referral_id)
        if held is None or not held.open:
            return None
        held.open = False
        return held.holder_id

    async def move(self, referral_id: str, to: ConnectorLoad, at: datetime) -> None:
        held = self.assignments[referral_id]
        assert held.open
        held.holder_id = to.id

    async def record_end(self, referral_id: str, reason: EndReason, detail: str, at: datetime) -> bool:
        if referral_id in self.ends:
            return False
        self.ends[referral_id] = (reason, detail)
        return True

    async def has_ended(self, referral_id: str) -> bool:
        return referral_id in self.ends

    async def lock_person(self, person_key: str) -> None:
        return None

    async def open_case_of_person(self, person_key: str) -> tuple[str, bool] | None:
        for referral_id, held in self.assignments.items():
            if held.open and held.assignment.person_key == person_key:
                return referral_id, True
        waiting = [e for e in self.waitlist.entries_by_id.values() if e.person_key == person_key]
        return (min(waiting, key=lambda e: e.received_at).referral_id, False) if waiting else None

    async def change_answered(self, request: ChangeRequest) -> bool:
        return (request.referral_id, request.kind, request.requested_by, request.requested_at) in self.changes

    async def record_change(self, request: ChangeRequest, answer: ChangeAnswer, at: datetime) -> None:
        self.changes[(request.referral_id, request.kind, request.requested_by, request.requested_at)] = answer

    async def open_cases(self) -> dict[str, list[dict[str, Any]]]:
        by_connector: dict[str, list[dict[str, Any]]] = {}
        for referral_id, held in self.assignments.items():
            if held.open:
                by_connector.setdefault(held.holder_id, []).append({"referral_id": referral_id})
        return by_connector


class FakeTriageUnit:
    def __init__(self, *connectors: ConnectorLoad) -> None:
        self.decisions = FakeDecisions()
        self.roster = FakeRoster(*connectors)
        self.waitlist = FakeWaitlist()
        self.cases = FakeCases(self.waitlist)
        self.events: list[EventEnvelope] = []

    def publish(self, *events: EventEnvelope) -> None:
        self.events.extend(events)

    def assigned_to(self, referral_id: str) -> str | None:
        """The connector holding the referral's open case, or None."""
        held = self.cases.assignments.get(referral_id)
        return held.holder_id if held is not None and held.open else None

    def caseload(self, connector_id: str) -> int:
        return self.roster.connectors[connector_id].caseload

    def types(self, referral_id: str | None = None) -> list[str]:
        return [e.type for e in self.events if referral_id is None or e.subject == referral_id]

    def check_invariants(self) -> None:
        """Caseload = open assignments for every connector, never above capacity; no one both placed and waiting."""
        for connector in self.roster.connectors.values():
            held = sum(1 for a in self.cases.assignments.values() if a.open and a.holder_id == connector.id)
            assert connector.caseload == held, f"{connector.id}: caseload {connector.caseload}, {held} open cases"
            assert connector.caseload <= connector.capacity, connector
        assert not set(self.waitlist.entries_by_id) & {r for r, a in self.cases.assignments.items() if a.open}

"""A fake triage unit: decisions and connectors in dictionaries, events in a list."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from signpost_contracts import EventEnvelope
from triage.domain.assignment import Assignment, ConnectorLoad, Placement
from triage.domain.decision import Decision
from triage.domain.referral import ReferralFacts


class FakeDecisions:
    def __init__(self) -> None:
        self.decided: dict[str, Decision] = {}
        self.placements: dict[str, Placement | None] = {}

    async def claim_referral(
        self, facts: ReferralFacts, decision: Decision, *, event_id: str, correlation_id: str, decided_at: datetime
    ) -> bool:
        if facts.referral_id in self.decided:
            return False
        self.decided[facts.referral_id] = decision
        return True

    async def record_outcome(
        self, facts: ReferralFacts, decision: Decision, placement: Placement | None, summary: str, at: datetime
    ) -> None:
        self.placements[facts.referral_id] = placement

    async def decision_view(self, referral_id: str) -> dict[str, Any] | None:
        decision = self.decided.get(referral_id)
        return None if decision is None else {"referral_id": referral_id, "outcome": decision.outcome}


class FakeRoster:
    def __init__(self, *connectors: ConnectorLoad) -> None:
        self.connectors = {c.id: c for c in connectors}

    async def lock_candidates(self, prefixes: list[str]) -> list[ConnectorLoad]:
        return [c for c in sorted(self.connectors.values(), key=lambda c: c.id) if set(c.areas) & set(prefixes)]

    async def take_case(self, connector_id: str) -> None:
        connector = self.connectors[connector_id]
        assert connector.has_room, "the use case took a case from a connector without room"
        self.connectors[connector_id] = dataclasses.replace(connector, caseload=connector.caseload + 1)

    async def roster_rows(self) -> list[dict[str, Any]]:
        return [dataclasses.asdict(c) for c in self.connectors.values()]


class FakeTriageUnit:
    def __init__(self, *connectors: ConnectorLoad) -> None:
        self.decisions = FakeDecisions()
        self.roster = FakeRoster(*connectors)
        self.events: list[EventEnvelope] = []

    def publish(self, *events: EventEnvelope) -> None:
        self.events.extend(events)

    def assigned_to(self, referral_id: str) -> str | None:
        placement = self.decisions.placements.get(referral_id)
        return placement.connector.id if isinstance(placement, Assignment) else None

"""Triage use cases: decide on a referral and place it, in the unit of work its edge opened.

The use cases see the repositories the unit carries and `publish`; tests pass a fake unit.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Protocol

from signpost_contracts import EventEnvelope
from signpost_runtime.auth import Principal
from triage.adapters.events import Cause, outcome_events
from triage.domain.assignment import Assignment, ConnectorLoad, Placement, place
from triage.domain.decision import Decision, decide
from triage.domain.policy import Policy
from triage.domain.postcodes import prefixes_covering
from triage.domain.referral import ReferralFacts
from triage.domain.summary import summarise

log = logging.getLogger(__name__)


class Decisions(Protocol):
    async def claim_referral(
        self, facts: ReferralFacts, decision: Decision, *, event_id: str, correlation_id: str, decided_at: datetime
    ) -> bool: ...

    async def record_outcome(
        self, facts: ReferralFacts, decision: Decision, placement: Placement | None, summary: str, at: datetime
    ) -> None: ...

    async def decision_view(self, referral_id: str) -> dict[str, Any] | None: ...


class RosterLoads(Protocol):
    async def lock_candidates(self, prefixes: list[str]) -> list[ConnectorLoad]: ...

    async def take_case(self, connector_id: str) -> None: ...

    async def roster_rows(self) -> list[dict[str, Any]]: ...


class TriageWork(Protocol):
    @property
    def decisions(self) -> Decisions: ...

    @property
    def roster(self) -> RosterLoads: ...

    def publish(self, *events: EventEnvelope) -> None: ...


class TriageService:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    async def triage(self, unit: TriageWork, facts: ReferralFacts, cause: Cause) -> None:
        """Decide, place and announce one referral, in the consumer's unit of work."""
        decision = decide(self.policy, facts)
        now = datetime.now(UTC)
        claimed = await unit.decisions.claim_referral(
            facts, decision, event_id=cause.event_id, correlation_id=cause.correlation_id, decided_at=now
        )
        if not claimed:
            log.info("referral %s was already triaged; this delivery changes nothing", facts.referral_id)
            return
        placement = await self._place(unit, facts, decision) if decision.outcome == "accepted" else None
        summary = summarise(decision, placement)
        await unit.decisions.record_outcome(facts, decision, placement, summary, now)
        unit.publish(*outcome_events(facts.referral_id, decision, placement, summary, now, cause))
        log.info(
            "referral %s %s (%s complexity)%s",
            facts.referral_id,
            decision.outcome,
            decision.complexity,
            f", assigned to {placement.connector.id}" if isinstance(placement, Assignment) else "",
        )

    async def _place(self, unit: TriageWork, facts: ReferralFacts, decision: Decision) -> Placement:
        assert decision.district is not None, "an accepted referral always has a district"
        candidates = await unit.roster.lock_candidates(prefixes_covering(decision.district))
        placement = place(candidates, facts, decision.district, decision.complexity)
        if isinstance(placement, Assignment):
            await unit.roster.take_case(placement.connector.id)
        return placement


def policy_view(policy: Policy, source: str) -> dict[str, Any]:
    return {"version": policy.version, "source": source, "policy": policy.model_dump(mode="json")}


async def roster_view(unit: TriageWork) -> dict[str, Any]:
    connectors = await unit.roster.roster_rows()
    return {"connectors": [{**c, "room": max(c["capacity"] - c["caseload"], 0)} for c in connectors]}


async def decision_view(unit: TriageWork, referral_id: str, reader: Principal) -> dict[str, Any] | None:
    """The decision if `reader` may see it; otherwise None, exactly as for an unknown id, so that a
    decision (rules fired, crisis redirects) never tells one organisation about another's referral."""
    view = await unit.decisions.decision_view(referral_id)
    if view is not None and not reader.may_read_organisation(view["requester_ods"]):
        log.info("refused %s the decision on referral %s of another organisation", reader.subject, referral_id)
        return None
    return view

"""Triage use cases: decide on a referral and place it, all in the caller's transaction."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import asyncpg

from signpost_runtime.auth import Principal
from signpost_runtime.outbox import Outbox
from triage.adapters import decision_store, roster_store
from triage.adapters.events import Cause, outcome_events
from triage.domain.assignment import Assignment, Placement, place
from triage.domain.decision import Decision, decide
from triage.domain.policy import Policy
from triage.domain.postcodes import prefixes_covering
from triage.domain.referral import ReferralFacts
from triage.domain.summary import summarise

log = logging.getLogger(__name__)


class TriageService:
    def __init__(self, policy: Policy, outbox: Outbox) -> None:
        self.policy = policy
        self.outbox = outbox

    async def triage(self, conn: asyncpg.Connection, facts: ReferralFacts, cause: Cause) -> None:
        """Decide, place and announce one referral; runs inside the consumer's inbox transaction."""
        decision = decide(self.policy, facts)
        now = datetime.now(UTC)
        claimed = await decision_store.claim_referral(
            conn, facts, decision, event_id=cause.event_id, correlation_id=cause.correlation_id, decided_at=now
        )
        if not claimed:
            log.info("referral %s was already triaged; this delivery changes nothing", facts.referral_id)
            return
        placement = await self._place(conn, facts, decision) if decision.outcome == "accepted" else None
        summary = summarise(decision, placement)
        await decision_store.record_outcome(conn, facts, decision, placement, summary, now)
        await self.outbox.add_events(conn, outcome_events(facts.referral_id, decision, placement, summary, now, cause))
        log.info(
            "referral %s %s (%s complexity)%s",
            facts.referral_id,
            decision.outcome,
            decision.complexity,
            f", assigned to {placement.connector.id}" if isinstance(placement, Assignment) else "",
        )

    async def _place(self, conn: asyncpg.Connection, facts: ReferralFacts, decision: Decision) -> Placement:
        assert decision.district is not None, "an accepted referral always has a district"
        candidates = await roster_store.lock_candidates(conn, prefixes_covering(decision.district))
        placement = place(candidates, facts, decision.district, decision.complexity)
        if isinstance(placement, Assignment):
            await roster_store.take_case(conn, placement.connector.id)
        return placement


def policy_view(policy: Policy, source: str) -> dict[str, Any]:
    return {"version": policy.version, "source": source, "policy": policy.model_dump(mode="json")}


async def roster_view(pool: asyncpg.Pool) -> dict[str, Any]:
    connectors = await roster_store.roster_rows(pool)
    return {"connectors": [{**c, "room": max(c["capacity"] - c["caseload"], 0)} for c in connectors]}


async def decision_view(pool: asyncpg.Pool, referral_id: str, reader: Principal) -> dict[str, Any] | None:
    """The decision if `reader` may see it; otherwise None, exactly as for an unknown id, so that a
    decision (rules fired, crisis redirects) never tells one organisation about another's referral."""
    view = await decision_store.decision_view(pool, referral_id)
    if view is not None and not reader.may_read_organisation(view["requester_ods"]):
        log.info("refused %s the decision on referral %s of another organisation", reader.subject, referral_id)
        return None
    return view

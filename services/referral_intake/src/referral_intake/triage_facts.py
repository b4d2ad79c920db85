"""Use cases for triage's events: each merges one fact into the referral's Task facts and its case.

Triage's events may arrive twice or in any order relative to intake's own records (another topic):
every fact is merged by its own time and event id (domain/facts.py), under the row's lock, so the
result is the same however they arrive. One use case per event type, run in the consumer's unit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from referral_intake.adapters import triage_events as read
from referral_intake.domain.case import Case
from referral_intake.domain.task_status import ReferralProgress
from referral_intake.ports import IntakeWork
from referral_intake.task_index import refresh_task
from signpost_contracts import EventEnvelope

log = logging.getLogger(__name__)


class TriageFacts:
    """Each use case refreshes the Task's index last, after its other locks (task_index.py says why)."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))

    async def record_triage(self, unit: IntakeWork, event: EventEnvelope) -> None:
        referral_id, fact = read.triage_fact(event)
        await _progress(unit, referral_id, lambda progress: progress.with_triage(fact))
        await refresh_task(unit, referral_id, self.clock())

    async def record_waitlist(self, unit: IntakeWork, event: EventEnvelope) -> None:
        referral_id, fact = read.waitlist_fact(event)
        await _progress(unit, referral_id, lambda progress: progress.with_waitlist(fact))
        await refresh_task(unit, referral_id, self.clock())

    async def record_link(self, unit: IntakeWork, event: EventEnvelope) -> None:
        referral_id, fact = read.link_fact(event)
        await _progress(unit, referral_id, lambda progress: progress.with_link(fact))
        await refresh_task(unit, referral_id, self.clock())

    async def record_assignment(self, unit: IntakeWork, event: EventEnvelope) -> None:
        """referral.assigned.v1 and referral.assigned-from-waitlist.v1: the Task is assigned, the case opens."""
        referral_id, placement, holding, allocation = read.assignment_facts(event)
        await _progress(unit, referral_id, lambda progress: progress.with_assignment(placement))
        await _case(unit, referral_id, lambda case: case.held(holding).allocated(allocation))
        await refresh_task(unit, referral_id, self.clock())

    async def record_move(self, unit: IntakeWork, event: EventEnvelope) -> None:
        """referral.handed-over.v1 and referral.reassigned.v1: another connector holds the case."""
        referral_id, holding = read.holding_fact(event)
        await _case(unit, referral_id, lambda case: case.held(holding))
        await refresh_task(unit, referral_id, self.clock())
        log.info("case %s now held by %s (%s, event %s)", referral_id, holding.connector_id, holding.how, event.id)

    async def record_refusal(self, unit: IntakeWork, event: EventEnvelope) -> None:
        """referral.handover-refused.v1 and referral.reassignment-refused.v1: shown on the case."""
        referral_id, refusal = read.refusal_fact(event)
        await _case(unit, referral_id, lambda case: case.refused(refusal))
        await refresh_task(unit, referral_id, self.clock())


async def _progress(unit: IntakeWork, referral_id: str, change: Callable[[ReferralProgress], ReferralProgress]) -> None:
    progress = await unit.progress.load_for_update(referral_id)
    await unit.progress.save(referral_id, change(progress))


async def _case(unit: IntakeWork, referral_id: str, change: Callable[[Case], Case]) -> None:
    case = await unit.cases.load_for_update(referral_id, create=True)
    assert case is not None, "load_for_update(create=True) gives a case"
    await unit.cases.save(change(case))

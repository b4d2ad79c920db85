"""Triage use cases, each in the unit of work its edge opened: a referral arrives, a case ends, a case is
handed over or reassigned, the roster is reloaded. The use cases see the repositories the unit carries
(ports.py) and `publish`; tests pass a fake unit.

Precedence for an arrival: a referral already withdrawn or closed is never placed; then the decision
(redirect > decline > accept, decision.py); an accepted referral of a person with an open case (assigned
or waiting) is linked to it; otherwise it is placed after the waiting people who could take the same
connectors (allocation.py). Every event that frees a place works the waitlist in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from triage.adapters.events import Cause, change_refused, handed_over, linked_events, outcome_events, reassigned
from triage.allocation import Allocator, Loads
from triage.domain import changes
from triage.domain.assignment import Assignment, Waitlisting
from triage.domain.decision import Decision, decide
from triage.domain.policy import Policy
from triage.domain.postcodes import prefixes_covering
from triage.domain.referral import ReferralFacts
from triage.domain.roster import Roster
from triage.domain.summary import link_reason, linked_summary, summarise
from triage.domain.terms import terms_for
from triage.ports import ChangeAnswer, ChangeRequest, EndReason, TriageWork

log = logging.getLogger(__name__)


class Erasures(Protocol):
    async def erase(self, referral_id: str) -> None: ...


class ErasureWork(Protocol):
    @property
    def erasure(self) -> Erasures: ...


async def erase_referral(unit: ErasureWork, referral_id: str) -> None:
    """Intake erased the referral's person (referral.erased.v1): forget their key and any reason typed about them.

    Repeating it changes nothing. Afterwards a new referral of the same person is no longer linked to this one:
    the link was the person's NHS number, which is what was erased.
    """
    await unit.erasure.erase(referral_id)
    log.info("erased what triage held about referral %s's person", referral_id)


@dataclass(frozen=True)
class Reloaded:
    warnings: list[str]
    placed: list[str]


class TriageService:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.allocator = Allocator(policy)

    async def triage(self, unit: TriageWork, facts: ReferralFacts, cause: Cause) -> None:
        """Decide, place and announce one referral, in the consumer's unit of work."""
        if await unit.cases.has_ended(facts.referral_id):
            log.info("referral %s was withdrawn or closed before it was triaged: it is never placed", facts.referral_id)
            return
        decision = decide(self.policy, facts)
        now = datetime.now(UTC)
        claimed = await unit.decisions.claim_referral(
            facts, decision, event_id=cause.event_id or "", correlation_id=cause.correlation_id, decided_at=now
        )
        if not claimed:
            log.info("referral %s was already triaged; this delivery changes nothing", facts.referral_id)
            return
        if decision.outcome == "accepted" and facts.person_key and await self._linked(unit, facts, decision, cause):
            return
        placement = None
        if decision.outcome == "accepted":
            placement = await self.allocator.place_new(unit, facts, decision, cause, now)
        summary = summarise(decision, placement)
        await unit.decisions.set_summary(facts.referral_id, summary)
        terms = terms_for(self.policy, decision.complexity)
        position = await unit.waitlist.position(facts.referral_id) if isinstance(placement, Waitlisting) else None
        unit.publish(*outcome_events(facts.referral_id, decision, placement, terms, summary, now, cause, position))
        log.info(
            "referral %s %s (%s complexity)%s",
            facts.referral_id,
            decision.outcome,
            decision.complexity,
            f", assigned to {placement.connector.id}" if isinstance(placement, Assignment) else "",
        )

    async def _linked(self, unit: TriageWork, facts: ReferralFacts, decision: Decision, cause: Cause) -> bool:
        assert facts.person_key is not None
        await unit.cases.lock_person(facts.person_key)
        open_case = await unit.cases.open_case_of_person(facts.person_key)
        if open_case is None:
            return False
        linked_to, assigned = open_case
        now = datetime.now(UTC)
        reason = link_reason(linked_to, assigned)
        summary = linked_summary(decision, linked_to, assigned)
        await unit.decisions.record_link(facts.referral_id, linked_to, reason, now)
        await unit.decisions.set_summary(facts.referral_id, summary)
        unit.publish(*linked_events(facts.referral_id, decision, summary, linked_to, reason, now, cause))
        log.info("referral %s linked to the open case of the same person, %s", facts.referral_id, linked_to)
        return True

    async def case_ended(
        self, unit: TriageWork, referral_id: str, reason: EndReason, detail: str, at: datetime, cause: Cause
    ) -> None:
        """A closure or withdrawal: an assigned case frees its place, a waiting one leaves the waitlist.

        The end is remembered first, whatever triage knows of the referral, so a referral ended before it
        was triaged is never placed. A second end of the same referral finds nothing open and changes nothing.
        """
        await unit.cases.record_end(referral_id, reason, detail, at)
        record = await unit.cases.open_case(referral_id)
        if record is None:
            if await unit.waitlist.remove(referral_id):
                log.info("referral %s %s while waiting: it left the waitlist", referral_id, reason)
                return
            # Not waiting now: a place may have been given to it by a unit that committed while we waited.
            record = await unit.cases.open_case(referral_id)
            if record is None:
                log.info("referral %s %s: no open case or waiting entry, nothing to free", referral_id, reason)
                return
        loads = Loads(await unit.roster.lock_connectors(ids=[record.holder_id]))
        holder = await unit.cases.end(referral_id, reason, at)
        if holder is None:
            return
        if loads.get(holder) is None:  # moved by a unit that committed between our read and our lock
            loads = Loads(await unit.roster.lock_connectors(ids=[holder]))
        await unit.roster.release_case(holder)
        loads.changed(holder, -1)
        placed = await self.allocator.work_waitlist(unit, loads, cause)
        log.info(
            "referral %s %s: %s's place freed, %d placed from the waitlist", referral_id, reason, holder, len(placed)
        )

    async def change_requested(self, unit: TriageWork, request: ChangeRequest, cause: Cause) -> None:
        """A handover or reassignment: the case moves (capacity-checked) and the old place frees, or it is refused."""
        if await unit.cases.change_answered(request):
            log.info(
                "the %s of %s asked at %s was answered already", request.kind, request.referral_id, request.requested_at
            )
            return
        case, loads = await self._lock_case(unit, request)
        if request.kind == "handover":
            answer = changes.handover(case, list(loads))
        else:
            answer = changes.reassignment(case, list(loads), self.policy.assignment, request.named_connector_id)
        now = datetime.now(UTC)
        if isinstance(answer, changes.Refusal) or case is None:
            reason = answer.reason if isinstance(answer, changes.Refusal) else changes.NOT_OPEN
            await unit.cases.record_change(request, ChangeAnswer(moved=False, reason=reason), now)
            unit.publish(change_refused(request.kind, request.referral_id, reason, now, cause))
            log.info("%s of %s refused: %s", request.kind, request.referral_id, reason)
            return
        holder, to = case.holder.id, answer.to
        await unit.cases.move(request.referral_id, to, now)
        await unit.roster.release_case(holder)
        loads.changed(holder, -1)
        await unit.roster.take_case(to.id)
        loads.changed(to.id, +1)
        await unit.cases.record_change(request, ChangeAnswer(True, answer.reason, holder, to.id), now)
        if request.kind == "handover":
            unit.publish(handed_over(request.referral_id, holder, to, now, cause))
        else:
            unit.publish(reassigned(request.referral_id, holder, to, request.reason or answer.reason, now, cause))
        placed = await self.allocator.work_waitlist(unit, loads, cause, only=[holder])
        log.info("%s of %s: %s -> %s, %d placed from the waitlist", request.kind, request.referral_id, holder, to.id,
                 len(placed))  # fmt: skip

    async def _lock_case(self, unit: TriageWork, request: ChangeRequest) -> tuple[changes.OpenCase | None, Loads]:
        record = await unit.cases.open_case(request.referral_id)
        if record is None:
            return None, Loads([])
        ids = [record.holder_id, *([request.named_connector_id] if request.named_connector_id else [])]
        loads = Loads(await unit.roster.lock_connectors(covering=prefixes_covering(record.area), ids=ids))
        record = await unit.cases.open_case(request.referral_id, lock=True)
        if record is None:
            return None, loads
        if loads.get(record.holder_id) is None:  # moved by a unit that committed between our read and our lock
            for connector in await unit.roster.lock_connectors(ids=[record.holder_id]):
                loads.by_id[connector.id] = connector
        holder = loads.get(record.holder_id)
        assert holder is not None, f"the holder of {record.referral_id} is not in the roster table"
        case = changes.OpenCase(
            referral_id=record.referral_id,
            holder=holder,
            area=record.area,
            complexity=record.complexity,
            needs=record.needs,
            language_preference=record.language_preference,
        )
        return case, loads

    async def reload_roster(self, unit: TriageWork, roster: Roster, source: str, cause: Cause) -> Reloaded:
        """Upsert the roster (statuses, capacities) and offer every place now free to the waitlist."""
        warnings = await unit.roster.load_roster(roster, source)
        loads = Loads(await unit.roster.lock_connectors(every=True))
        placed = await self.allocator.work_waitlist(unit, loads, cause)
        if placed:
            log.info("roster reload placed %d waiting referrals: %s", len(placed), ", ".join(placed))
        return Reloaded(warnings, placed)

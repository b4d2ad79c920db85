"""Filling places, inside the caller's unit of work: a newcomer after the waitlist, and the waitlist itself.

Every caller has locked the connectors it passes (ports.py): caseloads read from them are current and
stay so until the unit commits. Working the waitlist is how every freed place is offered (closure,
withdrawal, handover, reassignment away, more capacity, back from leave), in the transaction that freed it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from triage.adapters.events import Cause, assigned_from_waitlist
from triage.domain.assignment import Assignment, ConnectorLoad, Placement, new_work_kinds, place
from triage.domain.decision import Decision
from triage.domain.policy import Policy
from triage.domain.postcodes import prefixes_covering
from triage.domain.referral import ReferralFacts
from triage.domain.terms import terms_for
from triage.domain.waitlist import WaitingEntry, choose_for
from triage.ports import NewAssignment, TriageWork

log = logging.getLogger(__name__)


class Loads:
    """The locked connectors of one unit, with the caseloads this unit has changed."""

    def __init__(self, connectors: Iterable[ConnectorLoad]) -> None:
        self.by_id = {c.id: c for c in connectors}

    def __iter__(self) -> Iterator[ConnectorLoad]:
        return iter(list(self.by_id.values()))

    def get(self, connector_id: str) -> ConnectorLoad | None:
        return self.by_id.get(connector_id)

    def changed(self, connector_id: str, by: int) -> ConnectorLoad:
        connector = self.by_id[connector_id]
        self.by_id[connector_id] = updated = dataclasses.replace(connector, caseload=connector.caseload + by)
        return updated


class Allocator:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    async def work_waitlist(
        self, unit: TriageWork, loads: Loads, cause: Cause, only: Iterable[str] | None = None
    ) -> list[str]:
        """Offer every place free among `loads` (or the `only` ids) to the waitlist; the referral ids placed."""
        rules = self.policy.assignment
        wanted = set(only) if only is not None else None
        placed: list[str] = []
        while True:
            open_now = [c for c in loads if c.open_for_new_work and (wanted is None or c.id in wanted)]
            if not open_now:
                return placed
            entry = await unit.waitlist.take_first(open_now, rules)
            if entry is None:
                return placed
            assignment = choose_for(entry, open_now, rules)
            if assignment is None:
                raise RuntimeError(f"waiting entry {entry.referral_id} was offered to connectors who may not take it")
            await self._assign_waiting(unit, loads, entry, assignment, cause)
            placed.append(entry.referral_id)

    async def _assign_waiting(
        self, unit: TriageWork, loads: Loads, entry: WaitingEntry, assignment: Assignment, cause: Cause
    ) -> None:
        now = datetime.now(UTC)
        connector = assignment.connector
        terms = terms_for(self.policy, entry.complexity)
        await unit.waitlist.remove(entry.referral_id)
        await unit.roster.take_case(connector.id)
        await unit.cases.open(
            NewAssignment(
                referral_id=entry.referral_id,
                connector=connector,
                area=entry.area,
                complexity=entry.complexity,
                reason=assignment.reason,
                terms=terms,
                assigned_at=now,
                needs=entry.needs,
                language_preference=entry.language_preference,
                person_key=entry.person_key,
                waiting_since=entry.received_at,
            )
        )
        loads.changed(connector.id, +1)
        unit.publish(assigned_from_waitlist(entry, connector, entry.complexity, terms, now, cause))
        log.info("waiting referral %s assigned to %s as a place freed", entry.referral_id, connector.id)

    async def place_new(
        self, unit: TriageWork, facts: ReferralFacts, decision: Decision, cause: Cause, at: datetime
    ) -> Placement:
        """Place an accepted newcomer, after the waiting people who could take the same connectors."""
        district = decision.district
        assert district is not None, "an accepted referral always has a district"
        loads = Loads(await unit.roster.lock_connectors(covering=prefixes_covering(district)))
        await self.work_waitlist(unit, loads, cause)
        kinds = new_work_kinds(self.policy.assignment, decision.complexity)
        placement = place(list(loads), facts, district, decision.complexity, kinds)
        if isinstance(placement, Assignment):
            await unit.roster.take_case(placement.connector.id)
            await unit.cases.open(
                NewAssignment(
                    referral_id=facts.referral_id,
                    connector=placement.connector,
                    area=district,
                    complexity=decision.complexity,
                    reason=placement.reason,
                    terms=terms_for(self.policy, decision.complexity),
                    assigned_at=at,
                    needs=facts.needs,
                    language_preference=facts.language_preference,
                    person_key=facts.person_key,
                )
            )
        else:
            entry = WaitingEntry(
                referral_id=facts.referral_id,
                area=district,
                complexity=decision.complexity,
                priority=facts.priority,
                received_at=facts.received_at,
                needs=facts.needs,
                language_preference=facts.language_preference,
                person_key=facts.person_key,
                correlation_id=cause.correlation_id,
            )
            await unit.waitlist.add(
                entry, required_kind=placement.required_kind, reason=placement.reason, waitlisted_at=at
            )
        return placement

"""The waiting list: who takes a place when one frees.

Order: priority first, by FHIR ServiceRequest.priority: stat, then asap, then urgent, then routine;
then the time the referral was received (the longest waiting first); then the referral id, so that
the order is total and the same in every process.

A connector may take a waiting entry when they take new work and have room (assignment.py), cover
the entry's district, and are of a kind that may take new work of the entry's complexity under the
policy (assignment.new_work_kinds).

Working the waitlist for a set of connectors (those whose places freed, or all with room): the first
entry in the order above that any of them may take goes to the best of them for it (kinds in the
policy's order, then the assignment ranking); repeated until none of them may take anyone waiting.
A new arrival is placed only after that, so people already waiting take a free place first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from signpost_contracts.vocabulary import Complexity
from triage.domain.assignment import Assignment, ConnectorLoad, best, new_work_kinds, why
from triage.domain.policy import AssignmentRules

PRIORITY_RANK: dict[str, int] = {"stat": 0, "asap": 1, "urgent": 2, "routine": 3}


def priority_rank(priority: str) -> int:
    """0 is the most urgent; an unknown priority waits as routine."""
    return PRIORITY_RANK.get(priority, PRIORITY_RANK["routine"])


@dataclass(frozen=True)
class WaitingEntry:
    referral_id: str
    area: str
    complexity: Complexity
    priority: str
    received_at: datetime
    needs: frozenset[str] = frozenset()
    language_preference: str | None = None
    person_key: str | None = None
    correlation_id: str = ""

    @property
    def order(self) -> tuple[int, datetime, str]:
        return (priority_rank(self.priority), self.received_at, self.referral_id)


def may_take(connector: ConnectorLoad, entry: WaitingEntry, rules: AssignmentRules) -> bool:
    return (
        connector.open_for_new_work
        and connector.covers(entry.area)
        and connector.kind in new_work_kinds(rules, entry.complexity)
    )


def choose_for(entry: WaitingEntry, connectors: Iterable[ConnectorLoad], rules: AssignmentRules) -> Assignment | None:
    """The best of `connectors` for a waiting entry, with the reason; None when none may take it."""
    candidates = list(connectors)
    for position, kind in enumerate(new_work_kinds(rules, entry.complexity)):
        chosen = best(candidates, entry, entry.area, kind)
        if chosen is not None:
            reason = why(chosen, entry, entry.area, fallback=position > 0)
            return Assignment(chosen, f"a place freed; first waiting ({entry.priority} priority) for it: {reason}")
    return None


def first_waiting(
    entries: Iterable[WaitingEntry], connectors: Iterable[ConnectorLoad], rules: AssignmentRules
) -> WaitingEntry | None:
    """The first entry, in waiting order, that any of `connectors` may take."""
    open_connectors = [c for c in connectors if c.open_for_new_work]
    for entry in sorted(entries, key=lambda e: e.order):
        if any(may_take(c, entry, rules) for c in open_connectors):
            return entry
    return None

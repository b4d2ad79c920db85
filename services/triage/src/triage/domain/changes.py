"""Moving an open case: handover to a volunteer, and reassignment by a coordinator. The case keeps its terms.

Handover (asked for by the paid connector once goals are set; intake checks the goals and that
support is under way). Refused, the first reason that applies:
1. the case is not open with a connector (closed, withdrawn, still waiting or unknown);
2. its complexity is not low: complexity is not passed to a volunteer;
3. it is not with a paid connector;
4. no volunteer covering its district takes new work and has room.
Otherwise the best volunteer (the assignment ranking) takes it and the paid place frees.

Reassignment (a coordinator, with a reason): to the named connector, or else to the best other one.
The kinds a case may move to: paid staff for medium and high complexity; for low complexity the kinds
new work may go to under the policy, and volunteers as well when the case is already with a volunteer
(a handed-over case stays light-touch). A low-complexity case with paid staff reaches a volunteer only
by handover, so that intake's check that goals are set is never bypassed. Refused, the first that applies:
1. the case is not open;
named: 2. no such connector in the roster; 3. already with them; 4. on leave, left or no longer in the
roster file; 5. does not cover the district; 6. of a kind the case may not move to; 7. no room;
best: 2. no other connector of an allowed kind covering the district takes new work and has room
(kinds tried in order: the volunteer-first order above, else paid).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from signpost_contracts.vocabulary import Complexity, ConnectorKind
from triage.domain.assignment import ConnectorLoad, best, new_work_kinds, why
from triage.domain.policy import AssignmentRules


@dataclass(frozen=True)
class OpenCase:
    referral_id: str
    holder: ConnectorLoad
    area: str
    complexity: Complexity
    needs: frozenset[str] = frozenset()
    language_preference: str | None = None


@dataclass(frozen=True)
class Move:
    to: ConnectorLoad
    reason: str


@dataclass(frozen=True)
class Refusal:
    reason: str


NOT_OPEN = (
    "The case is not open with a connector (it has closed, been withdrawn, is still waiting for a place or is"
    " not known to triage), so it cannot be moved."
)


def handover(case: OpenCase | None, connectors: Sequence[ConnectorLoad]) -> Move | Refusal:
    if case is None:
        return Refusal(NOT_OPEN)
    if case.complexity != "low":
        return Refusal(
            f"The case is {case.complexity} complexity: only low-complexity cases are handed over to a volunteer;"
            " a paid connector keeps it."
        )
    if case.holder.kind != "paid":
        return Refusal(f"The case is already with a volunteer ({case.holder.id}).")
    chosen = best(connectors, case, case.area, "volunteer")
    if chosen is None:
        return Refusal(
            f"No volunteer covering {case.area} has room just now; the case stays with {case.holder.id}."
            " Ask again when a volunteer's place frees."
        )
    return Move(chosen, f"handed over to a volunteer: {why(chosen, case, case.area)}")


def reassignment_kinds(rules: AssignmentRules, case: OpenCase) -> tuple[ConnectorKind, ...]:
    if case.complexity == "low" and case.holder.kind == "volunteer":
        return ("volunteer", "paid")
    return new_work_kinds(rules, case.complexity)


def _named_refusal(
    case: OpenCase, named: ConnectorLoad | None, connector_id: str, kinds: Sequence[ConnectorKind]
) -> str | None:
    if named is None:
        return f"There is no connector '{connector_id}' in the roster."
    if named.id == case.holder.id:
        return f"The case is already with {named.id}."
    if not named.takes_new_work:
        away = named.status if named.active else "no longer in the roster file"
        return f"{named.id} takes no new work ({away})."
    if not named.covers(case.area):
        return f"{named.id} does not cover {case.area}."
    if named.kind not in kinds:
        allowed = " or ".join(kinds)
        via = " (a volunteer takes it only by handover)" if case.complexity == "low" else ""
        return f"{named.id} is a {named.kind} connector; this {case.complexity}-complexity case goes to {allowed}{via}."
    if not named.has_room:
        return f"{named.id} has no room ({named.caseload}/{named.capacity} cases)."
    return None


def reassignment(
    case: OpenCase | None,
    connectors: Sequence[ConnectorLoad],
    rules: AssignmentRules,
    named_id: str | None,
) -> Move | Refusal:
    if case is None:
        return Refusal(NOT_OPEN)
    kinds = reassignment_kinds(rules, case)
    if named_id is not None:
        named = next((c for c in connectors if c.id == named_id), None)
        refused = _named_refusal(case, named, named_id, kinds)
        if refused is not None or named is None:
            return Refusal(refused or NOT_OPEN)
        return Move(named, f"reassigned to the connector named ({named.caseload}/{named.capacity} cases before)")
    others = [c for c in connectors if c.id != case.holder.id]
    for kind in kinds:
        chosen = best(others, case, case.area, kind)
        if chosen is not None:
            return Move(chosen, f"reassigned to the best other connector: {why(chosen, case, case.area)}")
    who = " or ".join(kinds)
    return Refusal(f"No other {who} connector covering {case.area} has room just now; the case stays where it is.")

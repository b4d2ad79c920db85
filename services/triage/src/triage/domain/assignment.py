"""Choosing a connector for new work, or saying why it waits.

Who takes new work: a connector in the roster file (active) whose status is `available`, with room
(caseload below capacity). Connectors on leave, who have left, or who are no longer in the file keep
their open cases (listed for reassignment) but take no new ones.

Kind, paid first: a paid connector makes first contact and agrees the goals, so every new referral
goes to paid staff whatever its complexity; a volunteer takes a low-complexity case later, once a
plan is in progress, by handover (see handover.py). The policy switch
`assignment.volunteers_take_new_low_complexity` restores volunteer first for services that use
volunteers for light-touch signposting: a new low-complexity referral goes to a volunteer, and to a
paid connector only when no volunteer covering the district has room. Medium and high complexity
always go to paid staff only. The kinds are tried in that order; the ranking chooses within a kind.

Among connectors of one kind who take new work and cover the district, the ranking is:
1. speaks the person's preferred language (when one other than English is given);
2. least loaded, by caseload / capacity;
3. more specialisms matching the referral's needs;
4. smaller caseload; 5. connector id, so the choice is always the same for the same state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from signpost_contracts.vocabulary import Complexity, ConnectorKind
from triage.domain.policy import AssignmentRules
from triage.domain.postcodes import any_covers

COMPLEXITIES: tuple[Complexity, ...] = ("low", "medium", "high")


class Wants(Protocol):
    """What the ranking knows of the person: a referral's facts, or a waiting entry."""

    @property
    def needs(self) -> frozenset[str]: ...

    @property
    def language_preference(self) -> str | None: ...


@dataclass(frozen=True)
class ConnectorLoad:
    id: str
    kind: ConnectorKind
    areas: tuple[str, ...]
    capacity: int
    caseload: int
    languages: tuple[str, ...] = ()
    specialisms: tuple[str, ...] = ()
    status: str = "available"
    active: bool = True

    @property
    def has_room(self) -> bool:
        return self.caseload < self.capacity

    @property
    def takes_new_work(self) -> bool:
        return self.active and self.status == "available"

    @property
    def open_for_new_work(self) -> bool:
        return self.takes_new_work and self.has_room

    def covers(self, district: str) -> bool:
        return any_covers(self.areas, district)


@dataclass(frozen=True)
class Assignment:
    connector: ConnectorLoad
    reason: str


@dataclass(frozen=True)
class Waitlisting:
    required_kind: ConnectorKind | None
    reason: str


Placement = Assignment | Waitlisting


def new_work_kinds(rules: AssignmentRules, complexity: Complexity) -> tuple[ConnectorKind, ...]:
    """The kinds that may take a new referral of this complexity, in the order they are tried."""
    if complexity == "low" and rules.volunteers_take_new_low_complexity:
        return ("volunteer", "paid")
    return ("paid",)


def complexities_taken_as_new_work(rules: AssignmentRules, kind: ConnectorKind) -> tuple[Complexity, ...]:
    """The complexities a connector of `kind` may take as new work (the same rule, seen from the connector)."""
    return tuple(level for level in COMPLEXITIES if kind in new_work_kinds(rules, level))


def rank(connector: ConnectorLoad, wants: Wants) -> tuple[bool, Fraction, int, int, str]:
    speaks = wants.language_preference is None or wants.language_preference in connector.languages
    matching = len(wants.needs & set(connector.specialisms))
    return (not speaks, Fraction(connector.caseload, connector.capacity), -matching, connector.caseload, connector.id)


def best(connectors: Iterable[ConnectorLoad], wants: Wants, district: str, kind: ConnectorKind) -> ConnectorLoad | None:
    """The best-ranked connector of `kind` covering `district` who takes new work and has room."""
    free = [c for c in connectors if c.kind == kind and c.open_for_new_work and c.covers(district)]
    return min(free, key=lambda c: rank(c, wants)) if free else None


def why(chosen: ConnectorLoad, wants: Wants, district: str, *, fallback: bool = False) -> str:
    parts = [
        f"least-loaded {chosen.kind} connector covering {district} with room "
        f"({chosen.caseload}/{chosen.capacity} cases before this one)"
    ]
    if wants.language_preference and wants.language_preference in chosen.languages:
        parts.append(f"speaks '{wants.language_preference}'")
    matching = sorted(wants.needs & set(chosen.specialisms))
    if matching:
        parts.append(f"specialises in {', '.join(matching)}")
    if fallback:
        parts.append("no volunteer covering the district had room, so paid staff take this light-touch referral")
    return "; ".join(parts)


def _who(kinds: Sequence[ConnectorKind], complexity: Complexity) -> str:
    if len(kinds) > 1:
        return "connector"
    if kinds[0] == "paid" and complexity == "low":
        return "paid connector (new referrals start with paid staff)"
    if kinds[0] == "paid":
        return f"paid connector (needed for {complexity} complexity)"
    return f"{kinds[0]} connector"


def place(
    connectors: list[ConnectorLoad],
    wants: Wants,
    district: str,
    complexity: Complexity,
    kinds: Sequence[ConnectorKind],
) -> Placement:
    """Pick a connector from `connectors` (locked, current caseloads) for new work, or explain the wait."""
    for position, kind in enumerate(kinds):
        chosen = best(connectors, wants, district, kind)
        if chosen is not None:
            return Assignment(chosen, why(chosen, wants, district, fallback=position > 0))
    required: ConnectorKind | None = None if len(kinds) > 1 else kinds[0]
    eligible = [c for c in connectors if c.kind in kinds and c.covers(district)]
    if not eligible:
        kind_word = "connector" if required is None else f"{required} connector"
        return Waitlisting(required, f"no {kind_word} covers {district} yet")
    who = _who(kinds, complexity)
    if not any(c.takes_new_work for c in eligible):
        return Waitlisting(required, f"every {who} covering {district} is on leave or has left")
    away = " or away" if any(not c.takes_new_work for c in eligible) else ""
    return Waitlisting(required, f"every {who} covering {district} is at capacity{away}")

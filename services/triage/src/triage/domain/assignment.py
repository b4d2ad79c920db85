"""Choosing a connector for an accepted referral, or saying why it waits.

Kind: medium and high complexity go to paid staff only. Low complexity goes to a volunteer, and
to a paid connector only when no volunteer covering the district has room: light-touch support
should not wait while paid staff have space, and trying volunteers first keeps paid capacity for
the complex cases that need it.

Among connectors of the allowed kind who cover the district and have room, the ranking is:
1. speaks the person's preferred language (when one other than English is given);
2. least loaded, by caseload / capacity;
3. more specialisms matching the referral's needs;
4. smaller caseload; 5. connector id, so the choice is always the same for the same state.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from signpost_contracts.vocabulary import Complexity, ConnectorKind
from triage.domain.postcodes import any_covers
from triage.domain.referral import ReferralFacts


@dataclass(frozen=True)
class ConnectorLoad:
    id: str
    kind: ConnectorKind
    areas: tuple[str, ...]
    capacity: int
    caseload: int
    languages: tuple[str, ...] = ()
    specialisms: tuple[str, ...] = ()

    @property
    def has_room(self) -> bool:
        return self.caseload < self.capacity


@dataclass(frozen=True)
class Assignment:
    connector: ConnectorLoad
    reason: str


@dataclass(frozen=True)
class Waitlisting:
    required_kind: ConnectorKind | None
    reason: str


Placement = Assignment | Waitlisting


def _rank(connector: ConnectorLoad, facts: ReferralFacts) -> tuple[bool, Fraction, int, int, str]:
    speaks = facts.language_preference is None or facts.language_preference in connector.languages
    matching = len(facts.needs & set(connector.specialisms))
    return (not speaks, Fraction(connector.caseload, connector.capacity), -matching, connector.caseload, connector.id)


def _why(chosen: ConnectorLoad, facts: ReferralFacts, district: str, fallback: bool) -> str:
    parts = [
        f"least-loaded {chosen.kind} connector covering {district} with room "
        f"({chosen.caseload}/{chosen.capacity} cases before this one)"
    ]
    if facts.language_preference and facts.language_preference in chosen.languages:
        parts.append(f"speaks '{facts.language_preference}'")
    matching = sorted(facts.needs & set(chosen.specialisms))
    if matching:
        parts.append(f"specialises in {', '.join(matching)}")
    if fallback:
        parts.append("no volunteer covering the district had room, so paid staff take this light-touch referral")
    return "; ".join(parts)


def place(connectors: list[ConnectorLoad], facts: ReferralFacts, district: str, complexity: Complexity) -> Placement:
    """Pick a connector from `connectors` (active, current caseloads) or explain the wait."""
    covering = [c for c in connectors if any_covers(c.areas, district)]
    kinds: list[ConnectorKind] = ["volunteer", "paid"] if complexity == "low" else ["paid"]
    for position, kind in enumerate(kinds):
        free = [c for c in covering if c.kind == kind and c.has_room]
        if free:
            chosen = min(free, key=lambda c: _rank(c, facts))
            return Assignment(chosen, _why(chosen, facts, district, fallback=position > 0))
    required: ConnectorKind | None = None if complexity == "low" else "paid"
    if not any(c.kind in kinds for c in covering):
        who = "connector" if required is None else f"{required} connector"
        return Waitlisting(required, f"no {who} covers {district} yet")
    who = "connector" if required is None else f"{required} connector (needed for {complexity} complexity)"
    return Waitlisting(required, f"every {who} covering {district} is at capacity")

"""What a search asks for, in Signpost's terms: the FHIR query syntax is read in adapters/fhir_search.py.

A token match (`identifier`, `owner:identifier`) leaves out what the searcher left out: no system
matches any system, no value any value. A time interval is half-open, [start, end), because FHIR
gives every date-search value an implicit range (2026-12-01 is that whole day) and each prefix
compares the resource's instant with one end of it; None is unbounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TokenMatch:
    system: str | None
    value: str | None

    def matches(self, system: str, value: str) -> bool:
        return (self.system is None or self.system == system) and (self.value is None or self.value == value)


# One search parameter: any of its comma-separated tokens (OR). Repeating the parameter is AND.
AnyOf = tuple[TokenMatch, ...]


@dataclass(frozen=True)
class Interval:
    start: datetime | None
    end: datetime | None

    def holds(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)


@dataclass(frozen=True)
class TaskPosition:
    """Where a page of Tasks ended: the next page starts after this (last_updated, task_id)."""

    last_updated: datetime
    task_id: str


@dataclass(frozen=True)
class TaskQuery:
    """Every field narrows the search (AND); None or empty means not asked."""

    referral_id: str | None = None
    statuses: frozenset[str] | None = None
    updated: tuple[Interval, ...] = ()
    # Every Task is owned by this service (adapters/fhir_task.py); an owner search naming anyone else matches none.
    owner_is_elsewhere: bool = False

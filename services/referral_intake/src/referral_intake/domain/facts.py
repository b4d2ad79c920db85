"""Merging facts whatever order they arrive in: the later fact wins, ties settled by event id."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, TypeVar


class Fact(Protocol):
    @property
    def at(self) -> datetime: ...
    @property
    def event_id(self) -> str: ...


FactT = TypeVar("FactT", bound=Fact)


def later(current: FactT | None, incoming: FactT) -> FactT:
    """The fact to keep: the later one; equal times are settled by event id so order never matters."""
    if current is None:
        return incoming
    return max(current, incoming, key=lambda fact: (fact.at, fact.event_id))

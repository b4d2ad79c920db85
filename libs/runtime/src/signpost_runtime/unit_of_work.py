"""The one way a use case changes state: inside a unit of work opened by the edge.

The edge (the consumer for an event, a route for a request) opens the unit; the use case works
through the repositories the unit carries and announces what happened with `publish`; when the
block ends without an error the events go to the outbox and everything commits together, else
nothing does (eShop's TransactionBehavior, Cosmic Python's unit of work). Adapters never open
transactions of their own.

Each service subclasses `Unit` to add its repositories, built on the unit's connection. Tests of
the service layer pass a fake with in-memory repositories instead: the use cases see only the
repository methods and `publish`, so their rules are tested in milliseconds, without PostgreSQL.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

import asyncpg

from signpost_contracts import EventEnvelope
from signpost_runtime.db import transaction
from signpost_runtime.outbox import Outbox


class Unit:
    """The work of one use case: its transaction's connection, and the events it announces."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection
        self.events: list[EventEnvelope] = []

    def publish(self, *events: EventEnvelope) -> None:
        """Announce events; they reach the outbox only if the unit commits."""
        self.events.extend(events)


UnitT = TypeVar("UnitT", bound=Unit)


class UnitOfWork(Generic[UnitT]):
    def __init__(self, pool: asyncpg.Pool, outbox: Outbox, make_unit: Callable[[asyncpg.Connection], UnitT]) -> None:
        self.pool = pool
        self.outbox = outbox
        self.make_unit = make_unit

    @contextlib.asynccontextmanager
    async def __call__(self, *, isolation: str | None = None, readonly: bool = False) -> AsyncIterator[UnitT]:
        """`isolation="repeatable_read", readonly=True` gives a read that sees one snapshot throughout."""
        async with transaction(self.pool, isolation=isolation, readonly=readonly) as connection:
            unit = self.make_unit(connection)
            yield unit
            await self.outbox.add_events(connection, unit.events)

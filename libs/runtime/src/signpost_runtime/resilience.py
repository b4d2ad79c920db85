"""Riding out a database or network outage.

Two situations need care. A failure of the infrastructure is not a failure of the message, so a
consumer redelivers instead of dead-lettering. And once an external side effect has happened (a
batch published, an email sent), recording it must be retried until the database is back:
giving up would leave it looking undone, and it would be done again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

log = logging.getLogger(__name__)
T = TypeVar("T")

INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
)


async def record_through_outage(operation: Callable[[], Awaitable[T]], *, what: str, give_up_after: float = 60.0) -> T:
    """Run `operation`, retrying while the infrastructure is unreachable, for up to `give_up_after` seconds."""
    delay = 0.1
    deadline = time.monotonic() + give_up_after
    while True:
        try:
            return await operation()
        except INFRASTRUCTURE_ERRORS as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("cannot record %s yet (%r); retrying in %.1fs", what, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

"""Waking a worker loop promptly: PostgreSQL NOTIFY on a channel, with a timeout as the fallback poll.

NOTIFY issued inside a transaction is delivered only when it commits, so a worker woken this way
always finds the committed rows. If the listening connection drops (a database restart), the
timeout keeps the loop polling until `ensure_listening` reconnects on the next cycle.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg


class NotifyWakeup:
    def __init__(self, database_url: str, channel: str) -> None:
        self.database_url = database_url
        self.channel = channel
        self._event = asyncio.Event()
        self._listener: asyncpg.Connection | None = None

    async def ensure_listening(self) -> None:
        # A dedicated connection: LISTEN must outlive any pooled connection's checkout.
        if self._listener is not None and not self._listener.is_closed():
            return
        self._listener = await asyncpg.connect(self.database_url)
        await self._listener.add_listener(self.channel, lambda *_: self._event.set())

    def clear(self) -> None:
        """Forget wake-ups seen so far: call before looking for work, so none is missed after."""
        self._event.clear()

    def wake(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout=timeout)

    async def close(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()
            self._listener = None

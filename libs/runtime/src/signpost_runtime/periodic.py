"""A background job run every so often for the service's life (housekeeping, intake's retention purge).

It waits first: a service starting (or restarting in a crash loop) has more urgent work. A failure is
logged and the job tried again next time, never stopping the service; stopping the service cancels it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class PeriodicJob:
    def __init__(self, name: str, every_seconds: float, run_once: Callable[[], Awaitable[object]]) -> None:
        self.name = name
        self.every_seconds = every_seconds
        self.run_once = run_once
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every_seconds)
            try:
                await self.run_once()
            except Exception:
                log.exception("%s failed; trying again later", self.name)

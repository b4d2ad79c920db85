"""Keeps the awaiting-referral gauge current: outcomes that nobody can be told about yet.

An outcome waits for referral.received.v1 to learn whom to tell. If that event never comes (lost
upstream, dead-lettered, or published to the wrong topic), the referrer would never hear, and
nothing would say so: the gauge makes it visible (alert on it being above zero).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from notifications.metrics import OUTCOMES_AWAITING_REFERRAL
from notifications.unit import NotificationsUnit
from signpost_runtime.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class AwaitingReferralWatch:
    def __init__(
        self, units: UnitOfWork[NotificationsUnit], *, longer_than_seconds: float, every_seconds: float
    ) -> None:
        self.units = units
        self.longer_than_seconds = longer_than_seconds
        self.every_seconds = every_seconds
        self._task: asyncio.Task[None] | None = None
        self._last_seen = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="awaiting-referral-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def refresh(self) -> int:
        async with self.units() as unit:
            waiting = await unit.referrals.count_awaiting_referral(self.longer_than_seconds)
        OUTCOMES_AWAITING_REFERRAL.set(waiting)
        return waiting

    async def _run(self) -> None:
        while True:
            try:
                waiting = await self.refresh()
                if waiting and waiting != self._last_seen:
                    log.warning(
                        "%d outcome(s) have waited over %gs for their referral's details; "
                        "see GET /outcomes/awaiting-referral or `signpost-notifications awaiting`",
                        waiting,
                        self.longer_than_seconds,
                    )
                self._last_seen = waiting
            except Exception as exc:
                log.warning("cannot count the outcomes awaiting their referral (%r); trying again later", exc)
            await asyncio.sleep(self.every_seconds)

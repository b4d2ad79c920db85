"""After a send: receipts asked for, and urgent messages escalated until someone has them.

Receipts: GOV.UK Notify says afterwards whether a message reached its recipient. Deliveries awaiting
one are asked about every RECEIPT_POLL_SECONDS (claimed by marking them asked, so replicas share
the work), the provider is asked outside any transaction, and each answer is recorded by
`service.record_receipt`: delivered confirms it; a permanent or temporary failure fails it (listed,
re-drivable) and the referrer's next route is tried. A receipt that never comes (Notify keeps them
for seven days) stops being asked for after RECEIPT_GIVE_UP_SECONDS.

Urgent: an urgent message not confirmed within URGENT_CONFIRM_SECONDS is escalated a step
(`Notifier.escalate_due`); the open ones are counted in signpost_notification_urgent_unconfirmed
and listed by GET /urgent until confirmed or acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from notifications import service
from notifications.domain.deliveries import ProviderUnavailableError
from notifications.domain.messages import Channel, ReceiptReader
from notifications.metrics import DELIVERIES, URGENT_UNCONFIRMED
from notifications.service import Notifier
from notifications.unit import NotificationsUnit
from signpost_runtime.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class FollowUp:
    def __init__(
        self,
        units: UnitOfWork[NotificationsUnit],
        notifier: Notifier,
        receipts: Mapping[Channel, ReceiptReader],
        *,
        every_seconds: float,
        receipt_every_seconds: float,
        receipt_give_up_seconds: float,
        batch_size: int = 50,
    ) -> None:
        self.units, self.notifier, self.receipts = units, notifier, dict(receipts)
        self.every_seconds = every_seconds
        self.receipt_every_seconds = receipt_every_seconds
        self.receipt_give_up_seconds = receipt_give_up_seconds
        self.batch_size = batch_size
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="delivery-follow-up")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run_once(self) -> None:
        await self.ask_for_receipts()
        await self.escalate()

    async def ask_for_receipts(self) -> int:
        if not self.receipts:
            return 0
        async with self.units() as unit:
            await unit.deliveries.stop_awaiting_receipt(self.receipt_give_up_seconds)
            awaited = await unit.deliveries.receipts_due(self.batch_size, self.receipt_every_seconds)
        answered = 0
        for delivery in awaited:
            reader = self.receipts.get(delivery.channel)
            if reader is None:
                continue
            try:
                receipt = await reader.receipt(delivery.provider_reference)
            except ProviderUnavailableError as exc:
                log.warning("cannot ask for the receipt of %s yet: %s", delivery.notification_id, exc)
                continue  # asked again after receipt_every_seconds
            async with self.units() as unit:
                status = await service.record_receipt(unit, delivery, receipt, self.notifier)
            if status not in ("pending", "delivered"):
                log.error("delivery %s was not delivered: %s", delivery.notification_id, receipt.detail or status)
            answered += status != "pending"
        return answered

    async def escalate(self) -> int:
        async with self.units() as unit:
            escalations = await self.notifier.escalate_due(unit)
        async with self.units() as unit:
            URGENT_UNCONFIRMED.set(len(await unit.deliveries.open_urgent()))
            counts = await unit.deliveries.counts()
        for channel in ("email", "sms", "bars"):
            for state in ("pending", "sent", "delivered", "failed", "suppressed"):
                DELIVERIES.labels(channel, state).set(counts.get((channel, state), 0))
        return len(escalations)

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception as exc:
                log.warning("delivery follow-up failed this time (%r); trying again in %gs", exc, self.every_seconds)
            await asyncio.sleep(self.every_seconds)

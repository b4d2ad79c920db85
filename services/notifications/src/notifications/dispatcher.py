"""The dispatcher: claims due deliveries, sends them, and hands each result to a use case to record.

No transaction is held while talking to SMTP: deliveries are claimed with a lease (one short unit
of work), sent, and each result is recorded with its event by a use case in service.py (another).

A sent email is never sent again because of anything the database does afterwards:
- recording a finished send is retried, whatever the error, for as long as the process lives (a
  send recorded late is fine; a send repeated is not), and liveness treats that wait as riding out
  an outage, not as being stuck, since a restart would forget the send;
- while it waits, the lease is extended (heartbeat), so no other replica can claim the delivery as
  long as the database takes writes at all;
- the delivery is remembered as sent-but-unrecorded, so if this dispatcher claims it again it
  records it without sending, and never releases its lease after a failed cycle;
- the record is fenced by the claim: a dispatcher whose claim was taken over finds out, and logs and
  counts the send as a possible duplicate.
What remains is the process dying between sending and recording: the email then goes again once the
lease lapses, with the same Message-ID and idempotency key, so it is recognisable downstream.

A provider that cannot be reached is an outage, not an attempt: its deliveries wait while one
probes it after a growing pause (ProviderOutage: a circuit breaker per provider, so GOV.UK Notify
being down holds back SMS and Notify email but not BaRS), and they drain when it is back.

Sending again after a send whose answer was lost (a timeout after the request went, a dispatcher that
died) would send twice; a provider that can be asked (GOV.UK Notify, by the delivery's `reference`)
is asked first, and a message it already took is recorded as sent instead. BaRS needs no asking:
the same X-Request-ID again is answered 409 duplicate, which counts as delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from notifications import service
from notifications.adapters.deliveries import DELIVERIES_CHANNEL
from notifications.domain.deliveries import (
    ClaimedDelivery,
    ProviderUnavailableError,
    SendError,
    message_id,
)
from notifications.domain.messages import Channel, MessageSender, OutgoingMessage, ReceiptReader, Sent
from notifications.domain.retry import ProviderOutage, RetryPolicy
from notifications.metrics import DELIVERY_ATTEMPTS, POSSIBLE_DUPLICATES, PROVIDER_UNREACHABLE, SEND_SECONDS
from notifications.service import Notifier, Recorded
from notifications.unit import NotificationsUnit
from signpost_runtime.leased_worker import LeasedWorker
from signpost_runtime.logs import event_context
from signpost_runtime.resilience import record_through_outage
from signpost_runtime.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

UseCase = Callable[[NotificationsUnit], Awaitable[Recorded]]


def _any_error(error: BaseException) -> bool:
    return isinstance(error, Exception)  # everything but cancellation


class Dispatcher(LeasedWorker):
    name = "delivery-dispatcher"

    def __init__(
        self,
        units: UnitOfWork[NotificationsUnit],
        senders: Mapping[Channel, MessageSender],
        policy: RetryPolicy,
        new_outage: Callable[[], ProviderOutage],
        *,
        receipts: Mapping[Channel, ReceiptReader] | None = None,
        notifier: Notifier | None = None,
        database_url: str,
        message_id_domain: str,
        batch_size: int,
        lease_seconds: float,
        poll_seconds: float,
    ) -> None:
        super().__init__(
            units.pool,
            database_url=database_url,
            channel=DELIVERIES_CHANNEL,
            batch_size=batch_size,
            lease_seconds=lease_seconds,
            poll_seconds=poll_seconds,
        )
        # channel -> its sender; each provider (sender.provider) has its own outage, so one down holds back no other.
        self.senders = dict(senders)
        self.receipts = dict(receipts or {})
        self.units, self.policy, self.notifier = units, policy, notifier
        # Fixed at start: a sender replaced later (tests inject faults that way) keeps its provider's outage.
        self.provider_of = {channel: sender.provider for channel, sender in self.senders.items()}
        self.outages = {provider: new_outage() for provider in self.provider_of.values()}
        self.message_id_domain = message_id_domain
        self.sent_unrecorded: set[uuid.UUID] = set()

    @property
    def sender(self) -> MessageSender:
        """The email sender (tests replace it to inject faults)."""
        return self.senders["email"]

    @sender.setter
    def sender(self, sender: MessageSender) -> None:
        self.senders["email"] = sender

    def outage_of(self, channel: Channel) -> ProviderOutage:
        return self.outages[self.provider_of[channel]]

    def longest_healthy_cycle(self) -> float:
        # A cycle may begin only after the pause for an unreachable provider.
        return super().longest_healthy_cycle() + max(outage.max_seconds for outage in self.outages.values())

    def _claimable(self, now: float) -> dict[int, list[str]]:
        """Channels whose provider may be tried now, grouped by how many to claim (one while probing an outage)."""
        groups: dict[int, list[str]] = {}
        for channel in self.senders:
            outage = self.outage_of(channel)
            if outage.wait(now) == 0:
                groups.setdefault(outage.batch_limit(self.batch_size), []).append(channel)
        return groups

    async def work_once(self) -> int:
        """Claim and work one batch; returns how many deliveries it settled or attempted."""
        groups = self._claimable(time.monotonic())
        if not groups:
            return 0  # every provider is down: leave every delivery where it is until a pause is over
        claimed = service.Claimed([], [])
        async with self.units() as unit:
            for limit, channels in groups.items():
                some = await service.claim_due(
                    unit,
                    owner=self.owner,
                    limit=limit,
                    lease_seconds=self.lease_seconds,
                    policy=self.policy,
                    sent_earlier=self.sent_unrecorded,
                    channels=channels,
                    notifier=self.notifier,
                )
                claimed.to_send.extend(some.to_send)
                claimed.abandoned.extend(some.abandoned)
        for delivery in claimed.abandoned:
            DELIVERY_ATTEMPTS.labels(delivery.channel, "failed").inc()
            log.error("delivery %s failed: claimed too often with no result recorded", delivery.notification_id)
        # Let every attempt finish before any error is raised: a cycle that fails has nothing in flight.
        results = await asyncio.gather(
            *(self._attempt(delivery) for delivery in claimed.to_send), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return len(claimed.to_send) + len(claimed.abandoned)

    async def release_own_leases(self) -> None:
        async with self.units() as unit:
            await unit.deliveries.release_leases_of(self.owner, keep=self.sent_unrecorded)

    async def wait_after(self, worked: int) -> float:
        now = time.monotonic()
        pauses = [self.outage_of(channel).wait(now) for channel in self.senders]
        if all(pause > 0 for pause in pauses):
            return min(pauses)
        # A retry may fall due before the next poll: wake for it rather than sleep past it.
        async with self.units() as unit:
            due = await unit.deliveries.seconds_until_next_due()
        return self.poll_seconds if due is None else min(due, self.poll_seconds)

    async def _attempt(self, delivery: ClaimedDelivery) -> None:
        with event_context(correlation_id=delivery.correlation_id, subject=delivery.referral_id):
            if delivery.notification_id in self.sent_unrecorded:
                log.warning(
                    "delivery %s went out under an earlier claim: recording it, not sending it again",
                    delivery.notification_id,
                )
                await self._record_sent(delivery)
                return
            try:
                sent = await self._send(delivery)
            except ProviderUnavailableError as exc:
                await self._provider_unavailable(delivery, str(exc))
            except SendError as exc:
                self._provider_reachable(delivery.channel)
                await self._refused(delivery, str(exc), permanent=exc.permanent)
            except TimeoutError:
                error = f"the send did not finish within {self.work_deadline:.0f}s (75% of the lease)"
                await self._refused(delivery, error, permanent=False)
            except Exception as exc:
                # An unexpected error must not lose the delivery: treat it as a transient refusal.
                log.exception("unexpected error sending delivery %s", delivery.notification_id)
                await self._refused(delivery, f"{type(exc).__name__}: {exc}", permanent=False)
            else:
                self._provider_reachable(delivery.channel)
                await self._record_sent(delivery, sent)

    async def _send(self, delivery: ClaimedDelivery) -> Sent:
        started = time.perf_counter()
        try:
            # SMTP timeouts apply per command and an exchange is about ten of them: only a deadline on
            # the whole send stops a slow server from outlasting the lease (and a second replica sending).
            async with asyncio.timeout(self.work_deadline):
                sent = await self._taken_already(delivery)
                if sent is None:
                    sent = await self.senders[delivery.channel].send(self._message(delivery))
        finally:
            SEND_SECONDS.labels(delivery.channel).observe(time.perf_counter() - started)
        # The message is out: from here on it must never be sent again.
        self.sent_unrecorded.add(delivery.notification_id)
        return sent

    async def _taken_already(self, delivery: ClaimedDelivery) -> Sent | None:
        """After a send whose answer was lost, ask the provider (when it can be asked) whether it took the message."""
        reader = self.receipts.get(delivery.channel)
        answer_lost = delivery.attempts > 0 or delivery.unrecorded_claims > 1
        if reader is None or not answer_lost:
            return None
        reference = await reader.already_sent(delivery.idempotency_key)
        if reference is None:
            return None
        log.warning(
            "delivery %s: the provider took it under an earlier attempt (%s): recording it, not sending it again",
            delivery.notification_id,
            reference,
        )
        return Sent(provider_reference=reference)

    def _message(self, delivery: ClaimedDelivery) -> OutgoingMessage:
        return OutgoingMessage(
            channel=delivery.channel,
            recipient=delivery.recipient,
            subject=delivery.subject,
            text=delivery.body,
            message_id=message_id(delivery.idempotency_key, self.message_id_domain),
            idempotency_key=delivery.idempotency_key,
            referral_id=delivery.referral_id,
            correlation_id=delivery.correlation_id,
            template=delivery.template,
            # GOV.UK Notify's template frames the words Signpost composed (the same words SMTP would send).
            personalisation={"subject": delivery.subject, "body": delivery.body, "referral_id": delivery.referral_id},
        )

    async def _record_sent(self, delivery: ClaimedDelivery, sent: Sent | None = None) -> None:
        with self.riding_out_outage():
            async with self._lease_kept(delivery):
                recorded = await record_through_outage(
                    lambda: self._in_unit(lambda unit: service.record_sent(unit, delivery, sent)),
                    what=f"delivery {delivery.notification_id} sent",
                    give_up_after=None,
                    retry_on=_any_error,
                )
        DELIVERY_ATTEMPTS.labels(delivery.channel, recorded.result).inc()
        if recorded.result == "sent":
            self.sent_unrecorded.discard(delivery.notification_id)
            log.info("sent %s (attempt %s)", delivery.notification_id, recorded.attempts or "recorded earlier")
            return
        POSSIBLE_DUPLICATES.labels(delivery.channel).inc()
        log.error(
            "delivery %s was sent, but claim %d no longer held it when the send was recorded (it is now %s): "
            "another dispatcher may have sent it too, so the referrer may receive it twice",
            delivery.notification_id,
            delivery.claim.number,
            recorded.now_status or "gone",
        )
        if recorded.now_status != "pending":
            self.sent_unrecorded.discard(delivery.notification_id)

    @contextlib.asynccontextmanager
    async def _lease_kept(self, delivery: ClaimedDelivery) -> AsyncIterator[None]:
        keeper = asyncio.create_task(self._keep_lease(delivery), name=f"lease-{delivery.notification_id}")
        try:
            yield
        finally:
            keeper.cancel()
            await asyncio.wait({keeper})

    async def _keep_lease(self, delivery: ClaimedDelivery) -> None:
        # A healthy record is done long before the first extension, so this costs no write. Early
        # enough, though, for a send that took nearly its whole deadline (75% of the lease).
        await asyncio.sleep(self.lease_seconds / 8)
        while True:
            try:
                async with self.units() as unit:
                    held = await unit.deliveries.extend_lease(delivery, self.lease_seconds)
            except Exception as exc:
                log.warning("cannot extend the lease of delivery %s yet (%r)", delivery.notification_id, exc)
                await asyncio.sleep(min(self.lease_seconds / 8, 1.0))
                continue
            if not held:
                log.error("delivery %s: another claim holds it now; its lease cannot be kept", delivery.notification_id)
                return
            await asyncio.sleep(self.lease_seconds / 4)

    async def _refused(self, delivery: ClaimedDelivery, error: str, *, permanent: bool) -> None:
        recorded = await self._record(
            delivery,
            lambda unit: service.record_refusal(
                unit, delivery, error, permanent=permanent, policy=self.policy, notifier=self.notifier
            ),
        )
        if recorded.result == "retry_scheduled":
            log.warning(
                "attempt %s of %s refused, retrying in %.1fs: %s",
                recorded.attempts,
                delivery.notification_id,
                recorded.retry_in,
                error,
            )
        elif recorded.result == "failed":
            log.error("delivery %s failed after %s attempt(s): %s", delivery.notification_id, recorded.attempts, error)

    async def _provider_unavailable(self, delivery: ClaimedDelivery, error: str) -> None:
        pause = self.outage_of(delivery.channel).unreachable(time.monotonic())
        PROVIDER_UNREACHABLE.labels(delivery.channel).set(1)
        log.warning(
            "provider unreachable, delivery %s waits (not an attempt); trying again in %.1fs: %s",
            delivery.notification_id,
            pause,
            error,
        )
        await self._record(delivery, lambda unit: service.record_provider_unavailable(unit, delivery, error))

    def _provider_reachable(self, channel: Channel) -> None:
        outage = self.outage_of(channel)
        if outage.ongoing:
            log.info("%s reachable again: sending what waited", self.provider_of[channel])
        outage.reachable()
        PROVIDER_UNREACHABLE.labels(channel).set(0)

    async def _record(self, delivery: ClaimedDelivery, use_case: UseCase) -> Recorded:
        """Record a result that is not a send: retried through an outage, for a while (at worst it is tried again)."""
        with self.riding_out_outage():
            recorded = await record_through_outage(
                lambda: self._in_unit(use_case), what=f"result of delivery {delivery.notification_id}"
            )
        DELIVERY_ATTEMPTS.labels(delivery.channel, recorded.result).inc()
        if recorded.result == "fenced_out":
            log.warning("result of delivery %s not recorded: another claim holds it now", delivery.notification_id)
        return recorded

    async def _in_unit(self, use_case: UseCase) -> Recorded:
        async with self.units() as unit:
            return await use_case(unit)

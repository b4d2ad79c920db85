"""The dispatcher: sends pending deliveries, retries failures, reports the outcome of each.

No database transaction is held while talking to SMTP: a delivery is claimed (short transaction,
lease), sent, then its result is recorded together with its integration event (second short
transaction, through the outbox). A crash between sending and recording sends the email again
once the lease runs out, with the same Message-ID and idempotency key, so it is recognisable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

import asyncpg

from notifications.adapters import delivery_store
from notifications.adapters.delivery_store import ClaimedDelivery
from notifications.adapters.repository import DELIVERIES_CHANNEL
from notifications.domain.deliveries import OutgoingEmail, SendError, message_id
from notifications.domain.retry import RetryPolicy
from notifications.metrics import DELIVERY_ATTEMPTS, SEND_SECONDS
from signpost_contracts import EventEnvelope, new_event
from signpost_contracts.events.notifications import NotificationFailed, NotificationSent
from signpost_runtime.db import transaction
from signpost_runtime.leased_worker import LeasedWorker
from signpost_runtime.logs import event_context
from signpost_runtime.outbox import Outbox
from signpost_runtime.resilience import record_through_outage

log = logging.getLogger(__name__)

# A send must finish well inside the lease: SMTP timeouts apply per command, and an exchange is
# about ten commands, so only a deadline on the whole send stops a slow server from outlasting the
# lease and letting another replica claim and send the same email again.
SEND_DEADLINE_SHARE_OF_LEASE = 0.75
# How long to keep trying to record a finished send while the database is away. Giving up means the
# email goes again once the lease lapses, so be patient: the dispatcher sends nothing else meanwhile.
RECORDING_PATIENCE_SECONDS = 600.0


class EmailSender(Protocol):
    async def send(self, email: OutgoingEmail) -> None: ...


class Dispatcher(LeasedWorker):
    name = "delivery-dispatcher"

    def __init__(
        self,
        pool: asyncpg.Pool,
        sender: EmailSender,
        outbox: Outbox,
        policy: RetryPolicy,
        *,
        database_url: str,
        message_id_domain: str,
        batch_size: int,
        lease_seconds: float,
        poll_seconds: float,
    ) -> None:
        super().__init__(
            pool,
            database_url=database_url,
            channel=DELIVERIES_CHANNEL,
            batch_size=batch_size,
            lease_seconds=lease_seconds,
            poll_seconds=poll_seconds,
        )
        self.sender, self.outbox, self.policy = sender, outbox, policy
        self.message_id_domain = message_id_domain
        self.send_deadline = lease_seconds * SEND_DEADLINE_SHARE_OF_LEASE

    async def work_once(self) -> int:
        """Send one claimed batch; returns how many deliveries were attempted."""
        batch = await delivery_store.claim_due(self.pool, self.batch_size, self.lease_seconds, self.owner)
        # Let every attempt finish before any error is raised: a cycle that fails has nothing in flight.
        results = await asyncio.gather(*(self._attempt(delivery) for delivery in batch), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return len(batch)

    async def release_own_leases(self) -> None:
        await delivery_store.release_leases_of(self.pool, self.owner)

    async def wait_after(self, worked: int) -> float:
        # A retry may fall due before the next poll: wake for it rather than sleep past it.
        due = await delivery_store.seconds_until_next_due(self.pool)
        return self.poll_seconds if due is None else min(due, self.poll_seconds)

    async def _attempt(self, delivery: ClaimedDelivery) -> None:
        with event_context(correlation_id=delivery.correlation_id, subject=delivery.referral_id):
            started = time.perf_counter()
            try:
                async with asyncio.timeout(self.send_deadline):
                    await self.sender.send(self._email(delivery))
            except TimeoutError:
                error = f"the SMTP exchange did not finish within {self.send_deadline:.0f}s (75% of the lease)"
                await self._record_failure(delivery, error, permanent=False)
            except SendError as exc:
                await self._record_failure(delivery, str(exc), permanent=exc.permanent)
            except Exception as exc:
                # An unexpected error must not lose the delivery: treat it as transient.
                log.exception("unexpected error sending delivery %s", delivery.notification_id)
                await self._record_failure(delivery, f"{type(exc).__name__}: {exc}", permanent=False)
            else:
                # The email is out: recording that must outlast a database outage, or it is sent again.
                await record_through_outage(
                    lambda: self._sent(delivery),
                    what=f"delivery {delivery.notification_id} sent",
                    give_up_after=RECORDING_PATIENCE_SECONDS,
                )
                log.info("sent %s (attempt %d)", delivery.notification_id, delivery.attempts)
            finally:
                SEND_SECONDS.labels(delivery.channel).observe(time.perf_counter() - started)

    def _email(self, delivery: ClaimedDelivery) -> OutgoingEmail:
        return OutgoingEmail(
            recipient=delivery.recipient,
            subject=delivery.subject,
            text=delivery.body,
            message_id=message_id(delivery.idempotency_key, self.message_id_domain),
            idempotency_key=delivery.idempotency_key,
            referral_id=delivery.referral_id,
        )

    async def _record_failure(self, delivery: ClaimedDelivery, error: str, *, permanent: bool) -> None:
        await record_through_outage(
            lambda: self._failed(delivery, error, permanent=permanent),
            what=f"failed attempt of delivery {delivery.notification_id}",
        )

    async def _sent(self, delivery: ClaimedDelivery) -> None:
        async with transaction(self.pool) as conn:
            finished = await delivery_store.mark_sent(conn, delivery.notification_id)
            if finished is None:
                return  # already finished elsewhere; its event was written then
            DELIVERY_ATTEMPTS.labels(delivery.channel, "sent").inc()
            payload = NotificationSent(
                referral_id=delivery.referral_id,
                notification_id=str(delivery.notification_id),
                about_event_type=delivery.about_event_type,
                channel="email",
                sent_at=finished.at,
                attempts=finished.attempts,
            )
            await self.outbox.add_event(conn, self._event(payload, delivery))

    async def _failed(self, delivery: ClaimedDelivery, error: str, *, permanent: bool) -> None:
        delay = self.policy.delay_after_failure(delivery.attempts, permanent=permanent)
        if delay is not None:
            log.warning(
                "attempt %d of %s failed, retrying in %.1fs: %s",
                delivery.attempts,
                delivery.notification_id,
                delay,
                error,
            )
            await delivery_store.schedule_retry(self.pool, delivery.notification_id, delay, error)
            DELIVERY_ATTEMPTS.labels(delivery.channel, "retry_scheduled").inc()
            return
        log.error("delivery %s failed after %d attempt(s): %s", delivery.notification_id, delivery.attempts, error)
        async with transaction(self.pool) as conn:
            finished = await delivery_store.mark_failed(conn, delivery.notification_id, error)
            if finished is None:
                return
            DELIVERY_ATTEMPTS.labels(delivery.channel, "failed").inc()
            payload = NotificationFailed(
                referral_id=delivery.referral_id,
                notification_id=str(delivery.notification_id),
                about_event_type=delivery.about_event_type,
                channel="email",
                failed_at=finished.at,
                attempts=finished.attempts,
                last_error=error,
            )
            await self.outbox.add_event(conn, self._event(payload, delivery))

    @staticmethod
    def _event(payload: NotificationSent | NotificationFailed, delivery: ClaimedDelivery) -> EventEnvelope:
        return new_event(
            payload,
            subject=delivery.referral_id,
            correlation_id=delivery.correlation_id,
            causation_id=delivery.outcome_event_id,
        )

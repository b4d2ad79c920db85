"""A claim whose commit reached the database but whose reply was lost (a restart at the wrong moment)
is released by its own dispatcher after the failed cycle, not left until the lease runs out."""

from __future__ import annotations

import asyncio
import time

import pytest

from support.events import referral_assigned, referral_received
from support.infra import wait_until

pytestmark = pytest.mark.integration


async def test_a_dispatcher_releases_its_own_lost_claim_and_sends_at_once(start_notifications, referral_id):
    async with start_notifications(dispatcher_lease_seconds=3600, dispatcher_poll_seconds=0.2) as service:
        dispatcher = service.dispatcher
        await dispatcher.stop()  # hold the delivery back while we stage the lost claim
        await service.publish(referral_received(referral_id), referral_assigned(referral_id))
        await wait_until(lambda: service.deliveries(referral_id), message="the delivery to be created")
        await service.pool.execute(
            "UPDATE deliveries SET lease_until = now() + interval '1 hour', lease_owner = $1, attempts = 1",
            dispatcher.owner,
        )
        dispatcher._may_hold_leases = True  # what a cycle that failed after claiming leaves behind
        started = time.monotonic()
        dispatcher.start()

        [email] = await service.emails(1)
        assert time.monotonic() - started < 10, "sent at once, not after the hour-long lease"
        assert email.headers["X-Signpost-Referral-Id"] == referral_id


async def test_a_dispatcher_never_releases_a_lease_another_dispatcher_holds(start_notifications, referral_id):
    async with start_notifications(dispatcher_lease_seconds=3600, dispatcher_poll_seconds=0.2) as service:
        dispatcher = service.dispatcher
        await dispatcher.stop()
        await service.publish(referral_received(referral_id), referral_assigned(referral_id))
        await wait_until(lambda: service.deliveries(referral_id), message="the delivery to be created")
        await service.pool.execute(
            "UPDATE deliveries SET lease_until = now() + interval '1 hour', lease_owner = 'another-replica'"
        )
        dispatcher._may_hold_leases = True
        dispatcher.start()
        await asyncio.sleep(2)  # ten polls: time enough to have sent it had the lease been released
        [delivery] = await service.deliveries(referral_id)
        assert delivery["status"] == "pending"
        assert delivery["lease_owner"] == "another-replica"
        assert service.sink.messages == []

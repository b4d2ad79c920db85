"""On PostgreSQL and the broker: a self-referrer's own address arrives on the compacted contacts topic, apart from
referral.received, and is used once whatever the order or a restart between; its tombstone and the erasure leave
notifications holding nothing of it and sending nothing more."""

from __future__ import annotations

import pytest

from support.events import person_contact, person_contact_erased, referral_erased, self_referral_received

pytestmark = pytest.mark.integration

EMAIL = "rosalind.quilliam@example.com"


async def _held_addresses(service, referral_id: str) -> list[dict]:
    rows = await service.pool.fetch("SELECT * FROM person_contacts WHERE referral_id = $1", referral_id)
    return [dict(row) for row in rows]


async def test_an_address_that_arrived_before_a_restart_is_used_when_the_referral_arrives_after_it_and_only_once(
    start_notifications, make, referral_id
):
    contact = person_contact(referral_id, email=EMAIL)
    async with start_notifications() as service:
        await service.publish(contact)
        await service.consumed(contact)
        assert service.sink.messages == [], "nobody to tell before the referral's details"

    async with start_notifications() as service:
        await service.publish(self_referral_received(referral_id))
        [acknowledgement] = await service.emails(1)
        assert acknowledgement.rcpt_tos == [EMAIL]
        # The same address again (a replay) and once more under a new id: each message still goes once.
        again = person_contact(referral_id, email=EMAIL)
        await service.publish(contact, again)
        await service.consumed(again)
        await service.deliveries_once(referral_id, lambda rows: all(r["status"] == "sent" for r in rows), "sent")
        assert len(service.sink.messages) == 1


async def test_the_tombstone_forgets_the_address_and_after_the_erasure_nothing_more_is_sent(service, make, referral_id):
    await service.publish(self_referral_received(referral_id), person_contact(referral_id, email=EMAIL))
    await service.emails(1)
    assert [row["email"] for row in await _held_addresses(service, referral_id)] == [EMAIL]
    tombstone = person_contact_erased(referral_id)

    await service.publish(tombstone)
    await service.consumed(tombstone)

    assert await _held_addresses(service, referral_id) == [], "the tombstone alone is enough"
    erased = referral_erased(referral_id)
    await service.publish(erased)
    await service.consumed(erased)
    late = make.triaged(referral_id, outcome="declined")
    await service.publish(late)
    await service.consumed(late)
    assert len(service.sink.messages) == 1, "the decline goes to nobody"
    assert [
        r["outcome_event_id"] for r in await service.deliveries(referral_id) if r["outcome_event_id"] == late.id
    ] == []


async def test_an_address_arriving_after_the_erasure_is_not_kept(service, referral_id):
    erased = referral_erased(referral_id)
    await service.publish(self_referral_received(referral_id), erased)
    await service.consumed(erased)
    late = person_contact(referral_id, email=EMAIL)

    await service.publish(late)
    await service.consumed(late)

    assert await _held_addresses(service, referral_id) == []
    assert service.sink.messages == []

"""A self-referrer's own address comes on the contacts stream, apart from referral.received and in either order:
whoever arrives second lets the message go, once; a repeat sends nothing more; a tombstone forgets the address.

The service's rules on the in-memory unit (support/fakes/notifications.py); test_person_contact.py runs the same
on PostgreSQL and the broker, with restarts and the erasure.
"""

from __future__ import annotations

import itertools

import pytest

from notifications.domain.outcomes import person_address_of
from signpost_contracts import read_data
from signpost_contracts.events.contacts import PersonContact
from support.events import person_contact, person_contact_erased, referral_triaged, self_referral_received
from support.fakes.notifications import FakeUnit, apply_events

pytestmark = pytest.mark.unit

REFERRAL = "ref-self-1"
EMAIL = "ada@example.org"


def _sent_to(unit: FakeUnit) -> list[tuple[str, str | None, str]]:
    return sorted(
        (row.delivery.outcome.kind, row.delivery.recipient, row.status) for row in unit.deliveries.rows.values()
    )


@pytest.mark.parametrize("order", list(itertools.permutations(["received", "contact", "triaged"])))
async def test_the_person_is_told_the_same_whichever_order_the_address_the_referral_and_the_outcome_arrive_in(order):
    events = {
        "received": self_referral_received(REFERRAL),
        "contact": person_contact(REFERRAL, email=EMAIL),
        "triaged": referral_triaged(REFERRAL, "declined"),
    }
    unit = FakeUnit()

    await apply_events(unit, *(events[name] for name in order))

    assert _sent_to(unit) == [("declined", EMAIL, "pending"), ("received", EMAIL, "pending")]


async def test_nothing_is_created_for_the_person_until_their_address_arrives():
    unit = FakeUnit()

    await apply_events(unit, self_referral_received(REFERRAL), referral_triaged(REFERRAL, "declined"))

    assert unit.deliveries.rows == {}, "no delivery to nobody, nor one failed for want of an address"
    assert await unit.referrals.contact(REFERRAL) is None


async def test_the_address_delivered_twice_creates_each_message_once():
    unit = FakeUnit()
    contact = person_contact(REFERRAL, email=EMAIL)

    await apply_events(unit, self_referral_received(REFERRAL), contact, contact, person_contact(REFERRAL, email=EMAIL))

    assert _sent_to(unit) == [("received", EMAIL, "pending")]


async def test_a_tombstone_forgets_the_address_so_a_later_outcome_waits_with_nobody_to_tell():
    unit = FakeUnit()
    await apply_events(unit, self_referral_received(REFERRAL), person_contact(REFERRAL, email=EMAIL))

    await apply_events(unit, person_contact_erased(REFERRAL), referral_triaged(REFERRAL, "declined"))

    assert unit.referrals.person_addresses == {}
    assert _sent_to(unit) == [("received", EMAIL, "pending")], "the decline is not sent"


def test_the_address_is_read_trimmed_and_blank_parts_as_none():
    contact = person_contact(REFERRAL, email="  ada@example.org ", phone="  ")

    address = person_address_of(read_data(PersonContact, contact.data))

    assert (address.email, address.phone) == ("ada@example.org", None)

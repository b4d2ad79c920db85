"""Who hears about an outcome, on which channel, and what comes next when a channel fails or stays silent.

The rules of domain/routing.py, and the Notifier's use of them on the fake unit of work."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from notifications.adapters.templates import EmailTemplates
from notifications.domain.outcomes import BarsConversation, Outcome, ReferrerContact
from notifications.domain.routing import DirectoryEntry, DirectoryError, ReferrerDirectory, referrer_routes, uk_mobile
from notifications.service import Channels, Notifier
from support.fakes.notifications import FakeUnit

ALL = frozenset({"email", "sms", "bars"})
BARS = BarsConversation(
    message_id="m-1", source_endpoint="https://fhir.nhs.uk/Id/dos-service-id|2000072489", correlation_id="c-1"
)
GP = ReferrerContact(referral_id="r-1", email="gp@leedsroad.example.nhs.uk", ods_code="B82005", kind="gp")
PRACTICE = DirectoryEntry(
    id="B82005", channels=("email", "bars"), email="inbox@leedsroad.example.nhs.uk", urgent_sms="07700 900123"
)


def outcome(kind: str = "assigned", *, urgent: bool = False, event_id: str = "e-1") -> Outcome:
    return Outcome(
        event_id=event_id,
        event_type=f"referral.{kind}.v1",
        referral_id="r-1",
        kind=kind,  # type: ignore[arg-type]
        occurred_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        urgent=urgent,
        redirect_service="Leeds Crisis Team" if kind == "redirected" else None,
    )


def channels_of(*args: object) -> list[tuple[str, str]]:
    return [(route.channel, route.recipient) for route in referrer_routes(*args)]  # type: ignore[arg-type]


def test_a_referral_that_came_by_bars_is_answered_by_bars_first_then_by_email():
    via_bars = GP.model_copy(update={"bars": BARS})
    assert channels_of(outcome(), via_bars, None, ALL) == [
        ("bars", BARS.source_endpoint),
        ("email", "gp@leedsroad.example.nhs.uk"),
    ]
    assert channels_of(outcome(), via_bars, PRACTICE, ALL)[0][0] == "bars", "whatever the directory's order"
    assert channels_of(outcome(), GP, None, ALL) == [("email", "gp@leedsroad.example.nhs.uk")], "no BaRS request"


def test_the_requesters_own_email_is_preferred_to_the_organisations_inbox_which_fills_the_gap():
    assert channels_of(outcome(), GP, PRACTICE, ALL) == [("email", "gp@leedsroad.example.nhs.uk")]
    no_email = GP.model_copy(update={"email": None})
    assert channels_of(outcome(), no_email, PRACTICE, ALL) == [("email", "inbox@leedsroad.example.nhs.uk")]
    unusable = GP.model_copy(update={"email": "not an address"})
    assert channels_of(outcome(), unusable, PRACTICE, ALL) == [("email", "inbox@leedsroad.example.nhs.uk")]


def test_sms_reaches_a_professional_only_for_urgent_matters_and_then_first():
    via_bars = GP.model_copy(update={"bars": BARS})
    assert "sms" not in [channel for channel, _ in channels_of(outcome("declined"), via_bars, PRACTICE, ALL)]
    urgent = channels_of(outcome("redirected", urgent=True), via_bars, PRACTICE, ALL)
    assert urgent == [
        ("sms", "07700900123"),
        ("bars", BARS.source_endpoint),
        ("email", "gp@leedsroad.example.nhs.uk"),
    ]


def test_a_channel_this_deployment_cannot_send_on_is_left_out():
    via_bars = GP.model_copy(update={"bars": BARS})
    only_email = frozenset({"email"})
    assert channels_of(outcome("redirected", urgent=True), via_bars, PRACTICE, only_email) == [
        ("email", "gp@leedsroad.example.nhs.uk")
    ]


def test_bars_carries_the_referrals_status_but_not_a_withdrawal_confirmation():
    via_bars = GP.model_copy(update={"bars": BARS})
    assert [c for c, _ in channels_of(outcome("withdrawn"), via_bars, None, ALL)] == ["email"]
    assert [c for c, _ in channels_of(outcome("closed"), via_bars, None, ALL)] == ["bars", "email"]


def test_a_person_who_referred_themselves_hears_on_their_own_email_then_their_mobile_and_never_a_landline():
    person = ReferrerContact(referral_id="r-1", kind="self", email="sam@example.org", phone="07700 900 001")
    assert channels_of(outcome(), person, None, ALL) == [("email", "sam@example.org"), ("sms", "07700900001")]
    landline = person.model_copy(update={"email": None, "phone": "0113 496 0000"})
    assert channels_of(outcome(), landline, None, ALL) == []


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("07700 900123", "07700900123"),
        ("+44 7700 900123", "+447700900123"),
        ("(07700) 900-123", "07700900123"),
        ("0113 496 0000", None),
        ("0770090012", None),
        ("", None),
    ],
)
def test_uk_mobile_numbers_are_recognised_as_gov_uk_notify_takes_them(number, expected):
    assert uk_mobile(number) == expected


def test_the_directory_is_read_from_its_file_and_found_by_ods_code_or_partner_id(tmp_path: Path):
    path = tmp_path / "directory.json"
    path.write_text(json.dumps([{"id": "B82005", "email": "a@b.nhs.uk"}, {"id": "leeds-mind", "channels": ["email"]}]))
    directory = ReferrerDirectory.load(path)
    assert directory.entry_for(GP).email == "a@b.nhs.uk"  # type: ignore[union-attr]
    partner = ReferrerContact(referral_id="r-2", partner_id="leeds-mind", kind="community-organisation")
    assert directory.entry_for(partner).id == "leeds-mind"  # type: ignore[union-attr]
    assert directory.entry_for(ReferrerContact(referral_id="r-3", ods_code="Y00000")) is None


@pytest.mark.parametrize(
    ("entries", "says"),
    [
        ([{"id": "A1"}, {"id": "A1"}], "appears twice"),
        ([{"id": "A1", "urgent_sms": "0113 496 0000"}], "not a UK mobile"),
        ([{"id": "A1", "email": "inbox@practice.local"}], "cannot be emailed"),
        ([{"id": "A1", "channels": ["fax"]}], "entry 0"),
        ([{"id": "A1", "channels": ["email", "email"]}], "at most once"),
        ([{"id": "A1", "pager": "x"}], "pager"),
        ({"id": "A1"}, "JSON list"),
    ],
)
def test_a_mistake_in_the_directory_is_reported_with_where_it_is(tmp_path: Path, entries, says):
    path = tmp_path / "directory.json"
    path.write_text(json.dumps(entries))
    with pytest.raises(DirectoryError, match=says):
        ReferrerDirectory.load(path)


def _bars_body(outcome: Outcome, contact: ReferrerContact, key: str, destination: str) -> str:
    return json.dumps({"about": outcome.kind, "to": destination, "key": key})


def notifier(**channels: object) -> Notifier:
    settings = {
        "available": ALL,
        "directory": ReferrerDirectory({"B82005": PRACTICE}),
        "bars": _bars_body,
        "duty_email": "duty@signpost.example.org",
        "duty_sms": "07700900999",
        **channels,
    }
    return Notifier(EmailTemplates(), channels=Channels(**settings))  # type: ignore[arg-type]


def sent_on(unit: FakeUnit) -> list[tuple[str, str, str | None]]:
    rows = sorted(unit.deliveries.rows.values(), key=lambda row: (row.delivery.audience, row.delivery.route_rank))
    return [(row.delivery.channel, row.delivery.audience, row.delivery.recipient) for row in rows]


async def test_an_urgent_message_never_confirmed_moves_route_by_route_then_to_the_duty_coordinator_and_stays_open():
    unit, service = FakeUnit(), notifier()
    await service.contact_received(unit, GP.model_copy(update={"bars": BARS}), "received-1")
    redirect = outcome("redirected", urgent=True)
    await service.outcome_decided(unit, redirect, "c-1")
    assert sent_on(unit) == [("sms", "referrer", "07700900123"), ("bars", "referrer", BARS.source_endpoint)], (
        "the SMS alerts at once, and the whole message goes on the usual route with it"
    )

    await service.escalate_due(unit)
    assert [channel for channel, _, _ in sent_on(unit)] == ["sms", "bars", "email"]

    await service.escalate_due(unit)
    duty = sorted(row for row in sent_on(unit) if row[1] == "duty")
    assert duty == [("email", "duty", "duty@signpost.example.org"), ("sms", "duty", "07700900999")]
    before = len(unit.deliveries.rows)
    [last] = await service.escalate_due(unit)
    assert len(unit.deliveries.rows) == before, "nothing more to send: the duty coordinator is told once"
    assert "stays listed until acknowledged" in last.what
    assert [alert.outcome_event_id for alert in await unit.deliveries.open_urgent()] == [redirect.event_id]
    announced = [e.data["escalations"] for e in unit.events if e.type == "notification.urgent-unconfirmed.v1"]
    assert announced == [0, 1, 2, 3], "raised, then each step, for the dashboard"


async def test_a_confirmed_urgent_message_is_no_longer_escalated():
    unit, service = FakeUnit(), notifier()
    await service.contact_received(unit, GP, "received-1")
    await service.outcome_decided(unit, outcome("redirected", urgent=True), "c-1")
    assert await unit.deliveries.confirm_urgent("e-1")
    assert await service.escalate_due(unit) == []
    assert len(unit.deliveries.rows) == 2, "the SMS and the email it came with; nothing escalated"


async def test_a_delivery_failed_for_good_hands_the_message_to_the_next_route_once():
    unit, service = FakeUnit(), notifier()
    await service.contact_received(unit, GP.model_copy(update={"bars": BARS}), "received-1")
    await service.outcome_decided(unit, outcome("assigned"), "c-1")
    [claimed] = await unit.deliveries.claim_due(10, 60, "me", ["bars"])

    first = await service.fail_over(unit, claimed)
    again = await service.fail_over(unit, claimed)

    assert first is not None
    assert (first.channel, first.route_rank, first.recipient) == ("email", 1, "gp@leedsroad.example.nhs.uk")
    assert again is None, "the next route's delivery exists already"


async def test_a_self_referral_is_acknowledged_to_the_person_and_a_professionals_is_not():
    unit, service = FakeUnit(), notifier()
    person = ReferrerContact(referral_id="r-9", kind="self", phone="07700900001")
    acknowledgement = outcome("received", event_id="received-9").model_copy(update={"referral_id": "r-9"})
    await service.contact_received(unit, person, "received-9", acknowledgement)
    [row] = unit.deliveries.rows.values()
    assert (row.delivery.channel, row.delivery.template) == ("sms", "sms/self/received")
    assert "reached us" in row.delivery.body
    assert len(row.delivery.body) <= 160, "one SMS fragment"

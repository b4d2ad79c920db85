"""What the referrer is told later in a referral's life, on a fake unit of work: events in, deliveries out.

Each event goes through the real handler table (the one the consumer uses) into the Notifier, so
these tests cover which event types are read, how each becomes an outcome and what the email says.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from notifications.domain.free_text import ELLIPSIS
from signpost_contracts import EventEnvelope
from signpost_contracts.events.cases import Ons4
from support.events import (
    case_closed,
    contact_recorded,
    measures_recorded,
    referral_assigned_from_waitlist,
    referral_linked,
    referral_received,
    referral_withdrawn,
)
from support.fakes.notifications import FakeUnit, Row, apply_events

pytestmark = pytest.mark.unit

REFERRAL = "ref-case-1"


async def only_delivery(*events: EventEnvelope, **settings: Any) -> Row:
    unit = FakeUnit()
    await apply_events(unit, referral_received(REFERRAL), *events, **settings)
    [row] = unit.deliveries.rows.values()
    return row


async def test_a_waitlisted_referral_assigned_later_tells_the_referrer_the_person_now_has_a_connector():
    row = await only_delivery(referral_assigned_from_waitlist(REFERRAL, connector_kind="paid", area="LS6"))
    assert row.status == "pending"
    assert row.delivery.subject == f"Referral {REFERRAL}: off the waiting list, a connector assigned"
    assert "now has a connector in LS6" in row.delivery.body
    assert "paid staff" in row.delivery.body


async def test_closure_sends_a_plain_message_back_with_the_support_given_goals_onward_and_why_it_ended():
    closed = case_closed(
        REFERRAL,
        reason="connected-onward",
        sessions_used=5,
        goals=["Join a walking group", "Get back in touch with my brother"],
        onward=["Hyde Park walking group", "Leeds Library reading circle"],
    )
    body = (await only_delivery(closed)).delivery.body
    assert "Why the support ended\n  The person has been connected to community groups or services" in body
    assert "Support given\n  5 support sessions." in body
    assert "The person's goals\n  - Join a walking group\n  - Get back in touch with my brother\n" in body
    assert "connected to\n  - Hyde Park walking group\n  - Leeds Library reading circle\n" in body


async def test_each_closure_reason_is_said_in_plain_words():
    said = set()
    for reason in ("goals-met", "connected-onward", "disengaged", "declined", "moved-away", "other"):
        body = (await only_delivery(case_closed(REFERRAL, reason=reason))).delivery.body
        line = body.split("Why the support ended\n  ", 1)[1].split("\n", 1)[0]
        assert line != "The support ended.", f"{reason} has its own words, not the fallback"
        said.add(line)
    assert len(said) == 6


async def test_a_person_never_reached_is_reported_without_sessions_goals_or_onward_connections():
    closed = case_closed(REFERRAL, reason="disengaged", reached=False, sessions_used=0, goals=[], onward=[])
    body = (await only_delivery(closed)).delivery.body
    assert "could not reach the person, so no support sessions took place" in body
    assert "goals" not in body.lower()
    assert "connected to" not in body


async def test_connectors_free_text_at_closure_is_defanged_bounded_and_counted():
    goals = ["See https://evil.example/login\r\nBcc: x@y.org", "A" * 200, *(f"goal {n}" for n in range(48))]
    onward = [f"Group {n} at www.groups.example" for n in range(10)]
    body = (await only_delivery(case_closed(REFERRAL, goals=goals, onward=onward))).delivery.body
    assert "https[:]//evil[.]example/login Bcc: x[at]y[.]org" in body, "one line, no live link or address"
    assert "\r" not in body
    assert "  - " + "A" * 159 + ELLIPSIS + "\n" in body, "cut to 160 characters, the ellipsis included"
    assert "goal 3\n" in body, "six goals shown"
    assert "goal 4\n" not in body
    assert "  - and 44 more" in body
    assert body.count("www[.]groups[.]example") == 10


def _measured_case() -> list[EventEnvelope]:
    """Baseline and closing measures, the closing ones corrected (the correction arriving first), then closure."""
    start = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    ons4 = Ons4(life_satisfaction=3, worthwhile=4, happiness=2, anxiety=8)
    baseline = measures_recorded(REFERRAL, at=start, ucla3_total=8, ons_loneliness="often-always", ons4=ons4)
    closing = {"stage": "closing", "ons_loneliness": "occasionally", "ons4": Ons4(life_satisfaction=6, anxiety=None)}
    first = measures_recorded(REFERRAL, at=start + timedelta(days=60), ucla3_total=9, **closing)
    corrected = measures_recorded(REFERRAL, at=start + timedelta(days=61), ucla3_total=5, **closing)
    return [baseline, corrected, first, case_closed(REFERRAL)]


async def test_outcome_scores_are_not_in_the_closure_message_nor_kept_unless_the_service_allows_them():
    unit = FakeUnit()
    await apply_events(unit, referral_received(REFERRAL), *_measured_case())
    [row] = unit.deliveries.rows.values()
    assert "Support given" in row.delivery.body
    assert "UCLA" not in row.delivery.body
    assert "Outcome measures" not in row.delivery.body
    assert unit.referrals.stage_scores == {}, "measures are not even kept"


async def test_when_the_service_allows_them_the_closure_message_gives_each_score_at_the_start_and_the_end():
    unit = FakeUnit()
    await apply_events(unit, referral_received(REFERRAL), *_measured_case(), closure_includes_scores=True)
    [row] = unit.deliveries.rows.values()
    body = row.delivery.body
    assert "UCLA loneliness score (3 to 9, lower is less lonely): 8, then 5\n" in body, "the later recording wins"
    assert "How often they felt lonely: often or always, then occasionally\n" in body
    assert "Life satisfaction (0 to 10): 3, then 6\n" in body
    assert "Anxiety yesterday (0 to 10, lower is better): 8, then not answered\n" in body
    assert "Feeling the things they do are worthwhile (0 to 10): 4, then not answered\n" in body


async def test_first_contact_is_not_told_unless_the_service_turns_it_on():
    unit = FakeUnit()
    await apply_events(unit, referral_received(REFERRAL), contact_recorded(REFERRAL, first_reached=True))
    assert unit.deliveries.rows == {}
    assert unit.referrals.outcomes == {}, "not even kept for later"


async def test_first_contact_is_told_when_turned_on_and_only_for_the_first_time_the_person_is_reached():
    unit = FakeUnit()
    first = contact_recorded(REFERRAL, first_reached=True)
    later = contact_recorded(REFERRAL, first_reached=False)
    unanswered = contact_recorded(REFERRAL, outcome="no-answer", first_reached=False, failed_attempts=1)
    await apply_events(unit, referral_received(REFERRAL), unanswered, first, later, notify_first_contact=True)
    [row] = unit.deliveries.rows.values()
    assert row.delivery.outcome.event_id == first.id
    assert row.delivery.subject == f"Referral {REFERRAL}: support has started"


async def test_a_linked_referral_tells_its_referrer_the_person_is_supported_and_nothing_about_the_other_referral():
    linked = referral_linked(
        REFERRAL, linked_to_referral_id="other-referral-77", reason="Open case from Hillside Practice (B86001)"
    )
    row = await only_delivery(linked)
    text = row.delivery.subject + row.delivery.body
    assert "already being supported" in text
    assert "not been given a second place" in text
    for other in ("other-referral-77", "Hillside", "B86001"):
        assert other not in text


async def test_a_withdrawal_is_confirmed_in_the_words_of_how_it_was_withdrawn():
    revoked = (await only_delivery(referral_withdrawn(REFERRAL, status="revoked"))).delivery
    in_error = (await only_delivery(referral_withdrawn(REFERRAL, status="entered-in-error"))).delivery
    assert revoked.subject == f"Referral {REFERRAL}: withdrawal confirmed"
    assert "We have withdrawn this referral, as you asked." in revoked.body
    assert "marked as made in error" in in_error.body
    assert "will not contact you about it again" in revoked.body

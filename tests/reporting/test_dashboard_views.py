"""The operations dashboard's JSON views on the real broker and PostgreSQL: a fixed dataset, figures worked out
by hand for every view and every filter.

The dataset (March 2019, period 2019-03-01 to 2019-03-31; postcode district in brackets):
- a1 (LS6) 1 Mar 00:00, FHIR, GP B82005: assigned 2 days later, reached 1 day after that, last session 10 Mar,
  stalled after 28 days: stalled.
- a2 (LS7) 2 Mar 09:00, self-referral: assigned 4 days later, reached 3 days after, a session yesterday: not
  stalled. Its notification failed, then was sent.
- a3 (LS6) 2 Mar 10:00, FHIR, B82005: assigned 6 days later, reached 1 day after, closed 20 Mar.
- a4 (LS6) 5 Mar 12:00, BaRS, B86001: assigned 8 days later (no case terms), could not be contacted.
- w1 (LS6) 10 Mar 08:00, FHIR, B82005: waitlisted in LS6. w2 (LS7) 31 Mar 23:59, FHIR, B86001: waitlisted in LS7.
- d1 (WF1) 5 Mar 08:00, FHIR, B82005: declined (outside-service-area); its notification failed.
- d2 (WF1) 5 Mar 09:00, FHIR, a social worker at B86001: declined (outside-service-area, age-under-18).
- r1 (LS6) 12 Mar 08:00, FHIR, B82005: redirected (crisis), urgent, unconfirmed since 12 Mar 09:00, escalated twice.
- u1 (LS6) 15 Mar 08:00, FHIR, B82005: not yet triaged.
- feb 28 Feb 23:59:59 and apr 1 Apr 00:00: outside the period; feb has a failed notification and an open urgent alert.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from signpost_contracts.events.referrals import PersonSummary, Referrer
from signpost_contracts.events.triage import FiredRule
from support.auth import bearer
from support.events import (
    TERMS,
    case_closed,
    contact_recorded,
    notification_failed,
    notification_sent,
    referral_assigned,
    referral_received,
    referral_triaged,
    referral_waitlisted,
    session_recorded,
    urgent_settled,
    urgent_unconfirmed,
)

pytestmark = pytest.mark.integration

READER = bearer("reporting:read")
MARCH = {"from": "2019-03-01", "to": "2019-03-31"}
UNDER_18 = FiredRule(rule_id="age-under-18", description="Under 18: see the young people's service")
OUTSIDE = FiredRule(rule_id="outside-service-area", description="Outside the Leeds service area")


def _at(day: int, hour: int = 0, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2019, month, day, hour, minute, tzinfo=UTC)


def _received(rid: str, at: datetime, district: str, **overrides: Any):
    return referral_received(
        rid, at=at, person=PersonSummary(age_band="65-74", postcode_district=district), **overrides
    )


def _assigned(rid: str, received: datetime, days: int, *, reached_after: int | None, terms: bool = True) -> list:
    assigned = received + timedelta(days=days)
    events = [
        referral_triaged(rid, at=received + timedelta(hours=1)),
        referral_assigned(rid, at=assigned, terms=TERMS if terms else None),
    ]
    if reached_after is not None:
        events.append(contact_recorded(rid, at=assigned + timedelta(days=reached_after)))
    return events


def _dataset() -> list:
    now = datetime.now(UTC)
    social_worker = Referrer(kind="social-worker", ods_code="B86001")
    return [
        _received("a1", _at(1), "LS6"),
        *_assigned("a1", _at(1), 2, reached_after=1),
        session_recorded("a1", at=_at(10)),
        urgent_settled("a1", at=_at(2)),
        _received("a2", _at(2, 9), "LS7", channel="self-referral", referrer=Referrer(kind="self")),
        *_assigned("a2", _at(2, 9), 4, reached_after=3),
        session_recorded("a2", at=now - timedelta(days=1)),
        notification_failed("a2", "n-a2", at=_at(6, 10)),
        notification_sent("a2", "n-a2", at=_at(6, 11)),
        _received("a3", _at(2, 10), "LS6"),
        *_assigned("a3", _at(2, 10), 6, reached_after=1),
        case_closed("a3", at=_at(20)),
        notification_sent("a3", at=_at(8, 11)),
        notification_sent("a1", at=_at(3, 1)),
        _received("a4", _at(5, 12), "LS6", channel="bars-message", referrer=Referrer(kind="gp", ods_code="B86001")),
        *_assigned("a4", _at(5, 12), 8, reached_after=None, terms=False),
        contact_recorded(
            "a4", at=_at(20), outcome="no-answer", first_reached=False, failed_attempts=3, could_not_contact=True
        ),
        _received("w1", _at(10, 8), "LS6"),
        referral_triaged("w1", at=_at(10, 8, 30)),
        referral_waitlisted("w1", at=_at(10, 9), area="LS6"),
        _received("w2", _at(31, 23, 59), "LS7", referrer=Referrer(kind="gp", ods_code="B86001")),
        referral_triaged("w2", at=_at(1, 0, 10, month=4)),
        referral_waitlisted("w2", at=_at(1, 0, 30, month=4), area="LS7"),
        _received("d1", _at(5, 8), "WF1"),
        referral_triaged("d1", "declined", at=_at(5, 9)),
        notification_failed("d1", at=_at(5, 10)),
        _received("d2", _at(5, 9), "WF1", referrer=social_worker),
        referral_triaged("d2", "declined", at=_at(5, 10), reasons=[OUTSIDE, UNDER_18]),
        _received("r1", _at(12, 8), "LS6"),
        referral_triaged("r1", "redirected", at=_at(12, 8, 30)),
        urgent_unconfirmed("r1", at=_at(12, 9), escalations=2),
        _received("u1", _at(15, 8), "LS6"),
        referral_received("feb", at=datetime(2019, 2, 28, 23, 59, 59, tzinfo=UTC)),
        referral_triaged("feb", "declined", at=_at(1, 1)),
        notification_failed("feb", at=_at(1, 2)),
        urgent_unconfirmed("feb", at=_at(1, 3)),
        _received("apr", _at(1, month=4), "LS6"),
    ]


@pytest.fixture
async def march(reporting):
    await reporting.deliver(*_dataset())
    return reporting


async def _dashboard(reporting, **params: str) -> dict[str, Any]:
    response = await reporting.client.get("/api/dashboard", params={**MARCH, **params}, headers=READER)
    assert response.status_code == 200, response.text
    return response.json()


def _arrivals(body: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Only the days with arrivals, by route (every other day must be all zeros)."""
    busy = {row["day"]: row["by_route"] for row in body["arrivals"] if row["total"]}
    for row in body["arrivals"]:
        assert row["total"] == sum(row["by_route"].values())
    return busy


async def test_every_view_for_a_period_matches_the_hand_computed_figures(march):
    body = await _dashboard(march)
    assert body["period"] == MARCH
    assert body["filters"] == {"area": None, "route": None, "referrer_kind": None}
    assert body["funnel"] == {
        "received": 10,  # a1-a4, w1, w2, d1, d2, r1, u1: feb and apr are outside
        "triaged": 9,
        "assigned_or_waiting": 6,
        "assigned": 4,
        "waiting": 2,
        "first_contact": 3,
        "closed": 1,
    }
    assert body["routes"] == ["bars-message", "fhir-rest", "self-referral"]
    assert len(body["arrivals"]) == 31
    assert body["arrivals"][0]["day"] == "2019-03-01"
    assert body["arrivals"][-1]["day"] == "2019-03-31"
    assert _arrivals(body) == {
        "2019-03-01": {"bars-message": 0, "fhir-rest": 1, "self-referral": 0},
        "2019-03-02": {"bars-message": 0, "fhir-rest": 1, "self-referral": 1},
        "2019-03-05": {"bars-message": 1, "fhir-rest": 2, "self-referral": 0},
        "2019-03-10": {"bars-message": 0, "fhir-rest": 1, "self-referral": 0},
        "2019-03-12": {"bars-message": 0, "fhir-rest": 1, "self-referral": 0},
        "2019-03-15": {"bars-message": 0, "fhir-rest": 1, "self-referral": 0},
        "2019-03-31": {"bars-message": 0, "fhir-rest": 1, "self-referral": 0},
    }
    assert body["decisions"] == {"accepted": 6, "declined": 2, "redirected": 1, "undecided": 1}
    # Assigned after 2, 4, 6, 8 days: median 5, p90 at position 2.7 of 0..3 = 6 + 0.7 * 2 = 7.4.
    # Reached 1, 3, 1 days after assignment: median 1, p90 at 1.8 of 0..2 = 1 + 0.8 * 2 = 2.6.
    assert body["waits"] == {
        "received_to_assigned": {"n": 4, "median_days": 5.0, "p90_days": 7.4},
        "assigned_to_first_contact": {"n": 3, "median_days": 1.0, "p90_days": 2.6},
    }
    generated = datetime.fromisoformat(body["generated_at"])
    waitlist = body["waitlist"]
    assert [(row["area"], row["waiting"], row["oldest_waitlisted_at"]) for row in waitlist] == [
        ("LS6", 1, "2019-03-10T09:00:00Z"),
        ("LS7", 1, "2019-04-01T00:30:00Z"),
    ]
    expected_days = (generated - _at(10, 9)).total_seconds() / 86400
    assert waitlist[0]["oldest_wait_days"] == pytest.approx(expected_days, abs=0.01)
    assert body["cases"] == {"open": 3, "stalled": 1, "could_not_contact": 1}
    assert body["referrers"] == [
        {
            "ods_code": "B82005",
            "declined": 1,
            "redirected": 1,
            "declined_because": {"outside-service-area": 1},
            "redirected_because": {"crisis": 1},
        },
        {
            "ods_code": "B86001",
            "declined": 1,
            "redirected": 0,
            "declined_because": {"age-under-18": 1, "outside-service-area": 1},
            "redirected_because": {},
        },
    ]
    # r1's alert only: a1's is settled and feb's is about a referral outside the period.
    assert body["urgent"] == {"unconfirmed": 1, "oldest_raised_at": "2019-03-12T09:00:00Z", "most_escalations": 2}
    # a1, a3 and a2 (failed, then sent: sent); d1 failed; feb's failure is outside.
    assert body["notifications"] == {"sent": 3, "failed": 1}
    # Reporting's own freshness: its inbox's latest event, whatever the period.
    last_applied = await march.runtime.pool.fetchval("SELECT max(processed_at) FROM inbox WHERE consumer = 'reporting'")
    assert datetime.fromisoformat(body["reporting"]["last_event_applied_at"]) == last_applied


async def test_the_area_filter_keeps_only_referrals_from_that_postcode_district_whatever_its_case(march):
    body = await _dashboard(march, area="ls6")
    assert body["filters"]["area"] == "LS6"
    # a1, a3, a4, w1, r1, u1
    assert body["funnel"] == {
        "received": 6,
        "triaged": 5,
        "assigned_or_waiting": 4,
        "assigned": 3,
        "waiting": 1,
        "first_contact": 2,
        "closed": 1,
    }
    assert body["routes"] == ["bars-message", "fhir-rest"]
    assert body["decisions"] == {"accepted": 4, "declined": 0, "redirected": 1, "undecided": 1}
    assert body["waits"]["received_to_assigned"] == {"n": 3, "median_days": 6.0, "p90_days": 7.6}
    assert [row["area"] for row in body["waitlist"]] == ["LS6"]
    assert body["cases"] == {"open": 2, "stalled": 1, "could_not_contact": 1}
    assert [(r["ods_code"], r["declined"], r["redirected"]) for r in body["referrers"]] == [("B82005", 0, 1)]
    assert body["urgent"]["unconfirmed"] == 1
    assert body["notifications"] == {"sent": 2, "failed": 0}


async def test_the_route_filter_keeps_only_referrals_that_came_in_that_way(march):
    body = await _dashboard(march, route="self-referral")
    assert body["funnel"]["received"] == 1  # a2
    assert body["routes"] == ["self-referral"]
    assert _arrivals(body) == {"2019-03-02": {"self-referral": 1}}
    assert body["waits"]["received_to_assigned"] == {"n": 1, "median_days": 4.0, "p90_days": 4.0}
    assert body["cases"] == {"open": 1, "stalled": 0, "could_not_contact": 0}
    assert body["notifications"] == {"sent": 1, "failed": 0}
    bars = await _dashboard(march, route="bars-message")
    assert bars["funnel"]["received"] == 1  # a4
    assert bars["cases"]["could_not_contact"] == 1


async def test_the_referrer_kind_filter_keeps_only_that_kind_of_referrer(march):
    body = await _dashboard(march, referrer_kind="social-worker")
    assert body["funnel"]["received"] == 1  # d2
    assert body["decisions"] == {"accepted": 0, "declined": 1, "redirected": 0, "undecided": 0}
    assert body["referrers"] == [
        {
            "ods_code": "B86001",
            "declined": 1,
            "redirected": 0,
            "declined_because": {"age-under-18": 1, "outside-service-area": 1},
            "redirected_because": {},
        }
    ]
    gp = await _dashboard(march, referrer_kind="gp")
    assert gp["funnel"]["received"] == 8  # all but a2 (self) and d2 (social worker)


async def test_filters_combine(march):
    body = await _dashboard(march, area="LS6", route="bars-message", referrer_kind="gp")
    assert body["funnel"]["received"] == 1  # a4
    assert (await _dashboard(march, area="WF1", route="self-referral"))["funnel"]["received"] == 0


async def test_both_ends_of_the_period_are_inclusive_to_the_minute(march):
    first = await _dashboard(march, **{"from": "2019-03-01", "to": "2019-03-01"})
    assert first["funnel"]["received"] == 1  # a1 at 00:00; feb at 23:59:59 the day before is not
    assert len(first["arrivals"]) == 1
    last = await _dashboard(march, **{"from": "2019-03-31", "to": "2019-03-31"})
    assert last["funnel"]["received"] == 1  # w2 at 23:59; apr at 00:00 the next day is not
    assert last["waitlist"][0]["area"] == "LS7"
    february = await _dashboard(march, **{"from": "2019-02-28", "to": "2019-02-28"})
    assert february["funnel"]["received"] == 1
    assert february["urgent"]["unconfirmed"] == 1
    assert february["notifications"]["failed"] == 1


async def test_an_empty_projection_answers_zeros_and_nulls(reporting):
    body = await _dashboard(reporting)
    assert set(body["funnel"].values()) == {0}
    assert body["routes"] == []
    assert len(body["arrivals"]) == 31
    assert {row["total"] for row in body["arrivals"]} == {0}
    assert body["decisions"] == {"accepted": 0, "declined": 0, "redirected": 0, "undecided": 0}
    assert body["waits"]["received_to_assigned"] == {"n": 0, "median_days": None, "p90_days": None}
    assert body["waitlist"] == []
    assert body["referrers"] == []
    assert body["cases"] == {"open": 0, "stalled": 0, "could_not_contact": 0}
    assert body["urgent"] == {"unconfirmed": 0, "oldest_raised_at": None, "most_escalations": 0}
    assert body["notifications"] == {"sent": 0, "failed": 0}
    assert body["reporting"] == {"last_event_applied_at": None}
    assert body["caseloads"] == [], "until triage announces any"


async def test_without_a_period_it_is_the_last_four_weeks_to_today(reporting):
    response = await reporting.client.get("/api/dashboard", headers=READER)
    assert response.status_code == 200, response.text
    today = datetime.now(UTC).date()
    assert response.json()["period"] == {"from": str(today - timedelta(days=27)), "to": str(today)}


@pytest.mark.parametrize(
    ("period", "reason"),
    [
        ({"from": "2019-03-31", "to": "2019-03-01"}, "before it starts"),
        ({"from": "2018-01-01", "to": "2019-03-01"}, "longer than 366 days"),
        ({"from": "9999-12-01", "to": str(date.max)}, "must end before"),
    ],
)
async def test_a_period_that_cannot_be_answered_is_a_422_problem_saying_why(reporting, period, reason):
    response = await reporting.client.get("/api/dashboard", params=period, headers=READER)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert reason in response.text


async def test_the_dashboard_api_needs_the_reporting_read_scope(reporting):
    response = await reporting.client.get("/api/dashboard", headers=bearer("triage:read"))
    assert response.status_code == 403


@pytest.mark.parametrize("value", ["0", "1551398400", "20190301", "2019-3-1"])
async def test_a_date_not_written_yyyy_mm_dd_is_refused_naming_the_parameter(reporting, value):
    for path in ("/api/dashboard", "/api/exports/referrals"):
        response = await reporting.client.get(path, params={"from": "2019-03-01", "to": value}, headers=READER)
        assert response.status_code == 400, (path, response.text)
        assert [error["field"] for error in response.json()["errors"]] == ["to"]

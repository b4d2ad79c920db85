"""The dashboard's pure rules: the period it can answer, the days it lists, the decision mix, declines by referrer,
and the page's filter form read as a person typed it."""

from __future__ import annotations

from datetime import date

import pytest

from reporting.domain.dashboard import (
    DAILY_COUNTS,
    daily_arrivals,
    daily_totals,
    decisions_of,
    default_period,
    funnel_of,
    period_error,
    referrer_declines,
)
from reporting.filters_form import read_filter_form

pytestmark = pytest.mark.unit


def test_a_period_is_refused_when_reversed_too_long_or_ending_at_the_last_representable_day():
    assert period_error(date(2019, 3, 1), date(2019, 3, 1)) is None
    assert "before it starts" in (period_error(date(2019, 3, 2), date(2019, 3, 1)) or "")
    assert period_error(date(2019, 1, 1), date(2019, 12, 31), max_days=365) is None
    assert "longer than 365 days" in (period_error(date(2019, 1, 1), date(2020, 1, 1), max_days=365) or "")
    assert "must end before" in (period_error(date(9999, 12, 1), date.max) or "")


def test_the_default_period_is_the_last_four_weeks_with_today():
    assert default_period(date(2019, 3, 28)) == (date(2019, 3, 1), date(2019, 3, 28))
    assert default_period(date(1, 1, 5)) == (date.min, date(1, 1, 5))


def test_every_day_of_the_period_is_listed_with_every_route_seen_zero_filled():
    rows = [
        {"day": date(2019, 3, 2), "route": "self-referral", "referrals": 2},
        {"day": date(2019, 3, 1), "route": "fhir-rest", "referrals": 1},
        # A day's row whose referrals have all been taken out again (moved to another day): not a route seen.
        {"day": date(2019, 3, 3), "route": "bars", "referrals": 0},
    ]
    routes, days = daily_arrivals(date(2019, 3, 1), date(2019, 3, 3), rows)
    assert routes == ["fhir-rest", "self-referral"]
    assert [(d.day.day, d.total, d.by_route) for d in days] == [
        (1, 1, {"fhir-rest": 1, "self-referral": 0}),
        (2, 2, {"fhir-rest": 0, "self-referral": 2}),
        (3, 0, {"fhir-rest": 0, "self-referral": 0}),
    ]


def _day(**counts: int) -> dict[str, int]:
    return {column: counts.get(column, 0) for column in DAILY_COUNTS}


def test_the_decision_mix_names_every_decision_and_the_undecided():
    rows = [_day(referrals=2, triaged=1, declined=1), _day(referrals=2, triaged=1, declined=1)]
    assert decisions_of(daily_totals(rows)) == {"accepted": 0, "declined": 2, "redirected": 0, "undecided": 2}


def test_the_funnel_adds_up_the_days_received_as_the_referrals_counted():
    rows = [_day(referrals=3, triaged=2, assigned=1, closed=1), _day(referrals=1, waiting=1, reached=1)]
    funnel = funnel_of(daily_totals(rows))
    assert (funnel.received, funnel.triaged, funnel.assigned, funnel.waiting, funnel.first_contact, funnel.closed) == (
        4, 2, 1, 1, 1, 1,
    )  # fmt: skip


def test_referrers_with_most_declines_and_redirects_come_first_with_their_reasons():
    totals = [
        {"ods_code": None, "declined": 1, "redirected": 0},
        {"ods_code": "B86001", "declined": 1, "redirected": 0},
        {"ods_code": "B82005", "declined": 1, "redirected": 2},
    ]
    rules = [
        {"ods_code": "B82005", "decision": "redirected", "rule": "crisis", "n": 2},
        {"ods_code": "B82005", "decision": "declined", "rule": "outside-service-area", "n": 1},
    ]
    found = referrer_declines(totals, rules)
    assert [r.ods_code for r in found] == ["B82005", "B86001", None]
    assert found[0].declined_because == {"outside-service-area": 1}
    assert found[0].redirected_because == {"crisis": 2}
    assert found[1].declined_because == {}


def test_the_filter_form_takes_empty_fields_as_any_and_names_each_field_it_cannot_read():
    form = read_filter_form(
        {"from": "2019-03-01", "to": "2019-03-31", "area": " ls 6 ", "route": "", "referrer_kind": None}
    )
    assert not form.errors
    assert (form.start, form.end) == (date(2019, 3, 1), date(2019, 3, 31))
    assert (form.filters.area, form.filters.route, form.filters.referrer_kind) == ("LS6", None, None)

    wrong = read_filter_form({"from": "1 March", "area": "Leeds", "route": "fax", "referrer_kind": "dentist"})
    assert [field for field, _ in wrong.errors.items()] == ["period-from", "area", "route", "referrer-kind"]

    reversed_period = read_filter_form({"from": "2019-03-31", "to": "2019-03-01"})
    assert [field for field, _ in reversed_period.errors.items()] == ["period-to"]
    assert reversed_period.errors.items()[0][1].startswith("The period ends (2019-03-01) before it starts")

"""The dashboard's pure rules: the period it can answer, the days it lists, the decision mix, declines by referrer,
and the page's filter form read as a person typed it."""

from __future__ import annotations

from datetime import date

import pytest

from reporting.domain.dashboard import daily_arrivals, decision_mix, default_period, period_error, referrer_declines
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
        {"day": date(2019, 3, 2), "route": "self-referral", "n": 2},
        {"day": date(2019, 3, 1), "route": "fhir-rest", "n": 1},
    ]
    routes, days = daily_arrivals(date(2019, 3, 1), date(2019, 3, 3), rows)
    assert routes == ["fhir-rest", "self-referral"]
    assert [(d.day.day, d.total, d.by_route) for d in days] == [
        (1, 1, {"fhir-rest": 1, "self-referral": 0}),
        (2, 2, {"fhir-rest": 0, "self-referral": 2}),
        (3, 0, {"fhir-rest": 0, "self-referral": 0}),
    ]


def test_the_decision_mix_names_every_decision_and_the_undecided():
    assert decision_mix({"declined": 2, "unknown": 1}) == {
        "accepted": 0,
        "declined": 2,
        "redirected": 0,
        "undecided": 1,
    }


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

"""The feedback page's form: the default period, and what it says about each wrong field."""

from __future__ import annotations

from datetime import date

import pytest

from reporting.feedback_pages import Choice, _read_form, last_calendar_month

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("today", "month"),
    [
        (date(2026, 12, 2), (date(2026, 11, 1), date(2026, 11, 30))),
        (date(2026, 1, 31), (date(2025, 12, 1), date(2025, 12, 31))),
        (date(2024, 3, 1), (date(2024, 2, 1), date(2024, 2, 29))),
    ],
)
def test_the_default_period_is_the_whole_calendar_month_before_today(today, month):
    assert last_calendar_month(today) == month


MARCH_2019 = (date(2019, 3, 1), date(2019, 3, 31))


def test_an_empty_date_field_takes_its_day_of_the_default_period():
    choice, errors = _read_form("B82005", None, "", MARCH_2019)
    assert not errors
    assert choice == Choice("B82005", date(2019, 3, 1), date(2019, 3, 31))


def test_a_first_visit_shows_the_empty_form_without_errors():
    choice, errors = _read_form(None, None, None, MARCH_2019)
    assert choice is None
    assert not errors


def test_a_valid_form_is_read_with_the_code_in_capitals():
    choice, errors = _read_form(" b82005 ", "2019-03-01", "2019-03-31", MARCH_2019)
    assert not errors
    assert choice == Choice("B82005", date(2019, 3, 1), date(2019, 3, 31))


def test_each_wrong_field_gets_its_own_message_in_page_order():
    choice, errors = _read_form("", "1 March", "2019-02-30", MARCH_2019)
    assert choice is None
    assert [field for field, _ in errors.items()] == ["ods-code", "period-from", "period-to"]
    assert errors.message("ods-code") == {
        "text": "Enter the referrer's ODS code: 3 to 10 letters and numbers, like B82005"
    }


def test_a_period_ending_before_it_starts_is_refused_on_the_last_day():
    choice, errors = _read_form("B82005", "2019-03-31", "2019-03-01", MARCH_2019)
    assert choice is None
    assert errors.items() == [("period-to", "The last day of the period must be the same as or after the first day")]

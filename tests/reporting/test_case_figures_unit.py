"""The case figures' arithmetic: means over the people with both answers, and nothing made up from none."""

from __future__ import annotations

import pytest

from reporting.domain.cases import score_change, sessions_used, zero_filled_reasons

pytestmark = pytest.mark.unit


def test_a_change_is_closing_minus_baseline_over_the_same_people_rounded_to_two_places():
    change = score_change(3, baseline=7.666666, closing=5.0)
    assert (change.n, change.baseline_mean, change.closing_mean, change.mean_change) == (3, 7.67, 5.0, -2.67)


def test_with_nobody_answering_both_times_there_is_no_mean_rather_than_a_zero():
    change = score_change(0, baseline=None, closing=None)
    assert (change.n, change.baseline_mean, change.closing_mean, change.mean_change) == (0, None, None, None)


def test_sessions_have_a_mean_only_once_a_case_has_closed():
    assert sessions_used(0, 0).mean_per_closed_case is None
    assert sessions_used(11, 3).mean_per_closed_case == 3.67


def test_every_closure_reason_is_listed_in_the_vocabulary_order_with_zeros():
    assert zero_filled_reasons({"moved-away": 2}) == {
        "goals-met": 0,
        "connected-onward": 0,
        "disengaged": 0,
        "declined": 0,
        "moved-away": 2,
        "other": 0,
    }

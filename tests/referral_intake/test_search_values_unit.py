"""FHIR search values: what each prefix and precision of a date means, token syntax, and that every value the
OpenAPI patterns allow is taken (schemathesis sends such values and expects them accepted)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from referral_intake.adapters.fhir_search import SearchParameters, is_lenient, page_size
from referral_intake.adapters.fhir_search_values import (
    CURSOR,
    DATE,
    TOKEN_LIST,
    cursor,
    date_interval,
    position,
    tokens,
)
from referral_intake.adapters.outcome import FhirError
from referral_intake.domain.search import Interval, TaskPosition, TokenMatch

pytestmark = pytest.mark.unit


def _at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "interval"),
    [
        ("2026-12-01", Interval(_at(2026, 12, 1), _at(2026, 12, 2))),
        ("eq2026-12", Interval(_at(2026, 12, 1), _at(2027, 1, 1))),
        ("ge2026", Interval(_at(2026, 1, 1), None)),
        ("gt2026-12-01", Interval(_at(2026, 12, 2), None)),  # after the whole day
        ("lt2026-12-01", Interval(None, _at(2026, 12, 1))),
        ("le2026-12-01", Interval(None, _at(2026, 12, 2))),  # the whole day included
        ("ge2026-12-01T10:30Z", Interval(_at(2026, 12, 1, 10, 30), None)),
        ("gt2026-12-01T10:30:15+01:00", Interval(_at(2026, 12, 1, 9, 30, 16), None)),
        ("2024-02-29", Interval(_at(2024, 2, 29), _at(2024, 3, 1))),
        ("ge9999-12-31", Interval(_at(9999, 12, 31), None)),
        ("le9999", Interval(None, None)),  # past the end of the calendar: unbounded
    ],
)
def test_a_date_value_is_its_implicit_range_then_the_prefix(value, interval):
    assert date_interval("_lastUpdated", value) == interval


@pytest.mark.parametrize("value", ["ne2026", "2026-02-29", "2026-13", "2026-01-01T10:00", "2026-1-1", "sa2026", ""])
def test_a_date_value_outside_the_grammar_is_refused_naming_the_parameter(value):
    with pytest.raises(FhirError) as refused:
        date_interval("_lastUpdated", value)
    assert refused.value.issues[0].expression == "_lastUpdated"


def test_tokens_follow_fhir_syntax_with_escapes():
    assert tokens("identifier", r"http://a|b\|c,x,|y,s|") == (
        TokenMatch("http://a", "b|c"),
        TokenMatch(None, "x"),  # any system
        TokenMatch("", "y"),  # no system
        TokenMatch("s", None),  # any value
    )
    for bad in ("a|b|c", "", "a,", "|"):
        with pytest.raises(FhirError):
            tokens("identifier", bad)


def test_a_cursor_reads_back_as_the_position_it_was_made_from():
    at = TaskPosition(_at(2026, 12, 1, 10, 30, 15, 123456), "5e6b1b4e-7f4a-4b0e-9d1e-000000000001")
    assert position(cursor(at)) == at


@settings(max_examples=300, deadline=None)
@given(st.from_regex(DATE, fullmatch=True))
def test_every_date_the_openapi_pattern_allows_is_taken(value):
    date_interval("_lastUpdated", value)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(TOKEN_LIST, fullmatch=True))
def test_every_token_list_the_openapi_pattern_allows_is_taken(value):
    assert tokens("identifier", value)


@settings(max_examples=100, deadline=None)
@given(st.from_regex(CURSOR, fullmatch=True))
def test_every_cursor_the_openapi_pattern_allows_is_taken(value):
    assert re.fullmatch(CURSOR, cursor(position(value)))


def test_strict_handling_names_every_unsupported_parameter_and_lenient_ignores_them():
    pairs = [("status", "accepted"), ("_sort", "x"), ("subject", "y")]
    with pytest.raises(FhirError) as refused:
        SearchParameters(pairs, ("status",))
    assert "_sort, subject" in refused.value.issues[0].diagnostics
    assert SearchParameters(pairs, ("status",), lenient=True).used == [("status", "accepted")]
    # _format is FHIR's for every interaction (content negotiation reads it): never an unsupported parameter.
    assert SearchParameters([("_format", "json")], ("status",)).used == [("_format", "json")]
    assert is_lenient("return=minimal; handling=lenient")
    assert not is_lenient("handling=strict")
    assert not is_lenient(None)


def test_the_page_size_defaults_to_fifty_and_is_capped_at_a_hundred():
    assert page_size(SearchParameters([], ("_count",))) == 50
    assert page_size(SearchParameters([("_count", "1000")], ("_count",))) == 100
    with pytest.raises(FhirError):
        page_size(SearchParameters([("_count", "²")], ("_count",)))

"""The shared vocabulary: one reading of a postcode district for every service."""

from __future__ import annotations

import pytest

from signpost_contracts.vocabulary import SERVICES, Scope, postcode_district

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("given", "district"),
    [
        ("LS6 2AB", "LS6"),
        ("ls6 2ab", "LS6"),
        (" LS6 1AA ", "LS6"),
        ("LS62AB", "LS6"),
        ("ls11 5qh", "LS11"),
        ("LS115QH", "LS11"),
        ("M1 1AE", "M1"),
        ("M11AE", "M1"),
        ("EC1A 1BB", "EC1A"),
        ("EC1A1BB", "EC1A"),
        ("LS6", "LS6"),
        ("ls6", "LS6"),
    ],
)
def test_the_district_is_the_outward_code_of_a_postcode(given, district):
    assert postcode_district(given) == district


@pytest.mark.parametrize("given", ["75001", "not a postcode", "6LS", "LS6 junk", "", "  ", None, "LS6 2AB" * 10])
def test_something_that_is_not_a_uk_postcode_has_no_district(given):
    assert postcode_district(given) is None


def test_the_services_and_scopes_are_named_once():
    assert SERVICES == ("referral_intake", "triage", "notifications", "reporting")
    assert Scope.READ_ALL.value == "referrals:read-all"

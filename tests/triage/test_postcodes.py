"""Which postcode districts an area prefix covers."""

from __future__ import annotations

import pytest

from triage.domain.postcodes import normalise_prefix, prefix_covers, prefixes_covering

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("district", ["LS1", "LS6", "LS10", "LS29", "LS99"])
def test_an_area_prefix_covers_every_district_in_that_area(district):
    assert prefix_covers("LS", district)


def test_a_district_prefix_does_not_cover_a_longer_district_that_starts_the_same():
    assert prefix_covers("LS1", "LS1")
    assert not prefix_covers("LS1", "LS10")
    assert not prefix_covers("LS1", "LS11")


def test_an_area_prefix_must_be_the_whole_area_not_its_first_letter():
    assert not prefix_covers("L", "LS6"), "L is Liverpool; LS is Leeds"
    assert prefix_covers("L", "L8")


def test_a_district_prefix_covers_its_lettered_sub_districts():
    assert prefix_covers("EC1", "EC1A")
    assert prefix_covers("W1", "W1A")
    assert not prefix_covers("EC1A", "EC1M")


def test_a_malformed_prefix_is_refused_with_what_is_expected():
    with pytest.raises(ValueError, match="postcode area such as 'LS'"):
        normalise_prefix("LS-6")


def test_the_prefixes_that_could_cover_a_district_include_its_area_and_district():
    assert prefixes_covering("LS10") == ["LS", "LS10"]
    assert prefixes_covering("EC1A") == ["EC", "EC1", "EC1A"]

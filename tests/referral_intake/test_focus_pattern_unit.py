"""The OpenAPI pattern for GET /fhir/Task?focus= says exactly which values the route takes."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from referral_intake.adapters.fhir_openapi import FOCUS
from referral_intake.adapters.fhir_search import referral_of_focus as _referral_id
from referral_intake.adapters.outcome import FhirError
from signpost_runtime.request_checks import NO_CONTROLS

pytestmark = pytest.mark.unit

PATTERN = re.compile(FOCUS["schema"]["pattern"])
PIECES = st.sampled_from(["ServiceRequest", "Patient", "/", "//", "abc", "", "http://x", "\x00", "é", "fhir"])


def _taken(focus: str) -> bool:
    if not re.fullmatch(NO_CONTROLS, focus):
        return False  # the edge refuses it before the route runs
    try:
        _referral_id(focus)
    except FhirError:
        return False
    return True


@given(st.lists(PIECES, max_size=6).map("".join) | st.text(max_size=12))
@example("ServiceRequest/abc")
@example("https://h/fhir/ServiceRequest/abc/")
@example("a/ServiceRequest/")
@example("ServiceRequest//abc")
@example("/abc")
def test_the_documented_focus_pattern_matches_exactly_what_the_route_takes(focus):
    assert bool(PATTERN.fullmatch(focus)) == _taken(focus), focus

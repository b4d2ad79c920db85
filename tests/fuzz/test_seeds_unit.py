"""The FHIR fuzzer starts from referrals intake takes: if a seed stopped being valid, the fuzzing of
everything after validation would quietly stop."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from fuzz.seeds import bars_referrals, bars_service_requests, synthetic_referrals
from referral_intake.adapters.fhir_request import submission_from_body
from referral_intake.adapters.outcome import FhirError

pytestmark = pytest.mark.unit


def _read(resource: dict) -> object:
    return submission_from_body(json.dumps(resource).encode(), max_depth=64, today=datetime.now(UTC).date())


def test_every_synthetic_seed_and_every_bars_referral_aimed_at_signpost_is_taken():
    originals = len(bars_service_requests())
    aimed = bars_referrals()[originals:]
    assert len(aimed) == originals >= 9
    for seed in [*synthetic_referrals(), *aimed]:
        _read(seed)


def test_the_bars_referrals_as_sent_are_refused_as_another_services():
    for request in bars_service_requests():
        with pytest.raises(FhirError) as refused:
            _read(request)
        assert any(issue.code == "not-supported" for issue in refused.value.issues)

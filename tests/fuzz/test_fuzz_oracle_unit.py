"""The FHIR fuzzer's checks fail when intake misbehaves: a 5xx, another media type, a refusal that stored
something, an acceptance that stored or announced the wrong thing."""

from __future__ import annotations

import json

import pytest

from fuzz.fhir_cases import FhirCase
from fuzz.test_fhir_fuzzer import Answer, Run, check

pytestmark = pytest.mark.unit

NOTHING = {"referrals": 0, "referral_identifiers": 0, "referral_requests": 0, "outbox": 0}
STORED = {"referrals": 1, "referral_identifiers": 1, "referral_requests": 0, "outbox": 1}
CASE = FhirCase(json.dumps({"identifier": [{"system": "https://x.example", "value": "1"}]}).encode())
OUTCOME = json.dumps({"resourceType": "OperationOutcome", "issue": [{"code": "invalid"}]})
REFERRAL = json.dumps({"resourceType": "ServiceRequest", "id": "r1"})
LOCATION = "http://testserver/fhir/ServiceRequest/r1"


def _answer(status: int, text: str, counts: dict[str, int], *, media_type: str = "application/fhir+json",
            event: tuple[str, ...] | None = None) -> Answer:  # fmt: skip
    return Answer(status, media_type, text, LOCATION if status in (200, 201) else None, counts, event)


def test_the_checks_pass_a_refusal_that_stored_nothing_and_an_acceptance_that_stored_one_referral():
    run = Run()
    check(CASE, _answer(400, OUTCOME, NOTHING), NOTHING, run)
    check(CASE, _answer(201, REFERRAL, STORED, event=("r1", "referral.received.v2")), NOTHING, run)
    check(CASE, _answer(200, REFERRAL, STORED), STORED, run)
    assert (run.statuses, run.created, run.repeats) == ({400: 1, 201: 1, 200: 1}, {"r1"}, 1)


WRONG = ["server error", "not FHIR JSON", "refused but stored", "refused but published", "stored twice"]
WRONG += ["announced another referral", "a repeat of nothing"]


@pytest.mark.parametrize(
    ("answer", "before", "why"),
    [
        (_answer(500, OUTCOME, NOTHING), NOTHING, "500"),
        (_answer(400, OUTCOME, NOTHING, media_type="application/json"), NOTHING, "in 'application/json'"),
        (_answer(422, OUTCOME, STORED), NOTHING, "refused it but stored"),
        (_answer(400, OUTCOME, {**NOTHING, "outbox": 1}), NOTHING, "refused it but stored"),
        (_answer(201, REFERRAL, {**STORED, "outbox": 2}, event=("r1", "referral.received.v2")), NOTHING, "stored"),
        (_answer(201, REFERRAL, STORED, event=("r2", "referral.received.v2")), NOTHING, "announced"),
        (_answer(200, REFERRAL, STORED), NOTHING, "never created"),
    ],
    ids=WRONG,
)
def test_the_checks_fail_when_intake_answers_or_stores_wrongly(answer, before, why):
    with pytest.raises(AssertionError, match=why):
        check(CASE, answer, before, Run())

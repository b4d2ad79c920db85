"""Real NHS BaRS referral requests: each ServiceRequest is accepted or refused precisely, never vaguely.

They are referrals to other services (ED, CAS, pharmacy, optician), sent inside message Bundles
whose entries reference each other by urn:uuid. Sent as they are to POST /fhir/ServiceRequest the
references cannot be resolved; sent the way a REST client would (the Patient and requester
contained), the BaRS use case shows they are for another service. Either way the answer names
each element at fault.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from referral_intake.adapters.fhir_request import submission_from_body
from referral_intake.adapters.outcome import FhirError, operation_outcome
from support.fhir_examples import fhir_examples

pytestmark = pytest.mark.unit

EXAMPLES = fhir_examples("bars-messages")
REQUESTS = sorted(EXAMPLES.glob("REFREQ*.json"))


def test_the_bars_corpus_is_there():
    assert len(REQUESTS) >= 9, f"expected the BaRS REFREQ examples in {EXAMPLES}"


def _entries(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}


def _service_request(path: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    bundle = json.loads(path.read_text())
    [service_request] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest"]
    return service_request, _entries(bundle)


def _as_rest(service_request: dict[str, Any], entries: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The ServiceRequest with its subject and requester contained, as a plain REST client sends it."""
    rest = copy.deepcopy(service_request)
    rest["contained"] = []
    for element, local_id in (("subject", "patient"), ("requester", "requester")):
        target = entries.get(rest[element]["reference"])
        if target is not None:
            rest["contained"].append({**copy.deepcopy(target), "id": local_id})
            rest[element] = {"reference": f"#{local_id}"}
    return rest


def _outcome(resource: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
    try:
        submission_from_body(json.dumps(resource).encode(), max_depth=64, today=date(2025, 6, 1))
    except FhirError as error:
        return error.status, operation_outcome(error.issues, error.status)
    return None


def _assert_precise(status: int, outcome: dict[str, Any]) -> None:
    assert status in (400, 422), "a referral we cannot take is the sender's to fix: never a 5xx"
    for issue in outcome["issue"]:
        assert issue["expression"][0].startswith("ServiceRequest"), issue
        assert issue["details"]["coding"][0]["code"].startswith("REC_"), issue
        assert len(issue["diagnostics"]) > 30, issue


@pytest.mark.parametrize("path", REQUESTS, ids=[p.name[:8] for p in REQUESTS])
def test_as_sent_in_the_bundle_the_unresolvable_references_are_named(path):
    service_request, _ = _service_request(path)
    result = _outcome(service_request)
    assert result is not None, "a subject in another bundle entry cannot be read here"
    status, outcome = result
    _assert_precise(status, outcome)
    expressions = {issue["expression"][0] for issue in outcome["issue"]}
    assert "ServiceRequest.subject.reference" in expressions


@pytest.mark.parametrize("path", REQUESTS, ids=[p.name[:8] for p in REQUESTS])
def test_sent_as_rest_each_is_refused_as_another_service_naming_its_bars_use_case(path):
    service_request, entries = _service_request(path)
    result = _outcome(_as_rest(service_request, entries))
    assert result is not None, f"{path.name} is a referral to another service"
    status, outcome = result
    _assert_precise(status, outcome)
    scope = [issue for issue in outcome["issue"] if issue["code"] == "not-supported"]
    assert scope, outcome
    assert scope[0]["expression"][0].startswith("ServiceRequest.category[0].coding")
    assert "social prescribing" in scope[0]["diagnostics"]

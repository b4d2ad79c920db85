"""Bad input over HTTP: the right 4xx OperationOutcome, and nothing stored or published."""

from __future__ import annotations

import json

import pytest

from signpost_contracts import Stream, topic
from support.auth import bearer
from support.fhir_examples import fhir_examples
from support.infra import read_topic

pytestmark = pytest.mark.integration

BARS = fhir_examples("bars-messages")


def _bad_requests(make) -> dict[str, tuple[dict, bytes, int, str | None]]:
    """name: (headers, body, expected status, expected expression)."""
    fhir = {"Content-Type": "application/fhir+json"}

    def changed(change) -> bytes:
        resource = make.referral()
        change(resource)
        return json.dumps(resource).encode()

    return {
        "malformed JSON": (fhir, b'{"resourceType": "ServiceRequest"', 400, None),
        "wrong resourceType": (fhir, b'{"resourceType": "Bundle", "type": "message"}', 400, "resourceType"),
        "XML": ({"Content-Type": "application/fhir+xml"}, b"<ServiceRequest/>", 415, None),
        "too large": (fhir, b'{"resourceType": "ServiceRequest", "note": "' + b"x" * 1_100_000 + b'"}', 413, None),
        "too deeply nested": (fhir, b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, None),
        "R4B validation error": (
            fhir,
            changed(lambda r: r["contained"][0].update(birthDate="1950-31-12")),
            400,
            "ServiceRequest.contained[0].birthDate",
        ),
        "missing subject": (fhir, changed(lambda r: r.pop("subject")), 400, "ServiceRequest.subject"),
        "bad NHS number": (
            fhir,
            changed(lambda r: r["contained"][0]["identifier"][0].update(value="9434765918")),
            400,
            "ServiceRequest.contained[0].identifier[0].value",
        ),
        "missing requester ODS": (
            fhir,
            changed(lambda r: r["contained"][1].pop("identifier")),
            400,
            "ServiceRequest.contained[1].identifier",
        ),
        "a NUL character": (
            fhir,
            changed(lambda r: r.update(note=[{"text": "lives alone\u0000"}])),
            400,
            "ServiceRequest.note[0].text",
        ),
        "half a surrogate pair": (
            fhir,
            changed(lambda r: r["contained"][0]["name"][0].update(family="Sm\udc00ith")),
            400,
            "ServiceRequest.contained[0].name[0].family",
        ),
        "no identifier and no X-Request-ID": (
            fhir,
            changed(lambda r: r.pop("identifier")),
            400,
            "ServiceRequest.identifier",
        ),
        "another service": (
            fhir,
            changed(lambda r: r.update(code={"coding": [{"system": "http://snomed.info/sct", "code": "183524004"}]})),
            422,
            "ServiceRequest.code",
        ),
    }


async def test_each_bad_input_is_refused_precisely_and_leaves_no_trace(intake, make):
    for name, (headers, body, status, expression) in _bad_requests(make).items():
        response = await intake.client.post(
            "/fhir/ServiceRequest", content=body, headers={**bearer("referrals:write"), **headers}
        )
        assert response.status_code == status, (name, response.text)
        assert response.headers["content-type"].startswith("application/fhir+json"), name
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome", name
        issue = outcome["issue"][0]
        assert issue["severity"] == "error", name
        assert issue["details"]["coding"][0]["system"] == "https://fhir.nhs.uk/Codesystem/http-error-codes", name
        assert len(issue["diagnostics"]) > 25, name
        if expression:
            assert expression in [i.get("expression", [None])[0] for i in outcome["issue"]], (name, outcome)

    assert await intake.count("referrals") == 0
    assert await intake.count("referral_identifiers") == 0
    assert await intake.count("outbox") == 0
    good = await intake.post(make.referral())
    records = await read_topic(
        intake.namespace.bootstrap, topic(Stream.REFERRALS, intake.namespace.name), expect=2, timeout=3
    )
    assert [r.key.decode() for r in records] == [good.json()["id"]], "only the good referral was published"


async def test_every_bars_referral_request_is_answered_with_a_precise_4xx_over_http(intake):
    requests = sorted(BARS.glob("REFREQ*.json"))
    assert requests
    for path in requests:
        bundle = json.loads(path.read_text())
        [service_request] = [
            e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest"
        ]
        response = await intake.post(service_request)
        assert response.status_code in (400, 422), (path.name, response.text)
        for issue in response.json()["issue"]:
            assert issue["expression"][0].startswith("ServiceRequest."), (path.name, issue)
            assert issue["details"]["coding"][0]["code"] in ("REC_BAD_REQUEST", "REC_UNPROCESSABLE_ENTITY")
    assert await intake.count("referrals") == 0
    assert await intake.count("outbox") == 0

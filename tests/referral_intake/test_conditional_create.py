"""POST /fhir/ServiceRequest with If-None-Exist (FHIR conditional create), on real PostgreSQL.

No match creates (201); one match is answered 200 with it and nothing is stored or announced; more than
one is 412. The condition sees what the caller may read; a match among the requester's own referrals that
the caller may not read is 412 without naming it, and a match in another organisation is not seen at all.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from support.auth import bearer

from .conftest import FHIR_JSON, WRITER

pytestmark = pytest.mark.integration

SYSTEM = "https://b82005.example/Id/referral"


def _identified(make, value: str, system: str = SYSTEM, ods: str = "B82005") -> dict[str, Any]:
    body = make.referral(ods_code=ods)
    body["identifier"] = [{"system": system, "value": value}]
    return body


async def _post(intake, body: dict[str, Any], condition: str, token: dict[str, str] = WRITER):
    headers = {**token, **FHIR_JSON, "If-None-Exist": condition}
    return await intake.client.post("/fhir/ServiceRequest", json=body, headers=headers)


async def _stored(intake) -> tuple[int, int]:
    return await intake.count("referrals"), await intake.count("outbox")


async def test_no_match_creates_and_one_match_answers_it_storing_and_announcing_nothing(intake, make):
    value = str(uuid.uuid4())
    created = await _post(intake, _identified(make, value), f"identifier={SYSTEM}|{value}")
    assert created.status_code == 201, created.text
    before = await _stored(intake)

    # A different body (new identifier, new X-Request-ID): the condition alone decides.
    again = await _post(
        intake, _identified(make, str(uuid.uuid4())), f"identifier={SYSTEM}|{value}"
    )  # fmt: skip
    assert again.status_code == 200, again.text
    assert again.json()["id"] == created.json()["id"]
    assert again.headers["Location"] == created.headers["Location"]
    assert await _stored(intake) == before


async def test_a_condition_matching_more_than_one_referral_is_412_and_nothing_is_stored(intake, make):
    value = str(uuid.uuid4())
    for system in ("https://b82005.example/Id/a", "https://b82005.example/Id/b"):
        assert (await intake.post(_identified(make, value, system))).status_code == 201
    before = await _stored(intake)

    response = await _post(intake, _identified(make, str(uuid.uuid4())), f"identifier={value}")
    assert response.status_code == 412, response.text
    [issue] = response.json()["issue"]
    assert (issue["code"], issue["expression"]) == ("multiple-matches", ["If-None-Exist"])
    assert await _stored(intake) == before


@pytest.mark.parametrize(("condition", "named"), [("subject=Patient/1", "subject"), ("", "If-None-Exist")])
async def test_an_unsupported_condition_is_400_naming_it_and_nothing_is_stored(intake, make, condition, named):
    response = await _post(intake, make.referral(), condition)
    assert response.status_code == 400, response.text
    assert response.json()["issue"][0]["expression"] == [named]
    assert await _stored(intake) == (0, 0)


async def test_another_organisations_referral_is_not_seen_by_the_condition(intake, make):
    """Identifiers belong to the requester: the same one in another organisation is another referral, so the
    referral is created, and the answer is the same as if theirs did not exist."""
    value = str(uuid.uuid4())
    other = bearer("referrals:write", "referrals:read", ods="Y01234")
    theirs = await _post(intake, _identified(make, value, ods="Y01234"), f"identifier={SYSTEM}|{value}", other)
    assert theirs.status_code == 201

    ours = await _post(intake, _identified(make, value), f"identifier={SYSTEM}|{value}")
    assert ours.status_code == 201, ours.text
    assert ours.json()["id"] != theirs.json()["id"]


async def test_a_match_the_sender_may_not_read_is_refused_without_naming_it_and_not_duplicated(intake, make):
    """An integration engine sending for the practice cannot read what the practice sent itself: its condition
    matching that referral must neither return it nor create a second one beside it."""
    value = str(uuid.uuid4())
    practice_sent = await _post(intake, _identified(make, value), f"identifier={SYSTEM}|{value}")
    assert practice_sent.status_code == 201
    before = await _stored(intake)

    hub = bearer("referrals:write-on-behalf", "referrals:read", ods=None)
    response = await _post(intake, _identified(make, str(uuid.uuid4())), f"identifier={SYSTEM}|{value}", hub)
    assert response.status_code == 412, response.text
    assert practice_sent.json()["id"] not in response.text
    assert "Location" not in response.headers
    assert await _stored(intake) == before


async def test_the_readmes_search_examples_answer_as_it_says(intake):
    body = json.loads((Path(__file__).parents[2] / "examples" / "gp-referral.json").read_text())
    [identifier] = body["identifier"]
    condition = f"identifier={identifier['system']}|{identifier['value']}"
    assert (await _post(intake, body, condition)).status_code == 201
    assert (await _post(intake, body, condition)).status_code == 200

    found = await intake.client.get(
        f"/fhir/ServiceRequest?identifier={identifier['system']}%7C{identifier['value']}", headers=WRITER
    )
    assert found.json()["total"] == 1
    polled = await intake.client.get(
        "/fhir/Task?_lastUpdated=ge2026-01-01T09:00:00Z&status=requested&_count=20", headers=WRITER
    )
    assert polled.json()["total"] == 1

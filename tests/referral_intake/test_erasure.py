"""A coordinator erases a person's identifiers at intake (POST /erasures), on real PostgreSQL and the broker.

tests/e2e/test_erasure.py follows the erasure through every service's database; these check intake's answers.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest

from referral_intake.erasure_cli import main as erase_command
from support.auth import bearer, token
from support.forms import COOKIE

pytestmark = pytest.mark.integration

COORDINATOR = {"Authorization": f"Bearer {token('cases:coordinate', subject='coordinator-erin', ods=None)}"}
NHS_NUMBER = "9434765919"  # a valid test number (Modulus 11)
OTHER_NHS_NUMBER = "9998196000"
NAME = {"use": "official", "family": "Quilliam", "given": ["Rosalind"]}


def _of(referral: dict[str, Any], nhs_number: str) -> dict[str, Any]:
    patient = referral["contained"][0]
    patient["identifier"] = [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs_number}]
    patient["name"] = [NAME]
    referral["note"] = [{"text": "Rosalind Quilliam's daughter rings on Tuesdays"}]
    return referral


async def _sent(intake, body: dict[str, Any]) -> str:
    created = await intake.post(body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def test_erasing_by_nhs_number_erases_every_referral_of_the_person_and_announces_each(intake, make):
    first = await _sent(intake, _of(make.referral(), NHS_NUMBER))
    second = await _sent(intake, _of(make.referral(), NHS_NUMBER))
    someone_else = await _sent(intake, _of(make.referral(), OTHER_NHS_NUMBER))

    answer = await intake.client.post("/erasures", json={"nhs_number": "943 476 5919"}, headers=COORDINATOR)

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"erased": [first, second], "already_erased": []}
    for referral_id in (first, second):
        row = await intake.pool.fetchrow(
            "SELECT nhs_number, resource, erased_at FROM referrals WHERE id = $1", referral_id
        )
        stored = row["resource"]
        assert row["nhs_number"] is None
        assert row["erased_at"] is not None
        assert '"Patient"' not in stored, "the contained Patient went whole"
        for identifier in (NHS_NUMBER, "Quilliam", "Rosalind", "birthDate", "daughter"):
            assert identifier not in stored, f"{identifier} is still in the stored ServiceRequest"
        [erased] = [event for event in await intake.published(referral_id) if event["type"] == "referral.erased.v1"]
        assert set(erased) == {"type", "referral_id", "erased_at", "because"}, "ids and times only"
        assert erased["because"] == "request"
        read = await intake.client.get(f"/fhir/ServiceRequest/{referral_id}", headers=bearer("referrals:read"))
        assert read.status_code == 200, "the erased referral is still counted and readable, without the person"
        assert json.loads(read.text)["subject"] == {"display": "(erased)"}
    untouched = await intake.pool.fetchrow("SELECT nhs_number, erased_at FROM referrals WHERE id = $1", someone_else)
    assert (untouched["nhs_number"], untouched["erased_at"]) == (OTHER_NHS_NUMBER, None)


async def test_erasing_by_one_referral_finds_the_persons_other_referrals_and_a_repeat_announces_nothing(intake, make):
    first = await _sent(intake, _of(make.referral(), NHS_NUMBER))
    second = await _sent(intake, _of(make.referral(), NHS_NUMBER))
    await intake.client.post("/erasures", json={"referral_id": first}, headers=COORDINATOR)

    again = await intake.client.post("/erasures", json={"referral_id": second}, headers=COORDINATOR)

    assert again.status_code == 200, again.text
    assert again.json() == {"erased": [], "already_erased": [second]}, "the NHS number went with the first erasure"
    for referral_id in (first, second):
        announced = [e for e in await intake.published(referral_id) if e["type"] == "referral.erased.v1"]
        assert len(announced) == 1, "erased once, announced once"


@pytest.mark.parametrize("body", [{"referral_id": "never-seen-" + uuid.uuid4().hex}, {"nhs_number": "4010232137"}])
async def test_erasing_someone_intake_does_not_hold_answers_404_as_a_problem(intake, body):
    answer = await intake.client.post("/erasures", json=body, headers=COORDINATOR)

    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert "no referral has that id or NHS number" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({}, 401, id="no token"),
        pytest.param(
            {"Authorization": f"Bearer {token('cases:write', subject='leeds-north-amira')}"}, 403, id="a connector"
        ),
        pytest.param(bearer("referrals:write", "referrals:read-all"), 403, id="a referrer with read-all"),
    ],
)
async def test_only_a_coordinator_may_erase(intake, make, headers, status):
    referral_id = await _sent(intake, _of(make.referral(), NHS_NUMBER))

    answer = await intake.client.post("/erasures", json={"referral_id": referral_id}, headers=headers)

    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert await intake.pool.fetchval("SELECT nhs_number FROM referrals WHERE id = $1", referral_id) == NHS_NUMBER


@pytest.mark.parametrize("body", [{}, {"referral_id": "r", "nhs_number": "9434765919"}, {"nhs_number": "94347"}])
async def test_a_body_naming_neither_or_both_or_a_malformed_number_is_refused(intake, body):
    answer = await intake.client.post("/erasures", json=body, headers=COORDINATOR)

    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


async def test_the_erase_command_erases_as_the_route_does_and_says_when_nobody_matched(
    intake, make, database_url, capsys
):
    referral_id = await _sent(intake, _of(make.referral(), NHS_NUMBER))
    argv = ["--nhs-number", "943 476 5919", "--by", "records-officer", "--database-url", database_url]

    assert await asyncio.to_thread(erase_command, argv) == 0
    assert await asyncio.to_thread(erase_command, argv) == 1, "the NHS number is no longer known"

    assert json.loads(capsys.readouterr().out) == {"referral_id": referral_id, "erased": True}
    assert await intake.pool.fetchval("SELECT nhs_number FROM referrals WHERE id = $1", referral_id) is None
    [announced] = [e for e in await intake.published(referral_id) if e["type"] == "referral.erased.v1"]
    assert announced["referral_id"] == referral_id


async def test_an_erased_case_still_opens_for_its_coordinator_without_the_person_or_the_goals(intake, make):
    referral_id = await _sent(intake, _of(make.referral(), NHS_NUMBER))
    await intake.apply(make.assigned(referral_id, connector_id="leeds-north-amira"))
    reached = {"mode": "telephone", "outcome": "reached"}
    assert (await intake.case_api("POST", f"/{referral_id}/contacts", COORDINATOR, reached)).status_code == 200
    goals = {"goals": ["Walk with Rosalind's sister"]}
    assert (await intake.case_api("PUT", f"/{referral_id}/goals", COORDINATOR, goals)).status_code == 200

    await intake.client.post("/erasures", json={"referral_id": referral_id}, headers=COORDINATOR)
    case = await intake.case_api("GET", f"/{referral_id}", COORDINATOR)

    assert case.status_code == 200, case.text
    assert "Rosalind" not in case.text
    assert "Quilliam" not in case.text
    assert (case.json()["status"], case.json()["goals"]) == ("in-progress", ["(erased)"])
    cookie = {"Cookie": f"{COOKIE}={token('cases:coordinate', subject='coordinator-erin', ods=None)}"}
    page = await intake.client.get(f"/worklist/{referral_id}", headers=cookie)
    assert page.status_code == 200, page.text
    assert "Quilliam" not in page.text

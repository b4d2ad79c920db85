"""FHIR search on real PostgreSQL: referrals by identifier, Tasks by focus, owner, status and _lastUpdated, paged.

Every search shows only what the caller may read, and refuses an unsupported parameter by name.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from referral_intake.adapters.codes import SERVICE_IDENTIFIER, SERVICE_IDENTIFIER_SYSTEM
from support.auth import bearer

from .conftest import FHIR_JSON, ODS, WRITER

pytestmark = pytest.mark.integration

OTHER_ODS = "Y01234"
OTHER = bearer("referrals:write", "referrals:read", ods=OTHER_ODS)
STAFF = bearer("referrals:read", "referrals:read-all", ods=None)


def _identified(make, system: str, value: str, ods: str = ODS) -> dict[str, Any]:
    body = make.referral(ods_code=ods)
    body["identifier"] = [{"system": system, "value": value}]
    return body


async def _create(intake, body: dict[str, Any], token: dict[str, str] = WRITER) -> dict[str, Any]:
    response = await intake.client.post("/fhir/ServiceRequest", json=body, headers={**token, **FHIR_JSON})
    assert response.status_code == 201, response.text
    return response.json()


def _ids(bundle: dict[str, Any]) -> list[str]:
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


async def test_a_referral_is_found_by_its_identifier_with_or_without_the_system(intake, make):
    value = str(uuid.uuid4())
    mine = await _create(intake, _identified(make, "https://b82005.example/Id/referral", value))
    await _create(intake, make.referral())  # another of ours, not matching

    for query in (f"https://b82005.example/Id/referral|{value}", value):
        response = await intake.client.get("/fhir/ServiceRequest", params={"identifier": query}, headers=WRITER)
        assert response.status_code == 200, response.text
        bundle = response.json()
        assert (bundle["type"], bundle["total"], _ids(bundle)) == ("searchset", 1, [mine["id"]])
        [entry] = bundle["entry"]
        assert entry["fullUrl"] == f"{intake.base_url}/fhir/ServiceRequest/{mine['id']}"
        assert entry["search"] == {"mode": "match"}
        [link] = bundle["link"]
        assert link["relation"] == "self"
        assert link["url"].startswith(f"{intake.base_url}/fhir/ServiceRequest?identifier=")
    missing = await intake.client.get(
        "/fhir/ServiceRequest", params={"identifier": f"https://other|{value}"}, headers=WRITER
    )
    assert (missing.json()["total"], _ids(missing.json())) == (0, [])


async def test_a_referral_search_shows_only_referrals_the_caller_may_read(intake, make):
    value = str(uuid.uuid4())
    ours = await _create(intake, _identified(make, "urn:ietf:rfc:3986", value))
    theirs = await _create(intake, _identified(make, "urn:ietf:rfc:3986", value, OTHER_ODS), OTHER)

    async def found(token: dict[str, str]) -> list[str]:
        response = await intake.client.get("/fhir/ServiceRequest", params={"identifier": value}, headers=token)
        assert response.json()["total"] == len(_ids(response.json()))
        return _ids(response.json())

    assert await found(WRITER) == [ours["id"]]
    assert await found(OTHER) == [theirs["id"]]
    assert sorted(await found(STAFF)) == sorted([ours["id"], theirs["id"]])


async def test_an_unsupported_search_parameter_is_refused_by_name_unless_lenient_handling_is_asked_for(intake, make):
    value = str(uuid.uuid4())
    created = await _create(intake, _identified(make, "urn:x", value))
    params = {"identifier": value, "subject": "Patient/1"}

    refused = await intake.client.get("/fhir/ServiceRequest", params=params, headers=WRITER)
    assert refused.status_code == 400
    [issue] = refused.json()["issue"]
    assert (issue["code"], issue["expression"]) == ("not-supported", ["subject"])
    assert "subject" in issue["diagnostics"]
    assert "handling=lenient" in issue["diagnostics"]

    lenient = await intake.client.get(
        "/fhir/ServiceRequest", params=params, headers={**WRITER, "Prefer": "handling=lenient"}
    )
    assert lenient.status_code == 200
    assert _ids(lenient.json()) == [created["id"]]
    assert "subject" not in lenient.json()["link"][0]["url"]  # the self link shows what was used

    for bad in ("a|b|c", "", "x,"):
        response = await intake.client.get("/fhir/ServiceRequest", params={"identifier": bad}, headers=WRITER)
        assert response.status_code == 400, bad
        assert response.json()["issue"][0]["expression"] == ["identifier"]


async def _poll(intake, token: dict[str, str] = WRITER, **params: Any) -> dict[str, Any]:
    response = await intake.client.get("/fhir/Task", params=params, headers=token)
    assert response.status_code == 200, response.text
    return response.json()


def _focus(bundle: dict[str, Any]) -> list[str]:
    return [
        entry["resource"]["focus"]["reference"].removeprefix("ServiceRequest/") for entry in bundle.get("entry", [])
    ]


async def test_tasks_are_searched_by_status_owner_and_focus_within_the_callers_organisation(intake, make):
    accepted = await _create(intake, make.referral())
    requested = await _create(intake, make.referral())
    theirs = await _create(intake, make.referral(ods_code=OTHER_ODS), OTHER)
    await intake.apply(make.triaged(accepted["id"], "accepted"), make.triaged(theirs["id"], "accepted"))

    assert _focus(await _poll(intake, status="accepted")) == [accepted["id"]]
    assert sorted(_focus(await _poll(intake, status="accepted,requested"))) == sorted([accepted["id"], requested["id"]])
    assert _focus(await _poll(intake, status="http://hl7.org/fhir/task-status|requested")) == [requested["id"]]
    assert _focus(await _poll(intake, status="completed")) == []
    assert sorted(_focus(await _poll(intake, STAFF, status="accepted"))) == sorted([accepted["id"], theirs["id"]])
    assert _focus(await _poll(intake, focus=f"ServiceRequest/{theirs['id']}")) == []  # not ours: as if unknown

    signpost = f"{SERVICE_IDENTIFIER_SYSTEM}|{SERVICE_IDENTIFIER}"
    everyone = await _poll(intake, **{"owner:identifier": signpost})
    assert sorted(_focus(everyone)) == sorted([accepted["id"], requested["id"]])
    assert everyone["entry"][0]["resource"]["owner"]["identifier"]["value"] == SERVICE_IDENTIFIER
    assert (
        _focus(await _poll(intake, **{"owner:identifier": "https://fhir.nhs.uk/Id/ods-organization-code|B82005"})) == []
    )


async def test_a_referrer_polling_by_last_updated_sees_a_task_a_late_event_changed(intake, make):
    """The polling pattern: Tasks changed since the last poll. A triage event that arrives late, stamped an hour
    ago, still moves the Task past the poll: _lastUpdated is when intake recorded the change."""
    created = await _create(intake, make.referral())
    quiet = await _create(intake, make.referral())
    last_poll = datetime.now(UTC)
    assert _focus(await _poll(intake, _lastUpdated=f"gt{_instant(last_poll)}")) == []

    await intake.apply(make.triaged(created["id"], "accepted", at=-7200))  # decided an hour before now

    changed = await _poll(intake, _lastUpdated=f"ge{_instant(last_poll)}")
    assert _focus(changed) == [created["id"]]
    task = changed["entry"][0]["resource"]
    assert task["status"] == "accepted"
    assert datetime.fromisoformat(task["meta"]["lastUpdated"]) >= last_poll
    assert datetime.fromisoformat(task["lastModified"]) < last_poll  # when triage decided
    before = await _poll(intake, _lastUpdated=f"lt{_instant(last_poll)}")
    assert _focus(before) == [quiet["id"]]
    # Partial precision: today's UTC day holds both; combined bounds are AND.
    today = last_poll.date().isoformat()
    assert sorted(_focus(await _poll(intake, _lastUpdated=today))) == sorted([created["id"], quiet["id"]])
    both = await _poll(intake, _lastUpdated=[f"ge{today}", f"lt{_instant(last_poll)}"], status="requested")
    assert _focus(both) == [quiet["id"]]
    assert _focus(await _poll(intake, _lastUpdated=f"lt{today}")) == []


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def test_task_pages_follow_next_links_oldest_change_first_and_each_task_once(intake, make):
    created = [(await _create(intake, make.referral()))["id"] for _ in range(3)]

    first = await _poll(intake, _count=2)
    assert (first["total"], _focus(first)) == (3, created[:2])
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "_count=2" in links["self"]
    assert "_cursor=" in links["next"]
    second = (await intake.client.get(links["next"].removeprefix(intake.base_url), headers=WRITER)).json()
    assert (second["total"], _focus(second)) == (3, created[2:])
    assert [link["relation"] for link in second["link"]] == ["self"]  # no next page

    counted = await _poll(intake, _count=0)
    assert (counted["total"], counted.get("entry")) == (3, None)
    capped = await intake.client.get("/fhir/Task", params={"_count": 100000}, headers=WRITER)
    assert capped.status_code == 200
    assert len(capped.json()["entry"]) == 3


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"subject": "Patient/1"}, "subject"),
        ({"focus": ""}, "focus"),  # found by schemathesis: FOCUS's minLength
        ({"owner": "Organization/1"}, "owner"),
        ({"status": "done"}, "status"),
        ({"status": "http://example.org|accepted"}, "status"),
        ({"_lastUpdated": "ne2026-01-01"}, "_lastUpdated"),
        ({"_lastUpdated": "2026-02-30"}, "_lastUpdated"),
        ({"_lastUpdated": "2026-01-01T10:00"}, "_lastUpdated"),  # a time needs a time zone
        ({"_count": "-1"}, "_count"),
        ({"_cursor": "yesterday"}, "_cursor"),
        ({"_count": ["1", "2"]}, "_count"),
    ],
)
async def test_a_bad_task_search_is_a_400_naming_the_parameter(intake, params, named):
    response = await intake.client.get("/fhir/Task", params=params, headers=WRITER)
    assert response.status_code == 400, response.text
    assert response.json()["issue"][0]["expression"] == [named]


async def test_lenient_handling_ignores_an_unknown_task_parameter_but_not_a_bad_value(intake, make):
    created = await _create(intake, make.referral())
    lenient = {**WRITER, "Prefer": "return=minimal, handling=lenient"}
    response = await intake.client.get("/fhir/Task", params={"_sort": "-_lastUpdated"}, headers=lenient)
    assert response.status_code == 200
    assert _focus(response.json()) == [created["id"]]
    bad = await intake.client.get("/fhir/Task", params={"status": "done"}, headers=lenient)
    assert bad.status_code == 400


async def test_tasks_stored_before_the_index_existed_are_indexed_at_start(intake, make):
    created = await _create(intake, make.referral())
    await intake.pool.execute("DELETE FROM task_index")  # as a database migrated from before 0006 is
    assert _focus(await _poll(intake)) == []

    from referral_intake.task_index import index_unindexed
    from referral_intake.unit import IntakeUnit

    assert await index_unindexed(intake.app.state.runtime.units(IntakeUnit)) == 1
    assert _focus(await _poll(intake, status="requested")) == [created["id"]]

"""A referral's whole life on the stack of `make run` (services as processes) with a one-place roster.

The first referral takes the only place; the second and third wait. The third's referrer withdraws it
with a JSON Patch: it is cancelled and frees nothing. The connector walks the first through the case
API from first contact to closure; its closure frees the place, which the second takes at once, and
the second's referrer is told. Throughout, the caseload never exceeds the one place.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from signpost_contracts.vocabulary import Scope
from signpost_devstack.infra import Infrastructure
from signpost_devstack.stack import LocalStack
from signpost_devstack.synthetic import gp_referral
from signpost_runtime.auth import issue_token
from support.infra import unique
from support.journey import Journey
from support.stack import stack_for_run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CONNECTOR = "solo-paid-connector"
ONE_PLACE_ROSTER = f"""
[[connectors]]
id = "{CONNECTOR}"
display_name = "Sam Solo"
areas = ["LS6"]
kind = "paid"
capacity = 1
"""


@pytest.fixture(scope="module")
def one_place_stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    run = unique("e2e-case")
    state = tmp_path_factory.mktemp(run)
    roster = state / "roster.toml"
    roster.write_text(ONE_PLACE_ROSTER)
    local = stack_for_run(
        run,
        kafka_bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        postgres_url=infrastructure.postgres_url,
        log_dir=state / "logs",
        service_env={"triage": {"ROSTER_FILE": str(roster), "SERVICE_STATUS_EVERY_SECONDS": "0.5"}},
    )
    local.start()
    yield local
    local.stop()


async def _until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 40) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout}s"
        await asyncio.sleep(0.25)


async def test_closure_assigns_the_waiting_referral_and_a_withdrawn_one_frees_nothing(one_place_stack):
    stack, rng = one_place_stack, random.Random(6)
    practices = [f"{unique(name)}@practice.example.nhs.uk" for name in ("first", "second", "third")]
    first, second, third = (
        gp_referral(postcode="LS6 2AA", age=70 + n, needs=["loneliness"], email=practices[n], rng=rng) for n in range(3)
    )
    intake, triage = stack.url("referral_intake"), stack.url("triage")
    connector = {
        "Authorization": "Bearer "
        + issue_token(stack.config.jwt_secret, subject=CONNECTOR, scopes=[Scope.CASES_WRITE.value], ods_code=None)
    }
    async with httpx.AsyncClient(timeout=30) as client:
        journey = Journey(stack, client)

        async def roster() -> dict[str, Any]:
            [solo] = (await client.get(f"{triage}/roster", headers=journey.auth)).json()["connectors"]
            assert solo["caseload"] <= solo["capacity"] == 1, "one place, never more"
            return dict(solo)

        async def waiting() -> list[str]:
            listed = (await client.get(f"{triage}/waitlist", headers=journey.auth)).json()["waiting"]
            return [entry["referral_id"] for entry in listed]

        async def case(referral_id: str) -> dict[str, Any]:
            response = await client.get(f"{intake}/cases/{referral_id}", headers=connector)
            assert response.status_code == 200, response.text
            return dict(response.json())

        async def act(method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = await client.request(method, f"{intake}/cases/{path}", json=body, headers=connector)
            assert response.status_code == 200, f"{method} {path}: {response.text}"
            return dict(response.json())

        first_id = await journey.refer(first)
        assert (await journey.settled_task(first_id))["businessStatus"]["text"] == "assigned"
        second_id = await journey.refer(second)
        third_id = await journey.refer(third)
        for waiting_id in (second_id, third_id):
            assert (await journey.settled_task(waiting_id))["businessStatus"]["text"] == "waitlisted"
        assert await waiting() == [second_id, third_id], "in the order they arrived"
        # Referrers asking before they refer see the same: no room, two waiting (public, no token).
        directory = await _until(
            lambda: _service_showing(client, intake, waiting=2), "the HealthcareService showing two waiting"
        )
        assert directory["extension"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "waitlist"

        # The third's referrer withdraws it: cancelled, off the waitlist, and the place stays the first's.
        withdrawn = await client.patch(
            f"{intake}/fhir/ServiceRequest/{third_id}",
            json=[{"op": "replace", "path": "/status", "value": "revoked"}],
            headers={**journey.auth, "Content-Type": "application/json-patch+json"},
        )
        assert withdrawn.status_code == 200, withdrawn.text
        assert withdrawn.json()["status"] == "revoked"
        assert (await journey.task(third_id))["status"] == "cancelled"
        await _until(lambda: _equal(waiting(), [second_id]), "the withdrawn referral leaving the waitlist")
        solo = await roster()
        assert solo["caseload"] == 1, "a withdrawal from the waitlist frees no place"
        assert solo["room"] == 0
        again = await client.patch(
            f"{intake}/fhir/ServiceRequest/{third_id}",
            json=[{"op": "replace", "path": "/status", "value": "revoked"}],
            headers={**journey.auth, "Content-Type": "application/json-patch+json"},
        )
        assert again.status_code == 409, "only an active referral can be revoked"

        # The connector sees only the first (their own case) and walks it to closure.
        worklist = (await client.get(f"{intake}/cases", headers=connector)).json()
        assert [line["referral_id"] for line in worklist["cases"]] == [first_id]
        await act("POST", f"{first_id}/contacts", {"mode": "telephone", "outcome": "reached"})
        assert (await journey.task(first_id))["status"] == "in-progress"
        await act("PUT", f"{first_id}/goals", {"goals": ["Join a walking group", "Meet neighbours"]})
        baseline = {"stage": "baseline", "ucla3": [3, 3, 2], "ons4": {"life_satisfaction": 4, "anxiety": 7}}
        await act("POST", f"{first_id}/measures", baseline)
        for _ in range(2):
            await act("POST", f"{first_id}/sessions", {"mode": "community-venue"})
        closing = {"stage": "closing", "ucla3": [2, 1, 1], "ons4": {"life_satisfaction": 7, "anxiety": 3}}
        await act("POST", f"{first_id}/measures", closing)
        closed = await act(
            "POST", f"{first_id}/closure", {"reason": "goals-met", "onward": ["Headingley walking group"]}
        )
        assert closed["status"] == "closed"
        assert (await case(first_id))["sessions_used"] == 2

        completed = await journey.task(first_id)
        assert completed["status"] == "completed"
        assert completed.get("output"), "the outcome travels back to the referrer on the Task"

        # The freed place goes to the second at once; its referrer hears it now has a connector.
        assigned = await _until(
            lambda: _task_text(journey, second_id, "assigned"), "the waiting referral being assigned"
        )
        assert assigned["status"] == "accepted"
        assert (await case(second_id))["connector_id"] == CONNECTOR
        assert await waiting() == []
        solo = await roster()
        assert solo["caseload"] == 1, "the closure freed one place and the second took it"

        # Each referrer has heard exactly what became of their referral, and only their own.
        told = await _emails(journey, second_id, count=2)
        assert [m["rcpt_tos"] for m in told] == [[practices[1]]] * 2
        assert "waiting list" in told[0]["text"].lower()
        assert "connector" in told[1]["text"].lower(), "the follow-up the waitlist message promised"
        confirmed = await _emails(journey, third_id, count=2)
        assert [m["rcpt_tos"] for m in confirmed] == [[practices[2]]] * 2
        assert "withdraw" in confirmed[1]["text"].lower()
        closure = (await _emails(journey, first_id, count=2))[-1]
        assert "Headingley walking group" in closure["text"], "the message back to the GP names the onward connection"


async def _emails(journey: Journey, referral_id: str, *, count: int) -> list[dict[str, Any]]:
    """The referral's emails once there are `count`, in the order sent; more than that is a failure."""
    found = await _until(lambda: _at_least(journey, referral_id, count), f"{count} emails about {referral_id}")
    assert len(found) == count, [m["text"] for m in found]
    return list(found)


async def _at_least(journey: Journey, referral_id: str, count: int) -> list[dict[str, Any]] | None:
    messages = (await journey.emails_about({referral_id}))[referral_id]
    return messages if len(messages) >= count else None


async def _service_showing(client: httpx.AsyncClient, intake: str, *, waiting: int) -> dict[str, Any] | None:
    bundle = (await client.get(f"{intake}/fhir/HealthcareService")).json()
    for entry in bundle.get("entry", []):
        notes = entry["resource"]["extension"][0]["extension"][1]["valueString"]
        if f"{waiting} people are on the waiting list" in notes:
            return dict(entry["resource"])
    return None


async def _equal(value: Awaitable[Any], expected: Any) -> bool:
    return bool(await value == expected)


async def _task_text(journey: Journey, referral_id: str, text: str) -> dict[str, Any] | None:
    task = await journey.task(referral_id)
    return task if (task.get("businessStatus") or {}).get("text") == text else None

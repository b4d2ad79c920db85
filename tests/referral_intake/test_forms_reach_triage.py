"""Every new door reaches triage, on the real broker and PostgreSQL: intake and triage in-process, each on its own
database, sharing one topic namespace.

A self-referral, a partner's /refer form, a partner's FHIR ServiceRequest sent with its `org` token, and an
outreach record each publish referral.received.v2 on the referrals topic (with the door's channel, the
referrer's kind and, for a partner, its id); triage consumes it, decides, and publishes referral.triaged;
intake applies that decision to the referral's Task.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from referral_intake.adapters.codes import PARTNER_ORGANISATION
from referral_intake.app import create_app as intake_app
from referral_intake.config import IntakeSettings
from signpost_contracts import Stream, topic
from signpost_devstack.synthetic import gp_referral
from support.auth import token
from support.forms import COOKIE, person_answers, reference_on
from support.infra import Namespace, new_database, read_topic, unique, wait_until
from support.services import serving, settings_for
from triage.app import create_app as triage_app
from triage.config import TriageSettings

pytestmark = pytest.mark.integration

STAFF = {"Authorization": f"Bearer {token('referrals:read', 'referrals:read-all', 'triage:read', ods=None)}"}


@dataclass
class Doors:
    """Intake (HTTP client) and triage (HTTP client) on one namespace of the real broker."""

    intake: httpx.AsyncClient
    triage: httpx.AsyncClient
    namespace: Namespace

    async def received(self, referral_id: str) -> tuple[dict[str, str], dict[str, Any]]:
        """The referral's record on the referrals topic, as the broker holds it: (headers, payload)."""
        name = topic(Stream.REFERRALS, self.namespace.name)

        def found(records: list) -> bool:
            return any(r.key == referral_id.encode() for r in records)

        records = await read_topic(self.namespace.bootstrap, name, until=found, timeout=30)
        [record] = [r for r in records if r.key == referral_id.encode()]
        return {k: v.decode() for k, v in record.headers}, json.loads(record.value)

    async def triaged(self, referral_id: str) -> dict[str, Any]:
        """referral.triaged for the referral, as triage published it."""
        name = topic(Stream.TRIAGE, self.namespace.name)

        def wanted(r: Any) -> bool:
            return r.key == referral_id.encode() and dict(r.headers)["ce_type"] == b"referral.triaged.v1"

        records = await read_topic(self.namespace.bootstrap, name, until=lambda rs: any(map(wanted, rs)), timeout=30)
        [record] = [r for r in records if wanted(r)]
        return dict(json.loads(record.value))

    async def decision(self, referral_id: str) -> dict[str, Any]:
        async def decided() -> dict[str, Any] | None:
            answer = await self.triage.get(f"/decisions/{referral_id}", headers=STAFF)
            return answer.json() if answer.status_code == 200 else None

        return dict(await wait_until(decided, timeout=30, message=f"triage's decision on {referral_id}"))

    async def task_when_accepted(self, referral_id: str) -> dict[str, Any]:
        async def accepted() -> dict[str, Any] | None:
            focus = {"focus": f"ServiceRequest/{referral_id}"}
            answer = await self.intake.get("/fhir/Task", params=focus, headers=STAFF)
            assert answer.status_code == 200, answer.text
            [entry] = answer.json()["entry"]
            task = entry["resource"]
            return task if task["status"] == "accepted" and task.get("businessStatus") else None

        return dict(await wait_until(accepted, timeout=30, message=f"the Task of {referral_id} accepted"))


@pytest.fixture
async def doors(infrastructure, namespace) -> AsyncIterator[Doors]:
    """Intake and triage (the demo policy and roster) on this test's topics, each on a database of its own."""
    intake = intake_app(
        settings_for(IntakeSettings, infrastructure, namespace, await new_database(infrastructure.postgres_url))
    )
    triage = triage_app(
        settings_for(TriageSettings, infrastructure, namespace, await new_database(infrastructure.postgres_url))
    )
    async with serving(triage) as triage_client, serving(intake) as intake_client:
        yield Doors(intake_client, triage_client, namespace)


async def self_referral(client: httpx.AsyncClient) -> str:
    return reference_on(await client.post("/self-referral", data=person_answers(unique("Ann"))))


async def partner_form(client: httpx.AsyncClient) -> str:
    client.cookies.set(COOKIE, token("referrals:write", ods=None, subject="sam-at-leeds-mind", org="leeds-mind"))
    staff = {"referrer-name": "Sam Jones", "referrer-role": "Support worker"}
    return reference_on(await client.post("/refer", data={**person_answers(unique("Bob")), **staff}))


async def partner_fhir(client: httpx.AsyncClient) -> str:
    body = gp_referral(rng=random.Random(), postcode="LS6 2AB", age=67, needs=["bereavement"])
    body["requester"] = {"identifier": {"system": PARTNER_ORGANISATION, "value": "leeds-mind"}}
    sam = token("referrals:write", "referrals:read", ods=None, subject="sam-at-leeds-mind", org="leeds-mind")
    created = await client.post(
        "/fhir/ServiceRequest",
        json=body,
        headers={"Authorization": f"Bearer {sam}", "Content-Type": "application/fhir+json"},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def outreach(client: httpx.AsyncClient) -> str:
    client.cookies.set(COOKIE, token("cases:write", ods=None, subject="leeds-north-amira"))
    return reference_on(
        await client.post("/outreach", data={**person_answers(unique("Cat")), "met-at": "Chapeltown library"})
    )


Door = Callable[[httpx.AsyncClient], Awaitable[str]]
LEEDS_MIND = {"kind": "community-organisation", "partner_id": "leeds-mind", "organisation_name": "Leeds Mind"}
DOORS = [
    pytest.param(self_referral, "self-referral", {"kind": "self", "partner_id": None}, id="self-referral"),
    pytest.param(partner_form, "referral-form", LEEDS_MIND, id="partner-form"),
    pytest.param(partner_fhir, "fhir-rest", LEEDS_MIND, id="partner-fhir"),
    pytest.param(outreach, "outreach", {"kind": "self", "partner_id": None}, id="outreach"),
]


@pytest.mark.parametrize(("send", "channel", "referrer"), DOORS)
async def test_a_referral_through_each_new_door_is_announced_as_v2_and_triaged(
    doors: Doors, send: Door, channel: str, referrer: dict[str, Any]
):
    referral_id = await send(doors.intake)

    headers, received = await doors.received(referral_id)
    assert headers["ce_type"] == "referral.received.v2"
    assert received["channel"] == channel
    assert {key: received["referrer"].get(key) for key in referrer} == referrer
    assert received["referrer"]["ods_code"] is None
    assert received["person"]["postcode_district"] == "LS6"

    decision = await doors.decision(referral_id)
    triaged = await doors.triaged(referral_id)
    assert decision["outcome"] == triaged["outcome"] == "accepted", decision
    task = await doors.task_when_accepted(referral_id)
    assert task["businessStatus"]["text"] == "assigned"

"""Triage publishes the service's status (service.status.v1) at start and whenever it changes: a place taken,
someone waiting. On a real broker and PostgreSQL, with the check every fraction of a second."""

from __future__ import annotations

import itertools
import json

import pytest

from signpost_contracts import Stream, topic
from signpost_contracts.registry import SERVICE_SUBJECT
from support.auth import bearer
from support.events import referral_received
from support.infra import publish, read_topic, wait_until
from support.services import serving

pytestmark = pytest.mark.integration

STAFF = bearer("triage:read", "referrals:read-all", ods=None)


def _is_status(record) -> bool:
    # Keyed "service" too, the caseloads (roster.caseloads.v1) share the partition: told apart by type.
    return record.key == SERVICE_SUBJECT.encode() and dict(record.headers).get("ce_type") == b"service.status.v1"


async def statuses(namespace, until) -> list[dict]:
    records = await read_topic(
        namespace.bootstrap,
        topic(Stream.TRIAGE, namespace.name),
        until=lambda rs: until([json.loads(r.value) for r in rs if _is_status(r)]),
    )
    return [json.loads(r.value) for r in sorted(records, key=lambda r: r.offset) if _is_status(r)]


def figures(status: dict) -> tuple[str, int, int]:
    return status["capacity"], status["places_free"], status["waiting"]


async def test_the_status_is_published_at_start_and_as_places_fill_and_people_wait(
    triage_app, write_roster, make_connector, namespace
):
    app = triage_app(write_roster([make_connector("solo", capacity=1)]), service_status_every_seconds=0.2)
    first, second = referral_received(needs=["loneliness"]), referral_received(needs=["loneliness"])
    async with serving(app) as client:
        [started] = await statuses(namespace, until=lambda found: len(found) >= 1)
        await publish(namespace, [first])
        await wait_until(lambda: _decided(client, first.subject), message="the first referral")
        await publish(namespace, [second])
        await wait_until(lambda: _decided(client, second.subject), message="the second referral")
        published = await statuses(
            namespace, until=lambda found: bool(found) and figures(found[-1]) == ("waitlist", 0, 1)
        )

    assert figures(started) == ("capacity", 1, 0)
    assert (started["area_name"], started["age_minimum"], started["policy_version"]) == ("Leeds", 18, "test-policy-7")
    # Each change once, in order; the same status is never published twice in a row.
    changes = [figures(status) for status in published]
    assert changes[0] == ("capacity", 1, 0)
    assert changes[-1] == ("waitlist", 0, 1)
    assert all(before != after for before, after in itertools.pairwise(changes)), changes


async def _decided(client, referral_id: str) -> bool:
    return (await client.get(f"/decisions/{referral_id}", headers=STAFF)).status_code == 200

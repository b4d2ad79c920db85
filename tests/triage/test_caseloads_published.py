"""Triage publishes every connector's caseload against capacity (roster.caseloads.v1) at start and as cases are
assigned and closed, through the outbox on the triage topic, agreeing with the service status. On a real broker
and PostgreSQL, with the check every fraction of a second."""

from __future__ import annotations

import json

import pytest

from signpost_contracts import Stream, topic
from signpost_contracts.registry import SERVICE_SUBJECT
from support.auth import bearer
from support.events import case_closed, referral_received
from support.infra import publish, read_topic, wait_until
from support.services import serving

pytestmark = pytest.mark.integration

STAFF = bearer("triage:read", "referrals:read-all", ods=None)


async def about_the_service(namespace, event_type: str, until) -> list[dict]:
    """The payloads of one type keyed "service", in the order they were published."""

    def of_type(records) -> list[dict]:
        ordered = sorted(records, key=lambda r: r.offset)
        return [
            json.loads(r.value)
            for r in ordered
            if r.key == SERVICE_SUBJECT.encode() and dict(r.headers).get("ce_type") == event_type.encode()
        ]

    records = await read_topic(
        namespace.bootstrap, topic(Stream.TRIAGE, namespace.name), until=lambda rs: until(of_type(rs))
    )
    return of_type(records)


def loads(caseloads: dict) -> dict[str, tuple[str, int, int, bool]]:
    return {
        c["connector_id"]: (c["kind"], c["open_cases"], c["capacity"], c["taking_new_work"])
        for c in caseloads["connectors"]
    }


async def test_caseloads_are_published_at_start_and_follow_an_assignment_and_its_closure(
    triage_app, write_roster, make_connector, namespace
):
    roster = [make_connector("solo", capacity=2), make_connector("helper", capacity=1, kind="volunteer")]
    app = triage_app(write_roster(roster), service_status_every_seconds=0.2)
    referral = referral_received(needs=["loneliness"])
    async with serving(app) as client:
        await about_the_service(namespace, "roster.caseloads.v1", until=lambda found: len(found) >= 1)
        await publish(namespace, [referral])
        await wait_until(lambda: _assigned(client, referral.subject), message="the referral assigned")
        await about_the_service(
            namespace, "roster.caseloads.v1", until=lambda found: bool(found) and loads(found[-1])["solo"][1] == 1
        )
        await publish(namespace, [case_closed(referral.subject)])
        published = await about_the_service(
            namespace,
            "roster.caseloads.v1",
            until=lambda found: len(found) >= 3 and loads(found[-1])["solo"][1] == 0,
        )
        statuses = await about_the_service(namespace, "service.status.v1", until=lambda found: len(found) >= 3)

    started, assigned, closed = published[0], published[-2], published[-1]
    assert loads(started) == {"helper": ("volunteer", 0, 1, True), "solo": ("paid", 0, 2, True)}
    assert loads(assigned)["solo"] == ("paid", 1, 2, True)
    assert loads(closed) == loads(started)
    # Paid staff take every new referral, so the volunteer's caseload never moved.
    assert all(loads(caseloads)["helper"][1] == 0 for caseloads in published)
    # The status published with each caseload shares its as_of and its free places are the caseloads' sum.
    by_moment = {status["as_of"]: status["places_free"] for status in statuses}
    for caseloads in published:
        free = sum(cap - cases for _, cases, cap, taking in loads(caseloads).values() if taking)
        assert by_moment.get(caseloads["as_of"], free) == free
    assert assigned["as_of"] in by_moment, "an assignment changes the free places, so both were published together"


async def _assigned(client, referral_id: str) -> bool:
    response = await client.get(f"/decisions/{referral_id}", headers=STAFF)
    return response.status_code == 200 and (response.json().get("assignment") or {}).get("state") == "open"

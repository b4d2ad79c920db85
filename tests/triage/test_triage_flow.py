"""Triage on a real broker and PostgreSQL: referrals in, decisions and placements out, exactly once."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from signpost_contracts import Stream, topic
from signpost_contracts.events.referrals import PersonSummary
from support.auth import bearer
from support.events import referral_received
from support.infra import about_referrals, publish, read_topic, wait_until
from support.services import serving

pytestmark = pytest.mark.integration

READ = bearer("triage:read")


async def triage_events(namespace, expect: int) -> dict[str, list[tuple[str, dict, dict]]]:
    """Triage topic records grouped by key: (type, headers, payload) in publication order."""
    records = await read_topic(
        namespace.bootstrap, topic(Stream.TRIAGE, namespace.name), until=lambda rs: len(about_referrals(rs)) >= expect
    )
    grouped: dict[str, list[tuple[str, dict, dict]]] = defaultdict(list)
    for record in sorted(about_referrals(records), key=lambda r: (r.partition, r.offset)):
        headers = {name: value.decode() for name, value in record.headers}
        grouped[record.key.decode()].append((headers["ce_type"], headers, json.loads(record.value)))
    return grouped


def decided(client, referral_id: str):
    async def check():
        response = await client.get(f"/decisions/{referral_id}", headers=READ)
        return response.json() if response.status_code == 200 else None

    return check


async def test_an_eligible_referral_is_triaged_and_assigned_to_the_least_loaded_connector(
    triage_app, write_roster, make_connector, namespace
):
    roster = write_roster([make_connector("busy-paid", capacity=4), make_connector("free-paid", capacity=4)])
    app = triage_app(roster)
    event = referral_received(needs=["loneliness", "housing", "debt"])
    async with serving(app) as client:
        await app.state.runtime.pool.execute("UPDATE connectors SET caseload = 2 WHERE id = 'busy-paid'")
        await publish(namespace, [event])
        view = await wait_until(decided(client, event.subject), message="the decision")
        roster_view = (await client.get("/roster", headers=READ)).json()

    published = (await triage_events(namespace, expect=2))[event.subject]
    assert [kind for kind, _, _ in published] == ["referral.triaged.v1", "referral.assigned.v1"]
    for _, headers, _ in published:
        assert headers["ce_subject"] == event.subject
        assert headers["ce_correlationid"] == event.correlationid
        assert headers["ce_causationid"] == event.id
        assert headers["ce_source"] == "/signpost/triage"
    triaged, assigned = published[0][2], published[1][2]
    assert triaged["outcome"] == "accepted"
    assert triaged["complexity"] == "medium"
    assert triaged["reasons"] == [{"rule_id": "many-needs", "description": "Three or more needs."}]
    assert triaged["policy_version"] == "test-policy-7"
    assert triaged["redirect"] is None
    assert "A community connector has been assigned" in triaged["summary"]
    assert assigned == {
        "referral_id": event.subject,
        "assigned_at": assigned["assigned_at"],
        "connector_id": "free-paid",
        "connector_kind": "paid",
        "area": "LS6",
        "complexity": "medium",
        "terms": {
            "policy_version": "test-policy-7",
            "session_allowance": 8,
            "extension_sessions": 4,
            "max_extensions": 1,
            "max_failed_contacts": 3,
            "stalled_after_days": 21,
        },
    }
    assert view["assignment"]["connector_id"] == "free-paid"
    assert view["assignment"]["terms"] == assigned["terms"]
    assert view["assignment"]["reason"].startswith("least-loaded paid connector covering LS6 with room (0/4")
    caseloads = {c["id"]: (c["caseload"], c["capacity"], c["room"]) for c in roster_view["connectors"]}
    assert caseloads == {"busy-paid": (2, 4, 2), "free-paid": (1, 4, 3)}


async def test_a_duplicate_delivery_assigns_nothing_twice(triage_app, write_roster, make_connector, namespace):
    app = triage_app(write_roster([make_connector("only", capacity=5)]))
    event = referral_received()
    resent_by_intake = referral_received(referral_id=event.subject)  # same referral, new event id
    marker = referral_received()
    async with serving(app) as client:
        partitions = await publish(namespace, [event, event, event, resent_by_intake])
        # Same partition as the duplicates, so once the marker is decided every duplicate has been seen.
        await publish(namespace, [marker], partition=partitions[0])
        await wait_until(decided(client, marker.subject), message="the marker referral to be decided")
        pool = app.state.runtime.pool
        assert await pool.fetchval("SELECT caseload FROM connectors WHERE id = 'only'") == 2
        assert await pool.fetchval("SELECT count(*) FROM assignments WHERE referral_id = $1", event.subject) == 1
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE message_key = $1", event.subject) == 2

    published = await triage_events(namespace, expect=4)
    assert [kind for kind, _, _ in published[event.subject]] == ["referral.triaged.v1", "referral.assigned.v1"]


async def test_an_out_of_area_referral_is_declined_with_the_reason(triage_app, write_roster, make_connector, namespace):
    app = triage_app(write_roster([make_connector("leeds", areas=["LS"])]))
    event = referral_received(person=PersonSummary(age_years=50, postcode_district="M1"))
    async with serving(app) as client:
        await publish(namespace, [event])
        view = await wait_until(decided(client, event.subject), message="the decision")
        caseload = await app.state.runtime.pool.fetchval("SELECT caseload FROM connectors")

    published = (await triage_events(namespace, expect=1))[event.subject]
    assert [kind for kind, _, _ in published] == ["referral.triaged.v1"]
    triaged = published[0][2]
    assert triaged["outcome"] == "declined"
    assert [r["rule_id"] for r in triaged["reasons"]] == ["outside-service-area"]
    assert triaged["summary"] == (
        "We cannot accept this referral. Postcode district M1 is outside the Leeds service area (we cover LS, BD1)."
    )
    assert (view["outcome"], view["assignment"], view["waitlist"]) == ("declined", None, None)
    assert caseload == 0


async def test_a_referral_at_risk_of_self_harm_is_redirected_urgently(
    triage_app, write_roster, make_connector, namespace
):
    app = triage_app(write_roster([make_connector("leeds", areas=["LS"])]))
    event = referral_received(risk_flags=["self-harm-risk"])
    async with serving(app) as client:
        await publish(namespace, [event])
        view = await wait_until(decided(client, event.subject), message="the decision")

    published = (await triage_events(namespace, expect=1))[event.subject]
    assert [kind for kind, _, _ in published] == ["referral.triaged.v1"]
    triaged = published[0][2]
    assert triaged["outcome"] == "redirected"
    assert triaged["redirect"] == {
        "service": "Mental health crisis team (NHS 111, option 2)",
        "contact": "Call NHS 111 and choose option 2.",
        "urgent": True,
    }
    assert triaged["reasons"][0]["rule_id"] == "crisis"
    assert triaged["summary"].startswith("Urgent: This person may be at risk")
    assert view["redirect"]["service"] == "Mental health crisis team (NHS 111, option 2)"


async def test_an_accepted_referral_with_no_connector_free_is_waitlisted_in_arrival_order(
    triage_app, write_roster, make_connector, namespace
):
    app = triage_app(write_roster([make_connector("tiny", capacity=1)]))
    first, second, third = (referral_received(needs=["a", "b", "c"]) for _ in range(3))
    async with serving(app) as client:
        partitions = await publish(namespace, [first])
        await publish(namespace, [second, third], partition=partitions[0])
        views = [await wait_until(decided(client, e.subject), message="decisions") for e in (first, second, third)]

    assert views[0]["assignment"]["connector_id"] == "tiny"
    assert [v["waitlist"]["position"] for v in views[1:]] == [1, 2]
    assert (
        views[2]["waitlist"]["reason"]
        == "every paid connector (needed for medium complexity) covering LS6 is at capacity"
    )
    published = await triage_events(namespace, expect=6)
    assert [[kind for kind, _, _ in published[e.subject]] for e in (first, second, third)] == [
        ["referral.triaged.v1", "referral.assigned.v1"],
        ["referral.triaged.v1", "referral.waitlisted.v1"],
        ["referral.triaged.v1", "referral.waitlisted.v1"],
    ], "each referral's events reach the topic in the order they were decided"
    waitlisted = published[third.subject][1]
    assert waitlisted[2]["required_kind"] == "paid"
    assert waitlisted[2]["area"] == "LS6"
    assert [published[e.subject][1][2]["position"] for e in (second, third)] == [1, 2], "their place in the queue"


async def test_a_restart_reloads_the_roster_but_keeps_caseloads(triage_app, write_roster, make_connector, namespace):
    before = [make_connector("stays", capacity=3), make_connector("leaves", capacity=3)]
    events = [referral_received(needs=["a", "b", "c"]) for _ in range(2)]
    async with serving(triage_app(write_roster(before))) as client:
        await publish(namespace, events)
        for event in events:
            await wait_until(decided(client, event.subject), message="the first referrals")

    after = [make_connector("stays", capacity=4, display_name="Stays Renamed"), make_connector("joins", capacity=2)]
    late = referral_received(needs=["a", "b", "c"])
    async with serving(triage_app(write_roster(after))) as client:
        reloaded = {c["id"]: c for c in (await client.get("/roster", headers=READ)).json()["connectors"]}
        await publish(namespace, [late])
        view = await wait_until(decided(client, late.subject), message="the referral after the restart")

    assert reloaded["stays"]["caseload"] + reloaded["leaves"]["caseload"] == 2
    assert (reloaded["stays"]["capacity"], reloaded["stays"]["display_name"]) == (4, "Stays Renamed")
    assert reloaded["leaves"]["active"] is False
    assert (reloaded["joins"]["caseload"], reloaded["joins"]["active"]) == (0, True)
    assert view["assignment"]["connector_id"] == "joins", "the least-loaded active connector; never a retired one"


async def test_lowering_capacity_below_the_caseload_holds_it_at_the_caseload(
    triage_app, write_roster, make_connector, namespace
):
    events = [referral_received(needs=["a", "b", "c"]) for _ in range(2)]
    async with serving(triage_app(write_roster([make_connector("solo", capacity=2)]))) as client:
        await publish(namespace, events)
        for event in events:
            await wait_until(decided(client, event.subject), message="the first referrals")

    async with serving(triage_app(write_roster([make_connector("solo", capacity=1)]))) as client:
        (solo,) = (await client.get("/roster", headers=READ)).json()["connectors"]

    assert (solo["caseload"], solo["capacity"], solo["room"]) == (2, 2, 0)

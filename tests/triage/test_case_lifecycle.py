"""Triage's side of a case's life on a real broker and PostgreSQL: intake's case events in, places freed and
filled, the waitlist worked in order, links, handover and reassignment out; caseloads always equal open cases."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from signpost_contracts import Stream, topic
from signpost_contracts.vocabulary import Scope
from support.auth import bearer
from support.events import (
    case_closed,
    handover_requested,
    reassignment_requested,
    referral_received,
    referral_withdrawn,
)
from support.infra import publish, read_topic, wait_until
from support.services import serving
from support.triage_db import allocation_problems

pytestmark = pytest.mark.integration

STAFF = bearer(Scope.TRIAGE_READ, Scope.READ_ALL, ods=None)
MEDIUM = ["loneliness", "housing", "debt"]
T0 = datetime.now(UTC) - timedelta(days=10)


def medium(at_hours: float = 0, **overrides):
    return referral_received(needs=MEDIUM, **{"received_at": T0 + timedelta(hours=at_hours), **overrides})


async def triage_events(namespace, until) -> dict[str, list[tuple[str, dict]]]:
    """Triage topic records by referral id: (type, payload) in publication order, once `until(grouped)` holds."""

    def grouped_of(records) -> dict[str, list[tuple[str, dict]]]:
        grouped: dict[str, list[tuple[str, dict]]] = defaultdict(list)
        for record in sorted(records, key=lambda r: (r.partition, r.offset)):
            kind = dict(record.headers)["ce_type"].decode()
            grouped[record.key.decode()].append((kind, json.loads(record.value)))
        return grouped

    records = await read_topic(
        namespace.bootstrap, topic(Stream.TRIAGE, namespace.name), until=lambda rs: until(grouped_of(rs))
    )
    return grouped_of(records)


def types(events: dict[str, list[tuple[str, dict]]], referral_id: str) -> list[str]:
    return [kind for kind, _ in events.get(referral_id, [])]


def decision(client, referral_id: str):
    async def check():
        response = await client.get(f"/decisions/{referral_id}", headers=STAFF)
        return response.json() if response.status_code == 200 else None

    return check


def db_says(pool, sql: str, *args):
    async def check():
        return await pool.fetchval(sql, *args)

    return check


async def test_closing_a_case_frees_its_place_and_the_first_waiting_person_is_assigned_with_their_terms(
    triage_app, write_roster, make_connector, namespace
):
    app = triage_app(write_roster([make_connector("solo", capacity=1)]))
    first, second = medium(0), medium(1)
    async with serving(app) as client:
        pool = app.state.runtime.pool
        partition = (await publish(namespace, [first]))[0]
        await publish(namespace, [second], partition=partition)
        await wait_until(decision(client, second.subject), message="both referrals decided")
        await publish(namespace, [case_closed(first.subject)])
        await wait_until(
            db_says(
                pool, "SELECT connector_id FROM assignments WHERE referral_id = $1 AND state = 'open'", second.subject
            ),
            message="the waiting referral to take the freed place",
        )
        closed_view = await (decision(client, first.subject))()
        second_view = await (decision(client, second.subject))()
        problems = await allocation_problems(pool)

    assert problems == []
    assert closed_view["assignment"]["state"] == "ended"
    assert closed_view["assignment"]["end_reason"] == "closed"
    assert second_view["assignment"]["connector_id"] == "solo"
    assert second_view["assignment"]["waiting_since"].startswith(second.data["received_at"][:19])
    events = await triage_events(namespace, lambda g: "referral.assigned-from-waitlist.v1" in types(g, second.subject))
    assert types(events, second.subject) == [
        "referral.triaged.v1",
        "referral.waitlisted.v1",
        "referral.assigned-from-waitlist.v1",
    ]
    assigned = events[second.subject][-1][1]
    assert (assigned["connector_id"], assigned["complexity"], assigned["terms"]["session_allowance"]) == (
        "solo",
        "medium",
        8,
    )
    assert assigned["terms"]["policy_version"] == "test-policy-7"
    assert datetime.fromisoformat(assigned["waiting_since"]) == datetime.fromisoformat(second.data["received_at"])


async def test_an_urgent_waiting_person_takes_a_freed_place_before_routine_ones_and_a_new_arrival(
    triage_app, write_roster, make_connector, namespace
):
    app = triage_app(write_roster([make_connector("solo", capacity=1)]))
    holder, routine, urgent = medium(0), medium(1), medium(2, priority="urgent")
    newcomer = medium(3)
    async with serving(app) as client:
        pool = app.state.runtime.pool
        partition = (await publish(namespace, [holder]))[0]
        await publish(namespace, [routine, urgent], partition=partition)
        await wait_until(decision(client, urgent.subject), message="all three decided")
        await publish(namespace, [case_closed(holder.subject), newcomer], partition=partition)
        await wait_until(decision(client, newcomer.subject), message="the newcomer decided")
        waitlist = (await client.get("/waitlist", headers=STAFF)).json()
        holder_now = await pool.fetchval("SELECT referral_id FROM assignments WHERE state = 'open'")
        problems = await allocation_problems(pool)

    assert holder_now == urgent.subject
    assert problems == []
    assert [entry["referral_id"] for entry in waitlist["waiting"]] == [routine.subject, newcomer.subject]
    assert [entry["priority"] for entry in waitlist["waiting"]] == ["routine", "routine"]
    assert waitlist["waiting"][0]["waited_days"] > waitlist["waiting"][1]["waited_days"] > 9
    events = await triage_events(namespace, lambda g: "referral.assigned-from-waitlist.v1" in types(g, urgent.subject))
    assert types(events, urgent.subject)[-1] == "referral.assigned-from-waitlist.v1"
    assert types(events, newcomer.subject) == ["referral.triaged.v1", "referral.waitlisted.v1"]


async def test_withdrawal_frees_an_assigned_place_takes_a_waiting_referral_off_and_stops_an_untriaged_one(
    triage_app, write_roster, make_connector, namespace
):
    app = triage_app(write_roster([make_connector("solo", capacity=1)]))
    assigned, waiting, next_in_line = medium(0), medium(1), medium(2)
    overtaken = medium(3)
    async with serving(app) as client:
        pool = app.state.runtime.pool
        partition = (await publish(namespace, [assigned]))[0]
        await publish(namespace, [waiting, next_in_line], partition=partition)
        await wait_until(decision(client, next_in_line.subject), message="three decided")
        # The withdrawal of `overtaken` arrives before its referral (a replay, a republished referral).
        await publish(
            namespace,
            [
                referral_withdrawn(waiting.subject),
                referral_withdrawn(assigned.subject, status="entered-in-error"),
                referral_withdrawn(overtaken.subject),
                overtaken,
            ],
            partition=partition,
        )
        marker = medium(4)
        await publish(namespace, [marker], partition=partition)
        await wait_until(decision(client, marker.subject), message="the marker after the withdrawals")
        holder = await pool.fetchval(
            "SELECT connector_id FROM assignments WHERE referral_id = $1 AND state = 'open'", next_in_line.subject
        )
        waiting_ids = [r["referral_id"] for r in await pool.fetch("SELECT referral_id FROM waitlist")]
        overtaken_view = await client.get(f"/decisions/{overtaken.subject}", headers=STAFF)
        assigned_view = await (decision(client, assigned.subject))()
        problems = await allocation_problems(pool)

    assert holder == "solo", "the withdrawn assigned referral's place went to the next one waiting"
    assert waiting_ids == [marker.subject], "the withdrawn waiting referral left the list; it was never assigned"
    assert overtaken_view.status_code == 404, "a referral withdrawn before triage is never decided or placed"
    assert assigned_view["assignment"]["end_reason"] == "withdrawn"
    assert assigned_view["ended"]["detail"] == "entered-in-error"
    assert problems == []
    events = await triage_events(namespace, lambda g: marker.subject in g and len(g.get(marker.subject, [])) == 2)
    assert overtaken.subject not in events
    assert "referral.assigned-from-waitlist.v1" not in types(events, waiting.subject)


async def test_closures_delivered_again_reordered_or_for_unknown_referrals_change_nothing(
    triage_app, write_roster, make_connector, namespace
):
    app = triage_app(write_roster([make_connector("solo", capacity=1)]))
    first, second, third = medium(0), medium(1), medium(2)
    async with serving(app) as client:
        pool = app.state.runtime.pool
        partition = (await publish(namespace, [first]))[0]
        await publish(namespace, [second, third], partition=partition)
        await wait_until(decision(client, third.subject), message="three decided")
        closure = case_closed(first.subject)
        await publish(namespace, [closure, closure, case_closed(first.subject), case_closed()], partition=partition)
        marker = medium(3)
        await publish(namespace, [marker], partition=partition)
        await wait_until(decision(client, marker.subject), message="the marker after the closures")
        open_cases = [
            r["referral_id"] for r in await pool.fetch("SELECT referral_id FROM assignments WHERE state = 'open'")
        ]
        waiting_ids = [
            r["referral_id"] for r in await pool.fetch("SELECT referral_id FROM waitlist ORDER BY received_at")
        ]
        problems = await allocation_problems(pool)

    assert open_cases == [second.subject], "one closure freed one place, taken once"
    assert waiting_ids == [third.subject, marker.subject]
    assert problems == []
    events = await triage_events(
        namespace,
        lambda g: (
            len(g.get(marker.subject, [])) == 2 and "referral.assigned-from-waitlist.v1" in types(g, second.subject)
        ),
    )
    assert sum(kind == "referral.assigned-from-waitlist.v1" for kinds in events.values() for kind, _ in kinds) == 1


async def test_the_same_person_referred_twice_is_linked_to_the_open_case_and_the_decision_shows_it(
    triage_app, write_roster, make_connector, namespace
):
    app = triage_app(write_roster([make_connector("solo", capacity=5)]))
    first = medium(0, person_key="person-hash-1")
    again = medium(1, person_key="person-hash-1", replaces_referral_id=first.subject)
    async with serving(app) as client:
        partition = (await publish(namespace, [first]))[0]
        await wait_until(decision(client, first.subject), message="the first referral decided")
        await publish(namespace, [again], partition=partition)
        view = await wait_until(decision(client, again.subject), message="the second referral decided")
        caseload = await app.state.runtime.pool.fetchval("SELECT caseload FROM connectors")

    assert caseload == 1
    assert view["linked"]["linked_to_referral_id"] == first.subject
    assert view["replaces_referral_id"] == first.subject
    assert (view["assignment"], view["waitlist"]) == (None, None)
    events = await triage_events(namespace, lambda g: len(g.get(again.subject, [])) == 2)
    assert types(events, again.subject) == ["referral.triaged.v1", "referral.linked.v1"]
    linked = events[again.subject][1][1]
    assert linked["linked_to_referral_id"] == first.subject
    assert "already has an open referral" in linked["reason"]


async def test_a_handover_moves_a_low_complexity_case_to_a_volunteer_and_the_paid_place_takes_the_next_waiting(
    triage_app, write_roster, make_connector, namespace
):
    app_roster = [make_connector("paid", capacity=1), make_connector("vol", kind="volunteer", capacity=1)]
    app = triage_app(write_roster(app_roster))
    light = referral_received(received_at=T0)
    waiting = medium(1)
    marker = medium(2)
    async with serving(app) as client:
        pool = app.state.runtime.pool
        partition = (await publish(namespace, [light]))[0]
        await publish(namespace, [waiting], partition=partition)
        await wait_until(decision(client, waiting.subject), message="both decided")
        await publish(namespace, [handover_requested(light.subject, requested_by="paid")], partition=partition)
        await wait_until(
            db_says(pool, "SELECT connector_id = 'paid' FROM assignments WHERE referral_id = $1", waiting.subject),
            message="the waiting referral to take the paid place",
        )
        await publish(namespace, [handover_requested(waiting.subject, requested_by="paid")], partition=partition)
        await publish(namespace, [marker], partition=partition)
        await wait_until(decision(client, marker.subject), message="the marker")
        light_view = await (decision(client, light.subject))()
        problems = await allocation_problems(pool)

    assert light_view["assignment"]["connector_id"] == "vol"
    assert [(c["kind"], c["outcome"], c["from_connector_id"], c["to_connector_id"]) for c in light_view["changes"]] == [
        ("handover", "moved", "paid", "vol")
    ]
    assert problems == []
    events = await triage_events(namespace, lambda g: "referral.handover-refused.v1" in types(g, waiting.subject))
    handed = dict(events[light.subject])["referral.handed-over.v1"]
    assert (handed["from_connector_id"], handed["connector_id"], handed["connector_kind"]) == (
        "paid",
        "vol",
        "volunteer",
    )
    assert types(events, waiting.subject)[-2:] == ["referral.assigned-from-waitlist.v1", "referral.handover-refused.v1"]
    assert "medium complexity" in dict(events[waiting.subject])["referral.handover-refused.v1"]["reason"]


async def test_a_reassignment_is_capacity_checked_and_a_refusal_says_why(
    triage_app, write_roster, make_connector, namespace
):
    app = triage_app(write_roster([make_connector("amira", capacity=1), make_connector("bilal", capacity=1)]))
    case, other = medium(0), medium(1)
    async with serving(app) as client:
        pool = app.state.runtime.pool
        partition = (await publish(namespace, [case]))[0]
        await publish(namespace, [other], partition=partition)
        await wait_until(decision(client, other.subject), message="both assigned")
        holder = await pool.fetchval("SELECT connector_id FROM assignments WHERE referral_id = $1", case.subject)
        elsewhere = "bilal" if holder == "amira" else "amira"
        await publish(namespace, [reassignment_requested(case.subject, connector_id=elsewhere)], partition=partition)
        await publish(namespace, [case_closed(other.subject)], partition=partition)
        await publish(namespace, [reassignment_requested(case.subject, connector_id=elsewhere, reason="Leave")],
                      partition=partition)  # fmt: skip
        await wait_until(
            db_says(pool, "SELECT connector_id = $2 FROM assignments WHERE referral_id = $1", case.subject, elsewhere),
            message="the second reassignment to go through once a place freed",
        )
        problems = await allocation_problems(pool)

    assert problems == []
    events = await triage_events(namespace, lambda g: "referral.reassigned.v1" in types(g, case.subject))
    assert types(events, case.subject)[-2:] == ["referral.reassignment-refused.v1", "referral.reassigned.v1"]
    answers = dict(events[case.subject])
    assert answers["referral.reassignment-refused.v1"]["reason"] == f"{elsewhere} has no room (1/1 cases)."
    assert (answers["referral.reassigned.v1"]["from_connector_id"], answers["referral.reassigned.v1"]["reason"]) == (
        holder,
        "Leave",
    )

"""Connector leave and the roster admin API: POST /roster/reload, GET /roster's open cases, GET /waitlist."""

from __future__ import annotations

import pytest

from signpost_contracts.vocabulary import Scope
from support.auth import bearer
from support.events import referral_received
from support.infra import publish, wait_until
from support.services import serving
from support.triage_db import allocation_problems

pytestmark = pytest.mark.integration

STAFF = bearer(Scope.TRIAGE_READ, Scope.READ_ALL, ods=None)
ADMIN = bearer(Scope.ROSTER_ADMIN, ods=None)
MEDIUM = ["loneliness", "housing", "debt"]


def decided(client, referral_id: str):
    async def check():
        response = await client.get(f"/decisions/{referral_id}", headers=STAFF)
        return response.json() if response.status_code == 200 else None

    return check


async def test_a_connector_on_leave_gets_no_new_work_their_cases_are_listed_and_coming_back_works_the_waitlist(
    triage_app, write_roster, make_connector, namespace
):
    app = triage_app(write_roster([make_connector("amira", capacity=2), make_connector("bilal", capacity=1)]))
    held = referral_received(needs=MEDIUM)
    async with serving(app) as client:
        partition = (await publish(namespace, [held]))[0]
        await wait_until(decided(client, held.subject), message="the first referral")
        holder = (await (decided(client, held.subject))())["assignment"]["connector_id"]
        assert holder == "amira"

        write_roster([make_connector("amira", capacity=2, status="on-leave"), make_connector("bilal", capacity=1)])
        reload = await client.post("/roster/reload", headers=ADMIN)
        roster = (await client.get("/roster", headers=STAFF)).json()
        practice_view = (await client.get("/roster", headers=bearer(Scope.TRIAGE_READ))).json()
        during_leave = [referral_received(needs=MEDIUM) for _ in range(2)]
        await publish(namespace, during_leave, partition=partition)
        views = [await wait_until(decided(client, e.subject), message="referrals during leave") for e in during_leave]

        write_roster([make_connector("amira", capacity=2), make_connector("bilal", capacity=1)])
        back = await client.post("/roster/reload", headers=ADMIN)
        after = (await client.get("/roster", headers=STAFF)).json()
        problems = await allocation_problems(app.state.runtime.pool)

    assert reload.status_code == 200, reload.text
    assert reload.json()["assigned_from_waitlist"] == []
    amira = {c["id"]: c for c in roster["connectors"]}["amira"]
    assert (amira["status"], amira["takes_new_work"], amira["room"], amira["caseload"]) == ("on-leave", False, 0, 1)
    assert [(c["referral_id"], c["needs_reassignment"]) for c in amira["open_cases"]] == [(held.subject, True)]
    assert (roster["needs_reassignment"], roster["cases_needing_reassignment"]) == ([held.subject], 1)
    assert held.subject not in str(practice_view), "open cases are every organisation's referrals: staff only"
    assert practice_view["cases_needing_reassignment"] == 1
    assert views[0]["assignment"]["connector_id"] == "bilal"
    assert views[1]["waitlist"] is not None, "amira has room but is on leave: the referral waits"
    assert back.json()["assigned_from_waitlist"] == [during_leave[1].subject]
    assert after["needs_reassignment"] == []
    assert {c["id"]: c["caseload"] for c in after["connectors"]} == {"amira": 2, "bilal": 1}
    assert problems == []


async def test_reloading_needs_the_roster_admin_scope_and_a_bad_file_changes_nothing(
    triage_app, write_roster, make_connector
):
    app = triage_app(write_roster([make_connector("amira")]))
    async with serving(app) as client:
        reader = await client.post("/roster/reload", headers=STAFF)
        path = write_roster([make_connector("amira", status="holiday")])
        bad = await client.post("/roster/reload", headers=ADMIN)
        roster = (await client.get("/roster", headers=STAFF)).json()

    assert reader.status_code == 403
    assert reader.json()["detail"] == "token lacks the 'roster:admin' scope needed here"
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["detail"].startswith(f"roster file {path}: field 'connectors[0].status': input should be")
    assert bad.json()["detail"].endswith("the roster in force is unchanged")
    assert roster["connectors"][0]["status"] == "available"


async def test_the_waitlist_is_listed_in_order_to_staff_and_to_no_one_else(
    triage_app, write_roster, make_connector, namespace
):
    app = triage_app(write_roster([make_connector("solo", capacity=0)]))
    routine, urgent = referral_received(needs=MEDIUM), referral_received(needs=MEDIUM, priority="urgent")
    async with serving(app) as client:
        partition = (await publish(namespace, [routine]))[0]
        await publish(namespace, [urgent], partition=partition)
        await wait_until(decided(client, urgent.subject), message="both waiting")
        staff = await client.get("/waitlist", headers=STAFF)
        practice = await client.get("/waitlist", headers=bearer(Scope.TRIAGE_READ))
        limited = await client.get("/waitlist?limit=1", headers=STAFF)
        bad_limit = await client.get("/waitlist?limit=0", headers=STAFF)

    assert staff.status_code == 200
    body = staff.json()
    assert [(e["position"], e["referral_id"], e["priority"], e["area"]) for e in body["waiting"]] == [
        (1, urgent.subject, "urgent", "LS6"),
        (2, routine.subject, "routine", "LS6"),
    ]
    assert body["total"] == 2
    assert all(entry["waited_days"] >= 0 for entry in body["waiting"])
    assert practice.status_code == 403
    assert "'referrals:read-all'" in practice.json()["detail"]
    assert (limited.json()["total"], limited.json()["shown"]) == (2, 1)
    assert bad_limit.status_code == 400
    assert [error["field"] for error in bad_limit.json()["errors"]] == ["limit"]

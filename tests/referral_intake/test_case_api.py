"""The case API on real PostgreSQL and the broker: each endpoint's answer, each refusal, what is announced."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from support.auth import bearer, token
from support.events import TERMS, handover_refused, referral_handed_over

pytestmark = pytest.mark.integration

AMIRA = "leeds-north-amira"
CONNECTOR = {"Authorization": f"Bearer {token('cases:write', ods=None, subject=AMIRA)}"}
OTHER_CONNECTOR = {"Authorization": f"Bearer {token('cases:write', ods=None, subject='leeds-north-bilal')}"}
COORDINATOR = {"Authorization": f"Bearer {token('cases:coordinate', ods=None, subject='coordinator-1')}"}
ONE_SESSION = TERMS.model_copy(update={"session_allowance": 1})
WALKED = {"mode": "walk", "outcome": "reached"}


async def _assigned(intake, make, *, terms=TERMS, complexity="low", **referral) -> str:
    referral_id = (await intake.post(make.referral(**referral))).json()["id"]
    await intake.apply(make.assigned(referral_id, connector_id=AMIRA, complexity=complexity, terms=terms))
    return referral_id


async def _reached(intake, make, **fields) -> str:
    referral_id = await _assigned(intake, make, **fields)
    contact = await intake.case_api("POST", f"/{referral_id}/contacts", CONNECTOR, {"mode": "telephone",
                                                                                  "outcome": "reached"})  # fmt: skip
    assert contact.status_code == 200, contact.text
    return referral_id


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


async def test_a_connector_walks_a_case_from_first_contact_to_closure_and_the_referrer_sees_it_completed(intake, make):
    body = make.referral()
    body["patientInstruction"] = "Phone after 2pm, she is hard of hearing"
    referral_id = (await intake.post(body)).json()["id"]
    await intake.apply(make.assigned(referral_id, connector_id=AMIRA, complexity="low", terms=TERMS))

    [line] = [
        c for c in (await intake.case_api("GET", "", CONNECTOR)).json()["cases"] if c["referral_id"] == referral_id
    ]
    patient = body["contained"][0]
    assert line["person"]["telecom"] == [{"system": "phone", "value": patient["telecom"][0]["value"], "use": "mobile"}]
    assert patient["name"][0]["family"] in line["person"]["name"]
    assert patient["address"][0]["postalCode"] in line["person"]["address"]
    assert line["first_contact_preference"] == "Phone after 2pm, she is hard of hearing"
    assert line["reason_for_referral"]["note"] == body["note"][0]["text"]
    assert (line["status"], line["complexity"], line["session_allowance"], line["sessions_used"]) == (
        "assigned", "low", 6, 0)  # fmt: skip
    assert line["flags"] == {"stalled": False, "could_not_contact": False}

    steps = [
        ("POST", "/contacts", {"mode": "telephone", "outcome": "reached"}),
        ("PUT", "/goals", {"goals": ["Join a walking group", "Cook with others"]}),
        ("POST", "/measures", {"stage": "baseline", "ucla3": [3, 3, 2], "ons_loneliness": "often-always",
                               "ons4": {"life_satisfaction": 3, "worthwhile": 4, "happiness": 3, "anxiety": 8}}),
        ("POST", "/sessions", {"mode": "walk"}),
        ("POST", "/measures", {"stage": "closing", "ucla3": [1, 2, 1], "ons4": {"happiness": 7}}),
        ("POST", "/closure", {"reason": "connected-onward", "onward": ["Hyde Park walking group"],
                              "note": "Her son worries; he is on 07700 900123"}),
    ]  # fmt: skip
    for method, path, step in steps:
        answer = await intake.case_api(method, f"/{referral_id}{path}", CONNECTOR, step)
        assert answer.status_code == 200, (path, answer.text)

    case = (await intake.case_api("GET", f"/{referral_id}", CONNECTOR)).json()
    assert (case["status"], case["sessions_used"], case["session_allowance"]) == ("closed", 1, 6)
    assert case["measures"]["baseline"]["ucla3_total"] == 8
    assert case["measures"]["closing"]["ucla3_total"] == 4
    assert case["closure"]["note"] == "Her son worries; he is on 07700 900123"
    published = await intake.published(referral_id)
    assert [e["type"] for e in published][1:] == [
        "case.contact-recorded.v1",
        "case.goals-set.v1",
        "case.measures-recorded.v1",
        "case.session-recorded.v1",
        "case.measures-recorded.v1",
        "case.closed.v1",
    ]
    assert published[-1]["goals"] == ["Join a walking group", "Cook with others"]
    assert "worries" not in json.dumps(published), "the closing note never leaves intake"

    task = (await intake.task_for(referral_id)).json()["entry"][0]["resource"]
    assert task["status"] == "completed"
    codes = [o["type"]["coding"][0]["code"] for o in task["output"]]
    assert codes.count("goal") == 2
    assert {"sessions-used", "ucla3-total-baseline", "ucla3-total-closing", "ons4-anxiety-baseline",
            "ons4-happiness-closing", "onward-connection"} <= set(codes)  # fmt: skip


async def test_a_session_past_the_allowance_is_409_saying_how_to_ask_for_an_extension(intake, make):
    referral_id = await _reached(intake, make, terms=ONE_SESSION)
    assert (await intake.case_api("POST", f"/{referral_id}/sessions", CONNECTOR, {"mode": "walk"})).status_code == 200

    problem = _problem(await intake.case_api("POST", f"/{referral_id}/sessions", CONNECTOR, {"mode": "walk"}), 409)
    assert "all 1 sessions" in problem["detail"]
    assert f"POST /cases/{referral_id}/extension" in problem["detail"]
    assert (await intake.case_api("GET", f"/{referral_id}", CONNECTOR)).json()["sessions_used"] == 1


async def test_an_extension_is_granted_for_a_new_goal_then_refused_at_the_limit_and_a_repeated_goal_is_422(
    intake, make
):
    referral_id = await _reached(intake, make, terms=ONE_SESSION)
    await intake.case_api("PUT", f"/{referral_id}/goals", CONNECTOR, {"goals": ["Join a walking group"]})

    repeated = await intake.case_api("POST", f"/{referral_id}/extension", CONNECTOR,
                                     {"new_goal": "join a WALKING group ", "reason": "more time"})  # fmt: skip
    assert [e["field"] for e in _problem(repeated, 422)["errors"]] == ["new_goal"]

    ask = {"new_goal": "Go to the library's reading group", "reason": "She wants to keep going"}
    granted = (await intake.case_api("POST", f"/{referral_id}/extension", CONNECTOR, ask)).json()
    assert (granted["decision"], granted["sessions_added"], granted["session_allowance"]) == ("granted", 4, 5)
    assert "new goal" in granted["reason"]
    ask = {"new_goal": "Learn to swim", "reason": "And more"}
    refused = await intake.case_api("POST", f"/{referral_id}/extension", CONNECTOR, ask)
    assert refused.status_code == 200
    assert (refused.json()["decision"], refused.json()["session_allowance"]) == ("refused", 5)
    assert "allow 1 extension(s) and 1 have been granted" in refused.json()["reason"]
    types = [e["type"] for e in await intake.published(referral_id)]
    assert types[-2:] == ["case.extension-granted.v1", "case.extension-refused.v1"]


async def test_measures_out_of_range_are_422_naming_each_field_and_of_the_wrong_type_400(intake, make):
    referral_id = await _reached(intake, make)
    measures = f"/{referral_id}/measures"

    out_of_range = {"stage": "baseline", "ucla3": [0, 2, 4], "ons4": {"anxiety": 11}}
    problem = _problem(await intake.case_api("POST", measures, CONNECTOR, out_of_range), 422)
    assert [e["field"] for e in problem["errors"]] == ["ucla3.0", "ucla3.2", "ons4.anxiety"]
    nothing = _problem(await intake.case_api("POST", measures, CONNECTOR, {"stage": "closing"}), 422)
    assert {e["field"] for e in nothing["errors"]} == {"ucla3", "ons_loneliness", "ons4"}
    sometimes = {"stage": "baseline", "ons_loneliness": "sometimes"}
    wrong = _problem(await intake.case_api("POST", measures, CONNECTOR, sometimes), 400)
    assert any("ons_loneliness" in e["field"] for e in wrong["errors"])
    partial = await intake.case_api("POST", measures, CONNECTOR, {"stage": "baseline", "ucla3": [2, None, 3]})
    assert partial.json()["measures"]["baseline"]["ucla3_total"] is None


async def test_a_time_in_the_future_or_before_the_referral_was_received_is_422_naming_at(intake, make):
    referral_id = await _assigned(intake, make)
    received = datetime.fromisoformat((await intake.client.get(f"/fhir/ServiceRequest/{referral_id}",
                                       headers=bearer("referrals:read"))).json()["meta"]["lastUpdated"])  # fmt: skip
    for at in (datetime.now(UTC) + timedelta(minutes=5), received - timedelta(seconds=1)):
        contact = {"mode": "telephone", "outcome": "reached", "at": at.isoformat()}
        problem = _problem(await intake.case_api("POST", f"/{referral_id}/contacts", CONNECTOR, contact), 422)
        assert [e["field"] for e in problem["errors"]] == ["at"]
    naive = {"mode": "telephone", "outcome": "reached", "at": "2025-01-01T10:00:00"}
    _problem(await intake.case_api("POST", f"/{referral_id}/contacts", CONNECTOR, naive), 400)
    assert (await intake.case_api("GET", f"/{referral_id}", CONNECTOR)).json()["contacts"] == []


async def test_another_connectors_case_is_404_with_the_same_body_as_an_unknown_referral(intake, make):
    referral_id = await _assigned(intake, make)
    unknown = str(uuid.uuid4())
    for method, path, body in (("GET", "", None), ("POST", "/contacts", {"mode": "walk", "outcome": "reached"})):
        theirs = _problem(await intake.case_api(method, f"/{referral_id}{path}", OTHER_CONNECTOR, body), 404)
        nobodys = _problem(await intake.case_api(method, f"/{unknown}{path}", OTHER_CONNECTOR, body), 404)
        assert json.dumps(theirs).replace(referral_id, "<id>") == json.dumps(nobodys).replace(unknown, "<id>")
    assert referral_id not in json.dumps((await intake.case_api("GET", "", OTHER_CONNECTOR)).json())


async def test_a_coordinator_sees_every_case_and_asks_for_a_reassignment_which_a_connector_may_not(intake, make):
    referral_id = await _assigned(intake, make)
    listed = (await intake.case_api("GET", "?status=all", COORDINATOR)).json()["cases"]
    assert referral_id in [c["referral_id"] for c in listed]

    ask = {"connector_id": "leeds-north-bilal", "reason": "Amira is on leave"}
    _problem(await intake.case_api("POST", f"/{referral_id}/reassignment", CONNECTOR, ask), 403)
    same = _problem(await intake.case_api("POST", f"/{referral_id}/reassignment", COORDINATOR,
                                          {"connector_id": AMIRA, "reason": "x"}), 422)  # fmt: skip
    assert [e["field"] for e in same["errors"]] == ["connector_id"]
    accepted = await intake.case_api("POST", f"/{referral_id}/reassignment", COORDINATOR, ask)
    assert accepted.status_code == 202, accepted.text
    [requested] = [e for e in await intake.published(referral_id) if e["type"] == "case.reassignment-requested.v1"]
    assert (requested["connector_id"], requested["requested_by"]) == ("leeds-north-bilal", "coordinator-1")


async def test_a_handover_is_asked_for_with_202_and_the_case_follows_triages_answer(intake, make):
    referral_id = await _reached(intake, make)
    early = _problem(await intake.case_api("POST", f"/{referral_id}/handover", CONNECTOR, {"to": "volunteer"}), 409)
    assert "goals first" in early["detail"]
    await intake.case_api("PUT", f"/{referral_id}/goals", CONNECTOR, {"goals": ["Join a choir"]})
    accepted = await intake.case_api("POST", f"/{referral_id}/handover", CONNECTOR, {"to": "volunteer"})
    assert accepted.status_code == 202, accepted.text

    await intake.apply(handover_refused(referral_id, reason="No volunteer in LS6 has room"))
    case = (await intake.case_api("GET", f"/{referral_id}", CONNECTOR)).json()
    assert [r["reason"] for r in case["refusals"]] == ["No volunteer in LS6 has room"]
    assert case["requests"][0]["kind"] == "handover"

    handed_over = referral_handed_over(referral_id, at=make.at(10), from_connector_id=AMIRA,
                                       connector_id="leeds-volunteer-sam")  # fmt: skip
    await intake.apply(handed_over)
    volunteer = {"Authorization": f"Bearer {token('cases:write', ods=None, subject='leeds-volunteer-sam')}"}
    assert (await intake.case_api("GET", f"/{referral_id}", volunteer)).json()["connector_kind"] == "volunteer"
    _problem(await intake.case_api("GET", f"/{referral_id}", CONNECTOR), 404)


async def test_a_high_complexity_case_is_never_handed_to_a_volunteer(intake, make):
    referral_id = await _reached(intake, make, complexity="high")
    await intake.case_api("PUT", f"/{referral_id}/goals", CONNECTOR, {"goals": ["Join a choir"]})
    problem = _problem(await intake.case_api("POST", f"/{referral_id}/handover", CONNECTOR, {"to": "volunteer"}), 409)
    assert "high complexity" in problem["detail"]


async def test_a_contact_before_triage_assigns_the_referral_is_409_for_a_coordinator(intake, make):
    referral_id = (await intake.post(make.referral())).json()["id"]
    problem = _problem(await intake.case_api("POST", f"/{referral_id}/contacts", COORDINATOR, WALKED), 409)
    assert "not been assigned" in problem["detail"]
    _problem(await intake.case_api("POST", f"/{referral_id}/contacts", CONNECTOR, WALKED), 404)


async def test_declined_at_first_contact_closes_the_case_and_the_task_fails(intake, make):
    referral_id = await _assigned(intake, make)
    answer = await intake.case_api("POST", f"/{referral_id}/contacts", CONNECTOR, {"mode": "home-visit",
                                                                                 "outcome": "declined"})  # fmt: skip
    assert answer.json()["status"] == "closed"
    closed = [e for e in await intake.published(referral_id) if e["type"] == "case.closed.v1"]
    assert [c["reason"] for c in closed] == ["declined"]
    task = (await intake.task_for(referral_id)).json()["entry"][0]["resource"]
    assert (task["status"], task["businessStatus"]["text"]) == ("failed", "declined-by-person")

"""The case's use cases on a fake unit of work: who may do what, what is stored and what is announced."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from referral_intake.adapters.fhir_request import submission_from_body
from referral_intake.case_service import CaseNotFound, CaseService
from referral_intake.domain.refusals import CaseConflict
from referral_intake.service import IntakeService, NotWithdrawable, VersionMismatch
from referral_intake.triage_facts import TriageFacts
from signpost_devstack.synthetic import gp_referral
from signpost_runtime.auth import AuthError, Principal
from support.events import TERMS, handover_refused, referral_assigned, referral_handed_over
from support.fakes.intake import FakeIntakeUnit

pytestmark = pytest.mark.unit

WRITER = Principal(subject="gp-system", scopes=frozenset({"referrals:write", "referrals:read"}), ods_code="B82005")
AMIRA = Principal(subject="leeds-north-amira", scopes=frozenset({"cases:write"}), ods_code=None)
BILAL = Principal(subject="leeds-north-bilal", scopes=frozenset({"cases:write"}), ods_code=None)
COORDINATOR = Principal(subject="coordinator-1", scopes=frozenset({"cases:coordinate"}), ods_code=None)
intake, cases, facts = IntakeService(), CaseService(), TriageFacts()


async def _referral(unit: FakeIntakeUnit, **resource: object) -> str:
    body = {**gp_referral(rng=random.Random()), **resource}
    submission = submission_from_body(json.dumps(body).encode(), max_depth=64, today=datetime.now(UTC).date())
    return (await intake.submit(unit, submission, WRITER, None)).referral.id


async def _assigned(unit: FakeIntakeUnit, connector: str = "leeds-north-amira", **fields: object) -> str:
    referral_id = await _referral(unit)
    fields = {"complexity": "low", "terms": TERMS, **fields}
    await facts.record_assignment(unit, referral_assigned(referral_id, connector_id=connector, **fields))
    return referral_id


def _published(unit: FakeIntakeUnit) -> list[str]:
    return [event.type for event in unit.events if event.type != "referral.received.v2"]


async def test_a_connector_records_a_whole_case_and_each_step_is_announced_without_the_closing_note():
    unit = FakeIntakeUnit()
    referral_id = await _assigned(unit)
    await cases.record_contact(unit, referral_id, AMIRA, mode="telephone", outcome="reached")
    await cases.set_goals(unit, referral_id, AMIRA, goals=["Join a walking group"])
    await cases.record_session(unit, referral_id, AMIRA, mode="walk")
    await cases.record_measures(unit, referral_id, AMIRA, stage="baseline", ucla3=[3, 3, 2])
    view = await cases.close(unit, referral_id, AMIRA, reason="connected-onward", onward=["Hyde Park walkers"],
                             note="Son is worried; call him first next time.")  # fmt: skip

    assert view.status == "closed"
    assert _published(unit) == ["case.contact-recorded.v1", "case.goals-set.v1", "case.session-recorded.v1",
                                "case.measures-recorded.v1", "case.closed.v1"]  # fmt: skip
    closed = unit.events[-1].data
    assert (closed["goals"], closed["onward"], closed["sessions_used"]) == (["Join a walking group"],
                                                                            ["Hyde Park walkers"], 1)  # fmt: skip
    assert "worried" not in json.dumps([event.data for event in unit.events])
    assert unit.events[1].data["first_reached"] is True
    assert unit.events[4].data["ucla3_total"] == 8


async def test_another_connectors_case_is_not_found_exactly_like_an_unknown_referral_and_nothing_is_written():
    unit = FakeIntakeUnit()
    referral_id = await _assigned(unit)
    for attempt in (
        cases.case(unit, referral_id, BILAL),
        cases.record_contact(unit, referral_id, BILAL, mode="walk", outcome="reached"),
        cases.record_contact(unit, "no-such-referral", AMIRA, mode="walk", outcome="reached"),
    ):
        with pytest.raises(CaseNotFound):
            await attempt
    assert _published(unit) == []
    assert unit.cases.by_referral[referral_id].contacts == ()


async def test_a_coordinator_sees_every_connectors_cases_and_a_connector_only_their_own():
    unit = FakeIntakeUnit()
    mine = await _assigned(unit, "leeds-north-amira")
    theirs = await _assigned(unit, "leeds-north-bilal")

    assert [v.case.referral_id for v in await cases.worklist(unit, AMIRA, "open", limit=10, offset=0)] == [mine]
    everyone = await cases.worklist(unit, COORDINATOR, "open", limit=10, offset=0)
    assert {v.case.referral_id for v in everyone} == {mine, theirs}
    assert (await cases.case(unit, theirs, COORDINATOR)).case.connector_id == "leeds-north-bilal"


async def test_the_worklist_shows_open_cases_unless_asked_for_closed_or_withdrawn_ones():
    unit = FakeIntakeUnit()
    open_one, closed_one, withdrawn_one = [await _assigned(unit) for _ in range(3)]
    await cases.close(unit, closed_one, AMIRA, reason="moved-away")
    await intake.withdraw(unit, withdrawn_one, WRITER, lambda _: "revoked", if_match=None, correlation_id=None)

    async def ids(status):
        return {v.case.referral_id for v in await cases.worklist(unit, AMIRA, status, limit=10, offset=0)}

    assert await ids("open") == {open_one}
    assert await ids("closed") == {closed_one}
    assert await ids("withdrawn") == {withdrawn_one}
    assert await ids("all") == {open_one, closed_one, withdrawn_one}
    [withdrawn] = await cases.worklist(unit, AMIRA, "withdrawn", limit=10, offset=0)
    assert withdrawn.status == "withdrawn"


async def test_a_withdrawn_referrals_case_refuses_every_write_saying_it_was_withdrawn():
    unit = FakeIntakeUnit()
    referral_id = await _assigned(unit)
    await cases.record_contact(unit, referral_id, AMIRA, mode="telephone", outcome="reached")
    await intake.withdraw(unit, referral_id, WRITER, lambda _: "revoked", if_match=None, correlation_id="c-9")
    before = len(unit.events)

    with pytest.raises(CaseConflict, match=r"^withdrawn"):
        await cases.record_session(unit, referral_id, AMIRA, mode="walk")
    with pytest.raises(CaseConflict, match=r"^withdrawn"):
        await cases.close(unit, referral_id, AMIRA, reason="other")
    assert len(unit.events) == before
    assert unit.events[-1].type == "referral.withdrawn.v1"
    assert (unit.events[-1].data["status"], unit.events[-1].correlationid) == ("revoked", "c-9")


async def test_only_a_coordinator_asks_for_a_reassignment():
    unit = FakeIntakeUnit()
    referral_id = await _assigned(unit)
    with pytest.raises(AuthError) as refused:
        await cases.request_reassignment(unit, referral_id, AMIRA, reason="leave")
    assert refused.value.status_code == 403
    await cases.request_reassignment(unit, referral_id, COORDINATOR, reason="leave", connector_id="leeds-north-bilal")
    requested = unit.events[-1]
    assert requested.type == "case.reassignment-requested.v1"
    assert (requested.data["connector_id"], requested.data["requested_by"]) == ("leeds-north-bilal", "coordinator-1")


async def test_a_handover_moves_the_case_to_the_volunteer_when_triage_makes_it_and_a_refusal_shows_on_the_case():
    unit = FakeIntakeUnit()
    referral_id = await _assigned(unit)
    await cases.record_contact(unit, referral_id, AMIRA, mode="telephone", outcome="reached")
    await cases.set_goals(unit, referral_id, AMIRA, goals=["Join a choir"])
    await cases.request_handover(unit, referral_id, AMIRA)
    assert unit.events[-1].type == "case.handover-requested.v1"

    await facts.record_refusal(unit, handover_refused(referral_id, reason="no volunteer in LS6 has room"))
    assert [r.reason for r in (await cases.case(unit, referral_id, AMIRA)).case.refusals] == [
        "no volunteer in LS6 has room"
    ]

    await facts.record_move(unit, referral_handed_over(referral_id, connector_id="leeds-volunteer-sam"))
    volunteer = Principal(subject="leeds-volunteer-sam", scopes=frozenset({"cases:write"}), ods_code=None)
    assert (await cases.case(unit, referral_id, volunteer)).case.connector_id == "leeds-volunteer-sam"
    with pytest.raises(CaseNotFound):
        await cases.case(unit, referral_id, AMIRA)


async def test_the_worklist_flags_stalled_cases_and_those_the_connector_could_not_contact():
    unit = FakeIntakeUnit()
    stalled_one, unreachable = await _assigned(unit), await _assigned(unit)
    for _ in range(TERMS.max_failed_contacts):
        await cases.record_contact(unit, unreachable, AMIRA, mode="telephone", outcome="no-answer")
    later = CaseService(clock=lambda: datetime.now(UTC) + timedelta(days=TERMS.stalled_after_days + 1))

    views = {v.case.referral_id: v for v in await later.worklist(unit, AMIRA, "open", limit=10, offset=0)}
    assert (views[stalled_one].stalled, views[stalled_one].could_not_contact) == (True, False)
    assert views[unreachable].could_not_contact
    now = {v.case.referral_id: v for v in await cases.worklist(unit, AMIRA, "open", limit=10, offset=0)}
    assert not now[stalled_one].stalled


async def test_the_contact_card_comes_from_the_referrals_contained_patient_and_patient_instruction():
    unit = FakeIntakeUnit()
    referral_id = await _referral(unit, patientInstruction="Prefers a phone call after 2pm; hard of hearing")
    await facts.record_assignment(unit, referral_assigned(referral_id, terms=TERMS, complexity="low"))
    card = (await cases.case(unit, referral_id, COORDINATOR)).contact
    patient = unit.referrals.by_id[referral_id].resource["contained"][0]

    assert card.first_contact_preference == "Prefers a phone call after 2pm; hard of hearing"
    assert card.name is not None
    assert patient["name"][0]["family"] in card.name
    assert [(p.system, p.value) for p in card.telecom] == [("phone", patient["telecom"][0]["value"])]
    assert card.address is not None
    assert patient["address"][0]["postalCode"] in card.address
    assert card.reasons
    assert card.note


async def test_a_closed_case_cannot_be_revoked_but_may_still_be_marked_entered_in_error():
    unit = FakeIntakeUnit()
    referral_id = await _assigned(unit)
    await cases.close(unit, referral_id, AMIRA, reason="goals-met")
    with pytest.raises(NotWithdrawable, match="support for this referral has ended"):
        await intake.withdraw(unit, referral_id, WRITER, lambda _: "revoked", if_match=None, correlation_id=None)
    withdrawn = await intake.withdraw(
        unit, referral_id, WRITER, lambda _: "entered-in-error", if_match=frozenset({1}), correlation_id=None
    )
    assert (withdrawn.status, withdrawn.version) == ("entered-in-error", 2)
    with pytest.raises(VersionMismatch):
        await intake.withdraw(
            unit, referral_id, WRITER, lambda _: "revoked", if_match=frozenset({1}), correlation_id=None
        )

"""Handover to a volunteer and reassignment, as pure rules: who may take the case, and why not."""

from __future__ import annotations

import pytest

from triage.domain.assignment import ConnectorLoad
from triage.domain.changes import NOT_OPEN, Move, OpenCase, Refusal, handover, reassignment
from triage.domain.policy import AssignmentRules

pytestmark = pytest.mark.unit

RULES = AssignmentRules()


def connector(connector_id: str, kind="paid", caseload=0, capacity=2, areas=("LS6",), **more) -> ConnectorLoad:
    return ConnectorLoad(connector_id, kind, areas, capacity, caseload, **more)  # type: ignore[arg-type]


PAID = connector("paid", caseload=1)


def case(complexity="low", holder=PAID, **more) -> OpenCase:
    return OpenCase("r-1", holder, "LS6", complexity, **more)  # type: ignore[arg-type]


def moved_to(answer) -> str:
    assert isinstance(answer, Move), answer
    return answer.to.id


def refused(answer) -> str:
    assert isinstance(answer, Refusal), answer
    return answer.reason


def test_a_low_complexity_case_with_paid_staff_is_handed_over_to_the_best_volunteer_with_room():
    volunteers = [connector("v-busy", "volunteer", caseload=1), connector("v-free", "volunteer")]
    assert moved_to(handover(case(), [PAID, *volunteers])) == "v-free"


def test_a_handover_prefers_a_volunteer_who_speaks_the_persons_language():
    volunteers = [connector("v-en", "volunteer"), connector("v-pa", "volunteer", caseload=1, languages=("pa",))]
    assert moved_to(handover(case(language_preference="pa"), [PAID, *volunteers])) == "v-pa"


def test_handover_refusals_say_why_in_plain_words():
    volunteer = connector("v", "volunteer")
    assert refused(handover(None, [volunteer])) == NOT_OPEN
    assert "medium complexity" in refused(handover(case("medium"), [volunteer]))
    assert refused(handover(case(holder=volunteer), [volunteer])) == "The case is already with a volunteer (v)."
    no_room = [connector("v-full", "volunteer", caseload=2), connector("v-away", "volunteer", status="on-leave")]
    assert refused(handover(case(), no_room)).startswith("No volunteer covering LS6 has room just now")
    far = connector("v-far", "volunteer", areas=("LS10",))
    assert refused(handover(case(), [far])).startswith("No volunteer covering LS6 has room")


def test_a_named_reassignment_is_made_when_the_connector_may_take_the_case():
    assert moved_to(reassignment(case("high"), [PAID, connector("other")], RULES, "other")) == "other"


@pytest.mark.parametrize(
    ("named", "connectors", "reason"),
    [
        ("ghost", [], "There is no connector 'ghost' in the roster."),
        ("paid", [], "The case is already with paid."),
        ("away", [connector("away", status="on-leave")], "away takes no new work (on-leave)."),
        ("gone", [connector("gone", active=False)], "gone takes no new work (no longer in the roster file)."),
        ("far", [connector("far", areas=("LS10",))], "far does not cover LS6."),
        ("full", [connector("full", caseload=2)], "full has no room (2/2 cases)."),
        (
            "vol",
            [connector("vol", "volunteer")],
            "vol is a volunteer connector; this high-complexity case goes to paid.",
        ),
    ],
)
def test_a_named_reassignment_is_refused_with_the_reason(named, connectors, reason):
    assert refused(reassignment(case("high"), [PAID, *connectors], RULES, named)) == reason


def test_a_low_complexity_case_with_paid_staff_reaches_a_volunteer_only_by_handover():
    reason = refused(reassignment(case("low"), [PAID, connector("vol", "volunteer")], RULES, "vol"))
    assert reason.endswith("goes to paid (a volunteer takes it only by handover).")


def test_a_handed_over_case_may_be_reassigned_to_another_volunteer_first():
    volunteer = connector("v-1", "volunteer", caseload=1)
    others = [connector("paid-free"), connector("v-2", "volunteer", caseload=1)]
    assert moved_to(reassignment(case("low", holder=volunteer), [volunteer, *others], RULES, None)) == "v-2"


def test_the_best_reassignment_is_never_the_current_holder_and_is_refused_when_no_one_else_has_room():
    holder = connector("holder")
    assert moved_to(reassignment(case("high", holder=holder), [holder, connector("b", caseload=1)], RULES, None)) == "b"
    reason = refused(reassignment(case("high", holder=holder), [holder, connector("c", caseload=2)], RULES, None))
    assert reason == "No other paid connector covering LS6 has room just now; the case stays where it is."
    assert refused(reassignment(None, [holder], RULES, None)) == NOT_OPEN

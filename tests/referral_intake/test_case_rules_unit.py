"""The case's rules, tested on the pure domain: what each record may do, and what it changes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from referral_intake.domain import case_events as happened
from referral_intake.domain import case_rules as rules
from referral_intake.domain.case import Allocation, Case, Holding, Refusal, Terms
from referral_intake.domain.case_rules import AllowanceUsedUp, CaseContext
from referral_intake.domain.measures import Ons4
from referral_intake.domain.refusals import CaseConflict, CaseInvalid

pytestmark = pytest.mark.unit

T0 = datetime(2025, 3, 3, 10, tzinfo=UTC)
TERMS = Terms("test-1", session_allowance=2, extension_sessions=3, max_extensions=1, max_failed_contacts=3,
              stalled_after_days=28)  # fmt: skip
NOW = CaseContext(now=T0 + timedelta(days=2), received_at=T0 - timedelta(hours=1))


def assigned(complexity: str = "low", kind: str = "paid", terms: Terms | None = TERMS) -> Case:
    case = Case("r-1").held(Holding("amira", kind, "assigned", T0, "e-assigned"))  # type: ignore[arg-type]
    return case.allocated(Allocation(complexity, terms, T0, "e-assigned"))  # type: ignore[arg-type]


def reached(case: Case | None = None) -> Case:
    return rules.record_contact(case or assigned(), NOW, by="amira", mode="telephone", outcome="reached", at=None).case


def with_goals(*goals: str) -> Case:
    return rules.set_goals(reached(), NOW, goals=goals or ("Join a walking group",), at=None).case


def test_a_contact_is_refused_until_triage_has_assigned_a_connector():
    with pytest.raises(CaseConflict, match="not been assigned a connector"):
        rules.record_contact(Case("r-1"), NOW, by="amira", mode="telephone", outcome="reached", at=None)


def test_the_first_reached_contact_starts_support_and_says_so_only_the_first_time():
    first = rules.record_contact(assigned(), NOW, by="amira", mode="telephone", outcome="reached", at=None)
    again = rules.record_contact(first.case, NOW, by="amira", mode="walk", outcome="reached", at=None)

    assert first.case.status == "in-progress"
    [made] = first.events
    assert isinstance(made, happened.ContactMade)
    assert made.first_reached
    assert not again.events[0].first_reached  # type: ignore[union-attr]


def test_a_declined_contact_closes_the_case_as_declined_by_the_person():
    changed = rules.record_contact(assigned(), NOW, by="amira", mode="home-visit", outcome="declined", at=None)

    assert changed.case.status == "closed"
    assert changed.case.closure is not None
    assert changed.case.closure.reason == "declined"
    assert [type(e) for e in changed.events] == [happened.ContactMade, happened.CaseEnded]
    assert changed.events[1].reached is False  # type: ignore[union-attr]


def test_unanswered_attempts_up_to_the_terms_limit_flag_could_not_contact_and_a_later_reach_clears_it():
    case = assigned()
    for attempt in range(1, 4):
        changed = rules.record_contact(case, NOW, by="amira", mode="telephone", outcome="no-answer", at=None)
        case = changed.case
        made = changed.events[0]
        assert isinstance(made, happened.ContactMade)
        assert (made.failed_attempts, made.could_not_contact) == (attempt, attempt == 3)
    assert case.could_not_contact
    assert case.status == "assigned", "the flag leaves the case open for the connector to close"

    case = reached(case)
    assert not case.could_not_contact
    assert case.status == "in-progress"


def test_unanswered_attempts_after_the_person_was_reached_do_not_count_towards_could_not_contact():
    case = reached()
    for _ in range(5):
        case = rules.record_contact(case, NOW, by="amira", mode="telephone", outcome="no-answer", at=None).case
    assert (case.failed_attempts, case.could_not_contact) == (0, False)


def test_goals_sessions_and_measures_wait_until_the_person_is_reached():
    case = assigned()
    with pytest.raises(CaseConflict, match="not been reached"):
        rules.set_goals(case, NOW, goals=["Join a choir"], at=None)
    with pytest.raises(CaseConflict, match="not been reached"):
        rules.record_session(case, NOW, by="amira", mode="walk", at=None)
    with pytest.raises(CaseConflict, match="not been reached"):
        rules.record_measures(case, NOW, stage="baseline", ucla3=[1, 2, 3], ons_loneliness=None, ons4=None, at=None)


@pytest.mark.parametrize(
    ("goals", "field"),
    [
        ([], "goals"),
        (["a", "b", "c", "d"], "goals"),
        (["Join a choir", "  join A   choir. "], "goals.1"),
        (["Join a choir", "   "], "goals.1"),
        (["x" * 201], "goals.0"),
    ],
)
def test_goals_are_one_to_three_distinct_goals_of_at_most_200_characters(goals, field):
    with pytest.raises(CaseInvalid) as refused:
        rules.set_goals(reached(), NOW, goals=goals, at=None)
    assert [problem.field for problem in refused.value.problems] == [field]


@pytest.mark.parametrize(
    ("text", "shown"),
    [("a\x00b", "a NUL character (U+0000)"), ("r\udaa7", "half a surrogate pair (U+DAA7)")],
)
def test_text_that_no_database_or_email_can_carry_is_refused_naming_the_field_and_what_is_wrong(text, shown):
    """NUL and lone surrogates arrive as JSON escapes (found by schemathesis: a 500 from PostgreSQL)."""
    with pytest.raises(CaseInvalid) as goals:
        rules.set_goals(reached(), NOW, goals=["Join a choir", text], at=None)
    with pytest.raises(CaseInvalid) as note:
        rules.close(with_goals(), NOW, by="amira", reason="goals-met", onward=[], note=text, at=None)
    with pytest.raises(CaseInvalid) as reassignment:
        rules.request_reassignment(with_goals(), NOW, by="coordinator", connector_id=None, reason=text, at=None)
    assert [p.field for p in goals.value.problems] == ["goals.1"]
    assert shown in goals.value.detail
    assert [p.field for p in note.value.problems] == ["note"]
    assert [p.field for p in reassignment.value.problems] == ["reason"]


def test_tabs_new_lines_and_characters_beyond_the_basic_plane_are_text():
    closed = rules.close(
        with_goals(), NOW, by="amira", reason="goals-met", onward=[], note="Met twice.\n\tThen a walk.", at=None
    )
    assert closed.case.closure is not None


def test_goals_set_again_replace_the_earlier_ones():
    case = rules.set_goals(with_goals("Join a choir", "Cook with others"), NOW, goals=[" Visit my sister "], at=None)
    assert case.case.goals == ("Visit my sister",)
    assert case.events == (happened.GoalsAgreed("r-1", 1, NOW.now),)


def test_sessions_stop_at_the_allowance_and_the_refusal_says_an_extension_can_help():
    case = with_goals()
    for used in (1, 2):
        changed = rules.record_session(case, NOW, by="amira", mode="walk", at=None)
        case = changed.case
        assert changed.events[0] == happened.SessionHeld("r-1", "walk", NOW.now, used, 2)
    with pytest.raises(AllowanceUsedUp, match="all 2 sessions") as refused:
        rules.record_session(case, NOW, by="amira", mode="walk", at=None)
    assert refused.value.extensions_left == 1
    assert "extension with a new goal" in refused.value.detail


def test_an_extension_for_a_goal_the_case_already_has_is_invalid_whatever_its_case_or_spacing():
    case = with_goals("Join a walking group")
    with pytest.raises(CaseInvalid) as refused:
        rules.request_extension(case, NOW, new_goal="  join a WALKING group!", reason="more time", at=None)
    assert [p.field for p in refused.value.problems] == ["new_goal"]
    assert "repeats the goal 'Join a walking group'" in refused.value.detail


def test_an_extension_is_granted_with_a_new_goal_and_then_refused_at_the_terms_limit():
    granted = rules.request_extension(with_goals(), NOW, new_goal="Go to the library", reason="Wants more", at=None)
    assert granted.case.session_allowance == 5
    assert granted.events == (happened.ExtensionGranted("r-1", 3, 5, 1, NOW.now),)
    assert granted.case.all_goals == ("Join a walking group", "Go to the library")

    refused = rules.request_extension(granted.case, NOW, new_goal="Learn to swim", reason="Wants more", at=None)
    [event] = refused.events
    assert isinstance(event, happened.ExtensionRefused)
    assert "allow 1 extension(s) and 1 have been granted" in event.reason
    assert refused.case.session_allowance == 5
    assert refused.case.extensions[-1].granted is False
    with pytest.raises(CaseInvalid, match="repeats the goal 'Go to the library'"):
        rules.request_extension(refused.case, NOW, new_goal="go to the library", reason="again", at=None)


def test_an_extension_waits_for_the_goals():
    with pytest.raises(CaseConflict, match="no goals yet"):
        rules.request_extension(reached(), NOW, new_goal="Go to the library", reason="Wants more", at=None)


def test_measures_total_the_ucla3_only_when_all_three_items_are_answered():
    baseline = rules.record_measures(with_goals(), NOW, stage="baseline", ucla3=[3, 2, 3], ons_loneliness=None,
                                     ons4=None, at=None)  # fmt: skip
    partial = rules.record_measures(with_goals(), NOW, stage="baseline", ucla3=[3, None, 3], ons_loneliness=None,
                                    ons4=None, at=None)  # fmt: skip
    assert baseline.case.measures_at("baseline").ucla3_total == 8  # type: ignore[union-attr]
    assert partial.case.measures_at("baseline").ucla3_total is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("ucla3", "ons4", "fields"),
    [
        ([0, 2, 4], None, ["ucla3.0", "ucla3.2"]),
        ([1, 2], None, ["ucla3"]),
        (None, Ons4(anxiety=11, happiness=-1), ["ons4.happiness", "ons4.anxiety"]),
        (None, None, ["ucla3", "ons_loneliness", "ons4"]),
        ([None, None, None], Ons4(), ["ucla3", "ons_loneliness", "ons4"]),
    ],
)
def test_measures_out_of_range_or_with_no_answer_at_all_are_refused_naming_each_field(ucla3, ons4, fields):
    with pytest.raises(CaseInvalid) as refused:
        rules.record_measures(with_goals(), NOW, stage="baseline", ucla3=ucla3, ons_loneliness=None, ons4=ons4, at=None)
    assert [p.field for p in refused.value.problems] == fields


def test_any_part_of_the_measures_may_be_missing_and_a_stage_recorded_again_replaces_it():
    case = rules.record_measures(with_goals(), NOW, stage="baseline", ucla3=None, ons_loneliness="often-always",
                                 ons4=None, at=None).case  # fmt: skip
    case = rules.record_measures(case, NOW, stage="closing", ucla3=[1, 1, 2], ons_loneliness=None, ons4=None,
                                 at=None).case  # fmt: skip
    case = rules.record_measures(case, NOW, stage="baseline", ucla3=None, ons_loneliness=None,
                                 ons4=Ons4(life_satisfaction=4), at=None).case  # fmt: skip

    baseline = case.measures_at("baseline")
    assert baseline is not None
    assert (baseline.ons_loneliness, baseline.ons4) == (None, Ons4(life_satisfaction=4))
    assert len(case.measures) == 2


def test_closure_frees_the_place_with_the_goals_and_onward_names_and_keeps_the_note_to_itself():
    changed = rules.close(with_goals("Join a walking group"), NOW, by="amira", reason="connected-onward",
                          onward=[" Hyde Park walkers "], note="Private: son worried.", at=None)  # fmt: skip
    [ended] = changed.events
    assert ended == happened.CaseEnded("r-1", "connected-onward", NOW.now, 0, 2, True, ("Join a walking group",),
                                       ("Hyde Park walkers",))  # fmt: skip
    assert "Private" not in repr(ended)
    assert changed.case.closure is not None
    assert changed.case.closure.note == "Private: son worried."
    with pytest.raises(CaseConflict, match="closed"):
        rules.record_session(changed.case, NOW, by="amira", mode="walk", at=None)


def test_closure_names_at_most_ten_onward_connections_each_of_at_most_200_characters():
    with pytest.raises(CaseInvalid) as refused:
        rules.close(with_goals(), NOW, by="amira", reason="goals-met", onward=["x"] * 11, note=None, at=None)
    assert [p.field for p in refused.value.problems] == ["onward"]
    with pytest.raises(CaseInvalid) as refused:
        rules.close(with_goals(), NOW, by="amira", reason="goals-met", onward=["ok", "y" * 201], note=None, at=None)
    assert [p.field for p in refused.value.problems] == ["onward.1"]


def test_a_withdrawn_referrals_case_refuses_every_write_saying_withdrawn():
    withdrawn = CaseContext(now=NOW.now, received_at=NOW.received_at, withdrawn="revoked")
    case = with_goals()
    writes = [
        lambda: rules.record_contact(case, withdrawn, by="amira", mode="walk", outcome="reached", at=None),
        lambda: rules.set_goals(case, withdrawn, goals=["A"], at=None),
        lambda: rules.record_session(case, withdrawn, by="amira", mode="walk", at=None),
        lambda: rules.request_extension(case, withdrawn, new_goal="B", reason="r", at=None),
        lambda: rules.record_measures(
            case, withdrawn, stage="baseline", ucla3=[1, 1, 1], ons_loneliness=None, ons4=None, at=None
        ),
        lambda: rules.close(case, withdrawn, by="amira", reason="other", onward=[], note=None, at=None),
        lambda: rules.request_handover(case, withdrawn, by="amira", at=None),
        lambda: rules.request_reassignment(case, withdrawn, by="coord", connector_id=None, reason="r", at=None),
    ]
    for write in writes:
        with pytest.raises(CaseConflict, match=r"^withdrawn"):
            write()


@pytest.mark.parametrize(
    ("at", "accepted"),
    [
        (NOW.now + timedelta(seconds=59), True),
        (NOW.now + timedelta(minutes=2), False),
        (NOW.received_at, True),
        (NOW.received_at - timedelta(seconds=1), False),
    ],
)
def test_a_time_is_at_most_a_minute_ahead_of_the_clock_and_never_before_the_referral_was_received(at, accepted):
    if accepted:
        changed = rules.record_contact(assigned(), NOW, by="amira", mode="walk", outcome="reached", at=at)
        assert changed.case.contacts[0].at == at
        return
    with pytest.raises(CaseInvalid) as refused:
        rules.record_contact(assigned(), NOW, by="amira", mode="walk", outcome="reached", at=at)
    assert [p.field for p in refused.value.problems] == ["at"]


def test_a_handover_needs_support_under_way_goals_low_complexity_and_a_paid_connector():
    with pytest.raises(CaseConflict, match="not been reached"):
        rules.request_handover(assigned(), NOW, by="amira", at=None)
    with pytest.raises(CaseConflict, match="goals first"):
        rules.request_handover(reached(), NOW, by="amira", at=None)
    medium = rules.set_goals(reached(assigned("medium")), NOW, goals=["A"], at=None).case
    with pytest.raises(CaseConflict, match="medium complexity"):
        rules.request_handover(medium, NOW, by="amira", at=None)
    volunteer = rules.set_goals(reached(assigned(kind="volunteer")), NOW, goals=["A"], at=None).case
    with pytest.raises(CaseConflict, match="already with a volunteer"):
        rules.request_handover(volunteer, NOW, by="amira", at=None)

    changed = rules.request_handover(with_goals(), NOW, by="amira", at=None)
    assert changed.events == (happened.HandoverAsked("r-1", "amira", NOW.now),)


def test_a_reassignment_to_the_connector_already_holding_the_case_is_invalid():
    with pytest.raises(CaseInvalid) as refused:
        rules.request_reassignment(assigned(), NOW, by="coord", connector_id="amira", reason="leave", at=None)
    assert [p.field for p in refused.value.problems] == ["connector_id"]
    changed = rules.request_reassignment(assigned(), NOW, by="coord", connector_id=None, reason=" leave ", at=None)
    assert changed.events == (happened.ReassignmentAsked("r-1", None, "leave", "coord", NOW.now),)


def test_triage_facts_give_the_same_case_whatever_order_and_however_often_they_arrive():
    facts = [
        Holding("amira", "paid", "assigned", T0, "e1"),
        Holding("sam", "volunteer", "handed-over", T0 + timedelta(days=3), "e2"),
        Holding("bilal", "paid", "reassigned", T0 + timedelta(days=3), "e3"),  # same time: settled by event id
        Allocation("low", TERMS, T0, "e1"),
        Refusal("handover", "no volunteer room", T0 + timedelta(days=1), "e4"),
    ]
    cases = set()
    for order in itertools.permutations([*facts, facts[1], facts[4]]):
        case = Case("r-1")
        for fact in order:
            if isinstance(fact, Holding):
                case = case.held(fact)
            elif isinstance(fact, Allocation):
                case = case.allocated(fact)
            else:
                case = case.refused(fact)
        cases.add(case)
    [case] = cases
    assert (case.connector_id, case.first_assigned_at, len(case.refusals)) == ("bilal", T0, 1)


def test_a_case_without_a_session_for_the_terms_days_is_stalled_counting_from_assignment_before_the_first():
    case = with_goals()
    assert not case.stalled(T0 + timedelta(days=27))
    assert case.stalled(T0 + timedelta(days=28))
    case = rules.record_session(case, NOW, by="amira", mode="walk", at=T0 + timedelta(days=1)).case
    assert not case.stalled(T0 + timedelta(days=28))
    assert case.stalled(T0 + timedelta(days=29))
    closed = rules.close(case, NOW, by="amira", reason="goals-met", onward=[], note=None, at=None).case
    assert not closed.stalled(T0 + timedelta(days=100)), "a closed case is never stalled"


def test_an_assignment_without_terms_runs_by_the_documented_legacy_defaults():
    case = assigned(terms=None)
    assert (case.session_allowance, case.terms.max_failed_contacts, case.terms.stalled_after_days) == (6, 3, 28)

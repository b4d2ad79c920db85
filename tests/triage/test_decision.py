"""Eligibility, redirects and complexity: what triage decides and why."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from triage.domain.decision import decide
from triage.domain.referral import ReferralFacts

pytestmark = pytest.mark.unit


def facts(**overrides: Any) -> ReferralFacts:
    values: dict[str, Any] = {
        "referral_id": str(uuid.uuid4()),
        "received_at": datetime.now(UTC),
        "age_years": 70,
        "postcode_district": "LS6",
        "needs": ["loneliness"],
    }
    values.update(overrides)
    return ReferralFacts.of(**values)


def rule_ids(decision) -> list[str]:
    return [rule.rule_id for rule in decision.fired]


def test_an_adult_in_the_area_with_one_need_is_accepted_at_low_complexity(policy):
    decision = decide(policy, facts())
    assert (decision.outcome, decision.complexity, decision.fired) == ("accepted", "low", ())
    assert decision.district == "LS6"
    assert decision.policy_version == "test-policy-7"


def test_a_referral_outside_the_area_is_declined_naming_the_district(policy):
    decision = decide(policy, facts(postcode_district="M1 1AE"))
    assert decision.outcome == "declined"
    assert rule_ids(decision) == ["outside-service-area"]
    assert "M1 is outside the Leeds service area" in decision.fired[0].description


def test_a_district_prefix_in_the_policy_does_not_accept_a_longer_district(policy):
    assert decide(policy, facts(postcode_district="BD1")).outcome == "accepted"
    assert decide(policy, facts(postcode_district="BD10")).outcome == "declined"


def test_a_referral_without_a_usable_postcode_is_declined_asking_for_it(policy):
    decision = decide(policy, facts(postcode_district="nowhere"))
    assert decision.outcome == "declined"
    assert rule_ids(decision) == ["postcode-unknown"]
    assert "send it again with the postcode" in decision.fired[0].description


def test_someone_below_the_minimum_age_is_declined_when_no_redirect_applies(policy):
    without_redirects = policy.model_copy(update={"redirect_rules": policy.redirect_rules[1:]})
    decision = decide(without_redirects, facts(age_years=17))
    assert decision.outcome == "declined"
    assert rule_ids(decision) == ["below-minimum-age"]
    assert "aged 18 and over" in decision.fired[0].description


def test_the_minimum_age_itself_is_eligible(policy):
    assert decide(policy, facts(age_years=18)).outcome == "accepted"


def test_an_unknown_age_is_accepted_with_a_note_when_the_policy_says_accept(policy):
    decision = decide(policy, facts(age_years=None))
    assert decision.outcome == "accepted"
    assert rule_ids(decision) == ["age-unknown"]
    assert "confirms the person is 18 or over" in decision.fired[0].description


def test_an_unknown_age_is_declined_when_the_policy_says_decline(policy):
    strict = policy.model_copy(update={"age": policy.age.model_copy(update={"when_unknown": "decline"})})
    decision = decide(strict, facts(age_years=None))
    assert decision.outcome == "declined"
    assert rule_ids(decision) == ["age-unknown"]


def test_an_under_18_is_redirected_to_childrens_services_rather_than_declined(policy):
    decision = decide(policy, facts(age_years=15))
    assert decision.outcome == "redirected"
    assert decision.redirect is not None
    assert decision.redirect.service == "Children's services"
    assert rule_ids(decision) == ["under-18", "below-minimum-age"], "the overruled decline is still recorded"


def test_a_risk_of_self_harm_is_redirected_even_from_outside_the_area(policy):
    decision = decide(policy, facts(postcode_district="M1", risk_flags=["Self-Harm-Risk"]))
    assert decision.outcome == "redirected"
    assert decision.redirect is not None
    assert decision.redirect.urgent
    assert rule_ids(decision) == ["crisis", "outside-service-area"]


def test_an_urgent_redirect_wins_over_an_earlier_non_urgent_one(policy):
    decision = decide(policy, facts(age_years=16, risk_flags=["self-harm-risk"]))
    assert decision.redirect is not None
    assert decision.redirect.id == "crisis"
    assert rule_ids(decision)[:2] == ["crisis", "under-18"]


def test_an_unknown_age_never_triggers_an_age_redirect(policy):
    assert decide(policy, facts(age_years=None)).outcome == "accepted"


def test_several_needs_make_a_referral_medium_complexity(policy):
    decision = decide(policy, facts(needs=["loneliness", "housing", "debt"]))
    assert decision.complexity == "medium"
    assert rule_ids(decision) == ["many-needs"]


def test_the_highest_level_that_fired_sets_complexity_and_every_rule_is_recorded(policy):
    decision = decide(
        policy,
        facts(needs=["a", "b", "c"], interpreter_needed=True, risk_flags=["safeguarding-concern"]),
    )
    assert decision.complexity == "high"
    assert rule_ids(decision) == ["many-needs", "interpreter-needed", "safeguarding-concern"]

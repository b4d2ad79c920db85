"""Who the service can help: an age range, cohorts (bereaved people, carers, people over 50...), exclusions
with a plain reason for the referrer, and rules by referrer kind and by area. Every decision stays explained."""

from __future__ import annotations

import tomllib
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from triage.domain.decision import decide
from triage.domain.policy import Policy
from triage.domain.referral import ReferralFacts
from triage.domain.summary import summarise

pytestmark = pytest.mark.unit

COHORT_POLICY = """
version = "cohorts-1"

[service_area]
name = "Leeds"
postcode_prefixes = ["LS"]

[age]
minimum = 18
maximum = 95

[[redirect_rules]]
id = "crisis"
description = "Risk of self-harm."
when = { risk_flags_any = ["self-harm-risk"] }
service = "Crisis team"
summary = "Contact the crisis team now."
urgent = true

[[cohorts]]
id = "bereaved"
description = "people who have been bereaved"
when = { needs_any = ["bereavement"] }

[[cohorts]]
id = "carers"
description = "people caring for someone"
when = { needs_any = ["carer-support"] }

[[cohorts]]
id = "over-50s"
description = "people aged 50 and over"
when = { age_at_least = 50 }

[[decline_rules]]
id = "housing-only-by-council"
description = "Housing-only referrals from the council go to its own tenancy support team."
when = { needs_any = ["housing"], needs_at_least = 1, referrer_kind_in = ["social-worker"] }
reason = "Housing support for council tenants is given by the council's tenancy support team; please refer there."

[[decline_rules]]
id = "ls29-outreach-only"
description = "LS29 (Wharfedale) is covered by the Otley outreach service, except for self-referrals."
when = { postcode_prefixes_any = ["LS29"], referrer_kind_in = ["gp", "social-worker", "community-organisation"] }
reason = "People in LS29 are supported by the Otley community outreach service; please refer to them."
"""


@pytest.fixture
def policy() -> Policy:
    return Policy.model_validate(tomllib.loads(COHORT_POLICY))


def facts(**overrides: Any) -> ReferralFacts:
    values: dict[str, Any] = {
        "referral_id": str(uuid.uuid4()),
        "received_at": datetime.now(UTC),
        "age_years": 40,
        "postcode_district": "LS6",
        "needs": ["loneliness"],
        "referrer_kind": "gp",
    }
    values.update(overrides)
    return ReferralFacts.of(**values)


def ids(decision) -> list[str]:
    return [rule.rule_id for rule in decision.fired]


def declined_for(decision) -> list[str]:
    return [rule.rule_id for rule in decision.declines]


def test_a_referral_in_a_cohort_is_accepted_and_says_which():
    decision = decide(Policy.model_validate(tomllib.loads(COHORT_POLICY)), facts(needs=["bereavement"]))
    assert decision.outcome == "accepted"
    assert ids(decision) == ["bereaved"]
    assert decision.fired[0].description == "For: people who have been bereaved"


def test_every_cohort_that_fits_is_recorded(policy):
    decision = decide(policy, facts(needs=["carer-support"], age_years=72))
    assert (decision.outcome, ids(decision)) == ("accepted", ["carers", "over-50s"])


def test_someone_in_no_cohort_is_declined_with_who_the_service_is_for_in_plain_words(policy):
    decision = decide(policy, facts(needs=["loneliness"], age_years=40))
    assert decision.outcome == "declined"
    assert ids(decision) == ["not-in-cohort"]
    told = summarise(decision, None)
    assert (
        "This service is for people who have been bereaved, people caring for someone or people aged 50 and over."
        in told
    )
    assert "please say so in the referral and send it again" in told


def test_an_unknown_age_never_counts_as_over_50(policy):
    assert decide(policy, facts(age_years=None)).outcome == "declined"


def test_without_cohorts_everyone_in_the_area_and_age_range_is_for_the_service(policy):
    open_to_all = policy.model_copy(update={"cohorts": []})
    assert decide(open_to_all, facts()).outcome == "accepted"


def test_above_the_maximum_age_is_declined_with_the_range(policy):
    decision = decide(policy, facts(age_years=97, needs=["bereavement"]))
    assert decision.outcome == "declined"
    assert declined_for(decision) == ["above-maximum-age"]
    assert decision.declines[0].description == "The person is 97; this service supports people aged 18 to 95."
    assert ids(decision) == ["above-maximum-age", "bereaved", "over-50s"], "the cohorts that fit are kept too"


def test_a_decline_rule_by_referrer_kind_gives_its_own_reason(policy):
    from_social_work = decide(policy, facts(needs=["housing", "carer-support"], referrer_kind="social-worker"))
    assert from_social_work.outcome == "declined"
    assert declined_for(from_social_work) == ["housing-only-by-council"]
    assert "tenancy support team" in summarise(from_social_work, None)
    from_gp = decide(policy, facts(needs=["housing", "carer-support"], referrer_kind="gp"))
    assert from_gp.outcome == "accepted", "the rule is for social workers' referrals only"


def test_a_decline_rule_by_area_lets_self_referrals_through(policy):
    gp = decide(policy, facts(postcode_district="LS29 6AA", needs=["bereavement"]))
    person = decide(policy, facts(postcode_district="LS29 6AA", needs=["bereavement"], referrer_kind="self"))
    assert (gp.outcome, declined_for(gp)) == ("declined", ["ls29-outreach-only"])
    assert person.outcome == "accepted"


def test_every_decline_reason_is_given_at_once_and_a_redirect_still_wins(policy):
    several = decide(policy, facts(age_years=17, postcode_district="M1 1AE"))
    assert declined_for(several) == ["outside-service-area", "below-minimum-age", "not-in-cohort"]
    at_risk = decide(policy, facts(age_years=17, postcode_district="M1 1AE", risk_flags=["self-harm-risk"]))
    assert at_risk.outcome == "redirected"


def test_a_policy_with_a_maximum_below_its_minimum_is_refused():
    with pytest.raises(ValidationError, match=r"maximum \(16\) is below minimum \(18\)"):
        Policy.model_validate(tomllib.loads(COHORT_POLICY.replace("maximum = 95", "maximum = 16")))


def test_a_cohort_may_not_take_a_built_in_rule_id():
    with pytest.raises(ValidationError, match="reserved for a built-in rule"):
        Policy.model_validate(tomllib.loads(COHORT_POLICY.replace('id = "carers"', 'id = "not-in-cohort"')))


def test_an_unknown_referrer_kind_in_a_rule_is_refused():
    with pytest.raises(ValidationError, match="referrer_kind_in"):
        Policy.model_validate(tomllib.loads(COHORT_POLICY.replace('"social-worker"]', '"socialworker"]', 1)))

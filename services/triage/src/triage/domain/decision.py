"""The triage decision: outcome, complexity and every rule that fired.

Precedence, safest first: **redirect > decline > accept**. A person at risk is pointed to the
right help even when they are outside our area or age range (crisis lines such as NHS 111
option 2 work anywhere, and the referrer must hear about it at once); otherwise any decline
reason stops the referral; otherwise it is accepted.

Decline reasons: no usable postcode, outside the area, outside the age range (or no age, when the
policy asks for one), not one of the people the service is for (when the policy names cohorts: the
referral must fit at least one, and the reason lists them in plain words), and any decline rule
that fires (an exclusion, with its own reason for the referrer). All of them are given, not only
the first, so the referrer learns everything to fix at once. When several redirect rules fire, urgent
ones win, then the order in the policy file. Every rule that fired is recorded, including those
overruled by precedence, so the decision can be explained in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from signpost_contracts.vocabulary import Complexity, postcode_district
from triage.domain.policy import Cohort, Policy, RedirectRule
from triage.domain.postcodes import any_covers
from triage.domain.referral import ReferralFacts

Outcome = Literal["accepted", "declined", "redirected"]
_LEVELS: tuple[Complexity, ...] = ("low", "medium", "high")


@dataclass(frozen=True)
class FiredRule:
    rule_id: str
    description: str


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    complexity: Complexity
    fired: tuple[FiredRule, ...]
    declines: tuple[FiredRule, ...]
    redirect: RedirectRule | None
    district: str | None
    policy_version: str


def _area_declines(policy: Policy, district: str | None, raw_district: str | None) -> list[FiredRule]:
    area = policy.service_area
    if district is None:
        shown = f" ({raw_district!r} is not one)" if raw_district else ""
        return [
            FiredRule(
                "postcode-unknown",
                f"The referral has no usable postcode district such as 'LS6'{shown}, so we cannot tell "
                f"whether the person lives in the {area.name} service area. Please send it again with the postcode.",
            )
        ]
    if not any_covers(area.postcode_prefixes, district):
        covered = ", ".join(area.postcode_prefixes)
        return [
            FiredRule(
                "outside-service-area",
                f"Postcode district {district} is outside the {area.name} service area (we cover {covered}).",
            )
        ]
    return []


def _age_rules(policy: Policy, facts: ReferralFacts) -> tuple[list[FiredRule], list[FiredRule]]:
    """(declines, notes): an unknown age is a note or a decline, as the policy says."""
    minimum = policy.age.minimum
    if facts.age_years is None:
        if policy.age.when_unknown == "decline":
            text = f"The referral does not give the person's age; we support people aged {minimum} and over."
            return [FiredRule("age-unknown", text + " Please send it again with their age.")], []
        text = f"Age not given: accepted on trust; the connector confirms the person is {minimum} or over."
        return [], [FiredRule("age-unknown", text)]
    maximum = policy.age.maximum
    supported = f"aged {minimum} and over" if maximum is None else f"aged {minimum} to {maximum}"
    if facts.age_years < minimum:
        text = f"The person is {facts.age_years}; this service supports people {supported}."
        return [FiredRule("below-minimum-age", text)], []
    if maximum is not None and facts.age_years > maximum:
        text = f"The person is {facts.age_years}; this service supports people {supported}."
        return [FiredRule("above-maximum-age", text)], []
    return [], []


def _cohort_rules(policy: Policy, facts: ReferralFacts) -> tuple[list[FiredRule], list[FiredRule]]:
    """(declines, notes): with cohorts named, the referral fits one (noted) or is declined saying who we help."""
    if not policy.cohorts:
        return [], []
    fitting = [cohort for cohort in policy.cohorts if cohort.when.holds(facts)]
    if fitting:
        return [], [FiredRule(cohort.id, f"For: {cohort.description}") for cohort in fitting]
    return [FiredRule("not-in-cohort", _who_we_help(policy.cohorts))], []


def _who_we_help(cohorts: list[Cohort]) -> str:
    groups = [cohort.description.rstrip(".") for cohort in cohorts]
    listed = groups[0] if len(groups) == 1 else f"{', '.join(groups[:-1])} or {groups[-1]}"
    return (
        f"This service is for {listed}. Nothing in the referral shows that the person is one of them; if they are,"
        " please say so in the referral and send it again."
    )


def _complexity(policy: Policy, facts: ReferralFacts) -> tuple[Complexity, list[FiredRule]]:
    fired = [rule for rule in policy.complexity_rules if rule.when.holds(facts)]
    levels: list[Complexity] = [rule.level for rule in fired]
    level: Complexity = max(levels, key=_LEVELS.index) if levels else "low"
    return level, [FiredRule(rule.id, rule.description) for rule in fired]


def decide(policy: Policy, facts: ReferralFacts) -> Decision:
    district = postcode_district(facts.postcode_district)
    redirects = sorted(
        (rule for rule in policy.redirect_rules if rule.when.holds(facts)), key=lambda rule: not rule.urgent
    )
    age_declines, notes = _age_rules(policy, facts)
    cohort_declines, cohort_notes = _cohort_rules(policy, facts)
    rule_declines = [FiredRule(rule.id, rule.reason) for rule in policy.decline_rules if rule.when.holds(facts)]
    declines = _area_declines(policy, district, facts.postcode_district) + age_declines + cohort_declines
    declines += rule_declines
    notes += cohort_notes
    complexity, complexity_rules = _complexity(policy, facts)
    redirect = redirects[0] if redirects else None
    outcome: Outcome = "redirected" if redirect else "declined" if declines else "accepted"
    fired = [FiredRule(rule.id, rule.description) for rule in redirects] + declines + notes + complexity_rules
    return Decision(
        outcome=outcome,
        complexity=complexity,
        fired=tuple(fired),
        declines=tuple(declines),
        redirect=redirect,
        district=district,
        policy_version=policy.version,
    )

"""The policy, as read from its file: service area, age range, who the service is for (cohorts), decline
rules, redirects, complexity, and the terms a case is given (sessions, contact) and how new work is
shared between paid staff and volunteers.

Models forbid unknown fields so a misspelt key in the file fails at startup instead of being ignored.
The `[sessions]`, `[contact]` and `[assignment]` tables are optional, and so is each key in them: a
policy written before they existed keeps working with the defaults below.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from signpost_contracts.events.common import CODE_LIMIT, NAME_LIMIT, TEXT_LIMIT
from signpost_contracts.vocabulary import Priority, ReferrerKind, postcode_district
from triage.domain.postcodes import any_covers, normalise_prefix
from triage.domain.referral import ReferralFacts

# The limits of the event fields these values travel in (signpost_contracts.events.common), checked here
# so that a policy with a value too long for an event is refused at start, not when a referral arrives.
RuleId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=CODE_LIMIT)]
Text = Annotated[str, Field(min_length=1, max_length=TEXT_LIMIT)]
Name = Annotated[str, Field(min_length=1, max_length=NAME_LIMIT)]
Prefix = Annotated[str, AfterValidator(normalise_prefix)]
Tag = Annotated[str, AfterValidator(lambda value: value.strip().lower())]

# Built-in rules the decision itself may fire; policy rules may not reuse these ids.
BUILT_IN_RULES = frozenset(
    {
        "postcode-unknown",
        "outside-service-area",
        "below-minimum-age",
        "above-maximum-age",
        "age-unknown",
        "not-in-cohort",
    }
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """A rule fires when every condition given here holds (at least one must be given)."""

    risk_flags_any: list[Tag] = []
    needs_any: list[Tag] = []
    needs_at_least: int | None = Field(default=None, ge=1)
    interpreter_needed: bool | None = None
    priority_in: list[Priority] = []
    age_below: int | None = Field(default=None, ge=1, le=130)
    age_at_least: int | None = Field(default=None, ge=0, le=130)
    referrer_kind_in: list[ReferrerKind] = []
    postcode_prefixes_any: list[Prefix] = []

    @model_validator(mode="after")
    def _not_empty(self) -> Condition:
        given = (
            self.risk_flags_any,
            self.needs_any,
            self.needs_at_least is not None,
            self.interpreter_needed is not None,
            self.priority_in,
            self.age_below is not None,
            self.age_at_least is not None,
            self.referrer_kind_in,
            self.postcode_prefixes_any,
        )
        if not any(given):
            raise ValueError(f"give at least one condition: {', '.join(Condition.model_fields)}")
        return self

    def holds(self, facts: ReferralFacts) -> bool:
        checks = [
            not self.risk_flags_any or bool(facts.risk_flags & set(self.risk_flags_any)),
            not self.needs_any or bool(facts.needs & set(self.needs_any)),
            self.needs_at_least is None or len(facts.needs) >= self.needs_at_least,
            self.interpreter_needed is None or facts.interpreter_needed == self.interpreter_needed,
            not self.priority_in or facts.priority in self.priority_in,
            # An unknown age is never "below" or "at least" anything: no rule fires on a guess.
            self.age_below is None or (facts.age_years is not None and facts.age_years < self.age_below),
            self.age_at_least is None or (facts.age_years is not None and facts.age_years >= self.age_at_least),
            not self.referrer_kind_in or facts.referrer_kind in self.referrer_kind_in,
            not self.postcode_prefixes_any or _in_area(self.postcode_prefixes_any, facts.postcode_district),
        ]
        return all(checks)


def _in_area(prefixes: list[str], raw_district: str | None) -> bool:
    district = postcode_district(raw_district)
    return district is not None and any_covers(prefixes, district)


class _Rule(_Strict):
    id: RuleId
    description: Text
    when: Condition


class RedirectRule(_Rule):
    service: Name = Field(description="where the person should be supported instead")
    contact: Name | None = None
    urgent: bool = False
    summary: Text = Field(description="what the referrer is told, in plain words")


class ComplexityRule(_Rule):
    level: Literal["medium", "high"]


class DeclineRule(_Rule):
    """A referral the service cannot take (an exclusion), with the reason the referrer is told."""

    reason: Text = Field(description="what the referrer is told, in plain words: why, and where else to go")


class Cohort(_Rule):
    """One group of people the service is for (e.g. people who are bereaved; carers; people over 50).

    `description` is said to referrers in plain words ("people caring for someone"); when the policy
    names cohorts, an accepted referral must fit at least one of them.
    """


class ServiceArea(_Strict):
    name: Name
    postcode_prefixes: list[Prefix] = Field(min_length=1)


class AgeRule(_Strict):
    minimum: int = Field(ge=0, le=130)
    maximum: int | None = Field(default=None, ge=0, le=130, description="the oldest age supported, if any")
    # Unknown age: "accept" (the connector confirms it at first contact) or "decline" (ask the referrer).
    when_unknown: Literal["accept", "decline"] = "accept"

    @model_validator(mode="after")
    def _a_range(self) -> AgeRule:
        if self.maximum is not None and self.maximum < self.minimum:
            raise ValueError(f"maximum ({self.maximum}) is below minimum ({self.minimum})")
        return self


class Sessions(_Strict):
    """Sessions a case is allowed by complexity, and what an extension (granted only with a new goal) adds."""

    low: int = Field(default=6, ge=1, le=100)
    medium: int = Field(default=8, ge=1, le=100)
    high: int = Field(default=12, ge=1, le=100)
    extension_sessions: int = Field(default=4, ge=1, le=100)
    max_extensions: int = Field(default=1, ge=0, le=20)


class ContactRules(_Strict):
    max_failed_attempts: int = Field(default=3, ge=1, le=50, description="unanswered attempts: 'could not contact'")
    stalled_after_days: int = Field(default=21, ge=1, le=365, description="days without a session: 'stalled'")


class AssignmentRules(_Strict):
    # False (paid first): every new referral goes to paid staff, who make first contact and agree the goals;
    # volunteers take low-complexity cases later, by handover. True: new low-complexity referrals go to a
    # volunteer first (light-touch signposting services), paid staff when no volunteer has room.
    volunteers_take_new_low_complexity: bool = False


RuleT = TypeVar("RuleT", bound=_Rule)


class Policy(_Strict):
    version: Annotated[str, Field(min_length=1, max_length=CODE_LIMIT)]
    service_area: ServiceArea
    age: AgeRule
    redirect_rules: list[RedirectRule] = Field(min_length=1)
    # Who the service is for: none listed, everyone in the area and age range; otherwise one of these.
    cohorts: list[Cohort] = []
    decline_rules: list[DeclineRule] = []
    complexity_rules: list[ComplexityRule] = []
    sessions: Sessions = Sessions()
    contact: ContactRules = ContactRules()
    assignment: AssignmentRules = AssignmentRules()

    @field_validator("redirect_rules", "complexity_rules", "decline_rules", "cohorts")
    @classmethod
    def _ids_are_free(cls, rules: list[RuleT]) -> list[RuleT]:
        for rule in rules:
            if rule.id in BUILT_IN_RULES:
                raise ValueError(f"rule id {rule.id!r} is reserved for a built-in rule; choose another id")
        return rules

    @model_validator(mode="after")
    def _ids_are_unique(self) -> Policy:
        rules: list[_Rule] = [*self.redirect_rules, *self.cohorts, *self.decline_rules, *self.complexity_rules]
        ids = [rule.id for rule in rules]
        repeated = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
        if repeated:
            raise ValueError(f"rule ids must be unique; repeated: {', '.join(repeated)}")
        return self

"""What the case API takes: the shape of each request body (types and vocabularies, checked by pydantic and
answered 400 naming the field). The rules on the values (ranges, counts, lengths, times, the case's state)
are the domain's (domain/case_rules.py), answered 422 or 409, so that the connector pages share them."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, StrictInt

from referral_intake.domain.measures import Ons4
from signpost_contracts.vocabulary import ClosureReason, ContactMode, ContactOutcome, MeasureStage, OnsLoneliness

# The domain's limits on values, stated in the API description as well (json_schema_extra: documented, not
# checked by pydantic), so that a client or a fuzzer reading the OpenAPI document knows what is accepted.
_TEXT: dict[str, JsonValue] = {"type": "string", "pattern": "\\S"}  # not blank


def _texts(limit: int, *, most: int, least: int = 0) -> dict[str, JsonValue]:
    return {"minItems": least, "maxItems": most, "items": {**_TEXT, "maxLength": limit}}


def _scores(low: int, high: int) -> dict[str, JsonValue]:
    return {"anyOf": [{"type": "integer", "minimum": low, "maximum": high}, {"type": "null"}]}


AT = "when it happened, with a timezone (default: now); at most a minute ahead, never before the referral"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at: AwareDatetime | None = Field(default=None, description=AT)


class ContactRequest(_Request):
    mode: ContactMode
    outcome: ContactOutcome = Field(
        description="reached: support starts; no-answer: counts towards 'could not contact'; declined: closes the case"
    )


class GoalsRequest(_Request):
    goals: list[str] = Field(
        description="one to three of the person's own goals, distinct, each at most 200 characters",
        json_schema_extra={**_texts(200, least=1, most=3), "uniqueItems": True},
    )


class SessionRequest(_Request):
    mode: ContactMode


class ExtensionRequest(_Request):
    new_goal: str = Field(
        description="a goal the case does not have yet (at most 200 characters)",
        json_schema_extra={**_TEXT, "maxLength": 200},
    )
    reason: str = Field(
        description="why more sessions would help (at most 2000 characters)",
        json_schema_extra={**_TEXT, "maxLength": 2000},
    )


class Ons4Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    life_satisfaction: StrictInt | None = Field(default=None, description="0 to 10", json_schema_extra=_scores(0, 10))
    worthwhile: StrictInt | None = Field(default=None, description="0 to 10", json_schema_extra=_scores(0, 10))
    happiness: StrictInt | None = Field(default=None, description="0 to 10", json_schema_extra=_scores(0, 10))
    anxiety: StrictInt | None = Field(default=None, description="0 to 10", json_schema_extra=_scores(0, 10))

    def answers(self) -> Ons4:
        return Ons4(self.life_satisfaction, self.worthwhile, self.happiness, self.anxiety)


class MeasuresRequest(_Request):
    stage: MeasureStage = Field(description="baseline or closing; a stage recorded again replaces the earlier one")
    ucla3: list[StrictInt | None] | None = Field(
        default=None,
        description="the three UCLA loneliness items in order, 1-3 each, null for one not answered",
        json_schema_extra={"minItems": 3, "maxItems": 3, "items": _scores(1, 3)},
    )
    ons_loneliness: OnsLoneliness | None = Field(default=None, description="the ONS direct loneliness question")
    ons4: Ons4Request | None = Field(default=None, description="ONS4 personal wellbeing, 0-10 each")


class ClosureRequest(_Request):
    reason: ClosureReason
    onward: list[str] = Field(
        default_factory=list,
        description="community groups or services the person was connected to (at most 10)",
        json_schema_extra=_texts(200, most=10),
    )
    note: str | None = Field(
        default=None,
        description="for the service's own record: it never leaves intake",
        json_schema_extra={"anyOf": [{"type": "string", "maxLength": 2000}, {"type": "null"}]},
    )


class HandoverRequest(_Request):
    to: Literal["volunteer"]


class ReassignmentRequest(_Request):
    connector_id: str | None = Field(
        default=None, description="the roster id of the connector to take the case; leave out for the best one"
    )
    reason: str

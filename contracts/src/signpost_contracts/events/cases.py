"""Events produced by referral_intake on the `referrals` stream about each referral's case.

Intake keeps the case (contacts, goals, sessions, measures, closure) because it holds the person's
details; these events carry what other services act on, never the person's name or contact details.
Goals are the person's own words and travel only on `case.closed.v1`, for the message back to the
referrer (the PRSB social prescribing "message back to GP").
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from signpost_contracts.base import ContractModel
from signpost_contracts.events.common import LIST_LIMIT, Code, Name, Text
from signpost_contracts.vocabulary import (
    ClosureReason,
    ContactMode,
    ContactOutcome,
    MeasureStage,
    OnsLoneliness,
    WithdrawalStatus,
)

GOAL_LIMIT = 200  # characters in one goal
MAX_ONWARD = 10  # community groups or services named at closure


class ContactRecorded(ContractModel):
    """A connector tried to reach the person, in the way the person chose or another."""

    referral_id: str
    connector_id: Code
    mode: ContactMode
    outcome: ContactOutcome
    contacted_at: datetime
    first_reached: bool = Field(description="the first time the person was reached: support has started")
    failed_attempts: int = Field(ge=0, description="unanswered attempts so far, before anyone was reached")
    could_not_contact: bool = Field(description="the policy's limit of unanswered attempts was reached")


class GoalsSet(ContractModel):
    """The person's own goals were agreed (one to three)."""

    referral_id: str
    goal_count: int = Field(ge=1, le=3 + LIST_LIMIT)
    set_at: datetime


class SessionRecorded(ContractModel):
    referral_id: str
    mode: ContactMode
    held_at: datetime
    sessions_used: int = Field(ge=1)
    session_allowance: int = Field(ge=0)


class ExtensionGranted(ContractModel):
    """More sessions, granted under the policy because the person set another goal."""

    referral_id: str
    sessions_added: int = Field(ge=1)
    session_allowance: int = Field(ge=0, description="the allowance after the extension")
    extensions_granted: int = Field(ge=1)
    granted_at: datetime


class ExtensionRefused(ContractModel):
    referral_id: str
    reason: Text
    refused_at: datetime


class Ons4(ContractModel):
    """ONS personal wellbeing, 0 to 10 each; any may be missing (the person may decline a question)."""

    life_satisfaction: int | None = Field(default=None, ge=0, le=10)
    worthwhile: int | None = Field(default=None, ge=0, le=10)
    happiness: int | None = Field(default=None, ge=0, le=10)
    anxiety: int | None = Field(default=None, ge=0, le=10)


class MeasuresRecorded(ContractModel):
    """Outcome measures at the start (baseline) or the end (closing) of support; a stage recorded
    again replaces the earlier answers."""

    referral_id: str
    stage: MeasureStage
    recorded_at: datetime
    ucla3: list[int | None] | None = Field(
        default=None, min_length=3, max_length=3, description="UCLA 3-item answers, 1-3 each; null: not answered"
    )
    ucla3_total: int | None = Field(default=None, ge=3, le=9, description="only when all three were answered")
    ons_loneliness: OnsLoneliness | None = None
    ons4: Ons4 | None = None


class CaseClosed(ContractModel):
    """Support ended; the place is free again."""

    referral_id: str
    reason: ClosureReason
    closed_at: datetime
    sessions_used: int = Field(ge=0)
    session_allowance: int = Field(ge=0)
    reached: bool = Field(description="whether the person was ever reached")
    goals: list[Name] = Field(default_factory=list, max_length=LIST_LIMIT, description="the person's goals")
    onward: list[Name] = Field(
        default_factory=list, max_length=MAX_ONWARD, description="community groups or services connected to"
    )


class ReferralWithdrawn(ContractModel):
    """The referrer withdrew an active referral (FHIR ServiceRequest.status revoked or entered-in-error)."""

    referral_id: str
    status: WithdrawalStatus
    withdrawn_at: datetime


class HandoverRequested(ContractModel):
    """The paid connector asks for a low-complexity case with goals set to pass to a volunteer."""

    referral_id: str
    requested_by: Code
    requested_at: datetime


class ReassignmentRequested(ContractModel):
    """A coordinator asks for the case to move: to a named connector, or to the best one with room."""

    referral_id: str
    connector_id: Code | None = None
    reason: Text
    requested_by: Code
    requested_at: datetime

"""Domain events: what happened to a case, as the rules record it. adapters/case_events.py turns
each into its integration event (contracts/.../events/cases.py) when the unit of work publishes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from referral_intake.domain.measures import Measures
from signpost_contracts.vocabulary import ClosureReason, ContactMode, ContactOutcome, WithdrawalStatus


@dataclass(frozen=True)
class ContactMade:
    referral_id: str
    connector_id: str
    mode: ContactMode
    outcome: ContactOutcome
    at: datetime
    first_reached: bool
    failed_attempts: int
    could_not_contact: bool


@dataclass(frozen=True)
class GoalsAgreed:
    referral_id: str
    goal_count: int
    at: datetime


@dataclass(frozen=True)
class SessionHeld:
    referral_id: str
    mode: ContactMode
    at: datetime
    sessions_used: int
    session_allowance: int


@dataclass(frozen=True)
class ExtensionGranted:
    referral_id: str
    sessions_added: int
    session_allowance: int
    extensions_granted: int
    at: datetime


@dataclass(frozen=True)
class ExtensionRefused:
    referral_id: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class MeasuresTaken:
    referral_id: str
    measures: Measures


@dataclass(frozen=True)
class CaseEnded:
    """The case closed and its place is free; the goals and onward names go to the referrer's message."""

    referral_id: str
    reason: ClosureReason
    at: datetime
    sessions_used: int
    session_allowance: int
    reached: bool
    goals: tuple[str, ...]
    onward: tuple[str, ...]


@dataclass(frozen=True)
class HandoverAsked:
    referral_id: str
    by: str
    at: datetime


@dataclass(frozen=True)
class ReassignmentAsked:
    referral_id: str
    connector_id: str | None
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class ReferralWithdrawn:
    referral_id: str
    status: WithdrawalStatus
    at: datetime


CaseEvent = (
    ContactMade
    | GoalsAgreed
    | SessionHeld
    | ExtensionGranted
    | ExtensionRefused
    | MeasuresTaken
    | CaseEnded
    | HandoverAsked
    | ReassignmentAsked
)

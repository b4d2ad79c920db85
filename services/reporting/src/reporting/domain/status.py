"""A referral's status, derived from the facts known so far, never from the latest event.

Events about one referral travel on three topics, so they can reach reporting in any order (a
triage decision before the receipt, an assignment before the decision after a dead-letter
replay). Deriving the status from the whole set of facts makes the answer independent of that
order: the same facts always give the same status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    AWAITING_TRIAGE = "awaiting-triage"
    ACCEPTED = "accepted"
    ASSIGNED = "assigned"
    WAITLISTED = "waitlisted"
    DECLINED = "declined"
    REDIRECTED = "redirected"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    LINKED = "linked"


class Decision(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REDIRECTED = "redirected"


@dataclass(frozen=True)
class StatusFacts:
    """The facts a status depends on; the receipt itself is not one of them (see derive_status)."""

    outcome: Decision | None = None
    assigned: bool = False
    waitlisted: bool = False
    closed: bool = False
    withdrawn: bool = False
    linked: bool = False

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> StatusFacts:
        outcome = fields.get("outcome")
        return cls(
            outcome=Decision(outcome) if outcome else None,
            assigned=fields.get("assigned_at") is not None,
            waitlisted=fields.get("waitlisted_at") is not None,
            closed=fields.get("closed_at") is not None,
            withdrawn=fields.get("withdrawn_at") is not None,
            linked=fields.get("linked_at") is not None,
        )


def derive_decision(facts: StatusFacts) -> Decision | None:
    """The triage decision; an assignment or a waitlist place proves acceptance before its decision arrives."""
    if facts.outcome is not None:
        return facts.outcome
    if facts.assigned or facts.waitlisted:
        return Decision.ACCEPTED
    return None


def derive_status(facts: StatusFacts) -> Status:
    """Where the referral stands.

    An end wins over everything before it, whichever arrived first: closed (support ended), then
    withdrawn (by the referrer), then linked (to the person's open case, so never given a place).
    Intake lets only an active referral be withdrawn, so closed and withdrawn do not meet in
    practice; the order only makes the answer total. Assigned wins over waitlisted: a waitlisted
    referral is assigned once a connector has room, and the waitlist fact stays recorded. A referral
    known only from triage events is given the status those events imply; whether its receipt has
    been projected yet is a separate count.
    """
    if facts.closed:
        return Status.CLOSED
    if facts.withdrawn:
        return Status.WITHDRAWN
    if facts.linked:
        return Status.LINKED
    if facts.assigned:
        return Status.ASSIGNED
    if facts.waitlisted:
        return Status.WAITLISTED
    decision = derive_decision(facts)
    if decision is None:
        return Status.AWAITING_TRIAGE
    return Status(decision.value)

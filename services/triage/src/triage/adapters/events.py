"""Turning a triage outcome into the integration events other services consume."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from signpost_contracts import ContractModel, EventEnvelope, new_event
from signpost_contracts.events.common import TEXT_LIMIT, clip
from signpost_contracts.events.triage import (
    FiredRule,
    Redirect,
    ReferralAssigned,
    ReferralTriaged,
    ReferralWaitlisted,
)
from triage.domain.assignment import Assignment, Placement
from triage.domain.decision import Decision


@dataclass(frozen=True)
class Cause:
    """The received event that led here: its correlation id travels on, its id becomes the causation id."""

    event_id: str
    correlation_id: str


def _triaged(referral_id: str, decision: Decision, summary: str, at: datetime) -> ReferralTriaged:
    redirect = decision.redirect
    return ReferralTriaged(
        referral_id=referral_id,
        decided_at=at,
        outcome=decision.outcome,
        complexity=decision.complexity,
        reasons=[FiredRule(rule_id=rule.rule_id, description=rule.description) for rule in decision.fired],
        summary=clip(summary, TEXT_LIMIT) or "",
        redirect=Redirect(service=redirect.service, contact=redirect.contact, urgent=redirect.urgent)
        if redirect
        else None,
        policy_version=decision.policy_version,
    )


def _placed(referral_id: str, area: str, placement: Placement, at: datetime) -> ContractModel:
    if isinstance(placement, Assignment):
        connector = placement.connector
        return ReferralAssigned(
            referral_id=referral_id, assigned_at=at, connector_id=connector.id, connector_kind=connector.kind, area=area
        )
    return ReferralWaitlisted(
        referral_id=referral_id,
        waitlisted_at=at,
        area=area,
        required_kind=placement.required_kind,
        reason=clip(placement.reason, TEXT_LIMIT) or "",
    )


def outcome_events(
    referral_id: str, decision: Decision, placement: Placement | None, summary: str, at: datetime, cause: Cause
) -> list[EventEnvelope]:
    payloads: list[ContractModel] = [_triaged(referral_id, decision, summary, at)]
    if placement is not None and decision.district is not None:
        payloads.append(_placed(referral_id, decision.district, placement, at))
    return [
        new_event(payload, subject=referral_id, correlation_id=cause.correlation_id, causation_id=cause.event_id)
        for payload in payloads
    ]

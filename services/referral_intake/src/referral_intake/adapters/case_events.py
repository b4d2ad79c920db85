"""Case events as integration events (contracts/.../events/cases.py): the outbox writer's view of what the
case rules recorded. Nothing here carries the person's details or the connector's closing note."""

from __future__ import annotations

from functools import singledispatch

from referral_intake.domain import case_events as happened
from signpost_contracts import ContractModel, EventEnvelope, new_event
from signpost_contracts.events import cases
from signpost_contracts.events.common import CODE_LIMIT, clip


def case_event(event: happened.CaseEvent, correlation_id: str) -> EventEnvelope:
    return new_event(_payload(event), subject=event.referral_id, correlation_id=correlation_id)


def _who(subject: str) -> str:
    # A token's subject is the connector's roster id (short); a staff token's may be longer than a code.
    return clip(subject, CODE_LIMIT) or ""


@singledispatch
def _payload(event: object) -> ContractModel:
    raise TypeError(f"{type(event).__name__} is not a case event")


@_payload.register
def _(event: happened.ContactMade) -> ContractModel:
    return cases.ContactRecorded(
        referral_id=event.referral_id,
        connector_id=_who(event.connector_id),
        mode=event.mode,
        outcome=event.outcome,
        contacted_at=event.at,
        first_reached=event.first_reached,
        failed_attempts=event.failed_attempts,
        could_not_contact=event.could_not_contact,
    )


@_payload.register
def _(event: happened.GoalsAgreed) -> ContractModel:
    return cases.GoalsSet(referral_id=event.referral_id, goal_count=event.goal_count, set_at=event.at)


@_payload.register
def _(event: happened.SessionHeld) -> ContractModel:
    return cases.SessionRecorded(
        referral_id=event.referral_id,
        mode=event.mode,
        held_at=event.at,
        sessions_used=event.sessions_used,
        session_allowance=event.session_allowance,
    )


@_payload.register
def _(event: happened.ExtensionGranted) -> ContractModel:
    return cases.ExtensionGranted(
        referral_id=event.referral_id,
        sessions_added=event.sessions_added,
        session_allowance=event.session_allowance,
        extensions_granted=event.extensions_granted,
        granted_at=event.at,
    )


@_payload.register
def _(event: happened.ExtensionRefused) -> ContractModel:
    return cases.ExtensionRefused(referral_id=event.referral_id, reason=event.reason, refused_at=event.at)


@_payload.register
def _(event: happened.MeasuresTaken) -> ContractModel:
    measures = event.measures
    ons4 = measures.ons4
    return cases.MeasuresRecorded(
        referral_id=event.referral_id,
        stage=measures.stage,
        recorded_at=measures.at,
        ucla3=list(measures.ucla3) if measures.ucla3 is not None else None,
        ucla3_total=measures.ucla3_total,
        ons_loneliness=measures.ons_loneliness,
        ons4=cases.Ons4(
            life_satisfaction=ons4.life_satisfaction,
            worthwhile=ons4.worthwhile,
            happiness=ons4.happiness,
            anxiety=ons4.anxiety,
        )
        if ons4 is not None
        else None,
    )


@_payload.register
def _(event: happened.CaseEnded) -> ContractModel:
    return cases.CaseClosed(
        referral_id=event.referral_id,
        reason=event.reason,
        closed_at=event.at,
        sessions_used=event.sessions_used,
        session_allowance=event.session_allowance,
        reached=event.reached,
        goals=list(event.goals),
        onward=list(event.onward),
    )


@_payload.register
def _(event: happened.HandoverAsked) -> ContractModel:
    return cases.HandoverRequested(referral_id=event.referral_id, requested_by=_who(event.by), requested_at=event.at)


@_payload.register
def _(event: happened.ReassignmentAsked) -> ContractModel:
    return cases.ReassignmentRequested(
        referral_id=event.referral_id,
        connector_id=event.connector_id,
        reason=event.reason,
        requested_by=_who(event.by),
        requested_at=event.at,
    )

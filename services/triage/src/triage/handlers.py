"""Thin edges: the referral subscriber and the read-only HTTP API. No SQL, no rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from signpost_contracts import EventEnvelope, read_data
from signpost_contracts.events.referrals import ReferralReceived
from signpost_contracts.registry import REFERRAL_RECEIVED
from signpost_contracts.vocabulary import Scope
from signpost_runtime.auth import Principal, scope_required
from signpost_runtime.consumer import EventHandler
from signpost_runtime.openapi import problem_responses
from signpost_runtime.problems import Problem
from triage import service
from triage.adapters.events import Cause
from triage.domain.referral import ReferralFacts
from triage.unit import TriageUnit

Reader = Annotated[Principal, Depends(scope_required(Scope.TRIAGE_READ))]


def facts_of(received: ReferralReceived) -> ReferralFacts:
    person = received.person
    return ReferralFacts.of(
        referral_id=received.referral_id,
        received_at=received.received_at,
        age_years=person.age_years,
        postcode_district=person.postcode_district,
        needs=received.needs,
        risk_flags=received.risk_flags,
        priority=received.priority,
        interpreter_needed=person.interpreter_needed,
        preferred_language=person.preferred_language,
        requester_ods=received.referrer.ods_code,
    )


def event_handlers(triage: service.TriageService) -> Mapping[str, EventHandler]:
    async def on_referral_received(unit: TriageUnit, event: EventEnvelope) -> None:
        received = read_data(ReferralReceived, event.data)
        await triage.triage(unit, facts_of(received), Cause(event_id=event.id, correlation_id=event.correlationid))

    return {REFERRAL_RECEIVED.name: on_referral_received}


router = APIRouter(tags=["triage"])


@router.get("/roster", responses=problem_responses(401, 403, 503))
async def get_roster(request: Request, _: Reader) -> dict[str, Any]:
    async with request.app.state.runtime.unit_of_work() as unit:
        return await service.roster_view(unit)


@router.get("/policy", responses=problem_responses(401, 403))
async def get_policy(request: Request, _: Reader) -> dict[str, Any]:
    return service.policy_view(request.app.state.policy, request.app.state.policy_source)


@router.get("/decisions/{referral_id}", responses=problem_responses(401, 403, 404, 503))
async def get_decision(referral_id: str, request: Request, reader: Reader) -> dict[str, Any]:
    # Another organisation's decision gets this same answer: its existence is not disclosed.
    async with request.app.state.runtime.unit_of_work() as unit:
        view = await service.decision_view(unit, referral_id, reader)
    if view is None:
        message = (
            f"no triage decision for referral '{referral_id}': check the id, or wait a moment if it was"
            " only just received"
        )
        raise Problem(404, message)
    return view

"""Thin HTTP routes: the roster, the policy and each decision, read-only. No SQL, no rules."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from signpost_contracts.vocabulary import Scope
from signpost_runtime.auth import Principal, scope_required
from signpost_runtime.openapi import problem_responses
from signpost_runtime.problems import Problem
from triage import service

Reader = Annotated[Principal, Depends(scope_required(Scope.TRIAGE_READ))]


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

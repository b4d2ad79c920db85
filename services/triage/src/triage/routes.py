"""Thin HTTP routes: the roster (and its reload), the waitlist, the policy and each decision. No SQL, no rules."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from signpost_contracts.vocabulary import Scope
from signpost_runtime.auth import Principal, scope_required
from signpost_runtime.openapi import problem_responses
from signpost_runtime.problems import Problem
from triage import views
from triage.adapters.events import Cause
from triage.adapters.files import ConfigFileError, load_roster
from triage.service import TriageService
from triage.unit import TriageUnit

Reader = Annotated[Principal, Depends(scope_required(Scope.TRIAGE_READ))]
RosterAdmin = Annotated[Principal, Depends(scope_required(Scope.ROSTER_ADMIN))]

router = APIRouter(tags=["triage"])


@router.get("/roster", responses=problem_responses(401, 403, 503))
async def get_roster(request: Request, reader: Reader) -> dict[str, Any]:
    """Connectors, their status, capacity, caseload and room; their open cases to staff (referrals:read-all)."""
    async with request.app.state.runtime.units(TriageUnit)() as unit:
        return await views.roster_view(unit, reader)


@router.post("/roster/reload", responses=problem_responses(401, 403, 422, 503))
async def reload_roster(request: Request, admin: RosterAdmin) -> dict[str, Any]:
    """Re-read ROSTER_FILE: capacities and statuses change at once, and places now free take waiting people."""
    try:
        roster = load_roster(request.app.state.roster_file)
    except ConfigFileError as exc:
        raise Problem(422, f"{exc}; the roster in force is unchanged") from None
    triage: TriageService = request.app.state.triage
    cause = Cause(event_id=None, correlation_id=request.headers.get("x-correlation-id") or str(uuid.uuid4()))
    async with request.app.state.runtime.units(TriageUnit)() as unit:
        reloaded = await triage.reload_roster(unit, roster.value, roster.source, cause)
    return {
        "source": roster.source,
        "connectors": len(roster.value.connectors),
        "warnings": reloaded.warnings,
        "assigned_from_waitlist": reloaded.placed,
        "reloaded_by": admin.subject,
    }


@router.get("/waitlist", responses=problem_responses(401, 403, 503))
async def get_waitlist(
    request: Request, reader: Reader, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> dict[str, Any]:
    """Everyone waiting, in the order places are offered. It lists every organisation's referrals: staff only."""
    if Scope.READ_ALL not in reader.scopes:
        raise Problem(
            403,
            f"the waitlist lists referrals of every organisation: it needs the '{Scope.READ_ALL}' scope as well as"
            f" '{Scope.TRIAGE_READ}'",
        )
    async with request.app.state.runtime.units(TriageUnit)() as unit:
        return await views.waitlist_view(unit, limit)


@router.get("/policy", responses=problem_responses(401, 403))
async def get_policy(request: Request, _: Reader) -> dict[str, Any]:
    return views.policy_view(request.app.state.policy, request.app.state.policy_source)


@router.get("/decisions/{referral_id}", responses=problem_responses(401, 403, 404, 503))
async def get_decision(referral_id: str, request: Request, reader: Reader) -> dict[str, Any]:
    # Another organisation's decision gets this same answer: its existence is not disclosed.
    async with request.app.state.runtime.units(TriageUnit)() as unit:
        view = await views.decision_view(unit, referral_id, reader)
    if view is None:
        message = (
            f"no triage decision for referral '{referral_id}': check the id, or wait a moment if it was"
            " only just received"
        )
        raise Problem(404, message)
    return view

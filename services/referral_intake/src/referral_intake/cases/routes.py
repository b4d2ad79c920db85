"""Thin case API routes: check the token, open a unit of work, call one use case, answer JSON.

Tokens: `cases:write` (a connector; `sub` is their roster id: their own cases only) or
`cases:coordinate` (every case, and reassignment). Errors are RFC 9457 problems naming the field:
404 for a case the caller may not work on (the same answer as for an unknown id), 409 when the
case's state does not allow it (withdrawn, closed, not reached, allowance used up), 422 when what
was sent cannot be accepted; a body of the wrong shape is the edge's 400.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from referral_intake.case_service import CaseNotFound
from referral_intake.cases import views
from referral_intake.cases.edge import case_service, case_units
from referral_intake.cases.requests import (
    ClosureRequest,
    ContactRequest,
    ExtensionRequest,
    GoalsRequest,
    HandoverRequest,
    MeasuresRequest,
    ReassignmentRequest,
    SessionRequest,
)
from referral_intake.domain.case_rules import AllowanceUsedUp
from referral_intake.domain.refusals import CaseConflict, CaseInvalid
from referral_intake.ports import WorklistStatus
from signpost_contracts.vocabulary import Scope
from signpost_runtime.auth import Principal, scope_required
from signpost_runtime.openapi import problem_responses
from signpost_runtime.problems import FieldError, Problem

router = APIRouter(prefix="/cases", tags=["Cases"], responses=problem_responses(401, 403, 503))
CaseWorker = Annotated[Principal, Depends(scope_required(Scope.CASES_WRITE, Scope.CASES_COORDINATE))]
Coordinator = Annotated[Principal, Depends(scope_required(Scope.CASES_COORDINATE))]
READ = problem_responses(404)
WRITE = problem_responses(404, 409, 422)


@contextlib.contextmanager
def _answers(referral_id: str) -> Iterator[None]:
    """The use cases' refusals as problems."""
    try:
        yield
    except CaseNotFound:
        # The same answer whether the id is unknown or another connector's case: no existence oracle.
        raise Problem(
            404,
            f"there is no case for referral '{referral_id}' that you may work on; check the id on your worklist "
            "(GET /cases)",
        ) from None
    except AllowanceUsedUp as used_up:
        how = (
            f' To ask: POST /cases/{referral_id}/extension {{"new_goal": "...", "reason": "..."}}.'
            if used_up.extensions_left
            else ""
        )
        raise Problem(409, used_up.detail + how) from None
    except CaseConflict as conflict:
        raise Problem(409, conflict.detail) from None
    except CaseInvalid as invalid:
        errors = [FieldError(problem.field, problem.message) for problem in invalid.problems]
        raise Problem(422, invalid.detail, errors) from None


@router.get("", responses={200: {"description": "The caller's worklist"}})
async def worklist(
    request: Request,
    principal: CaseWorker,
    status: Annotated[WorklistStatus, Query(description="open (the default): assigned or in progress")] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> views.Worklist:
    async with case_units(request)() as unit:
        found = await case_service(request).worklist(unit, principal, status, limit=limit, offset=offset)
    return views.worklist(found, limit=limit, offset=offset)


@router.get("/{referral_id}", responses={200: {"description": "The whole case"}, **READ})
async def read_case(referral_id: str, request: Request, principal: CaseWorker) -> views.CaseDetail:
    with _answers(referral_id):
        async with case_units(request)() as unit:
            return views.detail(await case_service(request).case(unit, referral_id, principal))


@router.post("/{referral_id}/contacts", responses={200: {"description": "Recorded; the case"}, **WRITE})
async def record_contact(
    referral_id: str, body: ContactRequest, request: Request, principal: CaseWorker
) -> views.CaseDetail:
    with _answers(referral_id):
        async with case_units(request)() as unit:
            view = await case_service(request).record_contact(
                unit, referral_id, principal, mode=body.mode, outcome=body.outcome, at=body.at
            )
    return views.detail(view)


@router.put("/{referral_id}/goals", responses={200: {"description": "The goals, replaced; the case"}, **WRITE})
async def set_goals(referral_id: str, body: GoalsRequest, request: Request, principal: CaseWorker) -> views.CaseDetail:
    with _answers(referral_id):
        async with case_units(request)() as unit:
            view = await case_service(request).set_goals(unit, referral_id, principal, goals=body.goals, at=body.at)
    return views.detail(view)


@router.post("/{referral_id}/sessions", responses={200: {"description": "Recorded; the case"}, **WRITE})
async def record_session(
    referral_id: str, body: SessionRequest, request: Request, principal: CaseWorker
) -> views.CaseDetail:
    with _answers(referral_id):
        async with case_units(request)() as unit:
            view = await case_service(request).record_session(unit, referral_id, principal, mode=body.mode, at=body.at)
    return views.detail(view)


@router.post(
    "/{referral_id}/extension",
    responses={200: {"description": "Granted or refused by the case's terms, and why"}, **WRITE},
)
async def request_extension(
    referral_id: str, body: ExtensionRequest, request: Request, principal: CaseWorker
) -> views.ExtensionAnswer:
    with _answers(referral_id):
        async with case_units(request)() as unit:
            decision = await case_service(request).request_extension(
                unit, referral_id, principal, new_goal=body.new_goal, reason=body.reason, at=body.at
            )
    return views.extension(decision)


@router.post("/{referral_id}/measures", responses={200: {"description": "Recorded; the case"}, **WRITE})
async def record_measures(
    referral_id: str, body: MeasuresRequest, request: Request, principal: CaseWorker
) -> views.CaseDetail:
    with _answers(referral_id):
        async with case_units(request)() as unit:
            view = await case_service(request).record_measures(
                unit,
                referral_id,
                principal,
                stage=body.stage,
                ucla3=body.ucla3,
                ons_loneliness=body.ons_loneliness,
                ons4=body.ons4.answers() if body.ons4 else None,
                at=body.at,
            )
    return views.detail(view)


@router.post("/{referral_id}/closure", responses={200: {"description": "Closed; the place is free"}, **WRITE})
async def close_case(
    referral_id: str, body: ClosureRequest, request: Request, principal: CaseWorker
) -> views.CaseDetail:
    with _answers(referral_id):
        async with case_units(request)() as unit:
            view = await case_service(request).close(
                unit, referral_id, principal, reason=body.reason, onward=body.onward, note=body.note, at=body.at
            )
    return views.detail(view)


@router.post(
    "/{referral_id}/handover",
    status_code=202,
    responses={202: {"description": "Asked of triage, which hands over or refuses"}, **WRITE},
)
async def request_handover(
    referral_id: str, body: HandoverRequest, request: Request, principal: CaseWorker
) -> views.Requested:
    with _answers(referral_id):
        async with case_units(request)() as unit:
            view = await case_service(request).request_handover(unit, referral_id, principal, at=body.at)
    detail = "triage will hand the case to a volunteer covering the area with room, or say why not on this case"
    return views.Requested(detail=detail, case=views.detail(view))


@router.post(
    "/{referral_id}/reassignment",
    status_code=202,
    responses={202: {"description": "Asked of triage, which reassigns or refuses"}, **WRITE},
)
async def request_reassignment(
    referral_id: str, body: ReassignmentRequest, request: Request, principal: Coordinator
) -> views.Requested:
    with _answers(referral_id):
        async with case_units(request)() as unit:
            view = await case_service(request).request_reassignment(
                unit, referral_id, principal, reason=body.reason, connector_id=body.connector_id, at=body.at
            )
    detail = "triage will reassign the case, capacity permitting, or say why not on this case"
    return views.Requested(detail=detail, case=views.detail(view))

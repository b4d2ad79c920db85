"""POST /erasures: a coordinator erases a person's identifiers from every referral of theirs.

Only `cases:coordinate` (staff who coordinate cases) may erase: the staff scope the case API already
keeps for actions over every case. Intake erases at once, in the request's transaction; notifications
follows from referral.erased.v1, so the answer is 200 with what intake erased. Errors are RFC 9457
problems: 404 when no referral has that id or NHS number, 401/403 for the token, 400 for a body of
the wrong shape.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from referral_intake.erasure_service import ErasureService, PersonNotFound
from referral_intake.unit import IntakeUnit
from signpost_contracts.vocabulary import Scope
from signpost_runtime.auth import Principal, scope_required
from signpost_runtime.openapi import problem_responses
from signpost_runtime.problems import Problem
from signpost_runtime.runtime import ServiceRuntime

router = APIRouter(tags=["Erasure"], responses=problem_responses(401, 403, 503))
Coordinator = Annotated[Principal, Depends(scope_required(Scope.CASES_COORDINATE))]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ByReferral(_Request):
    referral_id: str = Field(
        min_length=1, max_length=64, description="one of the person's referrals: all of theirs are erased"
    )


class ByNhsNumber(_Request):
    nhs_number: str = Field(
        pattern=r"^\d{3} ?\d{3} ?\d{4}$", description="the person's NHS number: every referral holding it is erased"
    )


class Erased(BaseModel):
    erased: list[str] = Field(description="the referrals whose identifiers were erased now")
    already_erased: list[str] = Field(description="the person's referrals erased before (nothing more to do)")


@router.post(
    "/erasures",
    status_code=200,
    responses={200: {"description": "Erased at intake; the other services follow"}, **problem_responses(404)},
)
async def erase_person(body: ByReferral | ByNhsNumber, request: Request, principal: Coordinator) -> Erased:
    runtime: ServiceRuntime = request.app.state.runtime
    service: ErasureService = request.app.state.erasure
    try:
        async with runtime.units(IntakeUnit)() as unit:
            done = await service.erase_person(
                unit,
                referral_id=body.referral_id if isinstance(body, ByReferral) else None,
                nhs_number=body.nhs_number if isinstance(body, ByNhsNumber) else None,
                by=principal.subject,
                correlation_id=request.headers.get("x-correlation-id"),
            )
    except PersonNotFound:
        # Said the same way for an id never seen and for a person already erased by NHS number: nothing is held.
        raise Problem(404, "no referral has that id or NHS number; check it against the person's referral") from None
    return Erased(erased=done.erased, already_erased=done.already_erased)

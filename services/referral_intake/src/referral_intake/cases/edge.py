"""What the case API and the connector pages both take from the app: the use cases and the unit of work."""

from __future__ import annotations

from fastapi import Request

from referral_intake.case_service import CaseService
from referral_intake.unit import IntakeUnit
from signpost_runtime.runtime import ServiceRuntime
from signpost_runtime.unit_of_work import UnitOfWork


def case_service(request: Request) -> CaseService:
    return request.app.state.cases  # type: ignore[no-any-return]


def case_units(request: Request) -> UnitOfWork[IntakeUnit]:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime.units(IntakeUnit)

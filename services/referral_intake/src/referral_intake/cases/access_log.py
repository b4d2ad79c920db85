"""The access audit for coordinators: who was shown which person's record, and when (GET /access-log).

Only `cases:coordinate` tokens may ask; connectors and referrers may not see who else looked. The
answer is newest first, narrowed by any of referral, reader and period, in pages.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field

from referral_intake import audit
from referral_intake.cases.edge import case_units
from referral_intake.cases.routes import Coordinator
from referral_intake.domain.record_access import AccessQuery, RecordKind
from signpost_runtime.openapi import problem_responses
from signpost_runtime.problems import FieldError, Problem

_RFC3339 = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})")


def _rfc3339(value: object) -> object:
    """Only a time written as RFC 3339 with its offset: pydantic alone would also take "0.5" as a Unix timestamp."""
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise ValueError("give a time as RFC 3339 with its offset, e.g. 2026-12-01T09:00:00Z")
    return value


Moment = BeforeValidator(_rfc3339)

router = APIRouter(prefix="/access-log", tags=["Access audit"], responses=problem_responses(401, 403, 503))


class Access(BaseModel):
    at: datetime
    who: str = Field(description="the subject of the token that read")
    organisation: str | None = Field(description="the ODS code or partner id the reader acted for")
    record: RecordKind = Field(description="what was shown: a FHIR ServiceRequest or Task, a case, a worklist row")
    referral_id: str


class AccessLogPage(BaseModel):
    accesses: list[Access]
    total: int = Field(description="how many recorded accesses match, over every page")
    limit: int
    offset: int


@router.get("", responses={200: {"description": "Recorded reads, newest first"}, **problem_responses(422)})
async def access_log(
    request: Request,
    principal: Coordinator,
    referral_id: Annotated[str | None, Query(description="reads of this referral's record only")] = None,
    who: Annotated[str | None, Query(description="reads by this token subject only")] = None,
    since: Annotated[AwareDatetime | None, Moment, Query(description="reads at or after this time")] = None,
    until: Annotated[AwareDatetime | None, Moment, Query(description="reads before this time")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AccessLogPage:
    if since is not None and until is not None and until <= since:
        raise Problem(
            422,
            "the period is empty: `until` must be later than `since`",
            [FieldError("until", "must be later than `since`")],
        )
    query = AccessQuery(referral_id=referral_id, who=who, since=since, until=until)
    async with case_units(request)(readonly=True) as unit:
        total, found = await audit.accesses(unit, query, limit=limit, offset=offset)
    return AccessLogPage(accesses=[Access(**vars(access)) for access in found], total=total, limit=limit, offset=offset)

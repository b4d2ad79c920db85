"""GET /api/summary: the dashboard's numbers as JSON.

Bearer header only (`Authorization: Bearer <JWT>` with the reporting:read scope). The dashboard's
cookie is deliberately not accepted here: API clients are programs that can send the header, and a
cookie-free API cannot be driven by another site through a logged-in browser.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from reporting.config import ReportingSettings
from reporting.domain.summary import Summary
from reporting.service import summarise
from signpost_runtime.auth import Principal, scope_required
from signpost_runtime.openapi import problem_responses

router = APIRouter(prefix="/api", tags=["reporting"])

ReportingReader = Annotated[Principal, Depends(scope_required("reporting:read"))]


class NotificationCounts(BaseModel):
    sent: int
    failed: int = Field(description="gave up after retries and not sent since: someone must follow these up")


class ReferrerRow(BaseModel):
    ods_code: str | None = Field(description="null: self-referrals, or receipts not projected yet")
    referrals: int
    declined: int


class SummaryResponse(BaseModel):
    generated_at: datetime
    total_referrals: int
    awaiting_receipt: int = Field(
        description="referrals known so far only from later events (e.g. triage); already in every other count"
    )
    by_status: dict[str, int]
    by_decision: dict[str, int]
    notifications: NotificationCounts
    by_referrer: list[ReferrerRow]

    @classmethod
    def of(cls, summary: Summary) -> SummaryResponse:
        return cls(
            generated_at=summary.generated_at,
            total_referrals=summary.total_referrals,
            awaiting_receipt=summary.awaiting_receipt,
            by_status={status.value: n for status, n in summary.by_status.items()},
            by_decision={decision.value: n for decision, n in summary.by_decision.items()},
            notifications=NotificationCounts(sent=summary.notifications_sent, failed=summary.notifications_failed),
            by_referrer=[
                ReferrerRow(ods_code=r.ods_code, referrals=r.referrals, declined=r.declined)
                for r in summary.by_referrer
            ],
        )


async def current_summary(request: Request) -> Summary:
    runtime = request.app.state.runtime
    settings: ReportingSettings = runtime.settings
    async with runtime.unit_of_work(isolation="repeatable_read", readonly=True) as unit:
        return await summarise(unit, top_referrers=settings.summary_top_referrers)


@router.get("/summary", response_model=SummaryResponse, responses=problem_responses(401, 403, 503))
async def summary(request: Request, _: ReportingReader) -> SummaryResponse:
    return SummaryResponse.of(await current_summary(request))

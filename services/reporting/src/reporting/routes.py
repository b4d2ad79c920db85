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
from reporting.domain.cases import CaseSummary, ScoreChange
from reporting.domain.summary import Summary
from reporting.service import summarise
from signpost_contracts.vocabulary import ClosureReason
from signpost_runtime.auth import Principal, scope_required
from signpost_runtime.openapi import problem_responses

router = APIRouter(prefix="/api", tags=["reporting"])

ReportingReader = Annotated[Principal, Depends(scope_required("reporting:read"))]


class NotificationCounts(BaseModel):
    sent: int
    failed: int = Field(description="gave up after retries and not sent since: someone must follow these up")


class UrgentCountsRow(BaseModel):
    unconfirmed: int = Field(
        description="urgent messages (urgent redirects) not yet confirmed delivered nor acknowledged by staff;"
        " notifications' GET /urgent lists them to act on"
    )
    oldest_raised_at: datetime | None = Field(description="when the longest-waiting one was raised; null when none")
    most_escalations: int = Field(description="the most escalation steps any open one has had")


class ReferrerRow(BaseModel):
    ods_code: str | None = Field(description="null: self-referrals, or receipts not projected yet")
    referrals: int
    declined: int


class ScoreChangeRow(BaseModel):
    n: int = Field(description="people with both a baseline and a closing answer for this measure")
    baseline_mean: float | None = Field(description="null when n is 0")
    closing_mean: float | None
    mean_change: float | None = Field(description="closing minus baseline, over the same n people")

    @classmethod
    def of(cls, change: ScoreChange) -> ScoreChangeRow:
        return cls(
            n=change.n,
            baseline_mean=change.baseline_mean,
            closing_mean=change.closing_mean,
            mean_change=change.mean_change,
        )


class Ons4Changes(BaseModel):
    life_satisfaction: ScoreChangeRow
    worthwhile: ScoreChangeRow
    happiness: ScoreChangeRow
    anxiety: ScoreChangeRow = Field(description="0-10; here a fall is the improvement")


class LonelinessChangeRow(BaseModel):
    n: int = Field(description="people who answered the ONS direct question at baseline and at closing")
    less_often: int = Field(description="lonely less often at closing")
    same: int
    more_often: int


class OutcomeChanges(BaseModel):
    ucla3: ScoreChangeRow = Field(description="UCLA 3-item loneliness total, 3-9, higher is lonelier")
    ons4: Ons4Changes = Field(description="ONS personal wellbeing, 0-10 each")
    ons_loneliness: LonelinessChangeRow


class SessionsRow(BaseModel):
    total: int = Field(description="sessions used by the closed cases")
    closed_cases: int
    mean_per_closed_case: float | None = Field(description="null while no case has closed")


class CasesResponse(BaseModel):
    open: int = Field(description="assigned a connector, not closed or withdrawn")
    waiting: int = Field(description="on the waitlist")
    closed: int
    withdrawn: int = Field(description="withdrawn by the referrer")
    linked: int = Field(description="linked to the same person's open case instead of a second place")
    closure_reasons: dict[ClosureReason, int] = Field(description="every reason, zero included")
    sessions: SessionsRow
    outcomes: OutcomeChanges

    @classmethod
    def of(cls, cases: CaseSummary) -> CasesResponse:
        scores = {measure: ScoreChangeRow.of(change) for measure, change in cases.scores.items()}
        lonely = cases.ons_loneliness
        return cls(
            open=cases.open,
            waiting=cases.waiting,
            closed=cases.closed,
            withdrawn=cases.withdrawn,
            linked=cases.linked,
            closure_reasons=cases.closure_reasons,
            sessions=SessionsRow(
                total=cases.sessions.total,
                closed_cases=cases.sessions.closed_cases,
                mean_per_closed_case=cases.sessions.mean_per_closed_case,
            ),
            outcomes=OutcomeChanges(
                ucla3=scores["ucla3_total"],
                ons4=Ons4Changes(
                    life_satisfaction=scores["life_satisfaction"],
                    worthwhile=scores["worthwhile"],
                    happiness=scores["happiness"],
                    anxiety=scores["anxiety"],
                ),
                ons_loneliness=LonelinessChangeRow(
                    n=lonely.n, less_often=lonely.less_often, same=lonely.same, more_often=lonely.more_often
                ),
            ),
        )


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
    cases: CasesResponse = Field(description="counts only: no case, referral or person can be picked out")
    urgent: UrgentCountsRow

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
            cases=CasesResponse.of(summary.cases),
            urgent=UrgentCountsRow(
                unconfirmed=summary.urgent.unconfirmed,
                oldest_raised_at=summary.urgent.oldest_raised_at,
                most_escalations=summary.urgent.most_escalations,
            ),
        )


async def current_summary(request: Request) -> Summary:
    runtime = request.app.state.runtime
    settings: ReportingSettings = runtime.settings
    async with runtime.unit_of_work(isolation="repeatable_read", readonly=True) as unit:
        return await summarise(unit, top_referrers=settings.summary_top_referrers)


@router.get("/summary", response_model=SummaryResponse, responses=problem_responses(401, 403, 503))
async def summary(request: Request, _: ReportingReader) -> SummaryResponse:
    return SummaryResponse.of(await current_summary(request))

"""GET /api/referrers/{ods_code}/feedback: what became of one referrer's referrals in a period, JSON or CSV.

Counts are not suppressed: they are about people this referrer sent, and a referrer already knows
each of them. Outcome means are, below the export threshold: a mean over two people would tell the
referrer each person's own answers to their connector, which the referrer was never told.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from reporting.adapters.feedback_store import FeedbackStore
from reporting.config import ReportingSettings
from reporting.domain import export_report as report
from reporting.domain.outcomes import outcomes_of_counts
from reporting.domain.suppression import Cell
from reporting.exports import RESPONSES, FormatQuery, From, To, answer, period, settings_of
from reporting.routes import ReportingReader
from reporting.unit import ReportingUnit

router = APIRouter(prefix="/api/referrers", tags=["exports"])

ODS_CODE = r"^[A-Za-z0-9]{3,10}$"
OdsCode = Annotated[str, Path(pattern=ODS_CODE, description="the referring organisation's ODS code")]


def _counts(table: str, counts: dict[str, int]) -> list[report.Figure]:
    return [report.Figure(table, category, "count", Cell(n, False)) for category, n in sorted(counts.items())]


async def feedback_figures(
    unit: ReportingUnit, settings: ReportingSettings, ods_code: str, begin: datetime, until: datetime
) -> list[report.Figure]:
    """The feedback figures for one referrer's referrals received in [begin, until), read in the caller's unit
    (opened repeatable-read, so the breakdowns agree with the counts beside them)."""
    store = FeedbackStore(unit.connection, ods_code, begin, until)
    standing = await store.standing()
    declined, redirected = await store.breakdown("declined"), await store.breakdown("redirected")
    closures = await store.breakdown("closure")
    pairs = await store.ucla3_pairs()
    figures = _counts("referrals", standing)
    figures += _counts("declined_because", declined) + _counts("redirected_because", redirected)
    figures += _counts("closure_reasons", closures)
    measured = outcomes_of_counts({"ucla3_total": pairs}, lonely_threshold=settings.ucla3_lonely_threshold)
    figures += [
        f
        for f in report.outcome_figures("outcomes", measured, minimum=settings.export_suppression_minimum)
        if f.category == "ucla3_total"
    ]
    return figures


@router.get("/{ods_code}/feedback", responses=RESPONSES, response_class=Response)
async def referrer_feedback(
    request: Request, _: ReportingReader, ods_code: OdsCode, start: From, end: To, format: FormatQuery = "json"
) -> Response:
    """Referrals this referrer sent in the period: accepted, declined and why, redirected and why, waiting,
    in support, closed and why, and the UCLA-3 change of its closed cases (suppressed below the threshold)."""
    begin, until = period(start, end)
    settings = settings_of(request)
    code = ods_code.upper()
    async with request.app.state.runtime.unit_of_work(isolation="repeatable_read", readonly=True) as unit:
        figures = await feedback_figures(unit, settings, code, begin, until)
    return answer(figures, format, f"feedback-{code}", start, end, settings.export_suppression_minimum)

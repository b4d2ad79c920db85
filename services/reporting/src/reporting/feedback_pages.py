"""The staff page for feedback to one referrer: `/referrers/feedback`, and the same figures as CSV.

Staff choose a referrer's ODS code and a period (default: last calendar month, the period a monthly
summary covers) and see what became of the referrals it sent, as /api/referrers/{ods}/feedback gives a
program. The page signs in like the dashboard (the kit's form, an HttpOnly SameSite=Strict cookie); the
CSV link is served here, under the same cookie, because a browser following a link cannot send the
Bearer header the /api/ route asks for. Both read `feedback.feedback_figures`: one way of computing them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from reporting import pages
from reporting.domain import export_report as report
from reporting.domain.suppression import Cell, Rate
from reporting.exports import answer, period, settings_of
from reporting.feedback import ODS_CODE, feedback_figures
from signpost_runtime.auth import AuthError
from signpost_runtime.openapi import page_responses, problem_responses
from signpost_web.forms import FormErrors

router = APIRouter(prefix="/referrers", tags=["dashboard"])

TITLE = "Feedback to a referrer"
_ODS = re.compile(ODS_CODE)
_BAD_REQUEST = {
    "description": "The form was wrong (the page again, with an error summary saying what to mend), or the request"
    " itself was malformed (a problem document naming the parameter)",
    "content": {
        "text/html": {"schema": {"type": "string"}},
        **problem_responses(400)[400]["content"],
    },
}
_PAGE: dict[int | str, dict[str, Any]] = {
    200: {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}},
    303: {"description": "Not signed in, or the token expired: to the sign-in form"},
    400: _BAD_REQUEST,
    **page_responses(403),
    **problem_responses(503),
}


@dataclass(frozen=True)
class Choice:
    """What the form asked for, once it is valid."""

    ods_code: str
    start: date
    end: date


def last_calendar_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def _read_form(
    ods_code: str | None, start: str | None, end: str | None, defaults: tuple[date, date]
) -> tuple[Choice | None, FormErrors]:
    """Check the GET form's fields; say what to do about each wrong one, in page order. An empty date field
    takes its day of `defaults` (first, last)."""
    errors = FormErrors()
    default_start, default_end = defaults
    code = (ods_code or "").strip().upper()
    if ods_code is not None and not _ODS.fullmatch(code):
        errors.add("ods-code", "Enter the referrer's ODS code: 3 to 10 letters and numbers, like B82005")
    dates = {}
    for field, text, default, name in (("from", start, default_start, "first"), ("to", end, default_end, "last")):
        try:
            dates[field] = date.fromisoformat(text) if text else default
        except ValueError:
            errors.add(f"period-{field}", f"Enter the {name} day of the period as a date, like 2026-11-01")
    if not errors and dates["to"] < dates["from"]:
        errors.add("period-to", "The last day of the period must be the same as or after the first day")
    if errors or not code:
        return None, errors
    return Choice(code, dates["from"], dates["to"]), errors


def _shown(value: Cell | Rate, minimum: int, percent: bool = False) -> str:
    if value.suppressed:
        return f"Not shown: fewer than {minimum} people"
    if value.value is None:
        return "None yet"
    return f"{value.value * 100:.0f}%" if percent else f"{value.value:g}"


# The referrals table reads top to bottom as a referral's path: sent, decided, then where the accepted ones are.
STANDING_ORDER = ("sent", "awaiting_triage", "accepted", "declined", "redirected", "waiting", "in_support", "closed")


def _tables(figures: list[report.Figure], minimum: int) -> dict[str, list[tuple[str, str]]]:
    """{table: [(row, shown value)]}, the outcome table keyed by measure, for the template to label."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for figure in figures:
        row = figure.measure if figure.table == "outcomes" else figure.category
        shown = _shown(figure.value, minimum, percent=figure.measure.startswith("share_"))
        tables.setdefault(figure.table, []).append((row, shown))
    tables["referrals"] = sorted(tables.get("referrals", []), key=lambda row: STANDING_ORDER.index(row[0]))
    return tables


async def _signed_out(request: Request) -> Response | None:
    """The response for a visitor who may not see the page, or None for one who may."""
    try:
        await pages.SESSION.principal(request)
    except AuthError as error:
        return pages.SESSION.sign_in_redirect(request) if error.status_code == 401 else pages.denied(error)
    return None


OdsField = Annotated[str | None, Query(description="the referrer's ODS code; without it, the empty form")]
FromField = Annotated[str | None, Query(alias="from", description="first day, YYYY-MM-DD (default: last month's)")]
ToField = Annotated[
    str | None, Query(alias="to", description="last day, YYYY-MM-DD, inclusive (default: last month's)")
]


@router.get("/feedback", response_class=HTMLResponse, responses=_PAGE)
async def feedback_page(
    request: Request, ods_code: OdsField = None, start: FromField = None, end: ToField = None
) -> Response:
    if refused := await _signed_out(request):
        return refused
    default_start, default_end = defaults = last_calendar_month(datetime.now(UTC).date())
    choice, errors = _read_form(ods_code, start, end, defaults)
    minimum = settings_of(request).export_suppression_minimum
    tables = None
    if choice is not None:
        begin, until = period(choice.start, choice.end)
        async with request.app.state.runtime.unit_of_work(isolation="repeatable_read", readonly=True) as unit:
            figures = await feedback_figures(unit, settings_of(request), choice.ods_code, begin, until)
        tables = _tables(figures, minimum)
    return pages.PAGES.render(
        "referrer_feedback.html",
        title=f"{TITLE}: {choice.ods_code}" if choice else TITLE,
        status_code=400 if errors else 200,
        errors=errors,
        choice=choice,
        form={"ods_code": ods_code or "", "from": start or str(default_start), "to": end or str(default_end)},
        tables=tables,
        minimum=minimum,
        account=pages.SIGN_OUT,
    )


@router.get(
    "/feedback.csv",
    response_class=Response,
    responses={
        **_PAGE,
        200: {"description": "The figures as CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
    },
)
async def feedback_csv(
    request: Request, ods_code: OdsField = None, start: FromField = None, end: ToField = None
) -> Response:
    """The page's figures as CSV (table,category,measure,value; * for a suppressed value)."""
    if refused := await _signed_out(request):
        return refused
    choice, _ = _read_form(ods_code, start, end, last_calendar_month(datetime.now(UTC).date()))
    if choice is None:
        # The CSV link is only offered beside valid figures: a hand-made bad address gets the form to mend it.
        return await feedback_page(request, ods_code or "", start, end)
    settings = settings_of(request)
    begin, until = period(choice.start, choice.end)
    async with request.app.state.runtime.unit_of_work(isolation="repeatable_read", readonly=True) as unit:
        figures = await feedback_figures(unit, settings, choice.ods_code, begin, until)
    name = f"feedback-{choice.ods_code}"
    return answer(figures, "csv", name, choice.start, choice.end, settings.export_suppression_minimum)

"""GET /api/exports/referrals and /api/exports/outcomes: commissioner exports for a period, JSON or CSV.

Small numbers are suppressed (counts below EXPORT_SUPPRESSION_MINIMUM, default 5, so 1-4), with
secondary suppression and suppressed rates: see reporting.domain.suppression. Bearer token with the
reporting:read scope, as for /api/summary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BeforeValidator

from reporting.adapters.export_store import ExportStore
from reporting.config import ReportingSettings
from reporting.domain import export_report as report
from reporting.domain.dashboard import period_error
from reporting.domain.outcomes import CORE20_DECILES, outcomes_of_counts
from reporting.routes import ReportingReader
from signpost_runtime.openapi import problem_responses
from signpost_runtime.problems import Problem

router = APIRouter(prefix="/api/exports", tags=["exports"])

Format = Literal["json", "csv"]
_FIGURES = {
    "type": "object",
    "properties": {
        "period": {"type": "object"},
        "suppression_minimum": {"type": "integer"},
        "tables": {
            "type": "object",
            "description": "{table: {category: {measure: value}}}; a suppressed value is null",
        },
        "suppressed": {"type": "array", "items": {"type": "string"}, "description": "table/category/measure"},
    },
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The figures; CSV columns table,category,measure,value with * for a suppressed value",
        "content": {"application/json": {"schema": _FIGURES}, "text/csv": {"schema": {"type": "string"}}},
    },
    **problem_responses(400, 401, 403, 422, 503),
}


def iso_date(value: object) -> object:
    """Only a calendar date written YYYY-MM-DD: pydantic alone would also take "0" as 1970-01-01 (a timestamp)."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("give a date as YYYY-MM-DD")
    return value


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
IsoDate = BeforeValidator(iso_date)
From = Annotated[date, IsoDate, Query(alias="from", description="first day of the period (UTC), inclusive")]
To = Annotated[date, IsoDate, Query(alias="to", description="last day of the period (UTC), inclusive")]
FormatQuery = Annotated[Format, Query(description="json (default) or csv")]


def period(start: date, end: date) -> tuple[datetime, datetime]:
    if error := period_error(start, end):
        raise Problem(422, error)
    return datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC)


def settings_of(request: Request) -> ReportingSettings:
    settings: ReportingSettings = request.app.state.runtime.settings
    return settings


def answer(figures: list[report.Figure], fmt: Format, name: str, start: date, end: date, minimum: int) -> Response:
    if fmt == "csv":
        filename = f"signpost-{name}-{start}-to-{end}.csv"
        return Response(
            report.as_csv(figures),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    body = {"period": {"from": str(start), "to": str(end)}, "suppression_minimum": minimum, **report.as_json(figures)}
    return JSONResponse(body)


@router.get("/referrals", responses=RESPONSES, response_class=Response)
async def referrals_export(
    request: Request, _: ReportingReader, start: From, end: To, format: FormatQuery = "json"
) -> Response:
    """Referrals received in the period: by route, referrer kind, age band, area, IMD decile, decision;
    why referrals were declined and redirected (fired rule ids); waits; closure reasons and sessions of
    the cases closed in the period."""
    begin, until = period(start, end)
    minimum = settings_of(request).export_suppression_minimum
    async with request.app.state.runtime.unit_of_work(isolation="repeatable_read", readonly=True) as unit:
        store = ExportStore(unit.connection)
        figures = report.breakdown("referrals", {"all": await store.referrals(begin, until)}, minimum=minimum)
        for name in ("route", "referrer_kind", "age_band", "area", "imd_decile", "decision"):
            figures += report.breakdown(f"by_{name}", await store.counts_by(name, begin, until), minimum=minimum)
        for decision in ("declined", "redirected"):
            rules = await store.fired_rules(decision, begin, until)
            figures += report.breakdown(f"{decision}_because", rules, minimum=minimum)
        waits = {
            name: report.Wait(row["n"], report.days(row["median"]), report.days(row["p90"]))
            for name, row in (await store.waits(begin, until)).items()
        }
        figures += report.waits(waits, minimum=minimum)
        figures += report.breakdown("closure_reasons", await store.closures(begin, until), minimum=minimum)
        sessions = await store.sessions(begin, until)
        figures += report.sessions(sessions["closed_cases"], sessions["total"], minimum=minimum)
    return answer(figures, format, "referrals", start, end, minimum)


@router.get("/outcomes", responses=RESPONSES, response_class=Response)
async def outcomes_export(
    request: Request, _: ReportingReader, start: From, end: To, format: FormatQuery = "json"
) -> Response:
    """Outcomes of the cases closed in the period (UCLA-3 and ONS4 at baseline and closing, mean change,
    share improved, share no longer lonely), for everyone and for Core20PLUS5 (IMD deciles 1-2), and
    the Core20PLUS5 reach of referrals received in the period."""
    begin, until = period(start, end)
    settings = settings_of(request)
    minimum, threshold = settings.export_suppression_minimum, settings.ucla3_lonely_threshold
    async with request.app.state.runtime.unit_of_work(isolation="repeatable_read", readonly=True) as unit:
        store = ExportStore(unit.connection)
        groups = await store.outcome_counts(begin, until)
        deciles = await store.counts_by("imd_decile", begin, until)
    everyone = _merged(groups.values())
    deprived = groups.get("core20", {})
    figures = report.outcome_figures(
        "outcomes", outcomes_of_counts(everyone, lonely_threshold=threshold), minimum=minimum
    )
    figures += report.outcome_figures(
        "outcomes_core20", outcomes_of_counts(deprived, lonely_threshold=threshold), minimum=minimum
    )
    known = sum(n for decile, n in deciles.items() if decile != "unknown")
    in_core20 = sum(n for decile, n in deciles.items() if decile != "unknown" and int(decile) in CORE20_DECILES)
    people_known = sum(_cases(groups.get(group, {})) for group in ("core20", "other"))
    figures += report.reach(known, in_core20, people_known, _cases(deprived), minimum=minimum)
    return answer(figures, format, "outcomes", start, end, minimum)


def _merged(groups: Iterable[Mapping[str, Mapping[tuple[int, int], int]]]) -> dict[str, dict[tuple[int, int], int]]:
    merged: dict[str, dict[tuple[int, int], int]] = {}
    for group in groups:
        for measure, pairs in group.items():
            into = merged.setdefault(measure, {})
            for pair, people in pairs.items():
                into[pair] = into.get(pair, 0) + people
    return merged


def _cases(group: Mapping[str, Mapping[tuple[int, int], int]]) -> int:
    return sum(group.get("cases", {}).values())

"""The HTML dashboard at `/`: the period's views (funnel, arrivals, decisions, waits, waitlist, cases that need
attention, declines by referrer) with a GET filter form, then the all-time summary, in NHS.UK tables (the
kit's layout), working without JavaScript. Charts (Chart.js, served by the kit) only decorate: each one's
figures are in the table beside it, and the chart is hidden from assistive technology.

A browser signs in once through the kit's sign-in form (`signpost_web.sign_in`: the token is
POSTed from this site's own form and kept in an HttpOnly, SameSite=Strict cookie), so the meta
refresh keeps working. A token in the address bar is never taken: any site could plant its own
token in a visitor's browser with a link.

The refresh reloads the page, which sends a screen reader or keyboard user back to the top each
time, so the first control in the content turns it off (`?refresh=off`, kept by the reload
itself): WCAG 2.2.1, a time limit the user can turn off before meeting it.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from reporting.charts import charts
from reporting.config import ReportingSettings
from reporting.dashboard_api import current_dashboard
from reporting.filters_form import REFERRER_KIND_LABELS, ROUTE_LABELS, read_filter_form, select_items
from reporting.routes import current_summary
from signpost_runtime.auth import AuthError
from signpost_runtime.openapi import page_responses, problem_responses
from signpost_web import Pages
from signpost_web.sign_in import PageSession

router = APIRouter(tags=["dashboard"])

# Filter fields as typed into the page's form: checked by reporting.filters_form, answered in the NHS.UK
# error pattern (a 400 page) rather than refused at the edge, since a person typed them.
FormText = Annotated[str | None, Query(max_length=40, description="as the filter form sends it; empty: any")]
FromText = Annotated[
    str | None, Query(alias="from", max_length=40, description="first day, YYYY-MM-DD; empty: 4 weeks")
]
ToText = Annotated[str | None, Query(alias="to", max_length=40, description="last day, YYYY-MM-DD; empty: today")]
_KEPT = ("refresh", "from", "to", "area", "route", "referrer_kind")

SCOPE = "reporting:read"
COOKIE_NAME = "signpost_reporting_token"
SERVICE_NAME = "Signpost reporting"
PAGES = Pages("reporting", service_name=SERVICE_NAME)
# The NHS.UK header's account area: signing out is a POST, so no link or prefetch can sign anyone out.
SIGN_OUT = {"items": [{"text": "Sign out", "action": "/sign-out", "method": "post"}]}


def _settings(request: Request) -> ReportingSettings:
    settings: ReportingSettings = request.app.state.runtime.settings
    return settings


def _secure_cookie(request: Request) -> bool:
    return _settings(request).dashboard_cookie_secure or request.url.scheme == "https"


SESSION = PageSession(scope=SCOPE, cookie_name=COOKIE_NAME, title=SERVICE_NAME, secure_cookie=_secure_cookie)


def denied(error: AuthError) -> HTMLResponse:
    forbidden = error.status_code == 403
    title = "You do not have access to this dashboard" if forbidden else "You need a token to see this dashboard"
    response = PAGES.render("denied.html", title=title, status_code=error.status_code, error=error.message)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


@router.get(
    "/",
    response_class=HTMLResponse,
    responses={
        200: {"description": "The dashboard", "content": {"text/html": {"schema": {"type": "string"}}}},
        303: {"description": "Not signed in, or the token expired: to the sign-in form"},
        400: {
            "description": "A filter could not be read: the dashboard with the NHS.UK error summary naming it,"
            " or a malformed request (a problem)",
            "content": {"text/html": {"schema": {"type": "string"}}, **problem_responses(400)[400]["content"]},
        },
        **page_responses(403),
        **problem_responses(503),
    },
)
async def dashboard(
    request: Request,
    refresh: Annotated[
        Literal["on", "off"],
        Query(description="off: the page does not reload itself (for reading it with a screen reader or keyboard)"),
    ] = "on",
    start: FromText = None,
    end: ToText = None,
    area: FormText = None,
    route: FormText = None,
    referrer_kind: FormText = None,
) -> Response:
    try:
        await SESSION.principal(request)
    except AuthError as error:
        return SESSION.sign_in_redirect(request) if error.status_code == 401 else denied(error)
    form = read_filter_form({"from": start, "to": end, "area": area, "route": route, "referrer_kind": referrer_kind})
    figures = None if form.errors else await current_dashboard(request, form.start, form.end, form.filters)
    return PAGES.render(
        "dashboard.html",
        title="Referrals dashboard",
        status_code=400 if form.errors else 200,
        errors=form.errors,
        form=form,
        figures=figures,
        charts=charts(figures) if figures else {},
        route_items=select_items(ROUTE_LABELS, form.values["route"], "Any route"),
        kind_items=select_items(REFERRER_KIND_LABELS, form.values["referrer_kind"], "Any kind of referrer"),
        route_labels=ROUTE_LABELS,
        stopped=refresh == "off",
        summary=await current_summary(request),
        refresh_seconds=_settings(request).dashboard_refresh_seconds,
        refreshing=refresh == "on" and not form.errors,
        refresh_off_url=_with_query(request, refresh="off"),
        refresh_on_url=_with_query(request, refresh=None),
        account=SIGN_OUT,
    )


def _with_query(request: Request, **changes: str | None) -> str:
    """This page's address with its filters kept and `changes` made (None removes a parameter)."""
    query = {**dict(request.query_params), **changes}
    kept = {name: value for name, value in query.items() if value and name in _KEPT}
    return "/" + (f"?{urlencode(kept)}" if kept else "")

"""The HTML dashboard at `/`: the summary in NHS.UK tables (the kit's layout), working without JavaScript.

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

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from reporting.config import ReportingSettings
from reporting.routes import current_summary
from signpost_runtime.auth import AuthError
from signpost_runtime.openapi import page_responses, problem_responses
from signpost_web import Pages
from signpost_web.sign_in import PageSession

router = APIRouter(tags=["dashboard"])

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
) -> Response:
    try:
        await SESSION.principal(request)
    except AuthError as error:
        return SESSION.sign_in_redirect(request) if error.status_code == 401 else denied(error)
    summary = await current_summary(request)
    return PAGES.render(
        "dashboard.html",
        title="Referrals dashboard",
        summary=summary,
        refresh_seconds=_settings(request).dashboard_refresh_seconds,
        refreshing=refresh == "on",
        account=SIGN_OUT,
    )

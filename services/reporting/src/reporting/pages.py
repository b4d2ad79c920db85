"""The HTML dashboard at `/`: the summary in plain, accessible tables. No JavaScript.

A browser signs in once through the kit's sign-in form (`signpost_runtime.sign_in`: the token is
POSTed from this site's own form and kept in an HttpOnly, SameSite=Strict cookie), so the meta
refresh keeps working. A token in the address bar is never taken: any site could plant its own
token in a visitor's browser with a link.
"""

from __future__ import annotations

import functools

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined

from reporting.config import ReportingSettings
from reporting.routes import current_summary
from signpost_runtime.auth import AuthError
from signpost_runtime.openapi import page_responses, problem_responses
from signpost_runtime.sign_in import PageSession

router = APIRouter(tags=["dashboard"])

SCOPE = "reporting:read"
COOKIE_NAME = "signpost_reporting_token"
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


@functools.cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("reporting", "templates"), autoescape=True, undefined=StrictUndefined, trim_blocks=True
    )


def _page(template: str, status_code: int, **context: object) -> HTMLResponse:
    html = _templates().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=_SECURITY_HEADERS)


def _settings(request: Request) -> ReportingSettings:
    settings: ReportingSettings = request.app.state.runtime.settings
    return settings


def _secure_cookie(request: Request) -> bool:
    return _settings(request).dashboard_cookie_secure or request.url.scheme == "https"


SESSION = PageSession(scope=SCOPE, cookie_name=COOKIE_NAME, title="Signpost reporting", secure_cookie=_secure_cookie)


def _denied(error: AuthError) -> HTMLResponse:
    response = _page("denied.html", error.status_code, error=error.message, forbidden=error.status_code == 403)
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
async def dashboard(request: Request) -> Response:
    try:
        await SESSION.principal(request)
    except AuthError as error:
        return SESSION.sign_in_redirect(request) if error.status_code == 401 else _denied(error)
    summary = await current_summary(request)
    return _page("dashboard.html", 200, summary=summary, refresh_seconds=_settings(request).dashboard_refresh_seconds)

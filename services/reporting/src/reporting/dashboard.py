"""The HTML dashboard at `/`: the summary in plain, accessible tables. No JavaScript.

A browser cannot attach a bearer header to a page it navigates to, so the page also takes the
token as the RFC 6750 `access_token` query parameter. It then keeps it in an HttpOnly,
SameSite=Strict cookie and redirects to the bare URL, so the token leaves the address bar (and
history, and Referer) and the meta refresh keeps working. Only this page reads that cookie.
"""

from __future__ import annotations

import functools

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined

from reporting.api import current_summary
from reporting.config import ReportingSettings
from signpost_runtime.auth import AuthError, Principal, TokenVerifier
from signpost_runtime.openapi import page_responses, problem_responses

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


def _authorise(request: Request, authorization: str) -> Principal:
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = verifier.verify(authorization)
    if SCOPE not in principal.scopes:
        raise AuthError(403, f"your token is valid but lacks the '{SCOPE}' scope this dashboard needs")
    return principal


def _denied(error: AuthError, *, forget_cookie: bool) -> HTMLResponse:
    response = _page("denied.html", error.status_code, error=error.message, forbidden=error.status_code == 403)
    if error.status_code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    if forget_cookie:
        response.delete_cookie(COOKIE_NAME, path="/")
    return response


def _sign_in(request: Request, token: str) -> Response:
    try:
        _authorise(request, f"Bearer {token}")
    except AuthError as error:
        return _denied(error, forget_cookie=True)
    response = RedirectResponse(request.url.path, status_code=303)
    response.headers.update(_SECURITY_HEADERS)
    response.set_cookie(
        COOKIE_NAME,
        token,
        httponly=True,
        samesite="strict",
        secure=_settings(request).dashboard_cookie_secure or request.url.scheme == "https",
        path="/",
    )
    return response


@router.get(
    "/",
    response_class=HTMLResponse,
    responses={
        200: {"description": "The dashboard", "content": {"text/html": {"schema": {"type": "string"}}}},
        303: {"description": "Signed in from ?access_token=: the token is now in a cookie; go to the bare URL"},
        **page_responses(401, 403),
        **problem_responses(503),
    },
)
async def dashboard(request: Request, access_token: str | None = None) -> Response:
    if access_token is not None:
        return _sign_in(request, access_token)
    header = request.headers.get("authorization")
    cookie = request.cookies.get(COOKIE_NAME)
    if not header and not cookie:
        return _denied(AuthError(401, "no token was presented"), forget_cookie=False)
    try:
        _authorise(request, header or f"Bearer {cookie}")
    except AuthError as error:
        return _denied(error, forget_cookie=not header)
    summary = await current_summary(request)
    return _page("dashboard.html", 200, summary=summary, refresh_seconds=_settings(request).dashboard_refresh_seconds)

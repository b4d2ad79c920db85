"""Signing a browser in to a service's pages with a bearer token, safely.

A browser cannot attach an Authorization header to a page it navigates to, so a page keeps the token
in a cookie. How the cookie is set matters: a token taken from the address bar (`?access_token=`)
lets any site plant its own token in a victim's browser with a link (login CSRF), so that the victim
then works in the attacker's account. Here the token is only ever POSTed from the service's own
sign-in form, and the form carries a one-time value that must match a SameSite=Strict cookie the
form's page set: a form on another site cannot know the value, and its POST does not carry the
cookie. The Origin header, when the browser sends one, must be the service's own as well.

The session cookie is HttpOnly and SameSite=Strict, and Secure where TLS is served. Deployments put
the organisation's sign-in (oauth2-proxy) in front of the pages and pass the header instead.

Every other form a signed-in page POSTs goes through `principal_of_form`: the same Origin check, so
that a form on another site is refused even when the browser sends credentials along with it (a
proxy's own cookie need not be SameSite=Strict, and the Authorization header it adds is sent
whoever made the request).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from signpost_runtime.auth import AuthError, Principal, TokenVerifier
from signpost_runtime.openapi import page_responses, problem_responses
from signpost_web import FormErrors, Pages

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
TOKEN_FIELD = "token"  # the textarea's name and id: the error summary links to it
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
_MAX_FIELDS = 200


async def form_fields(request: Request) -> dict[str, str]:
    """An HTML form's fields (urlencoded, UTF-8), the last value of each; raises AuthError 415 otherwise."""
    media_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media_type != FORM_MEDIA_TYPE:
        raise AuthError(415, f"send the form as {FORM_MEDIA_TYPE}")
    try:
        text = (await request.body()).decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=_MAX_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise AuthError(400, "the form could not be read; send it again from the page") from None
    return dict(pairs)


def safe_next(path: str | None, home: str = "/") -> str:
    """Where to go after signing in: a path on this site only, never another site; `home` when none was asked for."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return home
    return path


class PageSession:
    """Sign-in, sign-out and the principal of a browser on one service's pages."""

    def __init__(
        self,
        *,
        scope: str,
        cookie_name: str,
        title: str,
        secure_cookie: Callable[[Request], bool],
        alternative_scopes: Sequence[str] = (),
        home: str = "/",
    ) -> None:
        """`scope` opens the pages; so does any of `alternative_scopes` (the pages then tell the two apart).

        `home` is where a browser goes after signing in when it was not sent to the form from a page.
        """
        self.scopes = (scope, *alternative_scopes)
        self.home = home
        self.cookie_name = cookie_name
        self.csrf_cookie = f"{cookie_name}_form"
        self.title = title
        self.secure_cookie = secure_cookie
        self.pages = Pages("signpost_web", service_name=title)

    async def principal(self, request: Request) -> Principal:
        """The signed-in principal (the cookie, or a header from a proxy in front); AuthError otherwise."""
        header = request.headers.get("authorization")
        cookie = request.cookies.get(self.cookie_name)
        if not header and not cookie:
            raise AuthError(401, "you are not signed in")
        return await self._verified(request, header or f"Bearer {cookie}")

    async def principal_of_form(self, request: Request) -> Principal:
        """The principal behind a form POSTed from one of this site's pages; AuthError 403 for one from elsewhere."""
        if not same_origin(request):
            raise AuthError(403, "this form came from another site; open the page on this site and send it again")
        return await self.principal(request)

    async def _verified(self, request: Request, authorization: str) -> Principal:
        verifier: TokenVerifier = request.app.state.token_verifier
        # A key-set fetch (JWKS) blocks, so it runs in the threadpool rather than on the event loop.
        principal = await run_in_threadpool(verifier.verify, authorization)
        if not principal.scopes & set(self.scopes):
            wanted = " or ".join(f"'{scope}'" for scope in self.scopes)
            raise AuthError(403, f"your token is valid but lacks the {wanted} scope these pages need")
        return principal

    def sign_in_again(self, request: Request, target: str) -> HTMLResponse:
        """A form POSTed with no session (it expired, or never was): 401 and the sign-in form, leading back
        to `target` (the form's own page; the form's address takes no GET). A redirect would drop what was
        typed and say nothing; this says why, and the browser's back button still has the filled-in form."""
        response = self.form(
            request,
            error="You are not signed in, or your sign-in has expired: sign in, then send the form again",
            status_code=401,
            next_page=target,
        )
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    def sign_in_redirect(self, request: Request, target: str | None = None) -> RedirectResponse:
        """To the sign-in form, and back to `target` (default: this page) once signed in.

        A form POSTed without a session names its page as `target`: the form's own address takes no GET.
        """
        target = target or request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?{urlencode({'next': target})}", status_code=303, headers=SECURITY_HEADERS)

    def form(
        self,
        request: Request,
        *,
        error: str | None = None,
        status_code: int = 200,
        next_page: str | None = None,
    ) -> HTMLResponse:
        """The form (again, with `error` in the NHS.UK error pattern on the token field), and its one-time value.

        `next_page`: where signing in leads (default: the `next` query parameter, else the home page).
        """
        nonce = secrets.token_urlsafe(32)
        errors = FormErrors()
        if error:
            errors.add(TOKEN_FIELD, error)
        response = self.pages.render(
            "signpost/sign_in.html",
            title=f"Sign in to {self.title}",
            status_code=status_code,
            errors=errors,
            scopes=self.scopes,
            form_id=nonce,
            next=safe_next(next_page or request.query_params.get("next"), self.home),
        )
        response.set_cookie(
            self.csrf_cookie,
            nonce,
            max_age=900,
            httponly=True,
            samesite="strict",
            secure=self.secure_cookie(request),
            path="/sign-in",
        )
        return response

    async def submit(self, request: Request) -> Response:
        try:
            fields = await form_fields(request)
        except AuthError as error:
            return self.form(request, error=_sentence(error.message), status_code=error.status_code)
        sent, expected = fields.get("form_id", ""), request.cookies.get(self.csrf_cookie, "")
        if not expected or not hmac.compare_digest(sent, expected) or not same_origin(request):
            # A form posted from another site, or an old page: nothing is signed in.
            return self.form(request, error="This sign-in form has expired: paste your token again", status_code=403)
        token = fields.get(TOKEN_FIELD, "").strip()
        if not token:
            return self.form(request, error="Enter a bearer token", status_code=400)
        try:
            await self._verified(request, f"Bearer {token}")
        except AuthError as error:
            return self.form(request, error=_refusal(error), status_code=error.status_code)
        response = RedirectResponse(safe_next(fields.get("next"), self.home), status_code=303, headers=SECURITY_HEADERS)
        response.set_cookie(
            self.cookie_name, token, httponly=True, samesite="strict", secure=self.secure_cookie(request), path="/"
        )
        response.delete_cookie(self.csrf_cookie, path="/sign-in")
        return response

    def sign_out(self, request: Request) -> Response:
        response = RedirectResponse("/sign-in", status_code=303, headers=SECURITY_HEADERS)
        response.delete_cookie(self.cookie_name, path="/")
        return response

    def router(self) -> APIRouter:
        router = APIRouter(tags=["sign-in"])

        @router.get(
            "/sign-in",
            response_class=HTMLResponse,
            responses={200: {"description": "The sign-in form", "content": {"text/html": {}}}},
        )
        async def sign_in_form(request: Request) -> Response:
            return self.form(request)

        @router.post(
            "/sign-in",
            response_class=HTMLResponse,
            openapi_extra={
                # The token comes in the form, not an Authorization header: a 401 here is the form again.
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {
                        FORM_MEDIA_TYPE: {
                            "schema": {
                                "type": "object",
                                "required": ["token", "form_id"],
                                "properties": {
                                    "token": {"type": "string"},
                                    "form_id": {"type": "string"},
                                    "next": {"type": "string"},
                                },
                            }
                        }
                    },
                },
            },
            responses={
                200: {"description": "The form again", "content": {"text/html": {}}},
                303: {"description": "Signed in: on to the page asked for"},
                **_form_errors(),
            },
        )
        async def sign_in(request: Request) -> Response:
            return await self.submit(request)

        @router.post("/sign-out", responses={303: {"description": "Signed out"}})
        async def sign_out(request: Request) -> Response:
            return self.sign_out(request)

        return router


def same_origin(request: Request) -> bool:
    """Whether the browser says the form came from this site (old browsers send neither header)."""
    if request.headers.get("sec-fetch-site") not in (None, "same-origin"):
        return False
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


def _form_errors() -> dict[int | str, dict[str, Any]]:
    # The form answers its own errors as the form again; the edge's 400 for a malformed request is a problem.
    errors = page_responses(400, 401, 403, 415)
    errors[400]["content"].update(problem_responses(400)[400]["content"])
    return errors


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def _refusal(error: AuthError) -> str:
    """What the person reads when their token is turned away: the verifier's reason, said as a sentence."""
    if error.status_code == 401:
        return f"The token was not accepted: {error.message}"
    return _sentence(error.message)

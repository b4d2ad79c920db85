"""The connector pages: a worklist at /worklist and a case page at /worklist/{referral_id}, with one form per action.

Signing in is the page kit's (`signpost_web.sign_in`): the token is POSTed once from this site's own
sign-in form and kept in an HttpOnly, SameSite=Strict cookie, or an identity proxy in front passes
`Authorization: Bearer`. The token's scopes decide what a person sees, as on the case API: `cases:write`
(a connector, `sub` = roster id: their own cases) or `cases:coordinate` (every case, and reassignment).

Each form POSTs to /worklist/{referral_id}/{form} and calls the use case the JSON case API calls
(page_actions.py). A refusal shows the case page again with the NHS.UK error summary and the message
beside its field; success answers 303 back to the case page, whose banner says what was recorded
(post/redirect/get, so reloading the page never records anything twice). Every form is checked for
this site's Origin first, as the sign-in form is (`PageSession.principal_of_form`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from referral_intake import access
from referral_intake.case_service import CaseNotFound, CaseView
from referral_intake.cases import views
from referral_intake.cases.edge import case_service, case_units
from referral_intake.cases.page_actions import FORMS
from referral_intake.cases.page_forms import TIME_HINT, ActionForm, FormUnreadable
from referral_intake.domain.case_rules import AllowanceUsedUp
from referral_intake.domain.refusals import CaseConflict, Refused
from referral_intake.ports import WORKLIST_STATUSES, WorklistStatus
from referral_intake.staff_session import SESSION, WORKLIST, require_case_worker
from signpost_runtime.auth import AuthError, Principal
from signpost_runtime.openapi import page_responses, problem_responses
from signpost_web import FormErrors, Pages
from signpost_web.sign_in import FORM_MEDIA_TYPE, form_fields

SERVICE_NAME = "Signpost connector pages"
WORKLIST_LIMIT = 500
PAGES = Pages("referral_intake", service_name=SERVICE_NAME, service_href=WORKLIST)
# The NHS.UK header's account area: signing out is a POST, so no link or prefetch can sign anyone out.
SIGN_OUT = {"items": [{"text": "Sign out", "action": "/sign-out", "method": "post"}]}
HTML = {"content": {"text/html": {"schema": {"type": "string"}}}}
PROBLEM_400 = problem_responses(400)[400]["content"]

router = APIRouter(tags=["Connector pages"])


@router.get(
    WORKLIST,
    response_class=HTMLResponse,
    responses={
        200: {"description": "The caller's cases", **HTML},
        303: {"description": "Not signed in, or the token expired: to the sign-in form"},
        **page_responses(403, 503),
    },
)
async def worklist(
    request: Request,
    status: Annotated[WorklistStatus, Query(description="open (the default): assigned or in progress")] = "open",
) -> Response:
    try:
        principal = require_case_worker(await SESSION.principal(request))
    except AuthError as error:
        return _turned_away(request, error)
    async with case_units(request)() as unit:
        found = await case_service(request).worklist(unit, principal, status, limit=WORKLIST_LIMIT, offset=0)
    coordinator = access.coordinates(principal)
    return PAGES.render(
        "worklist.html",
        title="All cases" if coordinator else "Your cases",
        cases=[views.summary(view) for view in found],
        status=status,
        statuses=WORKLIST_STATUSES,
        limit=WORKLIST_LIMIT,
        coordinator=coordinator,
        account=SIGN_OUT,
    )


@router.get(
    WORKLIST + "/{referral_id}",
    response_class=HTMLResponse,
    responses={
        200: {"description": "The whole case, with a form for each thing to record", **HTML},
        303: {"description": "Not signed in, or the token expired: to the sign-in form"},
        **page_responses(403, 404, 503),
    },
)
async def case_page(
    referral_id: str,
    request: Request,
    done: Annotated[str | None, Query(description="the form just sent, for the banner saying it was recorded")] = None,
) -> Response:
    try:
        principal = require_case_worker(await SESSION.principal(request))
    except AuthError as error:
        return _turned_away(request, error)
    return await _case(request, referral_id, principal, done=done if done in FORMS else None)


def _form_route(form: ActionForm) -> None:
    async def submit(referral_id: str, request: Request) -> Response:
        return await _submitted(request, referral_id, form)

    router.add_api_route(
        f"{WORKLIST}/{{referral_id}}/{form.name}",
        submit,
        methods=["POST"],
        status_code=303,  # the form's only success: post/redirect/get, never a page of its own
        name=f"case_page_{form.name}",
        summary=f"The case page's {form.name} form",
        response_class=HTMLResponse,
        openapi_extra={"requestBody": {"required": True, "content": {FORM_MEDIA_TYPE: {"schema": {"type": "object"}}}}},
        responses={
            303: {"description": "Recorded: back to the case page, which says so"},
            **{status: {"description": what, **HTML} for status, what in _REFUSALS.items()},
            # The edge's own 400 (a malformed path or body, refused before the form is read) is a problem.
            400: {"description": _REFUSALS[400], "content": {**HTML["content"], **PROBLEM_400}},
        },
    )


_REFUSALS = {
    400: "A choice is missing or a value is not of the kind expected: the case page again, saying which",
    401: "Not signed in, or the sign-in expired: the sign-in form, leading back to the case page",
    403: "The form came from another site, or the token may not do this: a page says so",
    404: "No case you may work on: a page says so",
    409: "The case's state does not allow it now: the case page again, saying why",
    415: "Not sent as an HTML form: a page says so",
    422: "What was sent cannot be recorded: the case page again, naming each field",
    503: "Sign-in cannot be checked just now: a page says so",
}


async def _submitted(request: Request, referral_id: str, form: ActionForm) -> Response:
    try:
        principal = require_case_worker(await SESSION.principal_of_form(request))
        posted = await form_fields(request)
    except AuthError as error:
        if error.status_code == 401:
            return SESSION.sign_in_again(request, f"{WORKLIST}/{referral_id}")
        return _turned_away(request, error)
    try:
        body = form.read(posted)
        async with case_units(request)() as unit:
            await form.perform(case_service(request), unit, referral_id, principal, body)
    except FormUnreadable as unreadable:
        return await _case(request, referral_id, principal, errors=unreadable.errors, posted=posted, status_code=400)
    except Refused as refused:
        errors = form.refusal(refused, posted, extra=_how_to_extend(refused))
        status_code = 409 if isinstance(refused, CaseConflict) else 422
        return await _case(request, referral_id, principal, errors=errors, posted=posted, status_code=status_code)
    except CaseNotFound:
        return _not_found(referral_id)
    except AuthError as error:
        return _turned_away(request, error)
    return RedirectResponse(f"{WORKLIST}/{referral_id}?done={form.name}", status_code=303)


def _how_to_extend(refused: Refused) -> str:
    if isinstance(refused, AllowanceUsedUp) and refused.extensions_left:
        return ". Use “Ask for more sessions” on this page."
    return ""


async def _case(
    request: Request,
    referral_id: str,
    principal: Principal,
    *,
    done: str | None = None,
    errors: FormErrors | None = None,
    posted: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    try:
        async with case_units(request)() as unit:
            view = await case_service(request).case(unit, referral_id, principal)
    except CaseNotFound:
        return _not_found(referral_id)
    return _render_case(view, principal, done=done, errors=errors, posted=posted or {}, status_code=status_code)


def _render_case(
    view: CaseView,
    principal: Principal,
    *,
    done: str | None,
    errors: FormErrors | None,
    posted: Mapping[str, str],
    status_code: int,
) -> HTMLResponse:
    case = views.detail(view)
    context: dict[str, Any] = {
        "case": case,
        "open": case.status not in ("closed", "withdrawn"),
        "coordinator": access.coordinates(principal),
        "done": done,
        "values": posted,
        "time_hint": TIME_HINT,
    }
    title = case.person.name or f"Referral {case.referral_id}"
    return PAGES.render("case.html", title=title, errors=errors, status_code=status_code, account=SIGN_OUT, **context)


def _not_found(referral_id: str) -> HTMLResponse:
    title = "There is no case here for you"
    return PAGES.render("not_found.html", title=title, referral_id=referral_id, status_code=404, account=SIGN_OUT)


_TURNED_AWAY = {
    400: "The form could not be read",
    403: "You cannot do this here",
    415: "The form could not be read",
    503: "Sign-in cannot be checked just now",
}


def _turned_away(request: Request, error: AuthError, *, target: str | None = None) -> Response:
    """Not signed in: to the sign-in form. Otherwise a page saying why (AuthError's own status)."""
    if error.status_code == 401:
        return SESSION.sign_in_redirect(request, target)
    title = _TURNED_AWAY.get(error.status_code, _TURNED_AWAY[403])
    return PAGES.render("denied.html", title=title, error=error.message, status_code=error.status_code)


for _form in FORMS.values():
    _form_route(_form)

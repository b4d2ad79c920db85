"""The referral forms, one component for all three doors, each ending in the use case every referral goes through
(IntakeService.submit): the same checks, the same referral.received.v2, the same triage.

- GET/POST /self-referral: public, nobody signs in. A person refers themselves (referrer kind `self`, channel
  `self-referral`); their own email or phone becomes the referrer contact, so that what the service tells a
  referrer reaches them, only because they consented to be contacted. Rate-limited per client, a honeypot, a
  size limit (forms/abuse.py).
- GET/POST /refer: a partner organisation's staff (token: referrals:write and the partner's `org`); the referrer
  is the registered partner (channel `referral-form`), replies go to its registered address.
- GET/POST /outreach: a connector or coordinator records someone met through outreach who asked for support
  (referrer kind `self`, channel `outreach`; the connector is recorded as the sender).

A refusal shows the form again, filled in, with the NHS.UK error summary and each message beside its field (400).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from referral_intake.config import IntakeSettings
from referral_intake.domain.partner import Partner, UnknownPartner
from referral_intake.domain.referral import Referrer
from referral_intake.forms import abuse
from referral_intake.forms.choices import FIRST_CONVERSATION, HELP_WITH, LANGUAGES
from referral_intake.forms.person_form import SHORT_TEXT_LIMIT, read_person
from referral_intake.forms.posting import FORM_ID_FIELD, FormTooLarge, Posted, read_posted, submit_form
from referral_intake.forms.referral import Consent, form_submission
from referral_intake.staff_session import SESSION, require_case_worker, require_partner_staff
from signpost_runtime.auth import AuthError, Principal
from signpost_runtime.openapi import page_responses
from signpost_web import FormErrors, Pages

PAGES = Pages("referral_intake", service_name="Signpost community connectors", service_href="/self-referral")
HTML = {"content": {"text/html": {"schema": {"type": "string"}}}}
PUBLIC = Principal(subject="self-referral-form", scopes=frozenset(), ods_code=None)

router = APIRouter(tags=["Referral forms"])


def _settings(request: Request) -> IntakeSettings:
    return request.app.state.runtime.settings  # type: ignore[no-any-return]


def _form(request: Request, template: str, title: str, *, values: Mapping[str, Any] | None = None,
          errors: FormErrors | None = None, status_code: int = 200, **context: Any) -> HTMLResponse:  # fmt: skip
    shown = {FORM_ID_FIELD: str(uuid.uuid4()), **(values or {})}
    return PAGES.render(
        template,
        title=title,
        errors=errors,
        status_code=status_code,
        values=shown,
        help_with=HELP_WITH,
        first_conversation=FIRST_CONVERSATION,
        languages=LANGUAGES,
        honeypot=abuse.HONEYPOT_FIELD,
        choice_items=_choice_items,
        **context,
    )


def _choice_items(choices: Mapping[str, str], chosen: str | list[str] | None) -> list[dict[str, Any]]:
    """The NHS.UK radios' or checkboxes' items, the posted choice (or choices) checked again."""
    picked = chosen if isinstance(chosen, list) else [chosen]
    return [{"value": value, "text": text, "checked": value in picked} for value, text in choices.items()]


def _values(posted: Posted) -> dict[str, Any]:
    return {**posted.fields, "help-with": posted.lists.get("help-with", [])}


def _sent(reference: str, *, who: str) -> HTMLResponse:
    return PAGES.render("referral_sent.html", title="Referral sent", reference=reference, who=who)


def _problem_page(title: str, message: str, status_code: int, headers: Mapping[str, str] | None = None) -> HTMLResponse:
    return PAGES.render("form_problem.html", title=title, message=message, status_code=status_code, headers=headers)


SELF_TITLE = "Ask for support from a community connector"


@router.get("/self-referral", response_class=HTMLResponse, responses={200: {"description": "The form", **HTML}})
async def self_referral_form(request: Request) -> Response:
    return _form(request, "self_referral.html", SELF_TITLE)


@router.post(
    "/self-referral",
    response_class=HTMLResponse,
    responses={
        200: {"description": "Sent: the confirmation, with a reference and what happens next", **HTML},
        400: {"description": "Something needs changing: the form again, saying what", **HTML},
        413: {"description": "The form is larger than any real answer", **HTML},
        429: {"description": "Too many forms from this address: Retry-After says when to try again", **HTML},
        **page_responses(415),
    },
)
async def send_self_referral(request: Request) -> Response:
    settings = _settings(request)
    limiter: abuse.RateLimiter = request.app.state.form_rate_limiter
    wait = limiter.retry_after(abuse.client_key(request, settings.form_client_ip_header))
    if wait is not None:
        minutes = max(1, round(wait / 60))
        message = f"Too many forms have been sent from here. Please try again in about {minutes} minutes."
        return _problem_page("Please try again later", message, 429, {"Retry-After": str(wait)})
    try:
        posted = await read_posted(request, settings.form_max_bytes)
    except FormTooLarge:
        return _problem_page("The form is too long", "Please shorten your answers and send it again.", 413)
    except AuthError as error:
        return _problem_page("The form could not be read", error.message, error.status_code)
    if posted.fields.get(abuse.HONEYPOT_FIELD):
        # Answered exactly like success, so that a bot learns nothing; nothing is stored or sent.
        return _sent(str(uuid.uuid4()), who="self")
    errors = FormErrors()
    person = read_person(posted.fields, posted.lists, datetime.now(UTC).date(), errors)
    if person is None:
        return _form(request, "self_referral.html", SELF_TITLE, values=_values(posted), errors=errors, status_code=400)
    # Consent to be contacted is required above, so the person's own contact is theirs to give here.
    referrer = Referrer(ods_code=None, kind="self", email=person.email, phone=person.phone)
    consent = Consent(to_contact=True, tell_gp=person.tell_gp, recorded_by="the person, on the self-referral form")
    submission = form_submission(person, referrer, "self-referral", consent, datetime.now(UTC))
    return _sent(await submit_form(request, submission, PUBLIC, posted.form_id), who="self")


REFER_TITLE = "Refer someone to a community connector"


STAFF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Sent: the confirmation, with the reference", **HTML},
    303: {"description": "Not signed in, or the token expired: to the sign-in form"},
    400: {"description": "Something needs changing: the form again, saying what", **HTML},
    403: {"description": "The form came from another site, or the token may not use it: a page says why", **HTML},
    413: {"description": "The form is larger than any real answer", **HTML},
    **page_responses(415, 503),
}


async def _partner(request: Request, *, form: bool) -> tuple[Principal, Partner]:
    principal = require_partner_staff(
        await (SESSION.principal_of_form(request) if form else SESSION.principal(request))
    )
    try:
        return principal, request.app.state.intake.partners.get(principal.partner_id)
    except UnknownPartner as unknown:
        raise AuthError(403, str(unknown)) from None


@router.get("/refer", response_class=HTMLResponse, responses={200: {"description": "The form", **HTML}})
async def refer_form(request: Request) -> Response:
    try:
        _, partner = await _partner(request, form=False)
    except AuthError as error:
        return _turned_away(request, error)
    return _form(request, "refer.html", REFER_TITLE, partner=partner)


@router.post("/refer", response_class=HTMLResponse, responses=STAFF_RESPONSES)
async def send_referral(request: Request) -> Response:
    try:
        principal, partner = await _partner(request, form=True)
        posted = await read_posted(request, _settings(request).form_max_bytes)
    except FormTooLarge:
        return _problem_page("The form is too long", "Please shorten the answers and send it again.", 413)
    except AuthError as error:
        return _turned_away(request, error, target="/refer")
    errors = FormErrors()
    person = read_person(posted.fields, posted.lists, datetime.now(UTC).date(), errors)
    staff = _staff_details(posted.fields, errors)
    if person is None or staff is None:
        values = _values(posted)
        return _form(request, "refer.html", REFER_TITLE, values=values, errors=errors, status_code=400, partner=partner)
    consent = Consent(to_contact=True, tell_gp=person.tell_gp, recorded_by=f"{staff} of {partner.name}")
    submission = form_submission(
        person, partner.as_referrer(), "referral-form", consent, datetime.now(UTC), notes=(f"Referred by {staff}.",)
    )
    return _sent(await submit_form(request, submission, principal, posted.form_id), who="partner")


def _staff_details(posted: Mapping[str, str], errors: FormErrors) -> str | None:
    """Who at the partner is referring, as the connector will read it."""
    parts = {
        field: " ".join(posted.get(field, "").split())
        for field in ("referrer-name", "referrer-role", "referrer-contact")
    }
    if not parts["referrer-name"]:
        errors.add("referrer-name", "Enter your name")
    for field, value in parts.items():
        if len(value) > SHORT_TEXT_LIMIT:
            errors.add(field, f"Shorten this to {SHORT_TEXT_LIMIT} characters or fewer")
    if errors:
        return None
    role = f", {parts['referrer-role']}" if parts["referrer-role"] else ""
    contact = f" ({parts['referrer-contact']})" if parts["referrer-contact"] else ""
    return f"{parts['referrer-name']}{role}{contact}"


def _turned_away(request: Request, error: AuthError, *, target: str | None = None) -> Response:
    if error.status_code == 401:
        return SESSION.sign_in_redirect(request, target)
    return _problem_page("You cannot use this form", error.message, error.status_code)


OUTREACH_TITLE = "Record someone met through outreach"


@router.get("/outreach", response_class=HTMLResponse, responses={200: {"description": "The form", **HTML}})
async def outreach_form(request: Request) -> Response:
    try:
        require_case_worker(await SESSION.principal(request))
    except AuthError as error:
        return _turned_away(request, error)
    return _form(request, "outreach.html", OUTREACH_TITLE)


@router.post("/outreach", response_class=HTMLResponse, responses=STAFF_RESPONSES)
async def send_outreach(request: Request) -> Response:
    try:
        principal = require_case_worker(await SESSION.principal_of_form(request))
        posted = await read_posted(request, _settings(request).form_max_bytes)
    except FormTooLarge:
        return _problem_page("The form is too long", "Please shorten the answers and send it again.", 413)
    except AuthError as error:
        return _turned_away(request, error, target="/outreach")
    errors = FormErrors()
    person = read_person(posted.fields, posted.lists, datetime.now(UTC).date(), errors)
    met_at = " ".join(posted.fields.get("met-at", "").split())
    if len(met_at) > SHORT_TEXT_LIMIT:
        errors.add("met-at", f"Shorten this to {SHORT_TEXT_LIMIT} characters or fewer")
    if person is None or errors:
        return _form(request, "outreach.html", OUTREACH_TITLE, values=_values(posted), errors=errors, status_code=400)
    # The person asked for support themselves, in person: they are the referrer, and hear back at their own
    # contact because they agreed to be contacted. The connector who recorded it is kept as the sender.
    referrer = Referrer(ods_code=None, kind="self", email=person.email, phone=person.phone)
    consent = Consent(to_contact=True, tell_gp=person.tell_gp, recorded_by=f"told to {principal.subject} in person")
    where = f" at {met_at}" if met_at else ""
    notes = (f"Met through outreach{where}; recorded by {principal.subject}.",)
    submission = form_submission(person, referrer, "outreach", consent, datetime.now(UTC), notes=notes)
    return _sent(await submit_form(request, submission, principal, posted.form_id), who="outreach")

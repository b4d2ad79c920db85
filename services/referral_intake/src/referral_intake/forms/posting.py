"""Reading a posted referral form, and handing its submission to the one use case every door uses."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import Request

from referral_intake.domain.referral import AlreadyClaimedError, ReferralSubmission
from referral_intake.service import DuplicateRequestError, IntakeService
from referral_intake.unit import IntakeUnit
from signpost_runtime.auth import AuthError, Principal
from signpost_runtime.runtime import ServiceRuntime
from signpost_web.sign_in import FORM_MEDIA_TYPE

FORM_ID_FIELD = "form-id"  # a UUID per form shown: sent twice (a double click, a resend), it is one referral
_MAX_FIELDS = 100


class FormTooLarge(Exception):  # noqa: N818 (an answer to the person, not a fault)
    pass


@dataclass(frozen=True)
class Posted:
    fields: dict[str, str]  # the last value of each field
    lists: dict[str, list[str]]  # every value of each field (checkboxes)

    @property
    def form_id(self) -> str | None:
        try:
            return str(uuid.UUID(self.fields.get(FORM_ID_FIELD, "")))
        except ValueError:
            return None


async def read_posted(request: Request, max_bytes: int) -> Posted:
    """The form's fields; FormTooLarge past `max_bytes`, AuthError 415/400 when it is not a readable HTML form."""
    media_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media_type != FORM_MEDIA_TYPE:
        raise AuthError(415, f"send the form as {FORM_MEDIA_TYPE}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FormTooLarge
    body = await request.body()
    if len(body) > max_bytes:
        raise FormTooLarge
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=_MAX_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise AuthError(400, "the form could not be read; send it again from the page") from None
    lists: dict[str, list[str]] = {}
    for name, value in pairs:
        lists.setdefault(name, []).append(value)
    return Posted({name: values[-1] for name, values in lists.items()}, lists)


async def submit_form(
    request: Request, submission: ReferralSubmission, principal: Principal, form_id: str | None
) -> str:
    """The referral's id: stored now, or earlier by the same form (its form id is the request id)."""
    service: IntakeService = request.app.state.intake
    runtime: ServiceRuntime = request.app.state.runtime
    units = runtime.units(IntakeUnit)
    try:
        try:
            async with units() as unit:
                return (await service.submit(unit, submission, principal, None, form_id)).referral.id
        except AlreadyClaimedError:
            async with units() as unit:
                return (await service.resolve_race(unit, submission, form_id)).referral.id
    except DuplicateRequestError as duplicate:
        return duplicate.referral_id

"""The fake GOV.UK Notify's HTTP API: Notify's v2 endpoints, then the inspection and fault endpoints."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from signpost_devstack.fake_notify_state import FakeNotification, FinalStatus, NotifyError, NotifyState
from signpost_devstack.fake_notify_templates import email_problem, recipient_key, uk_mobile

__all__ = ["NotifyState", "build_app"]

PAGE_SIZE = 250  # Notify's page of GET /v2/notifications
STATUSES = (
    "cancelled",
    "created",
    "sending",
    "sent",
    "delivered",
    "pending",
    "failed",
    "technical-failure",
    "temporary-failure",
    "permanent-failure",
    "pending-virus-check",
    "validation-failed",
    "virus-scan-failed",
    "returned-letter",
    "accepted",
    "received",
)
FAILED = ("technical-failure", "temporary-failure", "permanent-failure")
RECIPIENT_FIELD = {"email": "email_address", "sms": "phone_number"}
SENDER_FIELD = {"email": "email_reply_to_id", "sms": "sms_sender_id"}


class FaultRequest(BaseModel):
    fail_next: int | None = Field(default=None, ge=0, description="how many of the next send requests to refuse")
    status: int = Field(default=500, ge=400, le=599, description="the HTTP status they are answered with")
    message: str | None = None
    error: str | None = Field(default=None, description="Notify's error name, e.g. TooManyRequestsError")
    delay_seconds: float | None = Field(default=None, ge=0, description="hold every send this long, after recording")
    receipts: FinalStatus | None = None
    fail_to: str | None = Field(default=None, description="apply `receipts` to this recipient only")

    @model_validator(mode="after")
    def _fail_to_needs_receipts(self) -> FaultRequest:
        if self.fail_to is not None and self.receipts is None:
            raise ValueError("fail_to needs receipts: the final status for that recipient")
        return self


def _validation(*messages: str) -> NotifyError:
    return NotifyError(400, *(("ValidationError", m) for m in messages))


def _bad_request(message: str) -> NotifyError:
    return NotifyError(400, ("BadRequestError", message))


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _checked(kind: Literal["email", "sms"], body: Any) -> tuple[str, str, dict[str, Any], str | None]:
    """Notify's schema checks of a send request, every problem at once: (recipient, template id, values, ref)."""
    if not isinstance(body, dict):
        raise _validation("Invalid JSON supplied in POST data")
    problems: list[str] = []
    recipient_field = RECIPIENT_FIELD[kind]
    recipient = body.get(recipient_field)
    for name in (recipient_field, "template_id"):
        if name not in body:
            problems.append(f"{name} is a required property")
    if "template_id" in body and not _is_uuid(body["template_id"]):
        problems.append("template_id is not a valid UUID")
    if isinstance(recipient, str):
        problem = email_problem(recipient) if kind == "email" else uk_mobile(recipient)[1]
        if problem:
            problems.append(f"{recipient_field} {problem}")
    elif recipient_field in body:
        problems.append(f"{recipient_field} {recipient!r} is not of type string")
    personalisation = body.get("personalisation") or {}
    if not isinstance(personalisation, dict):
        problems.append("personalisation should contain key value pairs")
    reference = body.get("reference")
    if reference is not None and not isinstance(reference, str):
        problems.append(f"reference {reference!r} is not of type string")
    sender = body.get(SENDER_FIELD[kind])
    if sender is not None and not _is_uuid(sender):
        problems.append(f"{SENDER_FIELD[kind]} is not a valid UUID")
    if problems:
        raise _validation(*problems)
    return str(recipient), str(body["template_id"]), dict(personalisation), reference


def build_app(state: NotifyState, base_url: Callable[[], str]) -> FastAPI:
    app = FastAPI(title="Fake GOV.UK Notify")

    @app.exception_handler(NotifyError)
    async def notify_error(_: Request, exc: NotifyError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    async def send(kind: Literal["email", "sms"], request: Request) -> JSONResponse:
        service_id = state.authenticate(request.headers.get("Authorization"))
        failure = state.faults.take_failure()
        if failure is not None:
            raise failure
        try:
            body = await request.json()
        except ValueError as exc:
            raise _bad_request("Invalid JSON supplied in POST data") from exc
        recipient, template_id, personalisation, reference = _checked(kind, body)
        template = state.templates.get(str(uuid.UUID(template_id)))
        if template is None:
            raise _bad_request("Template not found")
        if template.type != kind:
            raise _bad_request(f"{template.type} template is not suitable for {kind} notification")
        if missing := template.missing(personalisation):
            raise _bad_request(f"Missing personalisation: {', '.join(missing)}")
        subject, text = template.render(personalisation)
        notification = FakeNotification(
            id=str(uuid.uuid4()),
            service_id=service_id,
            type=kind,
            to=recipient,
            template=template,
            personalisation=personalisation,
            reference=reference,
            subject=subject,
            body=text,
            created_at=datetime.now(UTC),
            final_status=state.faults.final_status_for(recipient),
            receipt_delay_seconds=state.receipt_delay(),
        )
        state.notifications.append(notification)
        if state.faults.delay_seconds:
            await asyncio.sleep(state.faults.delay_seconds)  # recorded first: Notify took it, answers late
        root = base_url()
        content: dict[str, Any] = {"body": text}
        if kind == "email":
            content |= {
                "subject": subject,
                "from_email": "signpost@fake-notify.local",
                "one_click_unsubscribe_url": None,
            }
        else:
            content |= {"from_number": "GOVUK"}
        answer = {
            "id": notification.id,
            "reference": reference,
            "content": content,
            "uri": f"{root}/v2/notifications/{notification.id}",
            "template": {"id": template.id, "version": template.version, "uri": f"{root}/v2/template/{template.id}"},
            "scheduled_for": None,
        }
        return JSONResponse(answer, status_code=201)

    @app.post("/v2/notifications/email", status_code=201)
    async def send_email(request: Request) -> JSONResponse:
        return await send("email", request)

    @app.post("/v2/notifications/sms", status_code=201)
    async def send_sms(request: Request) -> JSONResponse:
        return await send("sms", request)

    @app.get("/v2/notifications/{notification_id}")
    async def get_notification(notification_id: str, request: Request) -> dict[str, Any]:
        service_id = state.authenticate(request.headers.get("Authorization"))
        if not _is_uuid(notification_id):
            raise _validation("notification_id is not a valid UUID")
        for notification in state.notifications:
            if notification.id == str(uuid.UUID(notification_id)) and notification.service_id == service_id:
                return notification.v2(base_url())
        raise NotifyError(404, ("NoResultFound", "No result found"))

    @app.get("/v2/notifications")
    async def list_notifications(
        request: Request,
        reference: str | None = None,
        older_than: str | None = None,
        status: list[str] = Query(default=[]),  # noqa: B008 (FastAPI's way to take a repeated parameter)
        template_type: list[str] = Query(default=[]),  # noqa: B008
    ) -> dict[str, Any]:
        service_id = state.authenticate(request.headers.get("Authorization"))
        problems = [f"status {s} is not one of [{', '.join(STATUSES)}]" for s in status if s not in STATUSES]
        problems += [
            f"template_type {t} is not one of [sms, email, letter]"
            for t in template_type
            if t not in ("sms", "email", "letter")
        ]
        if older_than is not None and not _is_uuid(older_than):
            problems.append("older_than is not a valid UUID")
        if problems:
            raise _validation(*problems)
        wanted = {s for s in status if s != "failed"} | (set(FAILED) if "failed" in status else set())
        newest_first = [n for n in reversed(state.notifications) if n.service_id == service_id]
        if older_than is not None:
            ids = [n.id for n in newest_first]
            newest_first = newest_first[ids.index(older_than) + 1 :] if older_than in ids else []
        chosen = [
            n
            for n in newest_first
            if (reference is None or n.reference == reference)
            and (not wanted or n.status in wanted)
            and (not template_type or n.type in template_type)
        ][:PAGE_SIZE]
        # Notify's links repeat the filters given; `next` adds older_than = the last one on this page.
        given = {"template_type": template_type, "status": status, "reference": reference, "older_than": older_than}
        filters = {name: value for name, value in given.items() if value}
        root = f"{base_url()}/v2/notifications"
        links = {"current": f"{root}?{urlencode(filters, doseq=True)}" if filters else root}
        if chosen:
            links["next"] = f"{root}?{urlencode(filters | {'older_than': chosen[-1].id}, doseq=True)}"
        return {"notifications": [n.v2(base_url()) for n in chosen], "links": links}

    @app.get("/notifications")
    async def inspect(reference: str | None = None, to: str | None = None) -> list[dict[str, Any]]:
        return [
            n.record()
            for n in state.notifications
            if (reference is None or n.reference == reference)
            and (to is None or recipient_key(n.to) == recipient_key(to))
        ]

    @app.delete("/notifications")
    async def forget() -> dict[str, int]:
        return {"deleted": state.clear()}

    @app.get("/faults")
    async def show_faults() -> dict[str, Any]:
        return asdict(state.faults)

    @app.post("/faults")
    async def arm_faults(request: FaultRequest) -> dict[str, Any]:
        faults = state.faults
        if request.fail_next is not None:
            faults.arm(request.fail_next, request.status, request.message, request.error)
        if request.delay_seconds is not None:
            faults.delay_seconds = request.delay_seconds
        if request.receipts is not None and request.fail_to is not None:
            faults.receipts_to[recipient_key(request.fail_to)] = request.receipts
        elif request.receipts is not None:
            faults.receipts = request.receipts
        return asdict(faults)

    @app.delete("/faults")
    async def clear_faults() -> dict[str, Any]:
        state.faults.reset()
        return asdict(state.faults)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app

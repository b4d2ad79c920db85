"""What the fake GOV.UK Notify holds: API keys and their JWT check, notifications and their receipts, faults."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt

from signpost_devstack.fake_notify_templates import Template, recipient_key

# For this fake only: `make run` gives it to both the fake and the notifications service.
DEV_API_KEY = "signpost_dev-5c1d6e1a-3f0b-4c8e-9d7a-2b6f0e4a8c10-9a4e7b2c-6d1f-4e3a-8b5c-0f2d7e9a1b34"
CLOCK_BOUND_SECONDS = 30  # Notify's: iat within 30 seconds of its clock, either way
GENERAL_TOKEN_ERROR = (
    "Invalid token: make sure your API token matches the example at "
    "https://docs.notifications.service.gov.uk/rest-api.html#authorisation-header"
)
CLOCK_ERROR = "Error: Your system clock must be accurate to within 30 seconds"
FinalStatus = Literal["delivered", "permanent-failure", "temporary-failure", "technical-failure", "never"]
ERROR_NAMES = {400: "BadRequestError", 401: "AuthError", 403: "AuthError", 404: "NoResultFound", 429: "RateLimitError"}
DEFAULT_MESSAGES = {
    400: "Can't send to this recipient using a team-only API key",
    403: "Invalid token: API key not found",
    429: "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
}


def notify_api_key(service_id: str, secret: str, name: str = "signpost_test") -> str:
    """A key in Notify's format: `{key_name}-{service_id}-{secret}`, both uuids."""
    return f"{name}-{uuid.UUID(service_id)}-{uuid.UUID(secret)}"


def timestamp(moment: datetime | None) -> str | None:
    """Notify's v2 timestamp: ISO 8601 UTC with microseconds and Z."""
    return None if moment is None else f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%f}Z"


class NotifyError(Exception):
    """An answer in Notify's error shape: `{"status_code": n, "errors": [{"error", "message"}, ...]}`."""

    def __init__(self, status: int, *errors: tuple[str, str]) -> None:
        super().__init__(f"{status} {errors}")
        self.status = status
        self.errors = errors

    def body(self) -> dict[str, Any]:
        return {"status_code": self.status, "errors": [{"error": e, "message": m} for e, m in self.errors]}


def auth_error(message: str, status: int = 403) -> NotifyError:
    return NotifyError(status, ("AuthError", message))


@dataclass
class FakeNotification:
    id: str
    service_id: str
    type: Literal["email", "sms"]
    to: str
    template: Template
    personalisation: dict[str, Any]
    reference: str | None
    subject: str | None
    body: str
    created_at: datetime
    final_status: FinalStatus
    receipt_delay_seconds: float

    @property
    def finished_at(self) -> datetime | None:
        if self.final_status == "never":
            return None
        done = self.created_at + timedelta(seconds=self.receipt_delay_seconds)
        return done if datetime.now(UTC) >= done else None

    @property
    def status(self) -> str:
        return self.final_status if self.finished_at is not None else "sending"

    @property
    def sent_at(self) -> datetime | None:
        # A technical failure is Notify failing to hand the message to its provider: never sent.
        return None if self.final_status == "technical-failure" and self.finished_at else self.created_at

    def record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "to": self.to,
            "template_id": self.template.id,
            "personalisation": self.personalisation,
            "reference": self.reference,
            "subject": self.subject,
            "body": self.body,
            "status": self.status,
            "created_at": timestamp(self.created_at),
            "sent_at": timestamp(self.sent_at),
            "completed_at": timestamp(self.finished_at),
        }

    def v2(self, base_url: str) -> dict[str, Any]:
        """Notify's `GET /v2/notifications/{id}` body."""
        template = self.template
        return {
            "id": self.id,
            "reference": self.reference,
            "email_address": self.to if self.type == "email" else None,
            "phone_number": self.to if self.type == "sms" else None,
            **{f"line_{n}": None for n in range(1, 7)},
            "postcode": None,
            "postage": None,
            "type": self.type,
            "status": self.status,
            "template": {
                "id": template.id,
                "version": template.version,
                "uri": f"{base_url}/v2/template/{template.id}/version/{template.version}",
            },
            "body": self.body,
            "subject": self.subject,
            "created_at": timestamp(self.created_at),
            "created_by_name": None,
            "sent_at": timestamp(self.sent_at),
            "completed_at": timestamp(self.finished_at),
            "scheduled_for": None,
            "one_click_unsubscribe": None,
        }


@dataclass
class Faults:
    fail_next: int = 0
    status: int = 500
    error: str = "Exception"
    message: str = "Internal server error"
    delay_seconds: float = 0.0
    receipts: FinalStatus = "delivered"
    receipts_to: dict[str, FinalStatus] = field(default_factory=dict)
    rejected: int = 0

    def arm(self, count: int, status: int = 500, message: str | None = None, error: str | None = None) -> None:
        self.fail_next, self.status = count, status
        self.error = error or ERROR_NAMES.get(status, "Exception")
        self.message = message or DEFAULT_MESSAGES.get(status, "Internal server error")

    def final_status_for(self, recipient: str) -> FinalStatus:
        return self.receipts_to.get(recipient_key(recipient), self.receipts)

    def take_failure(self) -> NotifyError | None:
        if self.fail_next <= 0:
            return None
        self.fail_next -= 1
        self.rejected += 1
        return NotifyError(self.status, (self.error, self.message))

    def reset(self) -> None:
        fresh = Faults(rejected=self.rejected)
        for each in fields(self):
            setattr(self, each.name, getattr(fresh, each.name))


@dataclass
class NotifyState:
    templates: dict[str, Template]
    receipt_delay: Callable[[], float]
    services: dict[str, list[str]] = field(default_factory=dict)  # service id -> its keys' secrets
    notifications: list[FakeNotification] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)

    def accept_key(self, key: str) -> None:
        service_id, secret = key[-73:-37], key[-36:]
        uuid.UUID(service_id), uuid.UUID(secret)  # a key not in Notify's format is refused here
        self.services.setdefault(service_id, []).append(secret)

    def clear(self) -> int:
        deleted = len(self.notifications)
        self.notifications.clear()
        return deleted

    def authenticate(self, authorization: str | None) -> str:
        """The service id a request's bearer token proves, checked as Notify checks it; else Notify's AuthError."""
        if not authorization:
            raise auth_error("Unauthorized: authentication token must be provided", 401)
        if authorization[:7].title() != "Bearer ":
            raise auth_error("Unauthorized: authentication bearer scheme must be used", 401)
        token = authorization[7:]
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as exc:
            raise auth_error(GENERAL_TOKEN_ERROR) from exc
        if issuer is None:
            raise auth_error("Invalid token: iss field not provided")
        try:
            service_id = str(uuid.UUID(str(issuer)))
        except ValueError as exc:
            raise auth_error("Invalid token: service id is not the right data type") from exc
        secrets = self.services.get(service_id)
        if secrets is None:
            raise auth_error("Invalid token: service not found")
        for secret in secrets:
            if self._signed_with(token, secret):
                return service_id
        raise auth_error("Invalid token: API key not found")

    @staticmethod
    def _signed_with(token: str, secret: str) -> bool:
        try:
            claims = jwt.decode(token, key=secret, algorithms=["HS256"], leeway=CLOCK_BOUND_SECONDS)
        except (jwt.InvalidIssuedAtError, jwt.ImmatureSignatureError) as exc:
            raise auth_error(CLOCK_ERROR) from exc
        except jwt.InvalidAlgorithmError as exc:
            raise auth_error("Invalid token: algorithm used is not HS256") from exc
        except jwt.DecodeError:
            return False  # not signed with this key's secret: Notify tries the service's next key
        except jwt.PyJWTError as exc:
            raise auth_error(GENERAL_TOKEN_ERROR) from exc
        if "iat" not in claims:
            return False  # Notify's client library treats a token without iat as not this key's
        now, issued = int(time.time()), int(claims["iat"])
        if now > issued + CLOCK_BOUND_SECONDS or issued > now + CLOCK_BOUND_SECONDS:
            raise auth_error(CLOCK_ERROR)
        return True

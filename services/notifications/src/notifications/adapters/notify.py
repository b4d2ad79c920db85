"""GOV.UK Notify email and SMS through the official `notifications-python-client`, and Notify's receipts.

The client is synchronous (on `requests`) and not thread-safe, so each worker thread of
`asyncio.to_thread` keeps its own client; every request has a timeout.

Settings the wiring passes (environment names proposed for `config.py`):

- `api_key: SecretStr`: Notify's key, `{key_name}-{service_id}-{secret}` (`GOVUK_NOTIFY_API_KEY`);
- `base_url: str`: default `https://api.notifications.service.gov.uk` (`GOVUK_NOTIFY_BASE_URL`);
- `templates: Mapping[str, str]`: template kind (e.g. "assigned") -> Notify template id, one mapping per
  channel (`GOVUK_NOTIFY_EMAIL_TEMPLATES` for the email sender, `GOVUK_NOTIFY_SMS_TEMPLATES` for SMS);
- `email_reply_to_id: str | None` (email only, `GOVUK_NOTIFY_EMAIL_REPLY_TO_ID`); None: the service's default;
- `sms_sender_id: str | None` (SMS only, `GOVUK_NOTIFY_SMS_SENDER_ID`); None: the service's default;
- `timeout_seconds: float`: per request, default 10 (`GOVUK_NOTIFY_TIMEOUT_SECONDS`).

`NotifyReceipts` takes `api_key`, `base_url` and `timeout_seconds`.

How Notify's answers are classified (its documented API errors):

- 400 (BadRequestError, ValidationError: a bad phone number or address, missing personalisation, a
  template that does not exist or is for the other channel) and other 4xx: this message is refused,
  for good: a permanent `SendError`.
- 401/403 (AuthError): our API key or clock, not the message: `ProviderUnavailableError` naming the setting.
- 404/405 on a send: the base URL does not point at Notify's API: `ProviderUnavailableError`.
- 429 (RateLimitError, TooManyRequestsError) and 5xx: wait, do not spend attempts: `ProviderUnavailableError`.
- Connecting failed (refused, DNS, TLS, connect timeout): nothing was sent: `ProviderUnavailableError`.
- No answer in time after the request went (read timeout), or the connection broke while Notify was
  answering: Notify may have taken it, so it is an attempt, `SendError(permanent=False)`, and the
  dispatcher asks `NotifyReceipts.already_sent` (by our reference) before sending it again.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import requests
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient
from pydantic import SecretStr
from urllib3.exceptions import MaxRetryError

from notifications.domain.deliveries import ProviderUnavailableError, SendError
from notifications.domain.messages import OutgoingMessage, Receipt, ReceiptStatus, Sent

NOTIFY_API = "https://api.notifications.service.gov.uk"
API_KEY_SETTING = "GOVUK_NOTIFY_API_KEY"
BASE_URL_SETTING = "GOVUK_NOTIFY_BASE_URL"
TEMPLATE_SETTINGS = {"email": "GOVUK_NOTIFY_EMAIL_TEMPLATES", "sms": "GOVUK_NOTIFY_SMS_TEMPLATES"}
_LONGEST_DETAIL = 500  # Notify's error text is kept, cut to this
_KEY_TAIL = 73  # `{service_id}-{secret}`: two uuids and a hyphen, as the client slices the key

# Notify's email and text message statuses (docs: "Email status descriptions", "Text message status
# descriptions") as Signpost's receipt. technical-failure means Notify never handed the message to its
# provider, so sending again may well work: temporary. `sent` is an international text whose network
# gives no more information: Notify's final word, so delivered (detail keeps "sent"). Letter-only
# failure states are final; any status not listed stays pending so a new one is never read as a failure.
STATUS_MAP: Mapping[str, ReceiptStatus] = {
    "created": "pending",
    "sending": "pending",
    "pending": "pending",
    "pending-virus-check": "pending",
    "accepted": "pending",
    "delivered": "delivered",
    "sent": "delivered",
    "received": "delivered",
    "permanent-failure": "permanent-failure",
    "cancelled": "permanent-failure",
    "validation-failed": "permanent-failure",
    "virus-scan-failed": "permanent-failure",
    "returned-letter": "permanent-failure",
    "temporary-failure": "temporary-failure",
    "technical-failure": "temporary-failure",
}


def receipt_from(notification: Mapping[str, Any]) -> Receipt:
    """Notify's notification JSON as a receipt; v2 has no updated_at, so `at` is the latest moment it gives."""
    word = str(notification.get("status") or "")
    moment = notification.get("completed_at") or notification.get("sent_at") or notification.get("created_at")
    return Receipt(
        status=STATUS_MAP.get(word, "pending"),
        detail=word or None,
        at=datetime.fromisoformat(moment) if isinstance(moment, str) and moment else None,
    )


class _NotifyApi:
    """One Notify service's API key, base URL and timeout; calls the client off the event loop, errors classified."""

    def __init__(self, api_key: SecretStr, base_url: str, timeout_seconds: float) -> None:
        key = api_key.get_secret_value()
        if len(key) < _KEY_TAIL + 2 or key[-37] != "-" or key[-74] != "-":
            raise ValueError(
                f"{API_KEY_SETTING} is not a GOV.UK Notify API key: expected key_name-service_id-secret "
                "(the name, then two uuids), as Notify's API integration page shows it"
            )
        self._secret = key[-36:]
        self._key = key
        self.base_url = base_url
        self.timeout_seconds = timeout_seconds
        self._local = threading.local()

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            factory: Any = NotificationsAPIClient
            client = factory(self._key, base_url=self.base_url, timeout=self.timeout_seconds)
            self._local.client = client
        return client

    async def call(self, method: str, **arguments: Any) -> Any:
        return await asyncio.to_thread(lambda: getattr(self._client(), method)(**arguments))

    def detail(self, error: APIError) -> str:
        message = error.message
        if isinstance(message, list):
            message = "; ".join(
                f"{item.get('error')}: {item.get('message')}" for item in message if isinstance(item, dict)
            )
        text = f"{error.status_code} {message}".replace(self._key, "[key]").replace(self._secret, "[key]")
        return text[:_LONGEST_DETAIL]

    def where(self, detail: str) -> str:
        return f"GOV.UK Notify {detail} (API {self.base_url})"

    def classified(self, error: APIError, what: str) -> SendError | ProviderUnavailableError:
        cause = error.__cause__
        status = error.status_code
        if error.response is not None:
            detail = self.detail(error)
            if status in (401, 403):
                return ProviderUnavailableError(
                    self.where(f"refused our API key: {detail}; check {API_KEY_SETTING} (and this host's clock)")
                )
            if status in (404, 405):
                return ProviderUnavailableError(self.where(f"has no such endpoint: {detail}; check {BASE_URL_SETTING}"))
            if status == 429 or status >= 500:
                return ProviderUnavailableError(self.where(f"cannot take {what} now: {detail}"))
            if not 200 <= status < 300:
                return SendError(self.where(f"refused {what}: {detail}"), permanent=True)
            # 2xx without JSON: the message was taken but the answer cannot be read.
            return SendError(self.where(f"answered {what} with something unreadable: {detail}"), permanent=False)
        if isinstance(cause, requests.ReadTimeout):
            return SendError(
                self.where(f"did not answer {what} within {self.timeout_seconds:g}s; it may have been taken"),
                permanent=False,
            )
        lost_mid_way = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)
        if isinstance(cause, lost_mid_way) or (
            isinstance(cause, requests.ConnectionError)
            and not isinstance(cause, requests.ConnectTimeout)
            and cause.args
            and not isinstance(cause.args[0], MaxRetryError)
        ):
            # Connected and sent: urllib3 reports connect failures as MaxRetryError, a broken exchange otherwise.
            return SendError(
                self.where(f"connection lost answering {what}: {cause}; it may have been taken"), permanent=False
            )
        return ProviderUnavailableError(self.where(f"cannot be reached: {type(cause).__name__}: {cause}"))


class _NotifySender:
    provider = "notify"
    channel = "email"

    def __init__(
        self,
        *,
        api_key: SecretStr,
        templates: Mapping[str, str],
        base_url: str = NOTIFY_API,
        timeout_seconds: float = 10.0,
    ) -> None:
        self._api = _NotifyApi(api_key, base_url, timeout_seconds)
        self.templates = dict(templates)

    def template_id(self, message: OutgoingMessage) -> str:
        template_id = self.templates.get(message.template)
        if not template_id:
            known = ", ".join(sorted(self.templates)) or "none"
            raise SendError(
                f"no GOV.UK Notify {self.channel} template for {message.template or '(no template kind)'!r}: "
                f"add {message.template or '<kind>'}=<template id> to {TEMPLATE_SETTINGS[self.channel]} "
                f"(configured: {known})",
                permanent=True,
            )
        return template_id

    async def _send(self, method: str, **arguments: Any) -> Sent:
        try:
            answer = await self._api.call(method, **arguments)
        except APIError as exc:
            raise self._api.classified(exc, f"the {self.channel}") from exc
        return Sent(provider_reference=str(answer["id"]))


class NotifyEmailSender(_NotifySender):
    channel = "email"

    def __init__(
        self,
        *,
        api_key: SecretStr,
        templates: Mapping[str, str],
        base_url: str = NOTIFY_API,
        email_reply_to_id: str | None = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        super().__init__(api_key=api_key, templates=templates, base_url=base_url, timeout_seconds=timeout_seconds)
        self.email_reply_to_id = email_reply_to_id

    async def send(self, message: OutgoingMessage) -> Sent:
        return await self._send(
            "send_email_notification",
            email_address=message.recipient,
            template_id=self.template_id(message),
            personalisation=dict(message.personalisation),
            reference=message.idempotency_key,
            email_reply_to_id=self.email_reply_to_id,
        )


class NotifySmsSender(_NotifySender):
    channel = "sms"

    def __init__(
        self,
        *,
        api_key: SecretStr,
        templates: Mapping[str, str],
        base_url: str = NOTIFY_API,
        sms_sender_id: str | None = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        super().__init__(api_key=api_key, templates=templates, base_url=base_url, timeout_seconds=timeout_seconds)
        self.sms_sender_id = sms_sender_id

    async def send(self, message: OutgoingMessage) -> Sent:
        return await self._send(
            "send_sms_notification",
            phone_number=message.recipient,
            template_id=self.template_id(message),
            personalisation=dict(message.personalisation),
            reference=message.idempotency_key,
            sms_sender_id=self.sms_sender_id,
        )


class NotifyReceipts:
    """What Notify says became of a message, and whether it already holds one with our reference."""

    provider = "notify"

    def __init__(self, *, api_key: SecretStr, base_url: str = NOTIFY_API, timeout_seconds: float = 10.0) -> None:
        self._api = _NotifyApi(api_key, base_url, timeout_seconds)

    async def receipt(self, provider_reference: str) -> Receipt:
        return receipt_from(await self._read("get_notification_by_id", id=provider_reference))

    async def already_sent(self, idempotency_key: str) -> str | None:
        """Notify's id of a notification with this reference that it did not fail to hand on (technical-failure)."""
        page = await self._read("get_all_notifications", reference=idempotency_key)
        for notification in page.get("notifications", []):
            if notification.get("reference") == idempotency_key and notification.get("status") != "technical-failure":
                return str(notification["id"])
        return None

    async def _read(self, method: str, **arguments: Any) -> Any:
        try:
            return await self._api.call(method, **arguments)
        except APIError as exc:
            cause = exc.__cause__
            detail = self._api.detail(exc) if exc.response is not None else f"{type(cause).__name__}: {cause}"
            raise ProviderUnavailableError(self._api.where(f"could not be asked for receipts: {detail}")) from exc

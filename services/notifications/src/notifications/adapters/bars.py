"""Sending BaRS `servicerequest-response` messages through the BaRS proxy, telling a refusal from an outage.

The proxy routes each POST to `<base>/$process-message` to the system named by NHSD-Target-Identifier: Base64 of
the JSON object {"value": ..., "system": ...} from the endpoint identifier the referrer gave as
MessageHeader.source.endpoint ("system|value"). X-Request-ID is derived from the delivery's idempotency key, so a
retry is the same request, and BaRS receivers answer a request they have already processed with 409 and
OperationOutcome issue code `duplicate`, which a sender takes as delivered. X-Correlation-ID is the conversation's.
NHSD-End-User-Organisation (a FHIR Organization with Signpost's ODS code) and NHSD-Requesting-Software (a FHIR
Device) are Base64 JSON too. The bearer token is for the proxy, which does not pass it on.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import httpx
from pydantic import SecretStr

from notifications.domain.deliveries import ProviderUnavailableError, SendError
from notifications.domain.messages import OutgoingMessage, Sent

PROCESS_MESSAGE = "/$process-message"
FHIR_JSON = "application/fhir+json"
ODS_ORGANISATION = "https://fhir.nhs.uk/Id/ods-organization-code"
DEVICE_IDENTIFIER = "https://signpost.dev/fhir/Id/device"
# Fixed forever: X-Request-ID is derived from it and the idempotency key, so every retry repeats the same id.
_REQUEST_ID_NAMESPACE = uuid.UUID("0d6b3f52-9a1e-5c47-b8e2-7f4a1c9d3e60")
_REFUSED = frozenset({400, 404, 405, 406, 409, 413, 415, 422})
_NOT_NOW = frozenset({408, 429})
_TOO_EARLY = 425  # BaRS: the receiver is still processing the first attempt; unconfirmed, try again later
_DIAGNOSTICS_SHOWN = 300
_ISSUES_SHOWN = 3


def request_id(idempotency_key: str) -> str:
    return str(uuid.uuid5(_REQUEST_ID_NAMESPACE, idempotency_key))


def target_identifier(endpoint: str) -> str:
    """NHSD-Target-Identifier for an endpoint identifier "system|value"; ValueError when it is not one."""
    system, bar, value = endpoint.partition("|")
    if not bar or not system.strip() or not value.strip():
        raise ValueError(
            f"the BaRS endpoint {endpoint[:200]!r} is not 'system|value' (e.g. "
            "'https://fhir.nhs.uk/Id/dos-service-id|2000072489'): the referrer's MessageHeader.source.endpoint "
            "must name their service so the BaRS proxy can route the reply"
        )
    return _base64_json({"value": value.strip(), "system": system.strip()})


def _base64_json(data: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(data, separators=(",", ":")).encode()).decode("ascii")


class BarsSender:
    provider = "bars"

    def __init__(
        self,
        base_url: str,
        *,
        organisation_ods: str,
        organisation_name: str,
        software_name: str = "Signpost",
        software_version: str = "0.1.0",
        token: SecretStr | None = None,
        bars_version: str = "1.5.0",
        use_context: str | None = None,
        connect_timeout_seconds: float = 5.0,
        timeout_seconds: float = 20.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._fixed_headers = {
            "Content-Type": FHIR_JSON,
            "Accept": f"{FHIR_JSON}; version={bars_version}",
            "NHSD-End-User-Organisation": _base64_json(
                {
                    "resourceType": "Organization",
                    "identifier": [{"system": ODS_ORGANISATION, "value": organisation_ods}],
                    "name": organisation_name,
                }
            ),
            "NHSD-Requesting-Software": _base64_json(
                {
                    "resourceType": "Device",
                    "identifier": [{"system": DEVICE_IDENTIFIER, "value": software_name}],
                    "deviceName": [{"name": software_name, "type": "manufacturer-name"}],
                    "version": [{"value": software_version}],
                }
            ),
        }
        if use_context:
            self._fixed_headers["use-context"] = use_context
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds), follow_redirects=False
        )

    def headers_for(self, message: OutgoingMessage) -> dict[str, str]:
        try:
            target = target_identifier(message.recipient)
        except ValueError as exc:
            raise SendError(f"{exc} (referral {message.referral_id})", permanent=True) from None
        headers = {
            **self._fixed_headers,
            "NHSD-Target-Identifier": target,
            "X-Request-ID": request_id(message.idempotency_key),
            "X-Correlation-ID": message.correlation_id,
        }
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        return headers

    async def send(self, message: OutgoingMessage) -> Sent:
        headers = self.headers_for(message)
        url = f"{self.base_url}{PROCESS_MESSAGE}"
        try:
            answer = await self._client.post(url, content=message.text.encode(), headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol) as exc:
            raise ProviderUnavailableError(self._where(f"could not connect: {type(exc).__name__}: {exc}")) from exc
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            # The request may have reached the receiver: an attempt. Its retry carries the same X-Request-ID, so
            # at worst the receiver answers 409 duplicate, which counts as delivered.
            raise SendError(
                self._where(f"no answer after sending: {type(exc).__name__}: {exc}"), permanent=False
            ) from exc
        return self._classified(answer, headers["X-Request-ID"])

    def _classified(self, answer: httpx.Response, sent_request_id: str) -> Sent:
        status = answer.status_code
        if status in (200, 201):
            return Sent(provider_reference=sent_request_id, confirmed=True)
        issues = _issues(answer)
        detail = _diagnostics(issues)
        if status == 409 and any(issue.get("code") == "duplicate" for issue in issues):
            return Sent(provider_reference=sent_request_id, confirmed=True)
        if status in (401, 403):
            raise ProviderUnavailableError(
                self._where(f"HTTP {status}, our credentials were refused ({detail}); check the BaRS access token")
            )
        if status in _NOT_NOW or status >= 500:
            raise ProviderUnavailableError(self._where(f"HTTP {status}, not taking messages now: {detail}"))
        if status == _TOO_EARLY:
            raise SendError(
                self._where(f"HTTP 425, the first attempt is still being processed: {detail}"), permanent=False
            )
        if status in _REFUSED and issues:
            what = "the target service is unknown" if status == 404 else "the message was refused"
            raise SendError(self._where(f"HTTP {status}, {what}: {detail}"), permanent=True)
        # BaRS: an answer without an OperationOutcome comes from something in the way, not the receiver.
        raise ProviderUnavailableError(self._where(f"HTTP {status} without a BaRS OperationOutcome: {detail}"))

    def _where(self, detail: str) -> str:
        return f"{detail} (BaRS proxy {self.base_url})"

    async def aclose(self) -> None:
        await self._client.aclose()


def _issues(answer: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = answer.json()
    except ValueError:
        return []
    if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
        return []
    return [issue for issue in body.get("issue") or [] if isinstance(issue, dict)]


def _diagnostics(issues: list[dict[str, Any]]) -> str:
    if not issues:
        return "no OperationOutcome"
    shown = []
    for issue in issues[:_ISSUES_SHOWN]:
        codes = [c.get("code") for c in (issue.get("details") or {}).get("coding") or [] if isinstance(c, dict)]
        text = " ".join(str(issue.get("diagnostics") or "").split())[:_DIAGNOSTICS_SHOWN]
        shown.append(f"{issue.get('code')}{' ' + '/'.join(map(str, codes)) if codes else ''}: {text}")
    more = len(issues) - _ISSUES_SHOWN
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")

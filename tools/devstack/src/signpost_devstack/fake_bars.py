"""A local fake of the BaRS proxy and the referrer's receiving system: takes `servicerequest-response` messages.

It checks what a real BaRS path checks (the headers, the message Bundle, a repeated X-Request-ID), keeps every
message it accepted in memory and lists them over a small JSON API. Nothing is forwarded anywhere.

In process: `async with FakeBars(port=0) as bars:` (port 0 = any free port) then `bars.base_url`, `bars.messages`
(ReceivedBarsMessage list), `bars.fail_next(2, status=503)`, `bars.faults.delay_seconds = 1.5`, `bars.clear()`.
`FakeBars(token="t")` also requires `Authorization: Bearer t` (401 otherwise).

Command line: `signpost-fake-bars [--host 127.0.0.1] [--http-port 8027] [--token T]`. SIGTERM or SIGINT stops it.

HTTP API (stable: scripts and tests depend on it):

- `POST /$process-message`, and the same under the proxy's prefix `/booking-and-referral/FHIR/R4/$process-message`:
  - 400 OperationOutcome (issue `required`, REC_BAD_REQUEST, `expression` the header) when NHSD-Target-Identifier,
    X-Request-ID, X-Correlation-ID, NHSD-End-User-Organisation or NHSD-Requesting-Software is missing; 400
    (`structure`, PROXY_BAD_REQUEST) when NHSD-Target-Identifier is not Base64 JSON {"value", "system"};
  - 401 (REC_UNAUTHORIZED) without the bearer token, when the fake was given one;
  - an armed fault (below), answered before the body is read and not recorded;
  - 422 (REC_UNPROCESSABLE_ENTITY) unless the body parses as a FHIR R4 (R4B) Bundle of type `message` whose first
    entry is a MessageHeader with eventCoding `servicerequest-response`;
  - 409 (issue `duplicate`, REC_CONFLICT) for an X-Request-ID already accepted, as a real receiver answers;
  - otherwise 200 with an acknowledgement message Bundle (`response.identifier` = the message's MessageHeader.id).
  Every answer echoes X-Request-ID and X-Correlation-ID. OperationOutcomes have the shape of the BaRS examples.
- `GET /messages[?correlation_id=c&target=system|value]` -> a list, oldest first, of
  `{request_id, correlation_id, target, headers, bundle, received_at}`; `target` is the decoded
  NHSD-Target-Identifier as "system|value", `headers` the BaRS headers sent (Authorization redacted), `bundle`
  the message as JSON, `received_at` ISO 8601 UTC.
- `DELETE /messages` -> `{"deleted": n}` (and forgets the X-Request-IDs seen).
- `POST /faults` with `{"fail_next": N, "status": 503, "diagnostics": "..."}` -> the next N messages are answered
  with that status (400, 401, 403, 404, 408, 409, 422, 425, 429, 500 or 503; default 503) and the matching BaRS
  OperationOutcome; with `{"delay_seconds": S}` every message is recorded, then answered S seconds late, until
  cleared. Both may be sent together. Returns the fault state.
- `GET /faults` -> `{"fail_next", "status", "diagnostics", "delay_seconds", "rejected"}` (rejected: total so far).
- `DELETE /faults` -> no faults and no delay from now on.
- `GET /health` -> `{"status": "ok"}`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import signal
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fhir.resources.R4B.bundle import Bundle
from pydantic import BaseModel, Field, ValidationError

from signpost_devstack.in_loop_http import InLoopHttp

PROXY_PREFIX = "/booking-and-referral/FHIR/R4"
FHIR_JSON = "application/fhir+json"
ERROR_CODES = "https://fhir.nhs.uk/Codesystem/http-error-codes"
MESSAGE_EVENTS = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
RESPONSE_EVENT = "servicerequest-response"
REQUIRED_HEADERS = (
    "NHSD-Target-Identifier",
    "X-Request-ID",
    "X-Correlation-ID",
    "NHSD-End-User-Organisation",
    "NHSD-Requesting-Software",
)
RECORDED_HEADERS = (*REQUIRED_HEADERS, "NHSD-Requesting-Practitioner", "Content-Type", "Accept", "use-context")
# status -> (OperationOutcome issue code, BaRS error code), as in the BaRS receiver examples
FAULTS: dict[int, tuple[str, str]] = {
    400: ("invalid", "REC_BAD_REQUEST"),
    401: ("forbidden", "REC_UNAUTHORIZED"),
    403: ("forbidden", "REC_FORBIDDEN"),
    404: ("not-found", "REC_NOT_FOUND"),
    408: ("timeout", "REC_TIMEOUT"),
    409: ("conflict", "REC_CONFLICT"),
    422: ("not-supported", "REC_UNPROCESSABLE_ENTITY"),
    425: ("transient", "REC_TOO_EARLY"),
    429: ("throttled", "REC_TOO_MANY_REQUESTS"),
    500: ("exception", "REC_SERVER_ERROR"),
    503: ("transient", "REC_SERVICE_UNAVAILABLE"),
}


@dataclass(frozen=True)
class ReceivedBarsMessage:
    request_id: str
    correlation_id: str
    target: str
    headers: dict[str, str]
    bundle: dict[str, Any]
    received_at: str


@dataclass
class Faults:
    fail_next: int = 0
    status: int = 503
    diagnostics: str = "the fake BaRS receiver was told to refuse this message"
    delay_seconds: float = 0.0
    rejected: int = 0


class FaultRequest(BaseModel):
    fail_next: int | None = Field(default=None, ge=0, description="how many of the next messages to refuse")
    status: int = Field(default=503, description="HTTP status of the refusals: " + ", ".join(map(str, FAULTS)))
    diagnostics: str | None = Field(default=None, max_length=1000)
    delay_seconds: float | None = Field(default=None, ge=0, le=120, description="answer every message this late")


class RefusalError(Exception):
    def __init__(self, status: int, code: str, error_code: str, diagnostics: str, expression: str | None = None):
        super().__init__(diagnostics)
        self.status, self.code, self.error_code, self.expression = status, code, error_code, expression


def operation_outcome(code: str, error_code: str, diagnostics: str, expression: str | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {
        "severity": "error",
        "code": code,
        "details": {"coding": [{"system": ERROR_CODES, "code": error_code}]},
        "diagnostics": diagnostics,
    }
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def decoded_target(header: str) -> str:
    """ "system|value" from an NHSD-Target-Identifier header; RefusalError as the BaRS proxy answers a bad one."""
    try:
        data = json.loads(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError):
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(key), str) and data[key] for key in ("system", "value")
    ):
        raise RefusalError(
            400,
            "structure",
            "PROXY_BAD_REQUEST",
            'Invalid schema for NHSD-Target-Identifier header: expected Base64 of {"value": ..., "system": ...}',
            "NHSD-Target-Identifier",
        )
    return f"{data['system']}|{data['value']}"


def message_header(body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the Bundle, its MessageHeader) when `body` is a servicerequest-response message; RefusalError (422) if not."""
    try:
        bundle = Bundle.model_validate_json(body)
    except (ValidationError, ValueError) as exc:
        shown = str(exc).splitlines()[:3]
        raise RefusalError(
            422, "invalid", "REC_UNPROCESSABLE_ENTITY", f"not a FHIR R4 Bundle: {' '.join(shown)}"
        ) from None
    data: dict[str, Any] = bundle.model_dump(mode="json", by_alias=True, exclude_none=True)
    entries = data.get("entry") or []
    header = (entries[0].get("resource") or {}) if entries else {}
    if data.get("type") != "message" or header.get("resourceType") != "MessageHeader":
        raise RefusalError(
            422,
            "invalid",
            "REC_UNPROCESSABLE_ENTITY",
            "a BaRS message is a Bundle of type 'message' whose first entry is its MessageHeader",
            "Bundle.entry[0]",
        )
    event = header.get("eventCoding") or {}
    if event.get("system") != MESSAGE_EVENTS or event.get("code") != RESPONSE_EVENT:
        raise RefusalError(
            422,
            "not-supported",
            "REC_UNPROCESSABLE_ENTITY",
            f"this receiver takes {RESPONSE_EVENT} messages ({MESSAGE_EVENTS}), not {event.get('code')!r}",
            "Bundle.entry[0].resource.eventCoding",
        )
    return data, header


def acknowledgement(header: dict[str, Any], received_at: str) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "message",
        "timestamp": received_at,
        "entry": [
            {
                "resource": {
                    "resourceType": "MessageHeader",
                    "eventCoding": header.get("eventCoding"),
                    "source": {"name": "Signpost fake BaRS receiver", "endpoint": "urn:signpost:fake-bars"},
                    "response": {"identifier": header.get("id") or "", "code": "ok"},
                }
            }
        ],
    }


@dataclass
class _Receiver:
    token: str | None = None
    messages: list[ReceivedBarsMessage] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    seen: set[str] = field(default_factory=set)

    async def process(self, request: Request) -> JSONResponse:
        echo = {name: value for name in ("X-Request-ID", "X-Correlation-ID") if (value := request.headers.get(name))}
        try:
            status, body = await self._processed(request)
        except RefusalError as refused:
            outcome = operation_outcome(refused.code, refused.error_code, str(refused), refused.expression)
            status, body = refused.status, outcome
        return JSONResponse(body, status_code=status, headers=echo, media_type=FHIR_JSON)

    async def _processed(self, request: Request) -> tuple[int, dict[str, Any]]:
        sent = request.headers
        for name in REQUIRED_HEADERS:
            if not (sent.get(name) or "").strip():
                raise RefusalError(
                    400, "required", "REC_BAD_REQUEST", f"the {name} header is required and was not sent", name
                )
        target = decoded_target(sent["NHSD-Target-Identifier"])
        if self.token is not None and sent.get("Authorization") != f"Bearer {self.token}":
            raise RefusalError(401, "forbidden", "REC_UNAUTHORIZED", "missing or wrong bearer token", "Authorization")
        if self.faults.fail_next > 0:
            self.faults.fail_next -= 1
            self.faults.rejected += 1
            code, error_code = FAULTS[self.faults.status]
            raise RefusalError(self.faults.status, code, error_code, self.faults.diagnostics)
        bundle, header = message_header(await request.body())
        request_id = sent["X-Request-ID"]
        if request_id in self.seen:
            raise RefusalError(
                409, "duplicate", "REC_CONFLICT", "the message has been identified as having already been processed."
            )
        self.seen.add(request_id)
        received_at = datetime.now(UTC).isoformat()
        headers = {name: sent[name] for name in RECORDED_HEADERS if name in sent}
        if "Authorization" in sent:
            headers["Authorization"] = sent["Authorization"].split(" ", 1)[0] + " [redacted]"
        self.messages.append(
            ReceivedBarsMessage(request_id, sent["X-Correlation-ID"], target, headers, bundle, received_at)
        )
        if self.faults.delay_seconds:
            await asyncio.sleep(self.faults.delay_seconds)
        return 200, acknowledgement(header, received_at)


class FakeBars:
    """The fake inside the caller's event loop. Port 0 picks a free port; read `base_url` after `start()`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, token: str | None = None) -> None:
        self.host = host
        self.port = port
        self._receiver = _Receiver(token=token)
        self._http = InLoopHttp("fake-bars")

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def messages(self) -> list[ReceivedBarsMessage]:
        return self._receiver.messages

    @property
    def faults(self) -> Faults:
        return self._receiver.faults

    def fail_next(self, count: int, status: int = 503, diagnostics: str | None = None) -> None:
        if status not in FAULTS:
            raise ValueError(f"status {status} is not one of {sorted(FAULTS)}")
        self.faults.fail_next, self.faults.status = count, status
        self.faults.diagnostics = diagnostics or Faults.diagnostics

    def clear(self) -> int:
        deleted = len(self.messages)
        self.messages.clear()
        self._receiver.seen.clear()
        return deleted

    def matching(self, correlation_id: str | None = None, target: str | None = None) -> list[ReceivedBarsMessage]:
        return [
            m
            for m in self.messages
            if (correlation_id is None or m.correlation_id == correlation_id) and (target is None or m.target == target)
        ]

    async def start(self) -> None:
        self.port = await self._http.start(self.http_app(), self.host, self.port)

    async def stop(self) -> None:
        await self._http.stop()

    async def __aenter__(self) -> FakeBars:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def http_app(self) -> FastAPI:
        app = FastAPI(title="Signpost fake BaRS receiver")
        for path in ("/$process-message", f"{PROXY_PREFIX}/$process-message"):
            app.add_api_route(path, self._receiver.process, methods=["POST"], response_class=JSONResponse)

        @app.get("/messages")
        async def list_messages(correlation_id: str | None = None, target: str | None = None) -> list[dict[str, Any]]:
            return [asdict(message) for message in self.matching(correlation_id, target)]

        @app.delete("/messages")
        async def delete_messages() -> dict[str, int]:
            return {"deleted": self.clear()}

        @app.get("/faults")
        async def show_faults() -> dict[str, Any]:
            return asdict(self.faults)

        @app.post("/faults", response_model=None)
        async def arm_faults(request: FaultRequest) -> dict[str, Any] | JSONResponse:
            if request.status not in FAULTS:
                detail = f"status must be one of {sorted(FAULTS)}"
                return JSONResponse({"title": "unsupported fault status", "detail": detail}, status_code=422)
            if request.fail_next is not None:
                self.fail_next(request.fail_next, request.status, request.diagnostics)
            if request.delay_seconds is not None:
                self.faults.delay_seconds = request.delay_seconds
            return asdict(self.faults)

        @app.delete("/faults")
        async def clear_faults() -> dict[str, Any]:
            self.faults.fail_next, self.faults.delay_seconds = 0, 0.0
            return asdict(self.faults)

        @app.get("/health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        return app


async def run(host: str, port: int, token: str | None) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    async with FakeBars(host, port, token) as bars:
        # Flushed at once: a supervisor reading this pipe learns the fake is up.
        print(f"Fake BaRS receiver on {bars.base_url}/$process-message, API {bars.base_url}/messages", flush=True)
        await stopping.wait()
    print("Fake BaRS receiver stopped", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local fake BaRS proxy and receiver with a JSON API of what it took.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, default=8027)
    parser.add_argument("--token", default=None, help="require Authorization: Bearer TOKEN")
    args = parser.parse_args(argv)
    asyncio.run(run(args.host, args.http_port, args.token))


if __name__ == "__main__":
    main()

"""BaRS request headers: X-Request-ID and X-Correlation-ID are required on $process-message and echoed back.

The echo is an ASGI middleware rather than route code so that every answer to the path carries them, the
refusals of the token check and of the edge (401, 413...) as well as the route's own.
"""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from referral_intake.adapters.fhir_request import MAX_CORRELATION_ID, correlation_id, request_id
from referral_intake.adapters.outcome import FhirError

PROCESS_MESSAGE = "/fhir/$process-message"
ECHOED = ("x-request-id", "x-correlation-id")


def bars_ids(request: Request) -> tuple[str, str]:
    """(X-Request-ID, X-Correlation-ID), both required by BaRS; 400 naming whichever is missing or malformed."""
    for name in ("X-Request-ID", "X-Correlation-ID"):
        if not (request.headers.get(name) or "").strip():
            raise FhirError.single(
                400,
                "required",
                f"the {name} header is missing; BaRS requires X-Request-ID (a new UUID for each request, the same on "
                "its retries) and X-Correlation-ID (the conversation, the same on every request of it)",
                name,
            )
    sent_request_id, sent_correlation_id = request_id(request), correlation_id(request)
    # Both were checked present just above; the readers return None only for a header that was not sent.
    assert sent_request_id is not None
    assert sent_correlation_id is not None
    return sent_request_id, sent_correlation_id


class EchoBarsHeaders:
    """Copies X-Request-ID and X-Correlation-ID from each $process-message request onto its response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != PROCESS_MESSAGE:
            await self.app(scope, receive, send)
            return
        sent = Headers(scope=scope)
        # Cut to length, then stripped: HTTP forbids a header value that ends in whitespace (h11 drops the
        # connection rather than send one), and a cut can end on a tab the sender put inside it.
        echo = {name: value for name in ECHOED if (value := sent.get(name, "")[:MAX_CORRELATION_ID].strip())}

        async def send_echoing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in echo.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_echoing)

"""The ASGI middleware in front of every service's routes: malformed requests and over-large bodies.

Too large a body is answered 413 only after the rest of it has been read and discarded (up to
`max_body_drain_bytes`), then the connection is closed. Answering before reading, as Starlette's
RequestBodyLimitMiddleware does, makes uvicorn close a connection the client is still writing to,
and a client that writes its whole body before reading (Python's urllib, requests, httpx) sees a
reset connection instead of the answer. With `Expect: 100-continue` the client waits for our word
before sending, so a declared length over the limit is refused at once, nothing read.

The whole body (at most `max_body_bytes`) is read here before the route runs and handed on as one
message, so every route, however it reads, sees a body within the limit.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from signpost_runtime.problems import ErrorShapes, FieldError, Problem
from signpost_runtime.request_checks import malformed_request
from signpost_runtime.settings import ServiceSettings


class _TooLarge:
    def __init__(self, size: int, complete: bool) -> None:
        self.size = size
        self.complete = complete  # False: we stopped reading at the drain limit


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, settings: ServiceSettings, shapes: ErrorShapes) -> None:
        self.app = app
        self.shapes = shapes
        self.max_body = settings.max_body_bytes
        self.max_drain = max(settings.max_body_drain_bytes, settings.max_body_bytes)
        self.max_parameter = settings.max_parameter_length

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = _declared_length(headers)
        waits_for_us = "100-continue" in headers.get("expect", "").lower()
        if declared is not None and declared > self.max_body and (waits_for_us or declared > self.max_drain):
            await self._answer(scope, receive, send, self._too_large(declared), close=True)
            return
        errors = malformed_request(scope, self.max_parameter)
        if errors and waits_for_us:
            await self._answer(scope, receive, send, _malformed(errors), close=True)
            return
        body = await self._read(receive)
        if body is None:
            return  # the client went away while sending
        if isinstance(body, _TooLarge):
            await self._answer(scope, receive, send, self._too_large(body.size, exact=body.complete), close=True)
        elif errors:
            await self._answer(scope, receive, send, _malformed(errors), close=False)
        else:
            await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | _TooLarge | None:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            more = bool(message.get("more_body", False))
            if size > self.max_drain:
                return _TooLarge(size, complete=False)
            if size <= self.max_body:
                chunks.append(chunk)
            else:
                chunks.clear()  # discarded: we only read on so the client can hear the answer
        return _TooLarge(size, complete=True) if size > self.max_body else b"".join(chunks)

    def _too_large(self, size: int, *, exact: bool = True) -> Problem:
        sent = f"{size} bytes" if exact else f"more than {size} bytes"
        return Problem(413, f"request body is too large ({sent}); the limit is {self.max_body} bytes")

    async def _answer(self, scope: Scope, receive: Receive, send: Send, problem: Problem, *, close: bool) -> None:
        response: Response = self.shapes.respond(scope.get("path", ""), problem)
        if close:
            # The connection cannot carry another request: part of this one's body may be unread.
            response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _malformed(errors: list[FieldError]) -> Problem:
    named = "; ".join(error.message for error in errors)
    return Problem(400, f"the request is malformed: {named}", errors)


def _declared_length(headers: Headers) -> int | None:
    value = headers.get("content-length", "")
    return int(value) if value.isdigit() else None


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()  # after the body: wait for the disconnect, as the server would
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay

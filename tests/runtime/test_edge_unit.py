"""The kit's HTTP edge, in process: body limits, malformed input, and every error as a problem."""

from __future__ import annotations

import json
from typing import Annotated, Any

import asyncpg
import httpx
import pytest
from aiokafka import errors as kafka_errors
from fastapi import APIRouter, FastAPI, Query, Request

from signpost_runtime.auth import AuthError
from signpost_runtime.http import install_edge
from signpost_runtime.problems import FieldError, Problem
from signpost_runtime.settings import ServiceSettings

pytestmark = pytest.mark.unit

LIMIT = 1000
DRAIN = 5000


def _app(**settings: Any) -> FastAPI:
    app = FastAPI()
    install_edge(app, ServiceSettings(max_body_bytes=LIMIT, max_body_drain_bytes=DRAIN, **settings))
    app.state.bodies = []

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        body = await request.body()
        app.state.bodies.append(body)
        return {"size": len(body)}

    @app.get("/items")
    async def items(referral_id: Annotated[str, Query(max_length=20)], page: int = 1) -> dict[str, Any]:
        return {"referral_id": referral_id, "page": page}

    forms = APIRouter()  # a path of two routes, in an included router as services' pages are

    @forms.get("/form")
    async def form() -> dict[str, str]:
        return {}

    @forms.post("/form")
    async def submit() -> dict[str, str]:
        return {}

    app.include_router(forms)

    @app.get("/raise/{kind}")
    async def raising(kind: str) -> None:
        raise _ERRORS[kind]

    return app


_ERRORS: dict[str, Exception] = {
    "refused": ConnectionRefusedError(111, "refused"),
    "timeout": TimeoutError(),
    "starting-up": asyncpg.CannotConnectNowError("the database system is starting up"),
    "deadlock": asyncpg.DeadlockDetectedError("deadlock detected"),
    "disk-full": asyncpg.DiskFullError("could not extend file"),
    "read-only": asyncpg.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction"),
    "broker": kafka_errors.KafkaConnectionError("no broker"),
    "unique": asyncpg.UniqueViolationError("duplicate key"),
    "nul": asyncpg.CharacterNotInRepertoireError("invalid byte sequence for encoding UTF8: 0x00"),
    "bug": RuntimeError("a bug with a secret in it"),
    "no-token": AuthError(401, "missing bearer token"),
    "no-scope": AuthError(403, "token lacks the 'x:read' scope needed here"),
    "checker-down": AuthError(503, "token keys unreachable"),
    "problem": Problem(409, "already there", [FieldError("id", "is taken")]),
}


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["type"], body["status"]) == ("about:blank", status)
    assert body["title"]
    assert body["detail"]
    return body


class Wire:
    """An ASGI server's side of one request: the body in messages, and what the app sent back."""

    def __init__(self, chunks: list[bytes], headers: dict[str, str], path: str = "/echo") -> None:
        self.chunks = chunks
        self.read = 0
        self.sent: list[dict[str, Any]] = []
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }

    async def receive(self) -> dict[str, Any]:
        if self.read >= len(self.chunks):
            return {"type": "http.disconnect"}
        self.read += 1
        return {"type": "http.request", "body": self.chunks[self.read - 1], "more_body": self.read < len(self.chunks)}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def run(self, app: FastAPI) -> tuple[int, dict[str, str], dict[str, Any]]:
        await app(self.scope, self.receive, self.send)  # type: ignore[arg-type]
        start = self.sent[0]
        headers = {k.decode(): v.decode() for k, v in start["headers"]}
        body = b"".join(m.get("body", b"") for m in self.sent[1:])
        return start["status"], headers, json.loads(body)


async def test_a_chunked_body_over_the_limit_is_read_to_its_end_then_refused_with_413_and_close():
    app = _app()
    wire = Wire([b"x" * 400] * 10, {"transfer-encoding": "chunked"})
    status, headers, body = await wire.run(app)
    assert (status, headers["connection"], headers["content-type"]) == (413, "close", "application/problem+json")
    assert wire.read == 10, "the whole body was read, so the client hears the answer instead of a reset"
    assert "the limit is 1000 bytes" in body["detail"]
    assert app.state.bodies == [], "the route never ran"


async def test_a_declared_length_over_the_limit_is_drained_then_refused():
    app = _app()
    wire = Wire([b"x" * 1000, b"x" * 1000, b"x" * 500], {"content-length": "2500"})
    status, headers, body = await wire.run(app)
    assert (status, headers["connection"], wire.read) == (413, "close", 3)
    assert "(2500 bytes)" in body["detail"]


async def test_with_expect_100_continue_an_over_limit_length_is_refused_before_the_body_is_sent():
    wire = Wire([b"x" * 2500], {"content-length": "2500", "expect": "100-continue"})
    status, headers, _ = await wire.run(_app())
    assert (status, headers["connection"]) == (413, "close")
    assert wire.read == 0, "receiving would have told the server to send 100 Continue"


async def test_reading_stops_at_the_drain_limit_and_the_connection_is_closed():
    wire = Wire([b"x" * 1000] * 20, {"transfer-encoding": "chunked"})
    status, headers, body = await wire.run(_app())
    assert (status, headers["connection"]) == (413, "close")
    assert wire.read == 6, "no more than the drain limit is read"
    assert "more than 6000 bytes" in body["detail"]


async def test_a_declared_length_beyond_the_drain_limit_is_refused_without_reading():
    wire = Wire([b"x" * 1000] * 20, {"content-length": "20000"})
    status, _, _ = await wire.run(_app())
    assert (status, wire.read) == (413, 0)


async def test_a_body_within_the_limit_reaches_the_route_whole_in_however_many_pieces_it_came():
    app = _app()
    wire = Wire([b"a" * 500, b"b" * 500], {"transfer-encoding": "chunked"})
    status, _, body = await wire.run(app)
    assert (status, body) == (200, {"size": 1000})
    assert app.state.bodies == [b"a" * 500 + b"b" * 500]


@pytest.mark.parametrize(
    ("url", "headers", "field"),
    [
        ("/items?referral_id=%00abc", {}, "referral_id"),
        ("/items?referral_id=a%0Ab", {}, "referral_id"),
        ("/items?referral_id=%7F", {}, "referral_id"),
        ("/items?referral_id=%C3%28", {}, "referral_id"),  # not UTF-8
        ("/items?referral_id=%ED%A0%80", {}, "referral_id"),  # a lone surrogate, UTF-8-encoded
        ("/items?referral_id=a&page=" + "9" * 2049, {}, "page"),
        ("/items?%00=1&referral_id=a", {}, "query"),
        ("/raise/%00bug", {}, "path"),
        ("/raise/%ED%B2%80", {}, "path"),
        ("/raise/" + "x" * 2049, {}, "path"),
        ("/items?referral_id=a", {"X-Correlation-ID": "abc\x00def"}, "x-correlation-id"),
        ("/items?referral_id=a", {"X-Correlation-ID": "abc\x1bdef"}, "x-correlation-id"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None,
)
async def test_a_malformed_path_query_or_header_is_a_400_naming_it(url, headers, field):
    async with _client(_app()) as client:
        response = await client.get(url, headers=headers)
    body = _problem(response, 400)
    assert [error["field"] for error in body["errors"]] == [field]
    assert body["errors"][0]["message"] in body["detail"]


async def test_the_length_limit_counts_characters_not_bytes():
    async with _client(_app(max_parameter_length=30)) as client:
        within = await client.get("/items", params={"referral_id": "é" * 20})  # 20 characters, 40 bytes
        longer = await client.get("/items", params={"referral_id": "é" * 31})
    assert within.status_code == 200
    assert _problem(longer, 400)["errors"][0]["message"].endswith("the longest value taken here is 30 characters")


async def test_tabs_in_headers_and_any_real_unicode_are_taken():
    async with _client(_app()) as client:
        response = await client.get("/items?referral_id=Z%C3%BCrich+%F0%9F%98%80", headers={"X-Correlation-ID": "a\tb"})
    assert response.status_code == 200
    assert response.json()["referral_id"] == "Zürich 😀"


async def test_parameter_validation_is_a_400_problem_naming_the_field_not_fastapis_422():
    async with _client(_app()) as client:
        missing = await client.get("/items")
        too_long = await client.get("/items", params={"referral_id": "x" * 21, "page": "two"})
    assert _problem(missing, 400)["errors"] == [
        {"field": "referral_id", "message": "query parameter 'referral_id': Field required"}
    ]
    assert [e["field"] for e in _problem(too_long, 400)["errors"]] == ["referral_id", "page"]


async def test_an_unknown_path_and_an_unsupported_method_are_problems():
    async with _client(_app()) as client:
        unknown = await client.get("/nowhere")
        wrong_method = await client.delete("/items")
    assert "/nowhere is not a resource" in _problem(unknown, 404)["detail"]
    assert _problem(wrong_method, 405)
    assert wrong_method.headers["allow"] == "GET"


async def test_an_unsupported_method_on_a_path_of_two_routes_names_both_methods():
    async with _client(_app()) as client:
        response = await client.delete("/form")
    assert response.headers["allow"] == "GET, POST"
    assert _problem(response, 405)["detail"] == "DELETE is not supported on /form; it takes GET, POST"


@pytest.mark.parametrize("kind", ["refused", "timeout", "starting-up", "deadlock", "disk-full", "read-only", "broker"])
async def test_an_infrastructure_failure_is_a_503_with_retry_after_never_a_500(kind):
    async with _client(_app()) as client:
        response = await client.get(f"/raise/{kind}")
    assert "retry in a few seconds" in _problem(response, 503)["detail"]
    assert response.headers["retry-after"] == "5"


@pytest.mark.parametrize("kind", ["unique", "nul", "bug"])
async def test_a_bug_is_a_500_problem_without_a_stack_trace(kind):
    async with _client(_app()) as client:
        response = await client.get(f"/raise/{kind}")
    body = _problem(response, 500)
    assert "Traceback" not in response.text
    assert "secret" not in response.text
    assert "report it if it persists" in body["detail"]


async def test_token_refusals_and_raised_problems_keep_their_status_and_headers():
    async with _client(_app()) as client:
        no_token = await client.get("/raise/no-token")
        no_scope = await client.get("/raise/no-scope")
        conflict = await client.get("/raise/problem")
    assert _problem(no_token, 401)["detail"] == "missing bearer token"
    assert no_token.headers["www-authenticate"] == "Bearer"
    assert _problem(no_scope, 403)["title"] == "Forbidden"
    assert _problem(conflict, 409)["errors"] == [{"field": "id", "message": "is taken"}]


async def test_a_token_that_cannot_be_checked_for_an_outage_is_a_503_not_a_401(monkeypatch):
    class AuthUnavailable(Exception):  # noqa: N818 (the name the auth engineer may give it)
        pass

    monkeypatch.setattr("signpost_runtime.auth.AuthUnavailable", AuthUnavailable, raising=False)
    app = _app()

    @app.get("/keys-gone")
    async def keys_gone() -> None:
        raise AuthUnavailable("the identity provider's key set cannot be fetched")

    async with _client(app) as client:
        gone = await client.get("/keys-gone")
        checker_down = await client.get("/raise/checker-down")
    assert _problem(gone, 503)["detail"].startswith("the identity provider's key set cannot be fetched")
    assert gone.headers["retry-after"] == "5"
    assert _problem(checker_down, 503)["detail"].startswith("token keys unreachable")

"""A request too large to take gets a readable 413 over real TCP, whichever way the client sends it.

Clients such as Python's urllib, http.client and requests write the whole body before they read a
byte of the answer. A server that answers early and closes leaves them a reset connection, not a 413.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from referral_intake.app import create_app
from referral_intake.config import IntakeSettings
from support.auth import bearer
from support.listening import listening
from support.services import settings_for

pytestmark = pytest.mark.integration

SIX_MB = 6 * 1024 * 1024
HEADERS = {**bearer("referrals:write", "referrals:read"), "Content-Type": "application/fhir+json"}


@pytest.fixture
async def server(infrastructure, namespace, database_url) -> AsyncIterator[tuple[str, int]]:
    app = create_app(settings_for(IntakeSettings, infrastructure, namespace, database_url))
    async with listening(app) as address:
        yield address


def _large_referral() -> bytes:
    return b'{"resourceType": "ServiceRequest", "note": [{"text": "' + b"x" * SIX_MB + b'"}]}'


def _post_with_urllib(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # writes every byte, then reads
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers, refused.read()


def _post_chunked(host: str, port: int, path: str, chunks: Iterator[bytes]) -> tuple[int, Any, bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        connection.request("POST", path, body=chunks, headers=HEADERS)  # an iterable: Transfer-Encoding chunked
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def _expect_continue(host: str, port: int, length: int) -> bytes:
    """Send only the head of a request that waits for 100 Continue; read what comes back until it closes."""
    head = ["POST /fhir/ServiceRequest HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {length}",
            "Expect: 100-continue", *(f"{name}: {value}" for name, value in HEADERS.items())]  # fmt: skip
    with socket.create_connection((host, port), timeout=20) as connection:
        connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def _assert_too_long_outcome(status: int, headers: Any, body: bytes) -> dict[str, Any]:
    assert status == 413
    assert headers["Content-Type"].startswith("application/fhir+json")
    assert headers["Connection"] == "close"
    outcome = json.loads(body)
    [issue] = outcome["issue"]
    assert (outcome["resourceType"], issue["code"]) == ("OperationOutcome", "too-long")
    assert issue["details"]["coding"][0]["code"] == "REC_BAD_REQUEST"
    assert "the limit is 1048576 bytes" in issue["diagnostics"]
    return issue  # type: ignore[no-any-return]


async def test_a_6_mb_referral_sent_whole_by_urllib_gets_a_readable_413_operation_outcome(server):
    host, port = server
    status, headers, body = await _in_thread(_post_with_urllib, f"http://{host}:{port}/fhir/ServiceRequest",
                                             _large_referral(), HEADERS)  # fmt: skip
    issue = _assert_too_long_outcome(status, headers, body)
    assert f"({len(_large_referral())} bytes)" in issue["diagnostics"]


async def test_a_6_mb_chunked_referral_with_no_length_gets_a_readable_413_operation_outcome(server):
    host, port = server
    chunks = (b"x" * 65536 for _ in range(SIX_MB // 65536))
    _assert_too_long_outcome(*await _in_thread(_post_chunked, host, port, "/fhir/ServiceRequest", chunks))


async def test_expecting_100_continue_an_over_limit_length_is_refused_before_any_body_is_sent(server):
    host, port = server
    received = await _in_thread(_expect_continue, host, port, SIX_MB)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), received[:200]
    assert b"100 Continue" not in head
    assert json.loads(body)["issue"][0]["code"] == "too-long"


async def test_a_6_mb_body_elsewhere_than_fhir_gets_a_readable_413_problem(server):
    host, port = server
    status, headers, body = await _in_thread(_post_with_urllib, f"http://{host}:{port}/health/live",
                                             b"{}" * (SIX_MB // 2), {"Content-Type": "application/json"})  # fmt: skip
    assert (status, headers["Content-Type"], headers["Connection"]) == (413, "application/problem+json", "close")
    assert json.loads(body)["detail"].startswith("request body is too large")


async def _in_thread(function: Any, *args: Any) -> Any:
    return await asyncio.to_thread(function, *args)  # the blocking client must not stall the server's loop

"""The BaRS header echo sends back only values HTTP allows (found by schemathesis: a cut ending on a tab)."""

from __future__ import annotations

import pytest
from starlette.types import Message, Receive, Scope, Send

from referral_intake.bars.headers import PROCESS_MESSAGE, EchoBarsHeaders

pytestmark = pytest.mark.unit


async def _echoed(request_id: str) -> dict[bytes, bytes]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 400, "headers": []})

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "path": PROCESS_MESSAGE, "headers": [(b"x-request-id", request_id.encode())]}
    await EchoBarsHeaders(app)(scope, lambda: None, send)  # type: ignore[arg-type]
    return dict(sent[0]["headers"])


async def test_an_echoed_header_cut_to_length_never_ends_in_whitespace():
    value = "a" * 199 + "\tb"  # cut at 200 characters, it would end in the tab
    assert (await _echoed(value))[b"x-request-id"] == b"a" * 199


async def test_a_header_of_whitespace_alone_is_not_echoed():
    assert b"x-request-id" not in await _echoed(" \t ")

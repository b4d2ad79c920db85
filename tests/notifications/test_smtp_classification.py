"""Which SMTP failures are a refusal of the message (an attempt) and which are the provider out of reach."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from notifications.adapters.smtp import SmtpSender
from notifications.config import NotificationsSettings
from notifications.domain.deliveries import ProviderUnavailableError, SendError
from notifications.domain.messages import OutgoingMessage
from signpost_devstack.net import free_port

pytestmark = pytest.mark.integration

EMAIL = OutgoingMessage(
    "email", "gp@example.nhs.uk", "Referral 1: accepted", "Hello\n", "<m@signpost.local>", "email:e", "r-1", "c-1"
)


def _sender(host: str, port: int, **overrides: object) -> SmtpSender:
    return SmtpSender(NotificationsSettings(smtp_host=host, smtp_port=port, smtp_timeout_seconds=2, **overrides))


@pytest.fixture
async def hangs_up() -> AsyncIterator[int]:
    """A server that accepts and closes at once, like a provider whose backend is gone."""

    async def close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(close, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


async def test_a_closed_port_is_an_outage_not_an_attempt():
    with pytest.raises(ProviderUnavailableError, match="Connect call failed"):
        await _sender("127.0.0.1", free_port()).send(EMAIL)


async def test_a_name_that_does_not_resolve_is_an_outage():
    with pytest.raises(ProviderUnavailableError, match=r"no-such-host\.invalid"):
        await _sender("no-such-host.invalid", 25).send(EMAIL)


async def test_a_server_that_hangs_up_before_its_greeting_is_an_outage(hangs_up: int):
    with pytest.raises(ProviderUnavailableError):
        await _sender("127.0.0.1", hangs_up).send(EMAIL)


async def test_a_failed_tls_handshake_is_an_outage(sink):
    with pytest.raises(ProviderUnavailableError):
        await _sender(sink.host, sink.smtp_port, smtp_use_tls=True).send(EMAIL)


async def test_421_service_not_available_is_an_outage(sink):
    sink.fail_next(1, code=421)
    with pytest.raises(ProviderUnavailableError, match="421"):
        await _sender(sink.host, sink.smtp_port).send(EMAIL)


@pytest.mark.parametrize(("code", "permanent"), [(451, False), (452, False), (550, True), (554, True)])
async def test_a_reply_to_the_message_is_a_refusal_and_5xx_is_for_good(sink, code: int, permanent: bool):
    sink.fail_next(1, code=code)
    with pytest.raises(SendError, match=str(code)) as refused:
        await _sender(sink.host, sink.smtp_port).send(EMAIL)
    assert refused.value.permanent is permanent

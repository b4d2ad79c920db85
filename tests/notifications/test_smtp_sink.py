"""The local SMTP sink: what it keeps, its JSON API, its fault injection, and its process."""

from __future__ import annotations

import asyncio
import signal
import sys
from email.message import EmailMessage

import aiosmtplib
import httpx
import pytest

from signpost_devstack.net import free_port
from signpost_devstack.smtp_sink import SmtpSink

pytestmark = pytest.mark.integration


def _email(to: str = "gp@example.nhs.uk") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Signpost <notifications@signpost.local>"
    message["To"] = to
    message["Subject"] = "Referral GP-1: not accepted"
    message["Message-ID"] = "<abc@signpost.local>"
    message["X-Signpost-Idempotency-Key"] = "email:evt-1"
    message.set_content("Reasons:\n  - outside the area\n")
    return message


async def test_the_sink_lists_received_mail_over_http_and_forgets_it_on_request(sink):
    await aiosmtplib.send(_email(), hostname=sink.host, port=sink.smtp_port)
    await aiosmtplib.send(_email(to="other@example.org"), hostname=sink.host, port=sink.smtp_port)
    async with httpx.AsyncClient(base_url=f"http://{sink.host}:{sink.http_port}") as api:
        [listed] = (await api.get("/messages", params={"rcpt": "gp@example.nhs.uk"})).json()
        assert listed["message_id"] == "<abc@signpost.local>"
        assert listed["rcpt_tos"] == ["gp@example.nhs.uk"]
        assert listed["mail_from"] == "notifications@signpost.local"
        assert listed["subject"] == "Referral GP-1: not accepted"
        assert listed["headers"]["X-Signpost-Idempotency-Key"] == "email:evt-1"
        assert listed["text"] == "Reasons:\n  - outside the area\n"
        assert listed["received_at"]
        assert (await api.delete("/messages")).json() == {"deleted": 2}
        assert (await api.get("/messages")).json() == []


async def test_the_sink_refuses_the_next_messages_when_told_to(sink):
    async with httpx.AsyncClient(base_url=f"http://{sink.host}:{sink.http_port}") as api:
        armed = await api.post("/faults", json={"fail_next": 1, "code": 550})
        assert armed.json()["fail_next"] == 1
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await aiosmtplib.send(_email(), hostname=sink.host, port=sink.smtp_port)
        assert refused.value.code == 550
        await aiosmtplib.send(_email(), hostname=sink.host, port=sink.smtp_port)
        assert (await api.get("/faults")).json()["rejected"] == 1
        assert len((await api.get("/messages")).json()) == 1


async def test_the_sink_process_serves_until_sigterm_and_then_exits_cleanly():
    smtp_port, http_port = free_port(), free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "signpost_devstack.smtp_sink",
        "--smtp-port",
        str(smtp_port),
        "--http-port",
        str(http_port),
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        banner = await asyncio.wait_for(process.stdout.readline(), timeout=20)
        assert f"smtp://127.0.0.1:{smtp_port}" in banner.decode()
        await aiosmtplib.send(_email(), hostname="127.0.0.1", port=smtp_port)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as api:
            assert len((await api.get("/messages")).json()) == 1
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_an_in_process_sink_frees_its_ports_when_stopped():
    async with SmtpSink() as running:
        port = running.smtp_port
    with pytest.raises(OSError):
        await aiosmtplib.send(_email(), hostname="127.0.0.1", port=port, timeout=2)

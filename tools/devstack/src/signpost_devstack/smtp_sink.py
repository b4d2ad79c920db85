"""A local SMTP sink: accepts every email, keeps it in memory, shows it over a small JSON API.

`make run` and the end-to-end test start it as a process (`signpost-smtp-sink`); integration tests
use it in their own event loop. Nothing is ever relayed onwards.

In process: `async with SmtpSink() as sink:` (ports 0 = any free port) then `sink.smtp_port`,
`sink.http_port`, `sink.messages` (ReceivedMessage list), `sink.fail_next(2, code=451)`,
`sink.faults.rejected`, `sink.clear()`.

Command line: `signpost-smtp-sink [--host 127.0.0.1] [--smtp-port 1025] [--http-port 8025]`.
SIGTERM or SIGINT stops it cleanly.

HTTP API (stable: scripts and the end-to-end test depend on it), all JSON:

- `GET /messages[?rcpt=addr]` -> a list, oldest first, of
  `{message_id, mail_from, rcpt_tos, subject, headers, text, received_at}`; `headers` holds
  Message-ID, From, To, Subject, Date, Auto-Submitted and every `X-Signpost-*` header present;
  `text` is the text/plain body; `received_at` is ISO 8601 UTC. `rcpt` keeps only messages to addr.
- `DELETE /messages` -> `{"deleted": n}`.
- `POST /faults` with `{"fail_next": N, "code": 451, "message": "..."}` -> the next N messages are
  refused at DATA with that SMTP code (4xx transient, 5xx permanent; default 451). Returns the fault state.
- `GET /faults` -> `{"fail_next": remaining, "code": c, "message": m, "rejected": total refused so far}`.
- `DELETE /faults` -> refuse nothing from now on.
- `GET /health` -> `{"status": "ok"}`.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import signal
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP
from fastapi import FastAPI
from pydantic import BaseModel, Field

from signpost_devstack.in_loop_http import InLoopHttp

HEADERS_OF_INTEREST = ("Message-ID", "From", "To", "Subject", "Date", "Auto-Submitted")


@dataclass(frozen=True)
class ReceivedMessage:
    message_id: str | None
    mail_from: str
    rcpt_tos: list[str]
    subject: str
    headers: dict[str, str]
    text: str
    received_at: str

    @classmethod
    def parse(cls, mail_from: str, rcpt_tos: list[str], content: bytes) -> ReceivedMessage:
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        headers = {name: str(message[name]) for name in HEADERS_OF_INTEREST if message[name] is not None}
        headers.update({name: str(value) for name, value in message.items() if name.lower().startswith("x-signpost-")})
        body = message.get_body(preferencelist=("plain",))
        return cls(
            message_id=headers.get("Message-ID"),
            mail_from=mail_from,
            rcpt_tos=list(rcpt_tos),
            subject=headers.get("Subject", ""),
            headers=headers,
            text=body.get_content().replace("\r\n", "\n") if isinstance(body, EmailMessage) else "",
            received_at=datetime.now(UTC).isoformat(),
        )


@dataclass
class Faults:
    fail_next: int = 0
    code: int = 451
    message: str = "4.3.0 SMTP sink told to refuse this message"
    rejected: int = 0


class FaultRequest(BaseModel):
    fail_next: int = Field(ge=0, description="how many of the next messages to refuse")
    code: int = Field(default=451, ge=400, le=599, description="SMTP reply code: 4xx transient, 5xx permanent")
    message: str | None = None


@dataclass
class _Handler:
    """aiosmtpd handler: store the message, or refuse it while a fault is armed."""

    messages: list[ReceivedMessage] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's hook name)
        if self.faults.fail_next > 0:
            self.faults.fail_next -= 1
            self.faults.rejected += 1
            return f"{self.faults.code} {self.faults.message}"
        content = envelope.original_content or envelope.content or b""
        self.messages.append(ReceivedMessage.parse(envelope.mail_from or "", envelope.rcpt_tos, content))
        return "250 2.0.0 Message accepted by the Signpost SMTP sink"


class SmtpSink:
    """The sink inside the caller's event loop. Port 0 picks free ports; read them after `start()`."""

    def __init__(self, host: str = "127.0.0.1", smtp_port: int = 0, http_port: int = 0) -> None:
        self.host = host
        self.smtp_port = smtp_port
        self.http_port = http_port
        self._handler = _Handler()
        self._smtp: asyncio.Server | None = None
        self._http = InLoopHttp("smtp-sink")

    @property
    def messages(self) -> list[ReceivedMessage]:
        return self._handler.messages

    @property
    def faults(self) -> Faults:
        return self._handler.faults

    def fail_next(self, count: int, code: int = 451, message: str | None = None) -> None:
        self.faults.fail_next, self.faults.code = count, code
        self.faults.message = message or f"{'4.3.0' if code < 500 else '5.0.0'} SMTP sink told to refuse this message"

    def clear(self) -> int:
        deleted = len(self.messages)
        self.messages.clear()
        return deleted

    def messages_to(self, address: str) -> list[ReceivedMessage]:
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._smtp = await loop.create_server(
            # An explicit hostname: aiosmtpd would otherwise resolve the FQDN, which can stall on DNS.
            lambda: SMTP(self._handler, hostname="smtp-sink.signpost.local", enable_SMTPUTF8=True, loop=loop),
            self.host,
            self.smtp_port,
        )
        self.smtp_port = self._smtp.sockets[0].getsockname()[1]
        self.http_port = await self._http.start(self.http_app(), self.host, self.http_port)

    async def stop(self) -> None:
        await self._http.stop()
        if self._smtp is not None:
            self._smtp.close()
            await self._smtp.wait_closed()

    async def __aenter__(self) -> SmtpSink:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def http_app(self) -> FastAPI:
        app = FastAPI(title="Signpost SMTP sink")

        @app.get("/messages")
        async def list_messages(rcpt: str | None = None) -> list[dict[str, Any]]:
            chosen = self.messages_to(rcpt) if rcpt else self.messages
            return [asdict(message) for message in chosen]

        @app.delete("/messages")
        async def delete_messages() -> dict[str, int]:
            return {"deleted": self.clear()}

        @app.get("/faults")
        async def show_faults() -> dict[str, Any]:
            return asdict(self.faults)

        @app.post("/faults")
        async def arm_faults(request: FaultRequest) -> dict[str, Any]:
            self.fail_next(request.fail_next, request.code, request.message)
            return asdict(self.faults)

        @app.delete("/faults")
        async def clear_faults() -> dict[str, Any]:
            self.faults.fail_next = 0
            return asdict(self.faults)

        @app.get("/health")
        async def health() -> dict[str, str]:
            return {"status": "ok"}

        return app


async def run(host: str, smtp_port: int, http_port: int) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    async with SmtpSink(host, smtp_port, http_port) as sink:
        # Flushed at once: a supervisor reading this pipe learns the sink is up.
        print(f"SMTP sink on smtp://{host}:{sink.smtp_port}, API http://{host}:{sink.http_port}/messages", flush=True)
        await stopping.wait()
    print("SMTP sink stopped", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local SMTP sink with a JSON API for reading what was sent.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    args = parser.parse_args(argv)
    asyncio.run(run(args.host, args.smtp_port, args.http_port))


if __name__ == "__main__":
    main()

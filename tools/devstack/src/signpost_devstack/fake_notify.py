"""A fake GOV.UK Notify: the v2 API the official client uses, with Notify's auth, errors and receipts.

`make run` and the end-to-end tests start it as a process (`signpost-fake-notify`); integration tests
use it in their own event loop. Nothing is ever sent anywhere: notifications are kept in memory.

In process: `async with FakeNotify() as notify:` (port 0 = any free port) then `notify.base_url`,
`key = notify.api_key()` (a valid key for a new service; `api_key(service_id, secret)` for given
uuids), `notify.notifications` (FakeNotification list), `notify.faults` (Faults, mutable),
`notify.fail_next(2, status=500)`, `notify.clear()`, `notify.receipt_delay_seconds`.

Command line: `signpost-fake-notify [--host 127.0.0.1] [--http-port 8026] [--templates FILE]
[--api-key KEY ...] [--receipt-delay-seconds 0.5]`. Without `--api-key` it accepts `DEV_API_KEY`
(a key for this fake only). Without `--templates` it has the test-only templates beside this module
(`fake_notify_templates`). It listens on loopback only. SIGTERM or SIGINT stops it cleanly.

Notify's API, as Notify answers it (`Authorization: Bearer <JWT>`, HS256 signed with the key's
secret, `iss` = its service id, `iat` within 30 seconds of now; errors are
`{"status_code": n, "errors": [{"error": "AuthError", "message": ...}]}`, 401 without a token):

- `POST /v2/notifications/email`, `POST /v2/notifications/sms` -> 201 with Notify's response. 400
  ValidationError for a missing field, a template id that is not a uuid, an invalid email address or
  UK mobile number; 400 BadRequestError "Template not found", for a template of the other type, and
  "Missing personalisation: a, b".
- `GET /v2/notifications/{id}` -> the notification (404 NoResultFound for another service's or none).
- `GET /v2/notifications[?reference=&status=&template_type=&older_than=]` -> `{"notifications":
  [newest first, up to 250], "links": {"current", "next"}}`; status `failed` means the three failures.

A notification is `sending` until `--receipt-delay-seconds` after it arrived, then `delivered`,
unless a receipts fault says otherwise.

Inspection and faults (stable: scripts and tests depend on them), all JSON, no auth:

- `GET /notifications[?reference=&to=]` -> a list, oldest first, of `{id, type, to, template_id,
  personalisation, reference, subject, body, status, created_at, sent_at, completed_at}`; `to`
  matches addresses ignoring case and numbers however written. `DELETE /notifications` -> `{"deleted": n}`.
- `POST /faults` with any of: `{"fail_next": N, "status": 500, "message": "...", "error": "..."}`
  (the next N send requests are answered with that status: 400 BadRequestError, 403 AuthError, 429
  RateLimitError, 5xx Exception, unless `error` names another); `{"delay_seconds": S}` (every send is
  recorded at once and answered S seconds later: Notify took it but answered late);
  `{"receipts": "delivered"|"permanent-failure"|"temporary-failure"|"technical-failure"|"never"}`
  (the final status of every notification accepted from now on; "never" keeps them `sending`);
  `{"fail_to": "<address or number>", "receipts": ...}` (the same, for one recipient). Returns the state.
- `GET /faults` -> `{fail_next, status, error, message, delay_seconds, receipts, receipts_to, rejected}`.
- `DELETE /faults` -> everything back to normal. `GET /health` -> `{"status": "ok"}`.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import signal
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI

from signpost_devstack.fake_notify_api import NotifyState, build_app
from signpost_devstack.fake_notify_state import (
    DEV_API_KEY,
    FakeNotification,
    Faults,
    notify_api_key,
)
from signpost_devstack.fake_notify_templates import TEST_TEMPLATES, Template, load_templates
from signpost_devstack.in_loop_http import InLoopHttp

__all__ = ["DEV_API_KEY", "FakeNotification", "FakeNotify", "Faults", "notify_api_key"]


def _loopback(host: str) -> str:
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"the fake GOV.UK Notify listens on loopback only, not {host}")
    return host


@dataclass
class FakeNotify:
    """The fake inside the caller's event loop. Port 0 picks a free port; read it after `start()`."""

    host: str = "127.0.0.1"
    port: int = 0
    templates: Path | dict[str, Template] = TEST_TEMPLATES
    api_keys: Iterable[str] = ()
    receipt_delay_seconds: float = 0.5
    state: NotifyState = field(init=False)
    _http: InLoopHttp = field(default_factory=lambda: InLoopHttp("fake-notify"), init=False)

    def __post_init__(self) -> None:
        _loopback(self.host)
        loaded = load_templates(self.templates) if isinstance(self.templates, Path) else dict(self.templates)
        self.state = NotifyState(templates=loaded, receipt_delay=lambda: self.receipt_delay_seconds)
        for key in self.api_keys:
            self.state.accept_key(key)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def notifications(self) -> list[FakeNotification]:
        return self.state.notifications

    @property
    def faults(self) -> Faults:
        return self.state.faults

    def api_key(self, service_id: str | None = None, secret: str | None = None, name: str = "signpost_test") -> str:
        """A key in Notify's format that this fake accepts (new uuids unless given)."""
        key = notify_api_key(service_id or str(uuid.uuid4()), secret or str(uuid.uuid4()), name)
        self.state.accept_key(key)
        return key

    def fail_next(self, count: int, status: int = 500, message: str | None = None, error: str | None = None) -> None:
        self.faults.arm(count, status, message, error)

    def clear(self) -> int:
        return self.state.clear()

    async def start(self) -> None:
        self.port = await self._http.start(self.http_app(), self.host, self.port, timeout_graceful_shutdown=5)

    async def stop(self) -> None:
        await self._http.stop()

    async def __aenter__(self) -> FakeNotify:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def http_app(self) -> FastAPI:
        return build_app(self.state, lambda: self.base_url)


async def run(host: str, port: int, templates: Path, api_keys: list[str], receipt_delay: float) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    fake = FakeNotify(host, port, templates, api_keys or [DEV_API_KEY], receipt_delay)
    async with fake:
        # Flushed at once: a supervisor reading this pipe learns the fake is up.
        print(f"Fake GOV.UK Notify on {fake.base_url} (notifications: {fake.base_url}/notifications)", flush=True)
        await stopping.wait()
    print("Fake GOV.UK Notify stopped", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake GOV.UK Notify with a JSON API for reading what was sent.")
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--http-port", type=int, default=8026)
    parser.add_argument("--templates", type=Path, default=TEST_TEMPLATES, help="JSON list of templates")
    parser.add_argument("--api-key", action="append", default=[], help="an accepted key (repeatable)")
    parser.add_argument("--receipt-delay-seconds", type=float, default=0.5)
    args = parser.parse_args(argv)
    try:
        _loopback(args.host)
        load_templates(args.templates)
    except ValueError as exc:
        parser.error(str(exc))
    asyncio.run(run(args.host, args.http_port, args.templates, args.api_key, args.receipt_delay_seconds))


if __name__ == "__main__":
    main()

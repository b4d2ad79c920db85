"""The four services on real uvicorns on 127.0.0.1, each in a thread with its own event loop, for schemathesis.

schemathesis sends its requests synchronously, over HTTP, and re-sends some (a check that auth is
enforced sends the request again without it), so each service runs as it does in production: a
real server on a real port, on real PostgreSQL and the real broker, all four in one topic namespace
so that a referral sent to intake is triaged, notified and counted. A few referrals are sent before
fuzzing starts, so that reads of existing records (not only of unknown ids) are fuzzed too.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from notifications.app import create_app as notifications_app
from notifications.config import NotificationsSettings
from referral_intake.app import create_app as intake_app
from referral_intake.config import IntakeSettings
from reporting.app import create_app as reporting_app
from reporting.config import ReportingSettings
from signpost_devstack.infra import Infrastructure
from signpost_devstack.smtp_sink import SmtpSink
from signpost_devstack.synthetic import gp_referral, out_of_area_referral, redirect_referral
from signpost_runtime.settings import ServiceSettings
from support.auth import bearer
from support.infra import Namespace, new_database, unique
from support.services import settings_for
from triage.app import create_app as triage_app
from triage.config import TriageSettings

SERVICES: dict[str, tuple[Callable[..., FastAPI], type[ServiceSettings]]] = {
    "referral_intake": (intake_app, IntakeSettings),
    "triage": (triage_app, TriageSettings),
    "notifications": (notifications_app, NotificationsSettings),
    "reporting": (reporting_app, ReportingSettings),
}
ODS = "B82005"
SENDER = bearer("referrals:write", "referrals:read", "referrals:read-all", "triage:read", "notifications:read",
                "reporting:read", ods=ODS)  # fmt: skip


def documented(service: str) -> dict[str, Any]:
    """The service's OpenAPI document, from an app built with its default settings (nothing connects)."""
    create_app, settings = SERVICES[service]
    return create_app(settings()).openapi()


class _QuietServer(uvicorn.Server):
    # pytest owns the process's signals; uvicorn must not take them over.
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Served:
    """One app on uvicorn, on a free port of 127.0.0.1, in a thread of its own."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        host, port = self._listener.getsockname()
        self.url = f"http://{host}:{port}"
        config = uvicorn.Config(app, log_config=None, lifespan="on", access_log=False, loop="asyncio")
        self._server = _QuietServer(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._listener]}, name=f"uvicorn {self.url}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 120
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self._server.started, f"{self.app.title} did not start on {self.url} (its log says why)"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=60)
        self._listener.close()


@dataclass
class Known:
    """Ids of records that exist, which the fuzzing draws on beside the ids it makes up."""

    referral_ids: list[str] = field(default_factory=list)
    task_ids: list[str] = field(default_factory=list)


KNOWN = Known()


@contextlib.contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    """The local SMTP sink on an event loop in a thread: notifications' emails go there and nowhere else."""
    started = threading.Event()
    state: dict[str, Any] = {}

    async def serve() -> None:
        state["loop"], state["stopping"] = asyncio.get_running_loop(), asyncio.Event()
        async with SmtpSink() as sink:
            state["sink"] = sink
            started.set()
            await state["stopping"].wait()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="smtp-sink", daemon=True)
    thread.start()
    assert started.wait(timeout=30), "the SMTP sink did not start"
    try:
        yield state["sink"]
    finally:
        state["loop"].call_soon_threadsafe(state["stopping"].set)
        thread.join(timeout=30)


@contextlib.contextmanager
def running_stack(infrastructure: Infrastructure) -> Iterator[dict[str, str]]:
    """All four services, started, with a few referrals triaged and counted; yields each one's base URL."""
    namespace = Namespace(unique("fz"), infrastructure.kafka_bootstrap_servers)

    async def prepare() -> list[str]:
        await namespace.create()
        return [await new_database(infrastructure.postgres_url, prefix="fz") for _ in SERVICES]

    databases = asyncio.run(prepare())
    served: list[Served] = []
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(smtp_sink())
        overrides: dict[str, dict[str, Any]] = {"notifications": {"smtp_host": sink.host, "smtp_port": sink.smtp_port}}
        stack.callback(_stop, served)
        for (service, (create_app, settings_class)), database_url in zip(SERVICES.items(), databases, strict=True):
            extra = overrides.get(service, {})
            app = create_app(settings_for(settings_class, infrastructure, namespace, database_url, **extra))
            assert app.openapi() == documented(service), f"{service} serves another OpenAPI than the one fuzzed"
            served.append(Served(app))
            served[-1].start()
        urls = dict(zip(SERVICES, (s.url for s in served), strict=True))
        _seed(urls)
        yield urls


def _stop(served: list[Served]) -> None:
    for server in reversed(served):
        server.stop()
    KNOWN.referral_ids.clear()
    KNOWN.task_ids.clear()


def _seed(urls: dict[str, str]) -> None:
    """Referrals accepted, declined and redirected, followed until every service holds them."""
    rng = random.Random(20)
    referrals = [
        gp_referral(rng=rng, ods_code=ODS),
        out_of_area_referral(rng=rng, ods_code=ODS),
        redirect_referral(rng=rng, ods_code=ODS),
    ]
    with httpx.Client(headers=SENDER, timeout=30) as client:
        for referral in referrals:
            response = client.post(
                f"{urls['referral_intake']}/fhir/ServiceRequest",
                json=referral,
                headers={"Content-Type": "application/fhir+json"},
            )
            assert response.status_code == 201, response.text
            KNOWN.referral_ids.append(response.json()["id"])
        for referral_id in KNOWN.referral_ids:
            KNOWN.task_ids.append(_followed(client, urls, referral_id))
        total = len(KNOWN.referral_ids)
        _wait(lambda: client.get(f"{urls['reporting']}/api/summary").json()["total_referrals"] >= total)


def _followed(client: httpx.Client, urls: dict[str, str], referral_id: str) -> str:
    """Wait until triage decided the referral, intake's Task shows it and notifications holds its deliveries;
    return the Task's id."""
    decisions, deliveries = f"{urls['triage']}/decisions/{referral_id}", f"{urls['notifications']}/deliveries"
    _wait(lambda: client.get(decisions).status_code == 200)
    task = _wait(lambda: _triaged_task(client, urls["referral_intake"], referral_id))
    _wait(lambda: client.get(deliveries, params={"referral_id": referral_id}).json().get("deliveries"))
    return str(task["id"])


def _triaged_task(client: httpx.Client, intake: str, referral_id: str) -> dict[str, Any] | None:
    bundle = client.get(f"{intake}/fhir/Task", params={"focus": f"ServiceRequest/{referral_id}"}).json()
    tasks = [entry["resource"] for entry in bundle.get("entry", [])]
    return tasks[0] if tasks and tasks[0]["status"] != "requested" else None


def _wait(condition: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"the seeded referrals did not reach every service within {timeout} s")

"""Fixtures for notifications: event builders, an in-process SMTP sink, the service on real infrastructure."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from notifications.app import create_app
from notifications.config import NotificationsSettings
from notifications.dispatcher import Dispatcher
from notifications.unit import NotificationsUnit
from signpost_contracts import EventEnvelope, Stream, from_kafka, topic
from signpost_contracts.events.common import ConnectorKind, Identifier
from signpost_contracts.events.triage import Outcome, Redirect
from signpost_devstack.smtp_sink import SmtpSink
from signpost_runtime.runtime import ServiceRuntime
from signpost_runtime.unit_of_work import UnitOfWork
from support.events import referral_assigned, referral_received, referral_triaged, referral_waitlisted
from support.infra import Namespace, publish, read_topic, wait_until
from support.services import serving, settings_for

REFERRER_EMAIL = "referrals@leedsroad.example.nhs.uk"


def received(referral_id: str, reference: str = "LRS-2024-0042", **overrides: Any) -> EventEnvelope:
    overrides.setdefault("referrer_reference", Identifier(system="https://leedsroad.example/ids", value=reference))
    return referral_received(referral_id, **overrides)


def triaged(referral_id: str, outcome: Outcome = "declined", **overrides: Any) -> EventEnvelope:
    """Declined unless told otherwise, in the wording the email tests look for."""
    overrides.setdefault("summary", "We only support people who live in Leeds.")
    if outcome == "redirected":
        overrides.setdefault(
            "redirect", Redirect(service="Leeds Mental Health Crisis Team", contact="0800 183 1485", urgent=True)
        )
    return referral_triaged(referral_id, outcome, **overrides)


def assigned(referral_id: str, kind: ConnectorKind = "paid") -> EventEnvelope:
    return referral_assigned(referral_id, connector_kind=kind)


def waitlisted(referral_id: str) -> EventEnvelope:
    return referral_waitlisted(referral_id, reason="No connector in LS6 has room")


@pytest.fixture
def make() -> SimpleNamespace:
    """Event builders: make.received(referral_id), make.triaged(...), make.assigned(...), make.waitlisted(...)."""
    return SimpleNamespace(received=received, triaged=triaged, assigned=assigned, waitlisted=waitlisted)


@pytest.fixture
def referral_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as running:
        yield running


@dataclass
class RunningNotifications:
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    namespace: Namespace
    sink: SmtpSink
    runtime: ServiceRuntime
    app: FastAPI

    @property
    def units(self) -> UnitOfWork[NotificationsUnit]:
        return self.runtime.units(NotificationsUnit)

    @property
    def dispatcher(self) -> Dispatcher:
        return self.app.state.workers.dispatcher  # type: ignore[no-any-return]

    async def publish(self, *events: EventEnvelope) -> None:
        await publish(self.namespace, events)

    async def consumed(self, event: EventEnvelope) -> None:
        """Wait until the service has applied `event` (its inbox holds the id)."""

        async def applied() -> bool:
            return bool(await self.pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", event.id))

        await wait_until(applied, message=f"{event.type} {event.id} to be consumed")

    async def emails(self, count: int = 1) -> list[Any]:
        async def arrived() -> bool:
            return len(self.sink.messages) >= count

        await wait_until(arrived, message=f"{count} email(s) in the SMTP sink")
        return list(self.sink.messages)

    async def announcements(self, expect: int) -> list[EventEnvelope]:
        """Events the service published on the notifications topic."""
        records = await read_topic(
            self.namespace.bootstrap, topic(Stream.NOTIFICATIONS, self.namespace.name), expect=expect
        )
        return [from_kafka({k: v.decode() for k, v in r.headers}, r.value) for r in records]

    async def deliveries(self, referral_id: str) -> list[dict[str, Any]]:
        return [
            dict(row) for row in await self.pool.fetch("SELECT * FROM deliveries WHERE referral_id = $1", referral_id)
        ]

    async def deliveries_once(
        self, referral_id: str, settled: Callable[[list[dict[str, Any]]], bool], message: str, timeout: float = 20
    ) -> list[dict[str, Any]]:
        """The referral's deliveries once `settled` holds for them. The sink and the fake receivers have a message a
        moment before the service records its send, so read the rows only when they say what the test expects."""

        async def holds() -> bool:
            return settled(await self.deliveries(referral_id))

        await wait_until(holds, message=message, timeout=timeout)
        return await self.deliveries(referral_id)


StartNotifications = Callable[..., contextlib.AbstractAsyncContextManager[RunningNotifications]]


@pytest.fixture
def start_notifications(infrastructure, namespace, database_url, sink) -> StartNotifications:
    """Start the service against the sink; keyword arguments override settings."""

    @contextlib.asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[RunningNotifications]:
        values: dict[str, Any] = {
            "smtp_host": sink.host,
            "smtp_port": sink.smtp_port,
            "delivery_max_attempts": 3,
            "delivery_retry_backoff_seconds": 0.05,
            "delivery_retry_backoff_max_seconds": 0.2,
            "dispatcher_poll_seconds": 0.5,
            "smtp_timeout_seconds": 5,
            "dispatcher_lease_seconds": 10,
            "outbox_poll_seconds": 0.2,
            **overrides,
        }
        settings = settings_for(NotificationsSettings, infrastructure, namespace, database_url, **values)
        app = create_app(settings)
        async with serving(app) as client:
            runtime = app.state.runtime
            yield RunningNotifications(client, runtime.pool, namespace, sink, runtime, app)

    return start


@pytest.fixture
async def service(start_notifications: StartNotifications) -> AsyncIterator[RunningNotifications]:
    async with start_notifications() as running:
        yield running

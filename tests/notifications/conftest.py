"""Fixtures for notifications: event builders, an in-process SMTP sink, the service on real infrastructure."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from notifications.app import create_app
from notifications.config import NotificationsSettings
from signpost_contracts import EVENT_TYPES, EventEnvelope, Stream, from_kafka, new_event, topic
from signpost_contracts.events.common import Identifier
from signpost_contracts.events.triage import (
    FiredRule,
    Redirect,
    ReferralAssigned,
    ReferralTriaged,
    ReferralWaitlisted,
)
from signpost_devstack.smtp_sink import SmtpSink
from signpost_runtime.runtime import ServiceRuntime
from support.events import referral_received
from support.infra import Namespace, read_topic, wait_until
from support.services import serving, settings_for

REFERRER_EMAIL = "referrals@leedsroad.example.nhs.uk"


def _wrap(payload: Any, referral_id: str) -> EventEnvelope:
    return new_event(payload, subject=referral_id, correlation_id=referral_id)


def received(referral_id: str, reference: str = "LRS-2024-0042", **overrides: Any) -> EventEnvelope:
    overrides.setdefault("referrer_reference", Identifier(system="https://leedsroad.example/ids", value=reference))
    return referral_received(referral_id, **overrides)


def triaged(referral_id: str, outcome: str = "declined", **overrides: Any) -> EventEnvelope:
    fields: dict[str, Any] = {
        "referral_id": referral_id,
        "decided_at": datetime.now(UTC),
        "outcome": outcome,
        "complexity": "low",
        "reasons": [FiredRule(rule_id="area", description="The person lives outside the Leeds service area")],
        "summary": "We only support people who live in Leeds.",
        "policy_version": "test-1",
    }
    if outcome == "redirected":
        fields["redirect"] = Redirect(service="Leeds Mental Health Crisis Team", contact="0800 183 1485", urgent=True)
    fields.update(overrides)
    return _wrap(ReferralTriaged(**fields), referral_id)


def assigned(referral_id: str, kind: str = "paid") -> EventEnvelope:
    payload = ReferralAssigned(
        referral_id=referral_id, assigned_at=datetime.now(UTC), connector_id="c-7", connector_kind=kind, area="LS6"
    )
    return _wrap(payload, referral_id)


def waitlisted(referral_id: str) -> EventEnvelope:
    payload = ReferralWaitlisted(
        referral_id=referral_id, waitlisted_at=datetime.now(UTC), area="LS6", reason="No connector in LS6 has room"
    )
    return _wrap(payload, referral_id)


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

    async def publish(self, *events: EventEnvelope) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.namespace.bootstrap, acks="all")
        await producer.start()
        try:
            for event in events:
                headers = [(name, value.encode()) for name, value in event.headers().items()]
                stream = EVENT_TYPES[event.type].stream
                await producer.send_and_wait(
                    topic(stream, self.namespace.name), event.value(), key=event.key(), headers=headers
                )
        finally:
            await producer.stop()

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
            yield RunningNotifications(client, runtime.pool, namespace, sink, runtime)

    return start


@pytest.fixture
async def service(start_notifications: StartNotifications) -> AsyncIterator[RunningNotifications]:
    async with start_notifications() as running:
        yield running

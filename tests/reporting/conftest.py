"""Reporting running in-process on the real broker and PostgreSQL, and builders for its input events.

Test modules here cannot import one another (importlib mode), so the helpers come as fixtures:
`events` builds integration events, `reporting` runs the service and delivers events to it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY

from reporting.app import create_app
from reporting.config import ReportingSettings
from signpost_contracts import EVENT_TYPES, EventEnvelope, new_event, topic
from signpost_contracts.events.notifications import NotificationFailed, NotificationSent
from signpost_contracts.events.triage import FiredRule, Redirect, ReferralAssigned, ReferralTriaged, ReferralWaitlisted
from signpost_runtime.runtime import ServiceRuntime
from support.auth import bearer
from support.events import referral_received
from support.infra import Namespace, wait_until
from support.services import serving, settings_for


class EventBuilder:
    """One builder per event type; each event is keyed (subject) by its referral id."""

    def received(self, referral_id: str, **overrides: Any) -> EventEnvelope:
        return referral_received(referral_id, **overrides)

    def triaged(self, referral_id: str, outcome: str = "accepted", **overrides: Any) -> EventEnvelope:
        fields: dict[str, Any] = {
            "referral_id": referral_id,
            "decided_at": datetime.now(UTC),
            "outcome": outcome,
            "complexity": "low",
            "reasons": [FiredRule(rule_id="in-area", description="lives in the service area")],
            "summary": "We can help.",
            "redirect": Redirect(service="NHS 111", urgent=True) if outcome == "redirected" else None,
            "policy_version": "test-1",
        }
        return self._wrap(ReferralTriaged(**{**fields, **overrides}), referral_id)

    def assigned(self, referral_id: str) -> EventEnvelope:
        payload = ReferralAssigned(
            referral_id=referral_id,
            assigned_at=datetime.now(UTC),
            connector_id="connector-1",
            connector_kind="paid",
            area="LS6",
        )
        return self._wrap(payload, referral_id)

    def waitlisted(self, referral_id: str, reason: str = "no connector with room") -> EventEnvelope:
        payload = ReferralWaitlisted(
            referral_id=referral_id, waitlisted_at=datetime.now(UTC), area="LS6", reason=reason
        )
        return self._wrap(payload, referral_id)

    def sent(self, referral_id: str, notification_id: str | None = None) -> EventEnvelope:
        payload = NotificationSent(
            referral_id=referral_id,
            notification_id=notification_id or str(uuid.uuid4()),
            about_event_type="referral.assigned.v1",
            channel="email",
            sent_at=datetime.now(UTC),
            attempts=1,
        )
        return self._wrap(payload, referral_id)

    def failed(self, referral_id: str, notification_id: str | None = None, error: str = "timeout") -> EventEnvelope:
        payload = NotificationFailed(
            referral_id=referral_id,
            notification_id=notification_id or str(uuid.uuid4()),
            about_event_type="referral.triaged.v1",
            channel="email",
            failed_at=datetime.now(UTC),
            attempts=3,
            last_error=error,
        )
        return self._wrap(payload, referral_id)

    def journey(self, referral_id: str) -> list[EventEnvelope]:
        """A whole accepted journey: waitlisted first, then assigned, and the referrer told."""
        return [
            self.received(referral_id),
            self.triaged(referral_id),
            self.waitlisted(referral_id),
            self.assigned(referral_id),
            self.sent(referral_id),
        ]

    @staticmethod
    def _wrap(payload: Any, referral_id: str) -> EventEnvelope:
        return new_event(payload, subject=referral_id, correlation_id=referral_id)


@dataclass
class Reporting:
    client: httpx.AsyncClient
    runtime: ServiceRuntime
    namespace: Namespace
    producer: AIOKafkaProducer

    async def publish(self, *events: EventEnvelope) -> None:
        """Send each event to its stream's topic, keyed by referral id, as a producing service would."""
        for event in events:
            stream = EVENT_TYPES[event.type].stream
            headers = [(name, value.encode()) for name, value in event.headers().items()]
            await self.producer.send_and_wait(
                topic(stream, self.namespace.name), event.value(), key=event.key(), headers=headers
            )

    async def applied(self, *events: EventEnvelope) -> None:
        """Wait until the inbox shows every one of these events applied."""
        wanted = sorted({event.id for event in events})

        async def all_applied() -> bool:
            found = await self.runtime.pool.fetchval(
                "SELECT count(*) FROM inbox WHERE consumer = 'reporting' AND event_id = ANY($1)", wanted
            )
            return bool(found == len(wanted))

        await wait_until(all_applied, message=f"{len(wanted)} event(s) to be projected")

    async def deliver(self, *events: EventEnvelope) -> None:
        await self.publish(*events)
        await self.applied(*events)

    async def summary(self) -> dict[str, Any]:
        response = await self.client.get("/api/summary", headers=bearer("reporting:read"))
        assert response.status_code == 200, response.text
        return response.json()

    async def row(self, referral_id: str) -> dict[str, Any]:
        record = await self.runtime.pool.fetchrow("SELECT * FROM referral_facts WHERE referral_id = $1", referral_id)
        assert record is not None, f"no projection row for {referral_id}"
        return dict(record)

    @staticmethod
    def duplicates_recognised() -> int:
        """Repeat deliveries the reporting consumer has recognised (and skipped) in this process so far."""
        total = 0.0
        for name in EVENT_TYPES:
            labels = {"consumer": "reporting", "event_type": name, "outcome": "duplicate"}
            total += REGISTRY.get_sample_value("signpost_messages_handled_total", labels) or 0.0
        return int(total)


@pytest.fixture
def events() -> EventBuilder:
    return EventBuilder()


@pytest.fixture
async def reporting(infrastructure, namespace, database_url) -> AsyncIterator[Reporting]:
    settings = settings_for(ReportingSettings, infrastructure, namespace, database_url, dashboard_refresh_seconds=7)
    app = create_app(settings)
    producer = AIOKafkaProducer(bootstrap_servers=namespace.bootstrap, acks="all")
    await producer.start()
    try:
        async with serving(app) as client:
            yield Reporting(client, app.state.runtime, namespace, producer)
    finally:
        await producer.stop()

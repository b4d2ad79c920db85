"""Reporting running in-process on the real broker and PostgreSQL, and builders for its input events.

Test modules here cannot import one another (importlib mode), so the helpers come as fixtures:
`events` builds integration events, `reporting` runs the service and delivers events to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from reporting.app import create_app
from reporting.config import ReportingSettings
from signpost_contracts import EVENT_TYPES, EventEnvelope
from signpost_contracts.events.triage import Outcome
from signpost_runtime.runtime import ServiceRuntime
from support.auth import bearer
from support.events import (
    notification_failed,
    notification_sent,
    referral_assigned,
    referral_received,
    referral_triaged,
    referral_waitlisted,
)
from support.infra import Namespace, publish, wait_until
from support.services import serving, settings_for


class EventBuilder:
    """One builder per event type; each event is keyed (subject) by its referral id."""

    def received(self, referral_id: str, **overrides: Any) -> EventEnvelope:
        return referral_received(referral_id, **overrides)

    def triaged(self, referral_id: str, outcome: Outcome = "accepted", **overrides: Any) -> EventEnvelope:
        return referral_triaged(referral_id, outcome, **overrides)

    def assigned(self, referral_id: str) -> EventEnvelope:
        return referral_assigned(referral_id)

    def waitlisted(self, referral_id: str, reason: str = "no connector with room") -> EventEnvelope:
        return referral_waitlisted(referral_id, reason=reason)

    def sent(self, referral_id: str, notification_id: str | None = None) -> EventEnvelope:
        return notification_sent(referral_id, notification_id)

    def failed(self, referral_id: str, notification_id: str | None = None, error: str = "timeout") -> EventEnvelope:
        return notification_failed(referral_id, notification_id, last_error=error)

    def journey(self, referral_id: str) -> list[EventEnvelope]:
        """A whole accepted journey: waitlisted first, then assigned, and the referrer told."""
        return [
            self.received(referral_id),
            self.triaged(referral_id),
            self.waitlisted(referral_id),
            self.assigned(referral_id),
            self.sent(referral_id),
        ]


@dataclass
class Reporting:
    client: httpx.AsyncClient
    runtime: ServiceRuntime
    namespace: Namespace

    async def publish(self, *events: EventEnvelope) -> None:
        """Send each event to its stream's topic, keyed by referral id, as a producing service would."""
        await publish(self.namespace, events)

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
    async with serving(app) as client:
        yield Reporting(client, app.state.runtime, namespace)

"""referral_intake on real PostgreSQL and the real broker, plus builders for FHIR input and triage events."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from referral_intake.app import create_app
from referral_intake.config import IntakeSettings
from signpost_contracts import EventEnvelope, Stream, new_event, topic
from signpost_contracts.events.triage import (
    FiredRule,
    Redirect,
    ReferralAssigned,
    ReferralTriaged,
    ReferralWaitlisted,
)
from signpost_devstack.synthetic import gp_referral
from support.auth import bearer
from support.infra import Namespace
from support.services import serving, settings_for

ODS = "B82005"  # the organisation in support.auth's default token
WRITER = bearer("referrals:write", "referrals:read", ods=ODS)
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def referral(**overrides: Any) -> dict[str, Any]:
    """A valid synthetic GP referral from ODS B82005, unique on every call."""
    overrides.setdefault("ods_code", ODS)
    return gp_referral(rng=random.Random(), **overrides)


@dataclass
class Intake:
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    namespace: Namespace

    async def post(self, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.post(
            "/fhir/ServiceRequest", json=body, headers={**WRITER, **FHIR_JSON, **(headers or {})}
        )

    async def task_for(self, referral_id: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.get(
            "/fhir/Task", params={"focus": f"ServiceRequest/{referral_id}"}, headers=headers or WRITER
        )

    async def count(self, table: str) -> int:
        return int(await self.pool.fetchval(f"SELECT count(*) FROM {table}"))

    async def publish(self, *events: EventEnvelope) -> None:
        """Send triage events to this namespace's triage topic, in the order given."""
        producer = AIOKafkaProducer(bootstrap_servers=self.namespace.bootstrap, acks="all")
        await producer.start()
        try:
            for event in events:
                headers = [(name, value.encode()) for name, value in event.headers().items()]
                await producer.send_and_wait(
                    topic(Stream.TRIAGE, self.namespace.name), event.value(), key=event.key(), headers=headers
                )
        finally:
            await producer.stop()


@pytest.fixture
async def intake(infrastructure, namespace, database_url) -> AsyncIterator[Intake]:
    settings = settings_for(IntakeSettings, infrastructure, namespace, database_url)
    app = create_app(settings)
    async with serving(app) as client:
        yield Intake(client, app.state.runtime.pool, namespace)


# Event times are `at` seconds after this moment, fixed for the test run and after any referral it creates.
BASE_TIME = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)


def _at(offset_seconds: float) -> datetime:
    return BASE_TIME + timedelta(seconds=offset_seconds)


def triaged(referral_id: str, outcome: str = "accepted", at: float = 0, **fields: Any) -> EventEnvelope:
    values: dict[str, Any] = {
        "referral_id": referral_id,
        "decided_at": _at(at),
        "outcome": outcome,
        "complexity": "low",
        "reasons": [FiredRule(rule_id="area", description="Lives in the Leeds service area")],
        "summary": "Lives in Leeds and is 18 or over.",
        "policy_version": "test-1",
    }
    if outcome == "declined":
        values["summary"] = "We only support people who live in the Leeds service area."
    if outcome == "redirected":
        values["summary"] = "This person may be at risk of harm."
        values["redirect"] = Redirect(
            service="Leeds mental health crisis team", contact="NHS 111 option 2", urgent=True
        )
    values.update(fields)
    return new_event(ReferralTriaged(**values), subject=referral_id, correlation_id=referral_id)


def assigned(referral_id: str, at: float = 1) -> EventEnvelope:
    payload = ReferralAssigned(
        referral_id=referral_id,
        assigned_at=_at(at),
        connector_id="leeds-north-amira",
        connector_kind="paid",
        area="LS6",
    )
    return new_event(payload, subject=referral_id, correlation_id=referral_id)


def waitlisted(referral_id: str, at: float = 1) -> EventEnvelope:
    payload = ReferralWaitlisted(
        referral_id=referral_id, waitlisted_at=_at(at), area="LS6", reason="every connector in LS6 is full"
    )
    return new_event(payload, subject=referral_id, correlation_id=referral_id)


@pytest.fixture
def make() -> SimpleNamespace:
    """Builders: make.referral(**gp_referral overrides), make.triaged(id, outcome), make.assigned(id), ..."""
    return SimpleNamespace(referral=referral, triaged=triaged, assigned=assigned, waitlisted=waitlisted, at=_at)

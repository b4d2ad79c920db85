"""referral_intake on real PostgreSQL and the real broker, plus builders for FHIR input and triage events."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from referral_intake.app import create_app
from referral_intake.config import IntakeSettings
from signpost_contracts import EventEnvelope
from signpost_contracts.events.triage import Outcome
from signpost_devstack.synthetic import gp_referral
from support.auth import bearer
from support.events import referral_assigned, referral_triaged, referral_waitlisted
from support.infra import Namespace, publish, wait_until
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
    app: FastAPI

    @property
    def base_url(self) -> str:
        return str(self.app.state.base_url)

    def lenient_client(self) -> httpx.AsyncClient:
        """A client on the same app that receives a 500 as a response rather than as the raised exception."""
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

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
        """Send triage's events to this namespace's triage topic, in the order given."""
        await publish(self.namespace, events)

    async def apply(self, *events: EventEnvelope) -> None:
        """Send triage's events and wait until intake has applied every one (its inbox holds them)."""
        await self.publish(*events)
        ids = list({event.id for event in events})

        async def all_applied() -> bool:
            done = await self.pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = ANY($1::text[])", ids)
            return bool(done == len(ids))

        await wait_until(all_applied, message=f"{len(ids)} triage events to be applied")

    async def published(self, referral_id: str) -> list[dict[str, Any]]:
        """The events intake's outbox holds about a referral, oldest first: {"type": ..., **data}."""
        rows = await self.pool.fetch(
            "SELECT event_type, payload FROM outbox WHERE message_key = $1 ORDER BY id", referral_id
        )
        # A tombstone's payload is NULL: it has no data.
        return [{"type": row["event_type"], **json.loads(row["payload"] or "{}")} for row in rows]

    async def case_api(self, method: str, path: str, token: dict[str, str], body: Any = None) -> httpx.Response:
        return await self.client.request(method, f"/cases{path}", json=body, headers=token)


@pytest.fixture
async def intake(infrastructure, namespace, database_url) -> AsyncIterator[Intake]:
    settings = settings_for(IntakeSettings, infrastructure, namespace, database_url)
    app = create_app(settings)
    async with serving(app) as client:
        yield Intake(client, app.state.runtime.pool, namespace, app)


# Event times are `at` seconds after this moment, fixed for the test run and after any referral it creates.
BASE_TIME = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)


def _at(offset_seconds: float) -> datetime:
    return BASE_TIME + timedelta(seconds=offset_seconds)


def triaged(referral_id: str, outcome: Outcome = "accepted", at: float = 0, **fields: Any) -> EventEnvelope:
    return referral_triaged(referral_id, outcome, at=_at(at), **fields)


def assigned(referral_id: str, at: float = 1, **fields: Any) -> EventEnvelope:
    return referral_assigned(referral_id, at=_at(at), **fields)


def waitlisted(referral_id: str, at: float = 1) -> EventEnvelope:
    return referral_waitlisted(referral_id, at=_at(at))


@pytest.fixture
def make() -> SimpleNamespace:
    """Builders: make.referral(**gp_referral overrides), make.triaged(id, outcome), make.assigned(id), ..."""
    return SimpleNamespace(referral=referral, triaged=triaged, assigned=assigned, waitlisted=waitlisted, at=_at)

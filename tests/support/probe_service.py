"""A minimal service on the runtime kit, for testing the plumbing itself.

It consumes `referral.received.v1`, records one row per applied event in `effects`, and emits
a `referral.waitlisted.v1` through the outbox, so each test can see effect and publication.
A row in `faults` makes the handler fail for that referral a set number of times: with a real
server error of the given SQLSTATE, or (`bug`) with a pydantic ValidationError from its own code.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from signpost_contracts import EventEnvelope, Stream, new_event, read_data
from signpost_contracts.events.referrals import ReferralReceived
from signpost_contracts.events.triage import ReferralWaitlisted
from signpost_devstack.infra import Infrastructure
from signpost_runtime.runtime import ServiceDefinition, ServiceRuntime
from signpost_runtime.settings import ServiceSettings
from signpost_runtime.unit_of_work import Unit
from support.infra import Namespace
from support.services import settings_for

MIGRATIONS = Path(__file__).with_name("probe_migrations")
HANG_SECONDS = 3.0


def probe_definition(settings: ServiceSettings) -> ServiceDefinition:
    def handlers(runtime: ServiceRuntime):  # type: ignore[no-untyped-def]
        async def on_received(unit: Unit, event: EventEnvelope) -> None:
            conn = unit.connection
            received = read_data(ReferralReceived, event.data)
            await _injected_fault(runtime, conn, received.referral_id)
            if await conn.fetchval("SELECT true FROM blocked WHERE referral_id = $1", received.referral_id):
                raise RuntimeError(f"referral {received.referral_id} is blocked")
            if "hang" in received.needs:  # a stand-in for a handler stuck on a lock or a slow dependency
                await asyncio.sleep(HANG_SECONDS)
            await conn.execute(
                "INSERT INTO effects (event_id, referral_id) VALUES ($1, $2)", event.id, received.referral_id
            )
            follow_up = ReferralWaitlisted(
                referral_id=received.referral_id, waitlisted_at=datetime.now(UTC), area="LS6", reason="probe"
            )
            unit.publish(
                new_event(
                    follow_up, subject=received.referral_id, correlation_id=event.correlationid, causation_id=event.id
                )
            )

        return {"referral.received.v1": on_received}

    return ServiceDefinition(settings=settings, migrations=MIGRATIONS, consumes=[Stream.REFERRALS], handlers=handlers)


async def _injected_fault(runtime: ServiceRuntime, conn: asyncpg.Connection, referral_id: str) -> None:
    # Counted down outside the handler's transaction, which the fault is about to roll back.
    sqlstate = await runtime.pool.fetchval(
        "UPDATE faults SET remaining = remaining - 1 WHERE referral_id = $1 AND remaining > 0 RETURNING sqlstate",
        referral_id,
    )
    if sqlstate == "bug":
        ReferralWaitlisted.model_validate({"referral_id": referral_id})  # misses required fields: our own bug
    elif sqlstate is not None:
        await conn.execute(f"DO $$ BEGIN RAISE EXCEPTION 'injected fault' USING ERRCODE = '{sqlstate}'; END $$")


async def inject_fault(pool: asyncpg.Pool, referral_id: str, sqlstate: str, times: int) -> None:
    await pool.execute(
        "INSERT INTO faults (referral_id, sqlstate, remaining) VALUES ($1, $2, $3)", referral_id, sqlstate, times
    )


def probe_runtime(
    infrastructure: Infrastructure, namespace: Namespace, database_url: str, **overrides: Any
) -> ServiceRuntime:
    """The probe on this test's topics and database, not yet started; keyword arguments override settings."""
    settings = settings_for(ServiceSettings, infrastructure, namespace, database_url, service_name="probe", **overrides)
    return ServiceRuntime(probe_definition(settings))

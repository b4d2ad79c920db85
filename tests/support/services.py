"""Running a service in-process against real infrastructure, and talking to it over HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import asyncpg
import httpx
from fastapi import FastAPI

from signpost_devstack.infra import Infrastructure
from signpost_runtime.runtime import ServiceRuntime
from signpost_runtime.settings import ServiceSettings
from support.auth import TEST_JWT_SECRET
from support.infra import Namespace

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)

# Short group sessions: a consumer joins its group in about half the session timeout on Tansu.
FAST_KAFKA = {"kafka_session_timeout_ms": 2000, "kafka_heartbeat_interval_ms": 500}


def settings_for(
    settings_class: type[SettingsT],
    infrastructure: Infrastructure,
    namespace: Namespace,
    database_url: str,
    **overrides: Any,
) -> SettingsT:
    values: dict[str, Any] = {
        "database_url": database_url,
        "kafka_bootstrap_servers": infrastructure.kafka_bootstrap_servers,
        "topic_namespace": namespace.name,
        "jwt_secret": TEST_JWT_SECRET,
        "consumer_retry_backoff_seconds": 0.01,
        "shutdown_grace_seconds": 5,
        # No pipeline health report unless a test asks for one: an unasked report is an event nobody expects.
        "pipeline_health_every_seconds": 3600,
        **FAST_KAFKA,
    }
    values.update(overrides)
    return settings_class(**values)


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Start the service's runtime (pool, migrations, consumer, relay) and give an HTTP client on it."""
    async with app.state.runtime.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@contextlib.asynccontextmanager
async def database_gone(runtime: ServiceRuntime) -> AsyncIterator[None]:
    """What a route meets when PostgreSQL has gone away under it: every pool the service uses is closed."""
    closed = await asyncpg.create_pool(runtime.settings.database_url, min_size=1, max_size=1)
    await closed.close()
    units = runtime.unit_of_work
    working = runtime._pool, units.pool
    runtime._pool, units.pool = closed, closed
    try:
        yield
    finally:
        runtime._pool, units.pool = working

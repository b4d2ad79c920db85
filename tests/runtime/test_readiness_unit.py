"""/health/ready: a service that can work without the broker still fails readiness without its database."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from signpost_runtime import health
from signpost_runtime.runtime import ServiceDefinition
from signpost_runtime.settings import ServiceSettings

pytestmark = pytest.mark.unit


class _Pool:
    def __init__(self, up: bool) -> None:
        self.up = up

    async def fetchval(self, query: str) -> int:
        if not self.up:
            raise ConnectionRefusedError("database down")
        return 1


class _Broker:
    def __init__(self, up: bool) -> None:
        self.up = up

    async def ping(self, timeout: float) -> bool:
        return self.up


@dataclass
class _Runtime:
    pool: _Pool
    broker: _Broker
    definition: ServiceDefinition


async def _ready(*, database: bool, broker: bool, needs_broker: bool) -> httpx.Response:
    from fastapi import FastAPI

    app = FastAPI()
    app.include_router(health.router)
    definition = ServiceDefinition(ServiceSettings(), Path(), ready_needs_broker=needs_broker)
    app.state.runtime = _Runtime(_Pool(database), _Broker(broker), definition)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get("/health/ready")


@pytest.mark.parametrize(
    ("database", "broker", "needs_broker", "status", "degraded"),
    [
        (True, True, True, 200, None),
        (True, False, True, 503, None),
        (False, True, True, 503, None),
        (True, True, False, 200, None),
        (True, False, False, 200, {"broker": "unreachable"}),
        (False, False, False, 503, {"broker": "unreachable"}),
        (False, True, False, 503, None),
    ],
)
async def test_readiness_follows_what_the_service_needs(database, broker, needs_broker, status, degraded):
    response = await _ready(database=database, broker=broker, needs_broker=needs_broker)
    assert response.status_code == status, response.text
    assert response.json().get("degraded") == degraded

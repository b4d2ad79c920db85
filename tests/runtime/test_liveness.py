"""/health/live reports a consumer that stopped making progress, not only a broker that is down."""

from __future__ import annotations

import pytest

from signpost_runtime.http import build_app
from support.events import referral_received
from support.infra import publish, wait_until
from support.probe_service import probe_runtime
from support.services import serving

pytestmark = pytest.mark.integration


async def test_liveness_fails_while_a_handler_is_stuck_and_recovers_when_it_moves_on(
    infrastructure, namespace, database_url
):
    runtime = probe_runtime(infrastructure, namespace, database_url, liveness_stall_seconds=1.0)
    async with serving(build_app(runtime, title="probe")) as client:
        assert (await client.get("/health/live")).status_code == 200

        stuck = referral_received(needs=["hang"])
        await publish(namespace, [stuck])

        async def reported_dead() -> dict | None:
            response = await client.get("/health/live")
            return response.json() if response.status_code == 503 else None

        verdict = await wait_until(reported_dead, timeout=10, message="liveness to fail on the stuck handler")
        assert "in hand" in verdict["checks"]["consumer"]
        assert verdict["checks"]["outbox_relay"] == "ok", "only the stuck part is named"

        async def alive_again() -> bool:
            return (await client.get("/health/live")).status_code == 200

        await wait_until(alive_again, timeout=10, message="liveness to recover once the handler finished")
        assert await runtime.pool.fetchval("SELECT count(*) FROM effects WHERE event_id = $1", stuck.id) == 1

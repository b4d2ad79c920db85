"""/health/live reports a consumer that stopped making progress, not only a broker that is down."""

from __future__ import annotations

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from signpost_contracts import Stream, topic
from signpost_runtime.http import build_app
from signpost_runtime.runtime import ServiceRuntime
from signpost_runtime.settings import ServiceSettings
from support.events import referral_received
from support.infra import wait_until
from support.probe_service import probe_definition
from support.services import FAST_KAFKA

pytestmark = pytest.mark.integration


async def test_liveness_fails_while_a_handler_is_stuck_and_recovers_when_it_moves_on(
    infrastructure, namespace, database_url
):
    settings = ServiceSettings(
        service_name="probe",
        database_url=database_url,
        kafka_bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        topic_namespace=namespace.name,
        liveness_stall_seconds=1.0,
        **FAST_KAFKA,
    )
    runtime = ServiceRuntime(probe_definition(settings))
    app = build_app(runtime, title="probe")
    async with (
        runtime.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        assert (await client.get("/health/live")).status_code == 200

        stuck = referral_received(needs=["hang"])
        producer = AIOKafkaProducer(bootstrap_servers=namespace.bootstrap, acks="all")
        await producer.start()
        headers = [(k, v.encode()) for k, v in stuck.headers().items()]
        await producer.send_and_wait(
            topic(Stream.REFERRALS, namespace.name), stuck.value(), key=stuck.key(), headers=headers
        )
        await producer.stop()

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

"""Intake stays ready while Kafka is down: taking a referral needs only PostgreSQL (the outbox waits)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from referral_intake.app import create_app
from referral_intake.config import IntakeSettings
from signpost_contracts import Stream, topic
from signpost_devstack.broker import EmbeddedBroker
from support.auth import bearer
from support.infra import Namespace, read_topic, unique
from support.services import serving, settings_for

pytestmark = pytest.mark.integration


class KillableBroker(EmbeddedBroker):
    def kill(self) -> None:
        """Die at once, as a crashed broker does (no graceful close for clients to notice)."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[KillableBroker]:
    """A broker this test alone may kill and restart (the session's broker is shared by every test)."""
    broker = KillableBroker(tmp_path / "broker.log")
    broker.start()
    yield broker
    broker.stop()


async def test_intake_stays_ready_and_takes_referrals_while_the_broker_is_down(
    infrastructure, database_url, own_broker, make
):
    namespace = Namespace(unique("t"), own_broker.bootstrap_servers)
    await namespace.create()
    settings = settings_for(
        IntakeSettings, infrastructure, namespace, database_url, kafka_bootstrap_servers=own_broker.bootstrap_servers
    )
    app = create_app(settings)
    serving_app = serving(app)
    client = await serving_app.__aenter__()
    try:
        before = await client.get("/health/ready")
        assert before.status_code == 200, before.text
        assert before.json()["checks"] == {"database": "ok"}
        assert "degraded" not in before.json()

        own_broker.kill()
        during = await client.get("/health/ready")
        created = await client.post(
            "/fhir/ServiceRequest",
            json=make.referral(),
            headers={**bearer("referrals:write"), "Content-Type": "application/fhir+json"},
        )

        assert during.status_code == 200, during.text
        assert during.json() == {"status": "ok", "checks": {"database": "ok"}, "degraded": {"broker": "unreachable"}}
        assert created.status_code == 201, created.text
        pool = app.state.runtime.pool
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 1, "the event waits"

    finally:
        started = time.monotonic()
        await serving_app.__aexit__(None, None, None)
    budget = settings.shutdown_grace_seconds
    assert time.monotonic() - started < budget + 5, "stopping keeps to its budget with the broker gone"


async def test_intake_starts_while_kafka_is_down_and_publishes_once_it_is_up(
    infrastructure, database_url, tmp_path, make
):
    broker = KillableBroker(tmp_path / "late-broker.log")  # its port is chosen, nothing listens there yet
    namespace = Namespace(unique("t"), broker.bootstrap_servers)
    settings = settings_for(
        IntakeSettings,
        infrastructure,
        namespace,
        database_url,
        kafka_bootstrap_servers=broker.bootstrap_servers,
        broker_connect_backoff_max_seconds=0.5,
    )
    app = create_app(settings)
    try:
        async with serving(app) as client:
            ready = await client.get("/health/ready")
            live = await client.get("/health/live")
            created = await client.post(
                "/fhir/ServiceRequest",
                json=make.referral(),
                headers={**bearer("referrals:write"), "Content-Type": "application/fhir+json"},
            )
            assert ready.status_code == 200, ready.text
            assert ready.json()["degraded"] == {"broker": "unreachable"}
            assert live.status_code == 200, live.text
            assert created.status_code == 201, created.text

            broker.start()
            await namespace.create()
            published = await read_topic(broker.bootstrap_servers, topic(Stream.REFERRALS, namespace.name), expect=1)
            assert [r.key.decode() for r in published] == [created.json()["id"]]
    finally:
        broker.stop()

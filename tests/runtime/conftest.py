"""Fixtures for the runtime kit's own tests."""

from __future__ import annotations

import pytest

from signpost_runtime.runtime import ServiceRuntime
from signpost_runtime.settings import ServiceSettings
from support.probe_service import probe_definition
from support.services import FAST_KAFKA


@pytest.fixture
async def probe(infrastructure, namespace, database_url):
    settings = ServiceSettings(
        service_name="probe",
        database_url=database_url,
        kafka_bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        topic_namespace=namespace.name,
        consumer_retry_backoff_seconds=0.01,
        **FAST_KAFKA,
    )
    runtime = ServiceRuntime(probe_definition(settings))
    await runtime.start()
    yield runtime
    await runtime.stop()

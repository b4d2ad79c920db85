"""Fixtures for the runtime kit's own tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from signpost_contracts import dead_letter_topic
from signpost_devstack.broker import create_topics
from signpost_runtime.runtime import ServiceRuntime
from support.probe_service import probe_runtime


@pytest.fixture
async def probe(infrastructure, namespace, database_url) -> AsyncIterator[ServiceRuntime]:
    # The probe is not one of the four services, so its dead-letter topic is not in the namespace yet.
    await create_topics(namespace.bootstrap, [dead_letter_topic("probe", namespace.name)])
    runtime = probe_runtime(infrastructure, namespace, database_url)
    await runtime.start()
    yield runtime
    await runtime.stop()

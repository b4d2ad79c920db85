"""Fixtures for the runtime kit's own tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from signpost_runtime.runtime import ServiceRuntime
from support.probe_service import probe_runtime


@pytest.fixture
async def probe(infrastructure, namespace, database_url) -> AsyncIterator[ServiceRuntime]:
    runtime = probe_runtime(infrastructure, namespace, database_url)
    await runtime.start()
    yield runtime
    await runtime.stop()

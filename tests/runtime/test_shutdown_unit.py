"""Stopping never raises, whatever a client library does on its way out, and keeps to its budget.

aiokafka's fetcher, closing with the broker dead, let a CancelledError of its own escape the
consumer's stop: the service's shutdown then raised and skipped every step after it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from signpost_runtime.runtime import ServiceDefinition, ServiceRuntime, _bounded
from signpost_runtime.settings import ServiceSettings

pytestmark = pytest.mark.unit


async def _cancelled_inside() -> None:
    inner = asyncio.get_running_loop().create_future()
    inner.cancel()
    await inner  # what aiokafka's fetcher close does: a CancelledError that is not ours


async def _broken() -> None:
    raise RuntimeError("client already closed")


async def _hangs() -> None:
    await asyncio.sleep(3600)


async def test_a_step_cancelled_inside_its_library_does_not_stop_the_shutdown():
    assert await _bounded("consumer", _cancelled_inside, time.monotonic() + 5) is False


async def test_a_step_that_fails_or_overruns_is_logged_and_the_next_steps_still_run():
    deadline = time.monotonic() + 0.3
    assert await _bounded("broker", _broken, deadline) is False
    assert await _bounded("relay", _hangs, deadline) is False
    assert time.monotonic() < deadline + 0.5


async def test_a_shutdown_that_is_itself_cancelled_still_ends():
    task = asyncio.create_task(_bounded("consumer", _hangs, time.monotonic() + 60))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_stopping_a_service_that_never_reached_its_broker_returns_cleanly():
    settings = ServiceSettings(service_name="probe", kafka_bootstrap_servers="127.0.0.1:9", shutdown_grace_seconds=2)
    runtime = ServiceRuntime(ServiceDefinition(settings, Path()))
    started = time.monotonic()
    await runtime.stop()  # nothing started: every step is skipped or ends at once
    assert time.monotonic() - started < 2

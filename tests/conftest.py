"""Fixtures that find real infrastructure: env vars, then Docker, then embedded processes.

Infrastructure starts once per session and only when a test asks for it, so `-m unit` runs
without starting anything. Every test gets its own topics and databases on it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from signpost_devstack.infra import Infrastructure, provide
from support.infra import Namespace, new_database, server_directory, unique

# Runs selected only when asked for by name (`-m fuzz`, `-m scale`), whatever else `-m` selects: `-m slow`
# or `-m integration` must not start an hour of fuzzing or ten thousand referrals.
ON_REQUEST_ONLY = ("fuzz", "scale")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    asked = config.getoption("markexpr") or ""
    held_back = [
        item for item in items if any(item.get_closest_marker(mark) and mark not in asked for mark in ON_REQUEST_ONLY)
    ]
    if held_back:
        items[:] = [item for item in items if item not in held_back]
        config.hook.pytest_deselected(items=held_back)


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[Infrastructure]:
    with server_directory("signpost-test-infra-") as state, provide(state, durable=False) as infra:
        yield infra


@pytest.fixture
async def namespace(infrastructure: Infrastructure) -> Namespace:
    ns = Namespace(unique("t"), infrastructure.kafka_bootstrap_servers)
    await ns.create()
    return ns


@pytest.fixture
async def database_url(infrastructure: Infrastructure) -> str:
    return await new_database(infrastructure.postgres_url)

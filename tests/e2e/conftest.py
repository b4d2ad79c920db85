"""The four services and the SMTP sink as separate OS processes on the session's real infrastructure."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from signpost_devstack.infra import Infrastructure
from signpost_devstack.stack import LocalStack
from support.infra import Namespace, unique
from support.stack import stack_for_run


@pytest.fixture(scope="module")
def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    run = unique("e2e")
    local = stack_for_run(
        run,
        kafka_bootstrap_servers=infrastructure.kafka_bootstrap_servers,
        postgres_url=infrastructure.postgres_url,
        log_dir=tmp_path_factory.mktemp(run),
    )
    local.start()
    yield local
    local.stop()
    for name, process in local.services.items():
        assert process.process is not None
        assert process.process.returncode == 0, f"{name} did not shut down cleanly:\n{process.log_tail()}"


@pytest.fixture
def stack_namespace(stack: LocalStack) -> Namespace:
    return Namespace(stack.config.namespace, stack.config.kafka_bootstrap_servers)

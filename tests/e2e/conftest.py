"""The four services and the SMTP sink as separate OS processes on the session's real infrastructure."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from signpost_devstack.infra import Infrastructure
from signpost_devstack.stack import LocalStack, StackConfig
from support.auth import TEST_JWT_SECRET
from support.infra import Namespace, unique


@pytest.fixture(scope="module")
def stack(infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    run = unique("e2e")
    local = LocalStack(
        StackConfig(
            kafka_bootstrap_servers=infrastructure.kafka_bootstrap_servers,
            postgres_url=infrastructure.postgres_url,
            jwt_secret=TEST_JWT_SECRET,
            log_dir=tmp_path_factory.mktemp(run),
            namespace=run,
            database_prefix=f"{run}_",
            fixed_ports=False,
            kafka_session_timeout_ms=2000,
        )
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

"""The whole system as separate OS processes for one test run: its own topics, databases and free ports."""

from __future__ import annotations

from pathlib import Path

from signpost_devstack.stack import LocalStack, StackConfig
from support.auth import TEST_JWT_SECRET


def stack_for_run(
    run: str,
    *,
    kafka_bootstrap_servers: str,
    postgres_url: str,
    log_dir: Path,
    service_env: dict[str, dict[str, str]] | None = None,
    partitions: int = 3,
) -> LocalStack:
    """A stack (not yet started) whose topics and databases are all named after `run`."""
    return LocalStack(
        StackConfig(
            kafka_bootstrap_servers=kafka_bootstrap_servers,
            postgres_url=postgres_url,
            jwt_secret=TEST_JWT_SECRET,
            log_dir=log_dir,
            namespace=run,
            database_prefix=f"{run}_",
            fixed_ports=False,
            kafka_session_timeout_ms=2000,
            service_env=service_env or {},
            partitions=partitions,
        )
    )

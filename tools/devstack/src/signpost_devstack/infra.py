"""Find Kafka and PostgreSQL: environment variables, else Docker (testcontainers), else embedded.

The same order serves `make run` and the test suite, so a developer with Docker, a CI runner with
services, and a bare machine with only Python all get real infrastructure.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from signpost_devstack.broker import EmbeddedBroker
from signpost_devstack.postgres import EmbeddedPostgres

log = logging.getLogger(__name__)


@dataclass
class Infrastructure:
    kafka_bootstrap_servers: str
    postgres_url: str  # server URL; each service gets its own database on it
    origin: str  # "environment", "docker" or "embedded"
    postgres: EmbeddedPostgres | None = None


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def _from_docker() -> Iterator[Infrastructure]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with KafkaContainer() as kafka, PostgresContainer("postgres:16", driver=None) as postgres:
        yield Infrastructure(kafka.get_bootstrap_server(), postgres.get_connection_url(), "docker")


@contextlib.contextmanager
def _embedded(state_dir: Path, *, durable: bool, ports: tuple[int | None, int | None]) -> Iterator[Infrastructure]:
    state_dir.mkdir(parents=True, exist_ok=True)
    broker_port, postgres_port = ports
    postgres = EmbeddedPostgres(state_dir / "postgres", durable=durable, port=postgres_port)
    broker = EmbeddedBroker(state_dir / "broker.log", port=broker_port)
    postgres.start()
    try:
        broker.start()
        try:
            yield Infrastructure(broker.bootstrap_servers, postgres.url, "embedded", postgres)
        finally:
            broker.stop()
    finally:
        postgres.stop()


@contextlib.contextmanager
def provide(
    state_dir: Path,
    *,
    durable: bool = True,
    allow_docker: bool = True,
    broker_port: int | None = None,
    postgres_port: int | None = None,
) -> Iterator[Infrastructure]:
    """Kafka and PostgreSQL for as long as the context lasts (embedded ones are stopped after)."""
    env_kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    env_postgres = os.environ.get("DATABASE_URL")
    if env_kafka and env_postgres:
        yield Infrastructure(env_kafka, env_postgres, "environment")
        return
    stack: Any
    if allow_docker and not (env_kafka or env_postgres) and docker_answers():
        stack = _from_docker()
    else:
        stack = _embedded(state_dir, durable=durable, ports=(broker_port, postgres_port))
    with stack as infrastructure:
        if env_kafka:
            infrastructure.kafka_bootstrap_servers = env_kafka
        if env_postgres:
            infrastructure.postgres_url = env_postgres
        log.info("infrastructure from %s: kafka %s", infrastructure.origin, infrastructure.kafka_bootstrap_servers)
        yield infrastructure
